/// What sentry-cli creates and uploads from CI: releases and their deploys, upload chunks, the
/// artifact bundles assembled from them (with an index row per file, read through
/// `ArtifactLookup`) and debug files. Part of the admin side (`AdminStore`): these are rare,
/// explicit calls of a person or a CI job, served on the admin connections.
package protocol ReleaseFileStore: Sendable {
    /// Creates the release in each of `projectIDs` (kept as it is where it exists), then sets
    /// `url`, `ref` and `dateReleased` where given. Returns the release as stored.
    func saveRelease(_ release: ReleaseChange, projectIDs: [Int64], now: Int64) async throws -> StoredRelease
    /// Applies the change to an existing release (in every project it belongs to); nil when
    /// there is no such release.
    func updateRelease(_ release: ReleaseChange) async throws -> StoredRelease?
    /// Releases created through the API; of one project, or of every project.
    func storedReleases(projectID: Int64?) async throws -> [StoredRelease]
    func createDeploy(_ deploy: Deploy) async throws -> Deploy
    /// A release's deploys, newest first.
    func deploys(version: String) async throws -> [Deploy]

    /// Which of `checksums` (lower-case SHA-1 hex) no chunk is stored for, in their order.
    func missingChunks(_ checksums: [String]) async throws -> [String]
    /// Stores a chunk under its SHA-1; a chunk already stored is kept (content-addressed).
    func storeChunk(checksum: String, bytes: [UInt8], now: Int64) async throws
    /// The chunks' bytes in their order; nil when any is missing.
    func chunks(_ checksums: [String]) async throws -> [[UInt8]]?
    /// Deletes chunks stored before `createdBefore` (abandoned uploads and those assembled long
    /// ago); returns how many.
    func purgeUploadChunks(createdBefore: Int64, limit: Int) async throws -> Int

    /// The bundle with this checksum (SHA-1 of the zip) in the project, if it was assembled.
    func artifactBundle(projectID: Int64, checksum: String) async throws -> ArtifactBundleSummary?
    /// Stores a parsed bundle and its files' index in one transaction; a project that already
    /// holds a bundle with the same checksum keeps the one it has.
    func storeArtifactBundle(_ bundle: ArtifactBundleUpload, projectID: Int64, now: Int64) async throws -> ArtifactBundleSummary
    /// The project's bundles, newest first.
    func artifactBundles(projectID: Int64) async throws -> [ArtifactBundleSummary]
    /// The files of one of the project's bundles (contents left empty).
    func artifactFiles(projectID: Int64, bundleID: Int64) async throws -> [ArtifactFile]

    /// The debug file with this checksum (SHA-1 of the file) in the project, if it was assembled.
    func debugFile(projectID: Int64, checksum: String) async throws -> DebugFile?
    func storeDebugFile(_ file: DebugFile, contents: [UInt8]) async throws -> DebugFile
    /// The project's debug files, newest first.
    func debugFiles(projectID: Int64) async throws -> [DebugFile]
}

/// What a `releases new` / `releases finalize` call says about a release.
package struct ReleaseChange: Sendable, Equatable {
    package var version: String
    package var url: String?
    package var ref: String?
    package var dateReleased: Int64?

    package init(version: String, url: String? = nil, ref: String? = nil, dateReleased: Int64? = nil) {
        self.version = version
        self.url = url
        self.ref = ref
        self.dateReleased = dateReleased
    }

    /// Sentry's rules for a release version (`sentry.models.Release.is_valid_version`): at most
    /// 200 characters, no line breaks, tabs or slashes, not `.`, `..` or ` `, and not `latest`.
    package static func validatedVersion(_ version: String?) throws -> String {
        guard let version, !version.isEmpty else { throw AdminError.invalid("version: This field is required.") }
        guard version.count <= 200, version != ".", version != "..", version != " ", version.lowercased() != "latest",
            !version.contains(where: { "\n\r\t/\\".contains($0) })
        else { throw AdminError.invalid("version: Release with name \(version) is not allowed.") }
        return version
    }
}

/// A release created through the API (`releases new`), in the projects it was created for.
package struct StoredRelease: Sendable, Equatable {
    package var version: String
    package var projectIDs: [Int64]
    package var url: String?
    package var ref: String?
    package var dateCreated: Int64
    package var dateReleased: Int64?

    package init(version: String, projectIDs: [Int64], url: String?, ref: String?, dateCreated: Int64, dateReleased: Int64?) {
        self.version = version
        self.projectIDs = projectIDs
        self.url = url
        self.ref = ref
        self.dateCreated = dateCreated
        self.dateReleased = dateReleased
    }
}

