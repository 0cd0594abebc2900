import NIOCore
import PitModel
package import PitStorage
import PostgresNIO

/// Releases, deploys, upload chunks, artifact bundles and debug files (migration 15) on the
/// admin connections, as SQLite's store does them. Chunks live in the database, so every
/// instance sharing it can assemble what another one received.
extension PostgresAdminStore: ReleaseFileStore, ArtifactLookup {
    private static let releaseColumns = "SELECT version, project_id, url, ref, date_created, date_released FROM release_records"

    private static func releases(_ rows: [PostgresRow]) throws -> [StoredRelease] {
        var result: [StoredRelease] = []
        for row in rows {
            let (version, project, url, ref, created, released) = try row.decode((String, Int64, String?, String?, Int64, Int64?).self)
            if let last = result.last, last.version == version {
                result[result.count - 1].projectIDs.append(project)
                result[result.count - 1].dateCreated = min(last.dateCreated, created)
                result[result.count - 1].dateReleased = last.dateReleased ?? released
                result[result.count - 1].url = last.url ?? url
                result[result.count - 1].ref = last.ref ?? ref
            } else {
                result.append(
                    StoredRelease(version: version, projectIDs: [project], url: url, ref: ref, dateCreated: created, dateReleased: released)
                )
            }
        }
        return result
    }

    private func release(_ db: PostgresConnection, version: String) async throws -> StoredRelease? {
        var bindings = PostgresBindings()
        bindings.append(version)
        return try Self.releases(
            await rows(db, PostgresQuery(unsafeSQL: Self.releaseColumns + " WHERE version = $1 ORDER BY project_id", binds: bindings))
        ).first
    }

    private func apply(_ release: ReleaseChange, _ db: PostgresConnection) async throws {
        try await db.query(
            """
            UPDATE release_records SET url = COALESCE(\(release.url), url), ref = COALESCE(\(release.ref), ref),
                date_released = COALESCE(\(release.dateReleased), date_released)
            WHERE version = \(release.version)
            """, logger: logger)
    }

    package func saveRelease(_ release: ReleaseChange, projectIDs: [Int64], now: Int64) async throws -> StoredRelease {
        try await with { db in
            try await transaction(db) {
                for projectID in projectIDs {
                    try await db.query(
                        """
                        INSERT INTO release_records (project_id, version, date_created) VALUES (\(projectID), \(release.version), \(now))
                        ON CONFLICT (project_id, version) DO NOTHING
                        """, logger: logger)
                }
                try await apply(release, db)
                guard let stored = try await self.release(db, version: release.version) else {
                    throw AdminError.invalid("projects: a release needs at least one project.")
                }
                return stored
            }
        }
    }

    package func updateRelease(_ release: ReleaseChange) async throws -> StoredRelease? {
        try await with { db in
            try await transaction(db) {
                try await apply(release, db)
                return try await self.release(db, version: release.version)
            }
        }
    }

    package func storedReleases(projectID: Int64?) async throws -> [StoredRelease] {
        try await with { db in
            guard let projectID else {
                return try Self.releases(
                    await rows(db, PostgresQuery(unsafeSQL: Self.releaseColumns + " ORDER BY version COLLATE \"C\", project_id")))
            }
            var bindings = PostgresBindings()
            bindings.append(projectID)
            return try Self.releases(
                await rows(
                    db,
                    PostgresQuery(unsafeSQL: Self.releaseColumns + " WHERE project_id = $1 ORDER BY version COLLATE \"C\"", binds: bindings)
                ))
        }
    }

    package func createDeploy(_ deploy: Deploy) async throws -> Deploy {
        try await with { db in
            let id = try await rows(
                db,
                """
                INSERT INTO deploys (version, environment, name, url, date_started, date_finished)
                VALUES (\(deploy.version), \(deploy.environment), \(deploy.name), \(deploy.url), \(deploy.dateStarted), \(deploy.dateFinished))
                RETURNING id
                """)[0].decode(Int64.self)
            var stored = deploy
            stored.id = id
            return stored
        }
    }

    package func deploys(version: String) async throws -> [Deploy] {
        try await with { db in
            try await rows(
                db,
                """
                SELECT id, version, environment, name, url, date_started, date_finished FROM deploys
                WHERE version = \(version) ORDER BY date_finished DESC, id DESC
                """
            ).map { row in
                let (id, version, environment, name, url, started, finished) = try row.decode(
                    (Int64, String, String, String?, String?, Int64?, Int64).self)
                return Deploy(
                    id: id, version: version, environment: environment, name: name, url: url, dateStarted: started, dateFinished: finished)
            }
        }
    }

    package func missingChunks(_ checksums: [String]) async throws -> [String] {
        guard !checksums.isEmpty else { return [] }
        return try await with { db in
            let present = Set(
                try await rows(db, "SELECT checksum FROM upload_chunks WHERE checksum = ANY(\(checksums))").map {
                    try $0.decode(String.self)
                })
            return checksums.filter { !present.contains($0) }
        }
    }

