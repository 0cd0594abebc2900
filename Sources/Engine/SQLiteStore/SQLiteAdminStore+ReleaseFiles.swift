import PitModel
package import PitStorage

/// Releases, deploys, upload chunks, artifact bundles and debug files (migration 15) on the
/// admin connection; the rules are `ReleaseFileStore`'s, the lookups `ArtifactLookup`'s.
extension SQLiteAdminStore: ReleaseFileStore, ArtifactLookup {
    private static let releaseColumns = "SELECT version, project_id, url, ref, date_created, date_released FROM release_records"

    /// One `StoredRelease` per version from rows ordered by version, its projects in row order.
    private static func releases(_ db: SQLiteConnection, _ sql: String, _ bindings: [SQLiteValue]) throws -> [StoredRelease] {
        var result: [StoredRelease] = []
        for row in try db.statement(sql).query(
            bindings,
            { row in
                StoredRelease(
                    version: row.text(0) ?? "", projectIDs: [row.int(1)], url: row.text(2), ref: row.text(3), dateCreated: row.int(4),
                    dateReleased: row.isNull(5) ? nil : row.int(5))
            })
        {
            if let last = result.last, last.version == row.version {
                result[result.count - 1].projectIDs += row.projectIDs
                result[result.count - 1].dateCreated = min(last.dateCreated, row.dateCreated)
                result[result.count - 1].dateReleased = last.dateReleased ?? row.dateReleased
                result[result.count - 1].url = last.url ?? row.url
                result[result.count - 1].ref = last.ref ?? row.ref
            } else {
                result.append(row)
            }
        }
        return result
    }

    package func saveRelease(_ release: ReleaseChange, projectIDs: [Int64], now: Int64) async throws -> StoredRelease {
        try await with { db in
            try db.transaction {
                for projectID in projectIDs {
                    try db.statement("INSERT OR IGNORE INTO release_records (project_id, version, date_created) VALUES (?, ?, ?)")
                        .run([.int(projectID), .text(release.version), .int(now)])
                }
                try Self.apply(release, db)
                return try Self.releases(db, Self.releaseColumns + " WHERE version = ? ORDER BY project_id", [.text(release.version)])[0]
            }
        }
    }

    private static func apply(_ release: ReleaseChange, _ db: SQLiteConnection) throws {
        try db.statement(
            """
            UPDATE release_records SET url = COALESCE(?, url), ref = COALESCE(?, ref), date_released = COALESCE(?, date_released)
            WHERE version = ?
            """
        ).run([.optional(release.url), .optional(release.ref), .optional(release.dateReleased), .text(release.version)])
    }

    package func updateRelease(_ release: ReleaseChange) async throws -> StoredRelease? {
        try await with { db in
            try db.transaction {
                try Self.apply(release, db)
                return try Self.releases(db, Self.releaseColumns + " WHERE version = ? ORDER BY project_id", [.text(release.version)]).first
            }
        }
    }

    package func storedReleases(projectID: Int64?) async throws -> [StoredRelease] {
        try await with { db in
            guard let projectID else { return try Self.releases(db, Self.releaseColumns + " ORDER BY version, project_id", []) }
            return try Self.releases(db, Self.releaseColumns + " WHERE project_id = ? ORDER BY version", [.int(projectID)])
        }
    }

    package func createDeploy(_ deploy: Deploy) async throws -> Deploy {
        try await with { db in
            try db.statement(
                "INSERT INTO deploys (version, environment, name, url, date_started, date_finished) VALUES (?, ?, ?, ?, ?, ?)"
            ).run([
                .text(deploy.version), .text(deploy.environment), .optional(deploy.name), .optional(deploy.url),
                .optional(deploy.dateStarted), .int(deploy.dateFinished),
            ])
            var stored = deploy
            stored.id = db.lastInsertRowID
            return stored
        }
    }

    package func deploys(version: String) async throws -> [Deploy] {
        try await with { db in
            try db.statement(
                """
                SELECT id, version, environment, name, url, date_started, date_finished FROM deploys
                WHERE version = ? ORDER BY date_finished DESC, id DESC
                """
            ).query([.text(version)]) { row in
                Deploy(
                    id: row.int(0), version: row.text(1) ?? "", environment: row.text(2) ?? "", name: row.text(3), url: row.text(4),
                    dateStarted: row.isNull(5) ? nil : row.int(5), dateFinished: row.int(6))
            }
        }
    }