/// A release deployed to an environment (`sentry-cli deploys new`).
package struct Deploy: Sendable, Equatable {
    package var id: Int64
    package var version: String
    package var environment: String
    package var name: String?
    package var url: String?
    package var dateStarted: Int64?
    package var dateFinished: Int64

    package init(id: Int64 = 0, version: String, environment: String, name: String?, url: String?, dateStarted: Int64?, dateFinished: Int64)
    {
        self.id = id
        self.version = version
        self.environment = environment
        self.name = name
        self.url = url
        self.dateStarted = dateStarted
        self.dateFinished = dateFinished
    }
}

/// An artifact bundle as parsed from its zip: the manifest's release and dist, and its files.
package struct ArtifactBundleUpload: Sendable, Equatable {
    /// SHA-1 of the zip, lower-case hex.
    package var checksum: String
    /// The manifest's `debug_id`, else one derived from the checksum: Sentry's `bundleId`.
    package var bundleUUID: String
    package var release: String?
    package var dist: String?
    package var size: Int64
    /// Files with their contents; `bundleID` is set when stored.
    package var files: [ArtifactFile]

    package init(checksum: String, bundleUUID: String, release: String?, dist: String?, size: Int64, files: [ArtifactFile]) {
        self.checksum = checksum
        self.bundleUUID = bundleUUID
        self.release = release
        self.dist = dist
        self.size = size
        self.files = files
    }
}

/// A stored artifact bundle, without its files.
package struct ArtifactBundleSummary: Sendable, Equatable {
    package var id: Int64
    package var projectID: Int64
    package var checksum: String
    package var bundleUUID: String
    package var release: String?
    package var dist: String?
    package var fileCount: Int
    package var size: Int64
    package var created: Int64

    package init(
        id: Int64, projectID: Int64, checksum: String, bundleUUID: String, release: String?, dist: String?, fileCount: Int, size: Int64,
        created: Int64
    ) {
        self.id = id
        self.projectID = projectID
        self.checksum = checksum
        self.bundleUUID = bundleUUID
        self.release = release
        self.dist = dist
        self.fileCount = fileCount
        self.size = size
        self.created = created
    }
}

/// A native debug information file (ELF, Mach-O, PDB, ...) as `sentry-cli debug-files upload`
/// sends it, with what its headers tell.
package struct DebugFile: Sendable, Equatable {
    package var id: Int64
    package var projectID: Int64
    /// SHA-1 of the file, lower-case hex.
    package var checksum: String
    package var debugID: String
    package var codeID: String?
    package var name: String
    /// `x86_64`, `arm64`, ... or `unknown`.
    package var arch: String
    /// `elf`, `macho`, `pe`, `pdb`, `wasm`, ... or `unknown`.
    package var objectType: String
    package var size: Int64
    package var created: Int64

    package init(
        id: Int64 = 0, projectID: Int64, checksum: String, debugID: String, codeID: String?, name: String, arch: String, objectType: String,
        size: Int64, created: Int64
    ) {
        self.id = id
        self.projectID = projectID
        self.checksum = checksum
        self.debugID = debugID
        self.codeID = codeID
        self.name = name
        self.arch = arch
        self.objectType = objectType
        self.size = size
        self.created = created
    }
}

extension ArtifactFile {
    /// The headers as stored: one `name: value` per line (header values hold no line breaks).
    package var storedHeaders: String {
        headers.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "\n")
    }

    package static func headers(stored: String) -> [String: String] {
        var headers: [String: String] = [:]
        for line in stored.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].drop { $0 == " " }
            headers[String(line[..<colon])] = String(value)
        }
        return headers
    }

    /// The `~/`-prefixed form of a URL (its path, without scheme and host), as manifests name
    /// files; nil when `url` has no scheme and host to strip.
    package static func tildeForm(_ url: String) -> String? {
        let characters = Array(url.utf8)
        guard let schemeEnd = characters.indices.first(where: { characters[$0...].starts(with: Array("://".utf8)) }) else { return nil }
        let rest = url.utf8.dropFirst(schemeEnd + 3)
        guard let slash = rest.firstIndex(of: UInt8(ascii: "/")) else { return nil }
        var path = url[slash...]
        if let end = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<end] }
        return "~" + path
    }
}

/// How long an upload chunk is kept after its last upload: long enough for any upload to be
/// assembled, short enough that an abandoned one does not linger (the purge removes it).
package enum UploadChunkRetention {
    package static let milliseconds: Int64 = 3_600_000
}