    package func storeChunk(checksum: String, bytes: [UInt8], now: Int64) async throws {
        try await with { db in
            _ = try await db.query(
                """
                INSERT INTO upload_chunks (checksum, size, created, content) VALUES (\(checksum), \(Int64(bytes.count)), \(now), \(ByteBuffer(bytes: bytes)))
                ON CONFLICT (checksum) DO UPDATE SET created = GREATEST(upload_chunks.created, excluded.created)
                """, logger: logger)
        }
    }

    package func chunks(_ checksums: [String]) async throws -> [[UInt8]]? {
        guard !checksums.isEmpty else { return [] }
        return try await with { db in
            var byChecksum: [String: [UInt8]] = [:]
            for row in try await rows(db, "SELECT checksum, content FROM upload_chunks WHERE checksum = ANY(\(checksums))") {
                let (checksum, content) = try row.decode((String, ByteBuffer).self)
                byChecksum[checksum] = Array(content.readableBytesView)
            }
            var result: [[UInt8]] = []
            for checksum in checksums {
                guard let bytes = byChecksum[checksum] else { return nil }
                result.append(bytes)
            }
            return result
        }
    }

    package func purgeUploadChunks(createdBefore: Int64, limit: Int) async throws -> Int {
        try await with { db in
            try await rows(
                db,
                """
                DELETE FROM upload_chunks WHERE checksum IN
                    (SELECT checksum FROM upload_chunks WHERE created < \(createdBefore) LIMIT \(Int64(limit)))
                RETURNING 1
                """
            ).count
        }
    }

    private static let bundleColumns =
        "SELECT id, project_id, checksum, bundle_uuid, release, dist, file_count, size, created FROM artifact_bundles"

    private static func bundles(_ rows: [PostgresRow]) throws -> [ArtifactBundleSummary] {
        try rows.map { row in
            let (id, project, checksum, uuid, release, dist, count, size, created) = try row.decode(
                (Int64, Int64, String, String, String?, String, Int64, Int64, Int64).self)
            return ArtifactBundleSummary(
                id: id, projectID: project, checksum: checksum, bundleUUID: uuid, release: release, dist: dist.isEmpty ? nil : dist,
                fileCount: Int(count), size: size, created: created)
        }
    }

    private func bundle(_ db: PostgresConnection, projectID: Int64, checksum: String) async throws -> ArtifactBundleSummary? {
        var bindings = PostgresBindings()
        bindings.append(projectID)
        bindings.append(checksum)
        return try Self.bundles(
            await rows(db, PostgresQuery(unsafeSQL: Self.bundleColumns + " WHERE project_id = $1 AND checksum = $2", binds: bindings))
        ).first
    }

    package func artifactBundle(projectID: Int64, checksum: String) async throws -> ArtifactBundleSummary? {
        try await with { db in try await bundle(db, projectID: projectID, checksum: checksum) }
    }

    package func storeArtifactBundle(_ bundle: ArtifactBundleUpload, projectID: Int64, now: Int64) async throws -> ArtifactBundleSummary {
        try await with { db in
            try await transaction(db) {
                let dist = bundle.dist ?? ""
                let inserted = try await rows(
                    db,
                    """
                    INSERT INTO artifact_bundles (project_id, checksum, bundle_uuid, release, dist, file_count, size, created)
                    VALUES (\(projectID), \(bundle.checksum), \(bundle.bundleUUID), \(bundle.release), \(dist),
                            \(Int64(bundle.files.count)), \(bundle.size), \(now))
                    ON CONFLICT (project_id, checksum) DO NOTHING RETURNING id
                    """)
                // Another instance assembled the same bundle first: its files are in already.
                guard let bundleID = try inserted.first?.decode(Int64.self) else {
                    guard let existing = try await self.bundle(db, projectID: projectID, checksum: bundle.checksum) else {
                        throw AdminError(.failed, "the artifact bundle vanished while it was stored")
                    }
                    return existing
                }
                for file in bundle.files {
                    try await db.query(
                        """
                        INSERT INTO artifact_files (bundle_id, project_id, url, type, debug_id, headers, release, dist, content)
                        VALUES (\(bundleID), \(projectID), \(file.url), \(file.type.rawValue), \(file.debugID), \(file.storedHeaders),
                                \(bundle.release), \(dist), \(ByteBuffer(bytes: file.contents)))
                        """, logger: logger)
                }
                guard let stored = try await self.bundle(db, projectID: projectID, checksum: bundle.checksum) else {
                    throw AdminError(.failed, "the artifact bundle vanished while it was stored")
                }
                return stored
            }
        }
    }

    package func artifactBundles(projectID: Int64) async throws -> [ArtifactBundleSummary] {
        try await with { db in
            var bindings = PostgresBindings()
            bindings.append(projectID)
            return try Self.bundles(
                await rows(db, PostgresQuery(unsafeSQL: Self.bundleColumns + " WHERE project_id = $1 ORDER BY id DESC", binds: bindings)))
        }
    }

