import PitModel
import PitStorage
import SQLiteStore
import Testing

/// `ReleaseFileStore` and `ArtifactLookup` on SQLite's admin store; the same transcript runs on
/// PostgreSQL's in `PostgresReleaseFileParityTests`.
struct ReleaseFileStoreTests {
    @Test func storesReleasesChunksBundlesAndDebugFiles() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteAdminStore(path: directory.path("pit.db"))
        let lines = try await ReleaseFileTranscript.run(store)
        #expect(
            lines == [
                "release app@1 in [1, 2] url=https://ci/1 released=-",
                "release app@1 in [1, 2] url=https://ci/1 released=1700000000000",
                "no release missing@1",
                "project 2 releases [\"app@1\"]",
                "deploys [production 'deploy 2' 1700000100000, staging - 1700000050000]",
                "missing [bbbb, cccc]",
                "missing [cccc]",
                "chunks [3, 2]",
                "chunks nil",
                "bundle 1 files=2 release=app@1 dist=-",
                "again: same bundle true",
                "other project has artifacts: false",
                "by debug id: ~/app.min.js minified_source sourcemap=app.min.js.map contents=min",
                "by debug id, map: ~/app.min.js.map contents=map",
                "by debug id, other project: nil",
                "by release, full URL: ~/app.min.js",
                "by release, other dist: nil",
                "newest bundle wins: ~/app.min.js contents=min2",
                "listed bundles c2 c1, files ~/app.min.js ~/app.min.js.map without contents true",
                "debug file libdemo.so elf x86_64 code=abc",
                "debug file again: same id true, count 1",
                "purged chunks 2, then 0",
            ])
    }
}