    package func missingChunks(_ checksums: [String]) async throws -> [String] {
        try await with { db in
            let statement = try db.statement("SELECT 1 FROM upload_chunks WHERE checksum = ?")
            return try checksums.filter { try statement.query([.text($0)]) { _ in true }.isEmpty }
        }
    }

    package func storeChunk(checksum: String, bytes: [UInt8], now: Int64) async throws {
        try await with { db in
            // A chunk sent again (an upload retried, or one file's chunk in another file) keeps
            // its bytes, which are the same by their hash, and is kept as long as the newest use.
            try db.statement(
                """
                INSERT INTO upload_chunks (checksum, size, created, content) VALUES (?, ?, ?, ?)
                ON CONFLICT (checksum) DO UPDATE SET created = excluded.created
                """
            ).run([.text(checksum), .int(Int64(bytes.count)), .int(now), .blob(bytes)])
        }
    }

    package func chunks(_ checksums: [String]) async throws -> [[UInt8]]? {
        try await with { db in
            let statement = try db.statement("SELECT content FROM upload_chunks WHERE checksum = ?")
            var result: [[UInt8]] = []
            for checksum in checksums {
                guard let bytes = try statement.query([.text(checksum)], { $0.blob(0) }).first else { return nil }
                result.append(bytes)
            }
            return result
        }
    }

    package func purgeUploadChunks(createdBefore: Int64, limit: Int) async throws -> Int {
        try await with { db in
            try db.statement(
                "DELETE FROM upload_chunks WHERE checksum IN (SELECT checksum FROM upload_chunks WHERE created < ? LIMIT ?)"
            ).run([.int(createdBefore), .int(Int64(limit))])
            return db.changes
        }
    }

    private static let bundleColumns = """
        SELECT id, project_id, checksum, bundle_uuid, release, dist, file_count, size, created FROM artifact_bundles
        """

    private static func bundle(_ row: SQLiteStatement) -> ArtifactBundleSummary {
        let dist = row.text(5) ?? ""
        return ArtifactBundleSummary(
            id: row.int(0), projectID: row.int(1), checksum: row.text(2) ?? "", bundleUUID: row.text(3) ?? "", release: row.text(4),
            dist: dist.isEmpty ? nil : dist, fileCount: Int(row.int(6)), size: row.int(7), created: row.int(8))
    }

    package func artifactBundle(projectID: Int64, checksum: String) async throws -> ArtifactBundleSummary? {
        try await with { db in
            try db.statement(Self.bundleColumns + " WHERE project_id = ? AND checksum = ?").query(
                [.int(projectID), .text(checksum)], Self.bundle
            )
            .first
        }
    }