    private static func files(_ rows: [PostgresRow]) throws -> [ArtifactFile] {
        try rows.compactMap { row in
            let (url, type, debugID, headers, bundleID, content) = try row.decode((String, String, String?, String, Int64, ByteBuffer).self)
            guard let type = ArtifactFileType(rawValue: type) else { return nil }
            return ArtifactFile(
                url: url, type: type, debugID: debugID, headers: ArtifactFile.headers(stored: headers), bundleID: bundleID,
                contents: Array(content.readableBytesView))
        }
    }

    package func artifactFiles(projectID: Int64, bundleID: Int64) async throws -> [ArtifactFile] {
        try await with { db in
            try Self.files(
                await rows(
                    db,
                    """
                    SELECT url, type, debug_id, headers, bundle_id, ''::bytea FROM artifact_files
                    WHERE project_id = \(projectID) AND bundle_id = \(bundleID) ORDER BY url COLLATE "C"
                    """))
        }
    }

    package func file(projectID: Int64, debugID: String, type: ArtifactFileType) async throws -> ArtifactFile? {
        try await with { db in
            try Self.files(
                await rows(
                    db,
                    """
                    SELECT url, type, debug_id, headers, bundle_id, content FROM artifact_files
                    WHERE project_id = \(projectID) AND debug_id = \(debugID.lowercased()) AND type = \(type.rawValue)
                    ORDER BY bundle_id DESC LIMIT 1
                    """)
            ).first
        }
    }

    package func file(projectID: Int64, release: String, dist: String?, url: String) async throws -> ArtifactFile? {
        try await with { db in
            for candidate in [url, ArtifactFile.tildeForm(url)].compactMap({ $0 }) {
                let found = try Self.files(
                    await rows(
                        db,
                        """
                        SELECT url, type, debug_id, headers, bundle_id, content FROM artifact_files
                        WHERE project_id = \(projectID) AND release = \(release) AND dist = \(dist ?? "") AND url = \(candidate)
                        ORDER BY bundle_id DESC LIMIT 1
                        """))
                if let file = found.first { return file }
            }
            return nil
        }
    }

    package func hasArtifacts(projectID: Int64) async throws -> Bool {
        try await with { db in
            try await !rows(db, "SELECT 1 FROM artifact_bundles WHERE project_id = \(projectID) LIMIT 1").isEmpty
        }
    }

    private static let debugFileColumns =
        "SELECT id, project_id, checksum, debug_id, code_id, name, arch, object_type, size, created FROM debug_files"

    private static func debugFiles(_ rows: [PostgresRow]) throws -> [DebugFile] {
        try rows.map { row in
            let (id, project, checksum, debugID, codeID, name, arch, objectType, size, created) = try row.decode(
                (Int64, Int64, String, String, String?, String, String, String, Int64, Int64).self)
            return DebugFile(
                id: id, projectID: project, checksum: checksum, debugID: debugID, codeID: codeID, name: name, arch: arch,
                objectType: objectType, size: size, created: created)
        }
    }

    private func debugFile(_ db: PostgresConnection, projectID: Int64, checksum: String) async throws -> DebugFile? {
        var bindings = PostgresBindings()
        bindings.append(projectID)
        bindings.append(checksum)
        return try Self.debugFiles(
            await rows(db, PostgresQuery(unsafeSQL: Self.debugFileColumns + " WHERE project_id = $1 AND checksum = $2", binds: bindings))
        ).first
    }

    package func debugFile(projectID: Int64, checksum: String) async throws -> DebugFile? {
        try await with { db in try await debugFile(db, projectID: projectID, checksum: checksum) }
    }

    package func storeDebugFile(_ file: DebugFile, contents: [UInt8]) async throws -> DebugFile {
        try await with { db in
            try await db.query(
                """
                INSERT INTO debug_files (project_id, checksum, debug_id, code_id, name, arch, object_type, size, created, content)
                VALUES (\(file.projectID), \(file.checksum), \(file.debugID), \(file.codeID), \(file.name), \(file.arch),
                        \(file.objectType), \(file.size), \(file.created), \(ByteBuffer(bytes: contents)))
                ON CONFLICT (project_id, checksum) DO NOTHING
                """, logger: logger)
            guard let stored = try await debugFile(db, projectID: file.projectID, checksum: file.checksum) else {
                throw AdminError(.failed, "the debug file vanished while it was stored")
            }
            return stored
        }
    }

    package func debugFiles(projectID: Int64) async throws -> [DebugFile] {
        try await with { db in
            var bindings = PostgresBindings()
            bindings.append(projectID)
            return try Self.debugFiles(
                await rows(db, PostgresQuery(unsafeSQL: Self.debugFileColumns + " WHERE project_id = $1 ORDER BY id DESC", binds: bindings))
            )
        }
    }
}