/// One sequence of calls over every `ReleaseFileStore` and `ArtifactLookup` operation, told as
/// lines without row ids the back ends choose differently.
enum ReleaseFileTranscript {
    static func run(_ store: any AdminStore) async throws -> [String] {
        var lines: [String] = []
        let first = try await store.ensureDefaults(organizationSlug: "pit", projectSlug: "default")
        let second = try await store.createProject(name: "web", id: nil, platform: "javascript")
        func describe(_ release: StoredRelease?) -> String {
            guard let release else { return "no release missing@1" }
            let released = release.dateReleased.map(String.init) ?? "-"
            return "release \(release.version) in \(release.projectIDs) url=\(release.url ?? "-") released=\(released)"
        }
        let created = try await store.saveRelease(
            ReleaseChange(version: "app@1", url: "https://ci/1"), projectIDs: [second.id, first.id], now: 1_600_000_000_000)
        lines.append(describe(created))
        lines.append(describe(try await store.updateRelease(ReleaseChange(version: "app@1", dateReleased: 1_700_000_000_000))))
        lines.append(describe(try await store.updateRelease(ReleaseChange(version: "missing@1", dateReleased: 1))))
        lines.append("project 2 releases \(try await store.storedReleases(projectID: second.id).map(\.version))")
        _ = try await store.createDeploy(
            Deploy(version: "app@1", environment: "staging", name: nil, url: nil, dateStarted: nil, dateFinished: 1_700_000_050_000))
        _ = try await store.createDeploy(
            Deploy(
                version: "app@1", environment: "production", name: "deploy 2", url: "https://app", dateStarted: 1_700_000_090_000,
                dateFinished: 1_700_000_100_000))
        let deploys = try await store.deploys(version: "app@1").map {
            "\($0.environment) \($0.name.map { "'\($0)'" } ?? "-") \($0.dateFinished)"
        }
        lines.append("deploys [\(deploys.joined(separator: ", "))]")

        try await store.storeChunk(checksum: "aaaa", bytes: [1, 2, 3], now: 1000)
        lines.append("missing [\(try await store.missingChunks(["aaaa", "bbbb", "cccc"]).joined(separator: ", "))]")
        try await store.storeChunk(checksum: "bbbb", bytes: [4, 5], now: 1000)
        try await store.storeChunk(checksum: "bbbb", bytes: [4, 5], now: 1000)
        lines.append("missing [\(try await store.missingChunks(["aaaa", "bbbb", "cccc"]).joined(separator: ", "))]")
        lines.append("chunks \(try await store.chunks(["aaaa", "bbbb"])?.map(\.count) ?? [])")
        lines.append("chunks \(try await store.chunks(["aaaa", "cccc"]).map { "\($0.count)" } ?? "nil")")

        let debugID = "5e0f7c2b-9a51-4b8e-9c0e-8d2a6b1c4e3f"
        func bundle(checksum: String, minified: String) -> ArtifactBundleUpload {
            ArtifactBundleUpload(
                checksum: checksum, bundleUUID: "uuid-\(checksum)", release: "app@1", dist: nil, size: 100,
                files: [
                    ArtifactFile(
                        url: "~/app.min.js", type: .minifiedSource, debugID: debugID, headers: ["sourcemap": "app.min.js.map"], bundleID: 0,
                        contents: Array(minified.utf8)),
                    ArtifactFile(
                        url: "~/app.min.js.map", type: .sourceMap, debugID: debugID, headers: [:], bundleID: 0, contents: Array("map".utf8)),
                ])
        }
        let stored = try await store.storeArtifactBundle(bundle(checksum: "c1", minified: "min"), projectID: first.id, now: 2000)
        lines.append("bundle \(stored.projectID) files=\(stored.fileCount) release=\(stored.release ?? "-") dist=\(stored.dist ?? "-")")
        let again = try await store.storeArtifactBundle(bundle(checksum: "c1", minified: "min"), projectID: first.id, now: 3000)
        let found = try await store.artifactBundle(projectID: first.id, checksum: "c1")
        lines.append("again: same bundle \(again.id == stored.id && found?.id == stored.id)")
        lines.append("other project has artifacts: \(try await store.hasArtifacts(projectID: second.id))")
        let byID = try await store.file(projectID: first.id, debugID: debugID.uppercased(), type: .minifiedSource)
        lines.append(
            "by debug id: \(byID?.url ?? "nil") \(byID?.type.rawValue ?? "") sourcemap=\(byID?.headers["sourcemap"] ?? "-") "
                + "contents=\(String(decoding: byID?.contents ?? [], as: UTF8.self))")
        let map = try await store.file(projectID: first.id, debugID: debugID, type: .sourceMap)
        lines.append("by debug id, map: \(map?.url ?? "nil") contents=\(String(decoding: map?.contents ?? [], as: UTF8.self))")
        lines.append(
            "by debug id, other project: \(try await store.file(projectID: second.id, debugID: debugID, type: .sourceMap)?.url ?? "nil")")
        let byURL = try await store.file(projectID: first.id, release: "app@1", dist: nil, url: "https://example.com/app.min.js?v=1")
        lines.append("by release, full URL: \(byURL?.url ?? "nil")")
        lines.append(
            "by release, other dist: \(try await store.file(projectID: first.id, release: "app@1", dist: "ios", url: "~/app.min.js")?.url ?? "nil")"
        )
        let newer = try await store.storeArtifactBundle(bundle(checksum: "c2", minified: "min2"), projectID: first.id, now: 4000)
        let newest = try await store.file(projectID: first.id, debugID: debugID, type: .minifiedSource)
        lines.append("newest bundle wins: \(newest?.url ?? "nil") contents=\(String(decoding: newest?.contents ?? [], as: UTF8.self))")
        let listed = try await store.artifactBundles(projectID: first.id)
        let files = try await store.artifactFiles(projectID: first.id, bundleID: newer.id)
        lines.append(
            "listed bundles \(listed.map(\.checksum).joined(separator: " ")), files \(files.map(\.url).joined(separator: " ")) "
                + "without contents \(files.allSatisfy(\.contents.isEmpty) && listed.first?.id == newer.id)")

        let file = DebugFile(
            projectID: first.id, checksum: "d1", debugID: "0011", codeID: "abc", name: "libdemo.so", arch: "x86_64", objectType: "elf",
            size: 3, created: 5000)
        let storedFile = try await store.storeDebugFile(file, contents: [1, 2, 3])
        lines.append("debug file \(storedFile.name) \(storedFile.objectType) \(storedFile.arch) code=\(storedFile.codeID ?? "-")")
        let storedAgain = try await store.storeDebugFile(file, contents: [1, 2, 3])
        let count = try await store.debugFiles(projectID: first.id).count
        let looked = try await store.debugFile(projectID: first.id, checksum: "d1")
        lines.append("debug file again: same id \(storedAgain.id == storedFile.id && looked?.id == storedFile.id), count \(count)")
        let purged = try await store.purgeUploadChunks(createdBefore: 2000, limit: 100)
        lines.append("purged chunks \(purged), then \(try await store.purgeUploadChunks(createdBefore: 2000, limit: 100))")
        return lines
    }
}
