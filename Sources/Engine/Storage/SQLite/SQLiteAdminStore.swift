import NIOConcurrencyHelpers

/// `AdminStore` over its own SQLite connection. Admin calls are rare and short, so one connection
/// behind a lock is enough; it opens the database (and migrates it) on first use.
package final class SQLiteAdminStore: AdminStore {
    private let connection: NIOLockedValueBox<SQLiteConnection>

    package init(path: String) throws {
        let connection = try SQLiteConnection(path: path)
        try SQLiteSchema.prepare(connection)
        self.connection = NIOLockedValueBox(connection)
    }

    private func with<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try connection.withLockedValue { try body($0) }
    }

    private static let projectColumns = """
        SELECT p.id, o.slug, p.slug, p.name, p.platform, p.created_at FROM projects p
        JOIN organizations o ON o.id = p.organization_id
        """

    private static func project(_ row: SQLiteStatement) -> Project {
        Project(id: row.int(0), organizationSlug: row.text(1) ?? "", slug: row.text(2) ?? "", name: row.text(3) ?? "",
                platform: row.text(4), createdAt: row.int(5))
    }

    private static func key(_ row: SQLiteStatement) -> ProjectKey {
        ProjectKey(id: row.int(0), projectID: row.int(1), publicKey: row.text(2) ?? "", label: row.text(3) ?? "",
                   enabled: row.int(4) != 0, createdAt: row.int(5))
    }

    package func ensureDefaults(organizationSlug: String, projectSlug: String) throws -> Project {
        try with { db in
            try db.transaction {
                let now = ClockTime.nowMilliseconds
                try db.statement("INSERT OR IGNORE INTO organizations (id, slug, name, created_at) VALUES (1, ?, ?, ?)")
                    .run([.text(organizationSlug), .text(organizationSlug), .int(now)])
                if try db.scalarInt("SELECT COUNT(*) FROM projects") == 0 {
                    try db.statement("INSERT INTO projects (id, organization_id, slug, name, created_at) VALUES (1, 1, ?, ?, ?)")
                        .run([.text(projectSlug), .text(projectSlug), .int(now)])
                    try db.statement("INSERT INTO project_keys (project_id, public_key, created_at) VALUES (1, ?, ?)")
                        .run([.text(ProjectKey.generatePublicKey()), .int(now)])
                }
            }
            return try db.statement(Self.projectColumns + " ORDER BY p.id LIMIT 1").query([], Self.project)[0]
        }
    }

    package func projects() throws -> [Project] {
        try with { try $0.statement(Self.projectColumns + " ORDER BY p.id").query([], Self.project) }
    }

    package func project(id: Int64) throws -> Project? {
        try with { try $0.statement(Self.projectColumns + " WHERE p.id = ?").query([.int(id)], Self.project).first }
    }

    package func project(organizationSlug: String, slug: String) throws -> Project? {
        try with {
            try $0.statement(Self.projectColumns + " WHERE o.slug = ? AND p.slug = ?")
                .query([.text(organizationSlug), .text(slug)], Self.project).first
        }
    }

    package func createProject(name: String, id: Int64?, platform: String?) throws -> Project {
        try with { db in
            try db.transaction {
                if let id {
                    guard id > 0 else { throw AdminError("project id must be positive") }
                    guard try db.scalarInt("SELECT COUNT(*) FROM projects WHERE id = ?", [.int(id)]) == 0 else {
                        throw AdminError("project \(id) already exists")
                    }
                }
                // Slugs are unique per organisation: add a numeric suffix when taken.
                let base = Project.slugify(name)
                var slug = base
                var suffix = 2
                while try db.scalarInt("SELECT COUNT(*) FROM projects WHERE organization_id = 1 AND slug = ?", [.text(slug)]) != 0 {
                    slug = "\(base)-\(suffix)"
                    suffix += 1
                }
                let now = ClockTime.nowMilliseconds
                try db.statement("INSERT INTO projects (id, organization_id, slug, name, platform, created_at) VALUES (?, 1, ?, ?, ?, ?)")
                    .run([.optional(id), .text(slug), .text(name), .optional(platform), .int(now)])
                let projectID = db.lastInsertRowID
                try db.statement("INSERT INTO project_keys (project_id, public_key, created_at) VALUES (?, ?, ?)")
                    .run([.int(projectID), .text(ProjectKey.generatePublicKey()), .int(now)])
                return try db.statement(Self.projectColumns + " WHERE p.id = ?").query([.int(projectID)], Self.project)[0]
            }
        }
    }

    package func keys(projectID: Int64?) throws -> [ProjectKey] {
        let sql = "SELECT id, project_id, public_key, label, enabled, created_at FROM project_keys"
        return try with { db in
            if let projectID {
                return try db.statement(sql + " WHERE project_id = ? ORDER BY id").query([.int(projectID)], Self.key)
            }
            return try db.statement(sql + " ORDER BY id").query([], Self.key)
        }
    }

    package func createKey(projectID: Int64, publicKey: String?, label: String?) throws -> ProjectKey {
        let key = publicKey ?? ProjectKey.generatePublicKey()
        guard SentryAuth.isPlausibleKey(key) else {
            throw AdminError("a public key is 1-64 characters of letters, digits, '-' or '_'")
        }
        return try with { db in
            try db.transaction {
                guard try db.scalarInt("SELECT COUNT(*) FROM projects WHERE id = ?", [.int(projectID)]) == 1 else {
                    throw AdminError("project \(projectID) does not exist")
                }
                guard try db.scalarInt("SELECT COUNT(*) FROM project_keys WHERE public_key = ?", [.text(key)]) == 0 else {
                    throw AdminError("public key \(key) already exists")
                }
                try db.statement("INSERT INTO project_keys (project_id, public_key, label, created_at) VALUES (?, ?, ?, ?)")
                    .run([.int(projectID), .text(key), .text(label ?? "Default"), .int(ClockTime.nowMilliseconds)])
                return try db.statement("SELECT id, project_id, public_key, label, enabled, created_at FROM project_keys WHERE id = ?")
                    .query([.int(db.lastInsertRowID)], Self.key)[0]
            }
        }
    }

    package func setting(_ key: String) throws -> String? {
        try with { db in
            try db.statement("SELECT value FROM settings WHERE key = ?").query([.text(key)]) { $0.text(0) }.first ?? nil
        }
    }

    package func setSetting(_ key: String, _ value: String) throws {
        try with { db in
            try db.statement("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .run([.text(key), .text(value)])
        }
    }

    package func latestPayloadDictionary() throws -> (id: Int64, bytes: [UInt8])? {
        try with { db in
            try db.statement("SELECT id, dictionary FROM payload_dictionaries ORDER BY id DESC LIMIT 1")
                .query([]) { ($0.int(0), $0.blob(1)) }.first
        }
    }

    package func payloadDictionary(id: Int64) throws -> [UInt8]? {
        try with { db in
            try db.statement("SELECT dictionary FROM payload_dictionaries WHERE id = ?").query([.int(id)]) { $0.blob(0) }.first
        }
    }

    package func settingIfAbsent(_ key: String, _ value: String) throws -> String {
        try with { db in
            try db.transaction {
                try db.statement("INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)").run([.text(key), .text(value)])
                return try db.statement("SELECT value FROM settings WHERE key = ?").query([.text(key)]) { $0.text(0) ?? "" }[0]
            }
        }
    }
}