    package func storeArtifactBundle(_ bundle: ArtifactBundleUpload, projectID: Int64, now: Int64) async throws -> ArtifactBundleSummary {
        try await with { db in
            try db.transaction {
                let existing = try db.statement(Self.bundleColumns + " WHERE project_id = ? AND checksum = ?")
                    .query([.int(projectID), .text(bundle.checksum)], Self.bundle)
                if let existing = existing.first { return existing }
                let dist = bundle.dist ?? ""
                try db.statement(
                    """
                    INSERT INTO artifact_bundles (project_id, checksum, bundle_uuid, release, dist, file_count, size, created)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """
                ).run([
                    .int(projectID), .text(bundle.checksum), .text(bundle.bundleUUID), .optional(bundle.release), .text(dist),
                    .int(Int64(bundle.files.count)), .int(bundle.size), .int(now),
                ])
                let bundleID = db.lastInsertRowID
                let insert = try db.statement(
                    """
                    INSERT INTO artifact_files (bundle_id, project_id, url, type, debug_id, headers, release, dist, content)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                for file in bundle.files {
                    try insert.run([
                        .int(bundleID), .int(projectID), .text(file.url), .text(file.type.rawValue), .optional(file.debugID),
                        .text(file.storedHeaders), .optional(bundle.release), .text(dist), .blob(file.contents),
                    ])
                }
                return try db.statement(Self.bundleColumns + " WHERE id = ?").query([.int(bundleID)], Self.bundle)[0]
            }
        }
    }

    package func artifactBundles(projectID: Int64) async throws -> [ArtifactBundleSummary] {
        try await with { db in
            try db.statement(Self.bundleColumns + " WHERE project_id = ? ORDER BY id DESC").query([.int(projectID)], Self.bundle)
        }
    }

    private static func file(_ row: SQLiteStatement) -> ArtifactFile? {
        guard let type = ArtifactFileType(rawValue: row.text(1) ?? "") else { return nil }
        return ArtifactFile(
            url: row.text(0) ?? "", type: type, debugID: row.text(2), headers: ArtifactFile.headers(stored: row.text(3) ?? ""),
            bundleID: row.int(4), contents: row.blob(5))
    }

    package func artifactFiles(projectID: Int64, bundleID: Int64) async throws -> [ArtifactFile] {
        try await with { db in
            try db.statement(
                "SELECT url, type, debug_id, headers, bundle_id, x'' FROM artifact_files WHERE project_id = ? AND bundle_id = ? ORDER BY url"
            ).query([.int(projectID), .int(bundleID)], Self.file).compactMap { $0 }
        }
    }

    package func file(projectID: Int64, debugID: String, type: ArtifactFileType) async throws -> ArtifactFile? {
        try await with { db in
            try db.statement(
                """
                SELECT url, type, debug_id, headers, bundle_id, content FROM artifact_files
                WHERE project_id = ? AND debug_id = ? AND type = ? ORDER BY bundle_id DESC LIMIT 1
                """
            ).query([.int(projectID), .text(debugID.lowercased()), .text(type.rawValue)], Self.file).first ?? nil
        }
    }

    package func file(projectID: Int64, release: String, dist: String?, url: String) async throws -> ArtifactFile? {
        try await with { db in
            let statement = try db.statement(
                """
                SELECT url, type, debug_id, headers, bundle_id, content FROM artifact_files
                WHERE project_id = ? AND release = ? AND dist = ? AND url = ? ORDER BY bundle_id DESC LIMIT 1
                """)
            for candidate in [url, ArtifactFile.tildeForm(url)].compactMap({ $0 }) {
                if let found = try statement.query([.int(projectID), .text(release), .text(dist ?? ""), .text(candidate)], Self.file).first
                    ?? nil
                {
                    return found
                }
            }
            return nil
        }
    }

    package func hasArtifacts(projectID: Int64) async throws -> Bool {
        try await with { db in
            try db.statement("SELECT 1 FROM artifact_bundles WHERE project_id = ? LIMIT 1").query([.int(projectID)]) { _ in true }.first
                ?? false
        }
    }

    private static let debugFileColumns = """
        SELECT id, project_id, checksum, debug_id, code_id, name, arch, object_type, size, created FROM debug_files
        """

    private static func debugFile(_ row: SQLiteStatement) -> DebugFile {
        DebugFile(
            id: row.int(0), projectID: row.int(1), checksum: row.text(2) ?? "", debugID: row.text(3) ?? "", codeID: row.text(4),
            name: row.text(5) ?? "", arch: row.text(6) ?? "", objectType: row.text(7) ?? "", size: row.int(8), created: row.int(9))
    }

    package func debugFile(projectID: Int64, checksum: String) async throws -> DebugFile? {
        try await with { db in
            try db.statement(Self.debugFileColumns + " WHERE project_id = ? AND checksum = ?")
                .query([.int(projectID), .text(checksum)], Self.debugFile).first
        }
    }

    package func storeDebugFile(_ file: DebugFile, contents: [UInt8]) async throws -> DebugFile {
        try await with { db in
            try db.statement(
                """
                INSERT INTO debug_files (project_id, checksum, debug_id, code_id, name, arch, object_type, size, created, content)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, checksum) DO NOTHING
                """
            ).run([
                .int(file.projectID), .text(file.checksum), .text(file.debugID), .optional(file.codeID), .text(file.name), .text(file.arch),
                .text(file.objectType), .int(file.size), .int(file.created), .blob(contents),
            ])
            return try db.statement(Self.debugFileColumns + " WHERE project_id = ? AND checksum = ?")
                .query([.int(file.projectID), .text(file.checksum)], Self.debugFile)[0]
        }
    }

    package func debugFiles(projectID: Int64) async throws -> [DebugFile] {
        try await with { db in
            try db.statement(Self.debugFileColumns + " WHERE project_id = ? ORDER BY id DESC").query([.int(projectID)], Self.debugFile)
        }
    }
}
