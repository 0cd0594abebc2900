import NIOConcurrencyHelpers
import PitModel
package import PitStorage

/// The admin stores (`ProjectStore`, `SettingStore`, `AccountStore`) over one SQLite connection.
/// Admin calls are rare and short, so one connection behind a lock is enough; it opens the
/// database (and migrates it) on first use. The rules are the shared ones of `PitStorage`
/// `Admin/`; this file holds the SQL.
package final class SQLiteAdminStore: ProjectStore, SettingStore, AccountStore {
    private let connection: NIOLockedValueBox<SQLiteConnection>

    package init(path: String) throws {
        let connection = try SQLiteConnection(path: path)
        try SQLiteSchema.prepare(connection)
        self.connection = NIOLockedValueBox(connection)
    }

    /// Runs `body` with the connection on `BlockingWork.admin`'s threads, never on the cooperative
    /// pool: a statement may wait out the 5 s busy timeout behind the ingest writer's lock. One
    /// call at a time holds the connection; the deadline bounds a caller without its own (the
    /// CLI); pitd's `AdminAccess` answers 503 well before it.
    func with<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        let connection = connection
        return try await BlockingWork.run(timeout: Self.deadlineSeconds) { try connection.withLockedValue { try body($0) } }
    }

    private static let deadlineSeconds = 60.0

    private static let projectColumns = """
        SELECT p.id, o.slug, p.slug, p.name, p.platform, p.created_at FROM projects p
        JOIN organizations o ON o.id = p.organization_id
        """

    private static func project(_ row: SQLiteStatement) -> Project {
        Project(
            id: row.int(0), organizationSlug: row.text(1) ?? "", slug: row.text(2) ?? "", name: row.text(3) ?? "",
            platform: row.text(4), createdAt: row.int(5))
    }

    private static let keyColumns = """
        SELECT id, project_id, public_key, label, enabled, created_at, rate_limit_count, rate_limit_window FROM project_keys
        """

    private static func key(_ row: SQLiteStatement) -> ProjectKey {
        ProjectKey(
            id: row.int(0), projectID: row.int(1), publicKey: row.text(2) ?? "", label: row.text(3) ?? "",
            enabled: row.int(4) != 0, createdAt: row.int(5),
            rateLimit: row.isNull(6) ? nil : ProjectKey.RateLimit(count: row.int(6), windowSeconds: max(1, row.int(7))))
    }

    package func ensureDefaults(organizationSlug: String, projectSlug: String) async throws -> Project {
        try await with { db in
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

    package func projects() async throws -> [Project] {
        try await with { try $0.statement(Self.projectColumns + " ORDER BY p.id").query([], Self.project) }
    }

    package func project(id: Int64) async throws -> Project? {
        try await with { try $0.statement(Self.projectColumns + " WHERE p.id = ?").query([.int(id)], Self.project).first }
    }

    package func project(organizationSlug: String, slug: String) async throws -> Project? {
        try await with {
            try $0.statement(Self.projectColumns + " WHERE o.slug = ? AND p.slug = ?")
                .query([.text(organizationSlug), .text(slug)], Self.project).first
        }
    }

    package func createProject(name: String, id: Int64?, platform: String?) async throws -> Project {
        try await with { db in
            try db.transaction {
                if let id {
                    try Project.validateNewID(id)
                    guard try db.scalarInt("SELECT COUNT(*) FROM projects WHERE id = ?", [.int(id)]) == 0 else { throw Project.idTaken(id) }
                }
                let taken = try db.statement("SELECT slug FROM projects WHERE organization_id = 1").query([]) { $0.text(0) ?? "" }
                let slug = Project.uniqueSlug(for: name, taken: Set(taken))
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

    package func keys(projectID: Int64?) async throws -> [ProjectKey] {
        let sql = Self.keyColumns
        return try await with { db in
            if let projectID {
                return try db.statement(sql + " WHERE project_id = ? ORDER BY id").query([.int(projectID)], Self.key)
            }
            return try db.statement(sql + " ORDER BY id").query([], Self.key)
        }
    }

    package func createKey(projectID: Int64, publicKey: String?, label: String?) async throws -> ProjectKey {
        let key = try ProjectKey.validatedPublicKey(publicKey)
        return try await with { db in
            try db.transaction {
                guard try db.scalarInt("SELECT COUNT(*) FROM projects WHERE id = ?", [.int(projectID)]) == 1 else {
                    throw Project.missing(projectID)
                }
                guard try db.scalarInt("SELECT COUNT(*) FROM project_keys WHERE public_key = ?", [.text(key)]) == 0 else {
                    throw ProjectKey.publicKeyTaken(key)
                }
                try db.statement("INSERT INTO project_keys (project_id, public_key, label, created_at) VALUES (?, ?, ?, ?)")
                    .run([.int(projectID), .text(key), .text(ProjectKey.storedLabel(label)), .int(ClockTime.nowMilliseconds)])
                return try db.statement(Self.keyColumns + " WHERE id = ?").query([.int(db.lastInsertRowID)], Self.key)[0]
            }
        }
    }

    package func setting(_ key: String) async throws -> String? {
        try await with { db in
            try db.statement("SELECT value FROM settings WHERE key = ?").query([.text(key)]) { $0.text(0) }.first ?? nil
        }
    }

    package func setSetting(_ key: String, _ value: String) async throws {
        try await with { db in
            try db.statement("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .run([.text(key), .text(value)])
        }
    }

    package func latestPayloadDictionary() async throws -> (id: Int64, bytes: [UInt8])? {
        try await with { db in
            try db.statement("SELECT id, dictionary FROM payload_dictionaries ORDER BY id DESC LIMIT 1")
                .query([]) { ($0.int(0), $0.blob(1)) }.first
        }
    }

    package func payloadDictionary(id: Int64) async throws -> [UInt8]? {
        let connection = connection
        return try await BlockingWork.run(timeout: Self.deadlineSeconds) { try Self.payloadDictionary(id: id, in: connection) }
    }

    /// `payloadDictionary(id:)` on the calling thread, for `PayloadDictionaries`' loader:
    /// decompression is synchronous, and runs on a read's own thread.
    package func loadPayloadDictionary(id: Int64) throws -> [UInt8]? {
        try Self.payloadDictionary(id: id, in: connection)
    }

    private static func payloadDictionary(id: Int64, in connection: NIOLockedValueBox<SQLiteConnection>) throws -> [UInt8]? {
        try connection.withLockedValue { db in
            try db.statement("SELECT dictionary FROM payload_dictionaries WHERE id = ?").query([.int(id)]) { $0.blob(0) }.first
        }
    }

    package func settingIfAbsent(_ key: String, _ value: String) async throws -> String {
        try await with { db in
            try db.transaction {
                try db.statement("INSERT OR IGNORE INTO settings (key, value) VALUES (?, ?)").run([.text(key), .text(value)])
                return try db.statement("SELECT value FROM settings WHERE key = ?").query([.text(key)]) { $0.text(0) ?? "" }[0]
            }
        }
    }

    // MARK: Projects and keys

    package func renameProject(id: Int64, name: String) async throws -> Project? {
        let name = try Project.validatedName(name)
        return try await with { db in
            try db.statement("UPDATE projects SET name = ? WHERE id = ?").run([.text(name), .int(id)])
            return try db.statement(Self.projectColumns + " WHERE p.id = ?").query([.int(id)], Self.project).first
        }
    }

    package func apdexThreshold(projectID: Int64) async throws -> Int64? {
        try await with { db in
            try db.statement("SELECT apdex_threshold_ms FROM projects WHERE id = ?").query([.int(projectID)], { $0.int(0) }).first
        }
    }

    package func setApdexThreshold(projectID: Int64, milliseconds: Int64) async throws {
        let milliseconds = try Apdex.validatedThreshold(milliseconds)
        try await with { db in
            try db.statement("UPDATE projects SET apdex_threshold_ms = ? WHERE id = ?").run([.int(milliseconds), .int(projectID)])
        }
    }

    package func key(id: Int64) async throws -> ProjectKey? {
        try await with { try $0.statement(Self.keyColumns + " WHERE id = ?").query([.int(id)], Self.key).first }
    }

    package func updateKey(id: Int64, label: String?, enabled: Bool?, rateLimit: ProjectKey.RateLimit??) async throws -> ProjectKey? {
        if case .some(.some(let limit)) = rateLimit { try limit.validate() }
        return try await with { db in
            try db.transaction {
                if let label {
                    try db.statement("UPDATE project_keys SET label = ? WHERE id = ?").run([.text(ProjectKey.storedLabel(label)), .int(id)])
                }
                if let enabled {
                    try db.statement("UPDATE project_keys SET enabled = ? WHERE id = ?").run([.int(enabled ? 1 : 0), .int(id)])
                }
                if let rateLimit {
                    try db.statement("UPDATE project_keys SET rate_limit_count = ?, rate_limit_window = ? WHERE id = ?")
                        .run([.optional(rateLimit?.count), .optional(rateLimit?.windowSeconds), .int(id)])
                }
                return try db.statement(Self.keyColumns + " WHERE id = ?").query([.int(id)], Self.key).first
            }
        }
    }

    // MARK: Users and sessions

    private static let userColumns = "SELECT id, email, password_hash, is_admin, created_at, disabled_at FROM users"

    private static func user(_ row: SQLiteStatement) -> User {
        User(
            id: row.int(0), email: row.text(1) ?? "", passwordHash: row.text(2) ?? "", isAdmin: row.int(3) != 0,
            createdAt: row.int(4), disabledAt: row.isNull(5) ? nil : row.int(5))
    }

    package func createUser(email: String, passwordHash: String, isAdmin: Bool) async throws -> User {
        let email = try User.validatedEmail(email)
        return try await with { db in
            try db.transaction {
                guard try db.scalarInt("SELECT COUNT(*) FROM users WHERE email = ?", [.text(email)]) == 0 else {
                    throw User.emailTaken(email)
                }
                try db.statement("INSERT INTO users (email, password_hash, is_admin, created_at) VALUES (?, ?, ?, ?)")
                    .run([.text(email), .text(passwordHash), .int(isAdmin ? 1 : 0), .int(ClockTime.nowMilliseconds)])
                return try db.statement(Self.userColumns + " WHERE id = ?").query([.int(db.lastInsertRowID)], Self.user)[0]
            }
        }
    }

    package func user(id: Int64) async throws -> User? {
        try await with { try $0.statement(Self.userColumns + " WHERE id = ?").query([.int(id)], Self.user).first }
    }

    package func user(email: String) async throws -> User? {
        try await with { try $0.statement(Self.userColumns + " WHERE email = ?").query([.text(email.trimmingSpaces)], Self.user).first }
    }

    package func users() async throws -> [User] {
        try await with { try $0.statement(Self.userColumns + " ORDER BY id").query([], Self.user) }
    }

    @discardableResult
    package func setPassword(userID: Int64, passwordHash: String, revokeTokens: Bool) async throws -> Int {
        try await with { db in
            try db.transaction {
                try db.statement("UPDATE users SET password_hash = ? WHERE id = ?").run([.text(passwordHash), .int(userID)])
                // A new password signs every browser out.
                try db.statement("DELETE FROM sessions WHERE user_id = ?").run([.int(userID)])
                guard revokeTokens else { return 0 }
                try db.statement("UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL")
                    .run([.int(ClockTime.nowMilliseconds), .int(userID)])
                return db.changes
            }
        }
    }

    package func setUserActive(id: Int64, active: Bool, now: Int64) async throws -> User? {
        try await with { db in
            try db.transaction {
                if active {
                    try db.statement("UPDATE users SET disabled_at = NULL WHERE id = ?").run([.int(id)])
                } else {
                    try db.statement("UPDATE users SET disabled_at = COALESCE(disabled_at, ?) WHERE id = ?").run([.int(now), .int(id)])
                    try db.statement("DELETE FROM sessions WHERE user_id = ?").run([.int(id)])
                }
                return try db.statement(Self.userColumns + " WHERE id = ?").query([.int(id)], Self.user).first
            }
        }
    }

    package func upgradePasswordHash(userID: Int64, from old: String, to new: String) async throws -> Bool {
        try await with { db in
            try db.statement("UPDATE users SET password_hash = ? WHERE id = ? AND password_hash = ?").run([
                .text(new), .int(userID), .text(old),
            ])
            return db.changes == 1
        }
    }

    package func createSession(_ session: WebSession) async throws {
        try await with { db in
            try db.statement("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)")
                .run([
                    .blob(session.tokenHash), .optional(session.userID), .text(session.csrfToken), .int(session.createdAt),
                    .int(session.expiresAt),
                ])
        }
    }

    package func session(tokenHash: [UInt8], now: Int64) async throws -> WebSession? {
        try await with { db in
            try db.statement(
                "SELECT token_hash, user_id, csrf_token, created_at, expires_at FROM sessions WHERE token_hash = ? AND expires_at > ?"
            )
            .query([.blob(tokenHash), .int(now)]) { row in
                WebSession(
                    tokenHash: row.blob(0), userID: row.isNull(1) ? nil : row.int(1), csrfToken: row.text(2) ?? "",
                    createdAt: row.int(3), expiresAt: row.int(4))
            }.first
        }
    }

    package func deleteSession(tokenHash: [UInt8]) async throws {
        try await with { try $0.statement("DELETE FROM sessions WHERE token_hash = ?").run([.blob(tokenHash)]) }
    }

    package func deleteExpiredSessions(now: Int64) async throws -> Int {
        try await with { db in
            try db.statement("DELETE FROM sessions WHERE expires_at <= ?").run([.int(now)])
            return db.changes
        }
    }

    // MARK: API tokens

    private static let tokenColumns = "SELECT id, label, scopes, prefix, user_id, created_at, last_used_at, revoked_at FROM api_tokens"

    private static func token(_ row: SQLiteStatement) -> APIToken {
        APIToken(
            id: row.int(0), label: row.text(1) ?? "",
            scopes: APIToken.scopes(stored: row.text(2) ?? ""),
            prefix: row.text(3) ?? "", userID: row.isNull(4) ? nil : row.int(4), createdAt: row.int(5),
            lastUsedAt: row.isNull(6) ? nil : row.int(6), revokedAt: row.isNull(7) ? nil : row.int(7))
    }

    package func createToken(hash: [UInt8], prefix: String, label: String, scopes: [TokenScope], userID: Int64?) async throws -> APIToken {
        let scopes = try APIToken.storedScopes(scopes)
        return try await with { db in
            try db.statement("INSERT INTO api_tokens (token_hash, label, scopes, prefix, user_id, created_at) VALUES (?, ?, ?, ?, ?, ?)")
                .run([
                    .blob(hash), .text(APIToken.storedLabel(label)), .text(scopes),
                    .text(prefix), .optional(userID), .int(ClockTime.nowMilliseconds),
                ])
            return try db.statement(Self.tokenColumns + " WHERE id = ?").query([.int(db.lastInsertRowID)], Self.token)[0]
        }
    }

    package func tokens() async throws -> [APIToken] {
        try await with { try $0.statement(Self.tokenColumns + " ORDER BY id").query([], Self.token) }
    }

    package func activeToken(hash: [UInt8], now: Int64) async throws -> APIToken? {
        try await with { db in
            guard
                let token = try db.statement(Self.tokenColumns + " WHERE token_hash = ? AND revoked_at IS NULL" + Self.ownerIsActive)
                    .query([.blob(hash)], Self.token).first
            else { return nil }
            if token.needsUsageStamp(now: now) {
                try db.statement("UPDATE api_tokens SET last_used_at = ? WHERE id = ?").run([.int(now), .int(token.id)])
            }
            return token
        }
    }

    /// A token of a disabled user stops working with the account, and works again if it is
    /// enabled; tokens without an owner (the CLI's) are not tied to any account.
    private static let ownerIsActive = " AND (user_id IS NULL OR user_id IN (SELECT id FROM users WHERE disabled_at IS NULL))"

    package func replaceAdminToken(settingKey: String, hash: String) async throws {
        try await with { db in
            try db.transaction {
                try db.statement("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                    .run([.text(settingKey), .text(hash)])
                try db.statement("DELETE FROM sessions WHERE user_id IS NULL").run([])
            }
        }
    }

    package func revokeToken(id: Int64, now: Int64) async throws -> Bool {
        try await with { db in
            guard try db.scalarInt("SELECT COUNT(*) FROM api_tokens WHERE id = ?", [.int(id)]) == 1 else { return false }
            try db.statement("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?").run([.int(now), .int(id)])
            return true
        }
    }
}
