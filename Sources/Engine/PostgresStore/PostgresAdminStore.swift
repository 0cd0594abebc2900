package import Logging
import NIOCore
import PitModel
package import PitStorage
import PostgresNIO

/// The admin stores over PostgreSQL, with postgres-nio's async API: some calls run per request
/// (API tokens, browser sessions), so a call leases one of a few connections
/// (`PostgresAdminConnections`) and waits for its answers without holding a thread. Opening the
/// store migrates the database.
package final class PostgresAdminStore: ProjectStore, SettingStore, AccountStore {
    private let connections: PostgresAdminConnections
    let logger: Logger
    /// As many as the admin threads SQLite's store runs on: admin calls are short, and a flood
    /// of them should queue here, not open connections the writers and readers need.
    private static let connectionLimit = 4

    /// Migrates the database on a blocking thread (the migration runs on a synchronous session),
    /// then serves every call asynchronously.
    package static func open(url: PostgresDatabaseURL, logger: Logger) async throws -> PostgresAdminStore {
        try await BlockingWork.run(timeout: 600) {
            let session = try PostgresSession(url: url, logger: logger)
            defer { session.close() }
            try PostgresSchema.migrate(session)
        }
        return try PostgresAdminStore(url: url, logger: logger)
    }

    private init(url: PostgresDatabaseURL, logger: Logger) throws {
        connections = PostgresAdminConnections(
            configuration: try url.connectionConfiguration(), limit: Self.connectionLimit, logger: logger)
        self.logger = logger
    }

    package func close() async {
        await connections.close()
    }

    func with<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await connections.withConnection(body)
    }

    /// `body` inside BEGIN … COMMIT, rolled back when it throws; the error it threw is the one
    /// the caller sees (postgres-nio's `withTransaction` would wrap it).
    func transaction<T>(_ db: PostgresConnection, _ body: () async throws -> T) async throws -> T {
        try await db.query("BEGIN", logger: logger)
        do {
            let result = try await body()
            try await db.query("COMMIT", logger: logger)
            return result
        } catch {
            _ = try? await db.query("ROLLBACK", logger: logger)
            throw error
        }
    }

    func rows(_ db: PostgresConnection, _ query: PostgresQuery) async throws -> [PostgresRow] {
        try await db.query(query, logger: logger).collect()
    }

    private func count(_ db: PostgresConnection, _ query: PostgresQuery) async throws -> Int64 {
        try await rows(db, query).first?.decode(Int64.self) ?? 0
    }

    private static let projectColumns = """
        SELECT p.id, o.slug, p.slug, p.name, p.platform, p.created_at FROM projects p
        JOIN organizations o ON o.id = p.organization_id
        """

    private static func projects(_ rows: [PostgresRow]) throws -> [Project] {
        try rows.map { row in
            let (id, org, slug, name, platform, created) = try row.decode((Int64, String, String, String, String?, Int64).self)
            return Project(id: id, organizationSlug: org, slug: slug, name: name, platform: platform, createdAt: created)
        }
    }

    private func projects(_ db: PostgresConnection, where clause: String, _ values: [String]) async throws -> [Project] {
        var bindings = PostgresBindings()
        for value in values { bindings.append(value) }
        return try Self.projects(await rows(db, PostgresQuery(unsafeSQL: Self.projectColumns + clause, binds: bindings)))
    }

    private func project(_ db: PostgresConnection, id: Int64) async throws -> Project? {
        var bindings = PostgresBindings()
        bindings.append(id)
        return try Self.projects(await rows(db, PostgresQuery(unsafeSQL: Self.projectColumns + " WHERE p.id = $1", binds: bindings))).first
    }

    private static let keyColumns = """
        SELECT id, project_id, public_key, label, enabled, created_at, rate_limit_count, rate_limit_window FROM project_keys
        """

    private static func keys(_ rows: [PostgresRow]) throws -> [ProjectKey] {
        try rows.map { row in
            let (id, project, key, label, enabled, created, limit, window) = try row.decode(
                (Int64, Int64, String, String, Int64, Int64, Int64?, Int64?).self)
            return ProjectKey(
                id: id, projectID: project, publicKey: key, label: label, enabled: enabled != 0, createdAt: created,
                rateLimit: limit.map { ProjectKey.RateLimit(count: $0, windowSeconds: max(1, window ?? 1)) })
        }
    }

    private func key(_ db: PostgresConnection, id: Int64) async throws -> ProjectKey? {
        var bindings = PostgresBindings()
        bindings.append(id)
        return try Self.keys(await rows(db, PostgresQuery(unsafeSQL: Self.keyColumns + " WHERE id = $1", binds: bindings))).first
    }

    // MARK: Projects and keys

    package func ensureDefaults(organizationSlug: String, projectSlug: String) async throws -> Project {
        try await with { db in
            try await transaction(db) {
                // Two instances starting at once must not both create the default project.
                try await db.query("LOCK TABLE projects IN SHARE ROW EXCLUSIVE MODE", logger: logger)
                let now = ClockTime.nowMilliseconds
                try await db.query(
                    """
                    INSERT INTO organizations (id, slug, name, created_at) VALUES (1, \(organizationSlug), \(organizationSlug), \(now))
                    ON CONFLICT DO NOTHING
                    """, logger: logger)
                if try await count(db, "SELECT COUNT(*) FROM projects") == 0 {
                    try await insertProject(db, id: 1, slug: projectSlug, name: projectSlug, platform: nil, now: now)
                }
            }
            return try await projects(db, where: " ORDER BY p.id LIMIT 1", [])[0]
        }
    }

    /// A project, its issue-number sequence and its first DSN key.
    private func insertProject(_ db: PostgresConnection, id: Int64, slug: String, name: String, platform: String?, now: Int64)
        async throws
    {
        try await db.query(
            """
            INSERT INTO projects (id, organization_id, slug, name, platform, created_at) VALUES (\(id), 1, \(slug), \(name), \(platform), \(now))
            """, logger: logger)
        try await db.query(PostgresQuery(unsafeSQL: "CREATE SEQUENCE IF NOT EXISTS \(PostgresSchema.shortIDSequence(id))"), logger: logger)
        try await db.query(
            "INSERT INTO project_keys (project_id, public_key, created_at) VALUES (\(id), \(ProjectKey.generatePublicKey()), \(now))",
            logger: logger)
    }

    package func projects() async throws -> [Project] {
        try await with { db in try await projects(db, where: " ORDER BY p.id", []) }
    }

    package func project(id: Int64) async throws -> Project? {
        try await with { db in try await project(db, id: id) }
    }

    package func project(organizationSlug: String, slug: String) async throws -> Project? {
        try await with { db in try await projects(db, where: " WHERE o.slug = $1 AND p.slug = $2", [organizationSlug, slug]).first }
    }

    package func createProject(name: String, id: Int64?, platform: String?) async throws -> Project {
        try await with { db in
            try await transaction(db) {
                // Project ids are chosen like SQLite's rowid (largest + 1, or the caller's), so the
                // table is locked against a concurrent creation for this short transaction.
                try await db.query("LOCK TABLE projects IN SHARE ROW EXCLUSIVE MODE", logger: logger)
                let projectID: Int64
                if let id {
                    try Project.validateNewID(id)
                    guard try await count(db, "SELECT COUNT(*) FROM projects WHERE id = \(id)") == 0 else { throw Project.idTaken(id) }
                    projectID = id
                } else {
                    projectID = try await count(db, "SELECT COALESCE(MAX(id), 0) + 1 FROM projects")
                }
                let taken = try await rows(db, "SELECT slug FROM projects WHERE organization_id = 1").map { try $0.decode(String.self) }
                let slug = Project.uniqueSlug(for: name, taken: Set(taken))
                try await insertProject(db, id: projectID, slug: slug, name: name, platform: platform, now: ClockTime.nowMilliseconds)
                guard let project = try await project(db, id: projectID) else { throw Project.missing(projectID) }
                return project
            }
        }
    }

    package func renameProject(id: Int64, name: String) async throws -> Project? {
        let name = try Project.validatedName(name)
        return try await with { db in
            try await db.query("UPDATE projects SET name = \(name) WHERE id = \(id)", logger: logger)
            return try await project(db, id: id)
        }
    }

    package func apdexThreshold(projectID: Int64) async throws -> Int64? {
        try await with { db in
            for row in try await rows(db, "SELECT apdex_threshold_ms FROM projects WHERE id = \(projectID)") {
                return try row.decode(Int64.self)
            }
            return nil
        }
    }

    package func setApdexThreshold(projectID: Int64, milliseconds: Int64) async throws {
        let milliseconds = try Apdex.validatedThreshold(milliseconds)
        try await with { db in
            _ = try await db.query("UPDATE projects SET apdex_threshold_ms = \(milliseconds) WHERE id = \(projectID)", logger: logger)
        }
    }

    package func keys(projectID: Int64?) async throws -> [ProjectKey] {
        try await with { db in
            if let projectID {
                var bindings = PostgresBindings()
                bindings.append(projectID)
                return try Self.keys(
                    await rows(db, PostgresQuery(unsafeSQL: Self.keyColumns + " WHERE project_id = $1 ORDER BY id", binds: bindings)))
            }
            return try Self.keys(await rows(db, PostgresQuery(unsafeSQL: Self.keyColumns + " ORDER BY id")))
        }
    }

    package func key(id: Int64) async throws -> ProjectKey? {
        try await with { db in try await key(db, id: id) }
    }

    package func createKey(projectID: Int64, publicKey: String?, label: String?) async throws -> ProjectKey {
        let key = try ProjectKey.validatedPublicKey(publicKey)
        return try await with { db in
            try await transaction(db) {
                guard try await count(db, "SELECT COUNT(*) FROM projects WHERE id = \(projectID)") == 1 else {
                    throw Project.missing(projectID)
                }
                guard try await count(db, "SELECT COUNT(*) FROM project_keys WHERE public_key = \(key)") == 0 else {
                    throw ProjectKey.publicKeyTaken(key)
                }
                let inserted = try await rows(
                    db,
                    """
                    INSERT INTO project_keys (project_id, public_key, label, created_at)
                    VALUES (\(projectID), \(key), \(ProjectKey.storedLabel(label)), \(ClockTime.nowMilliseconds))
                    RETURNING id, project_id, public_key, label, enabled, created_at, rate_limit_count, rate_limit_window
                    """)
                return try Self.keys(inserted)[0]
            }
        }
    }

    package func updateKey(id: Int64, label: String?, enabled: Bool?, rateLimit: ProjectKey.RateLimit??) async throws -> ProjectKey? {
        if case .some(.some(let limit)) = rateLimit { try limit.validate() }
        return try await with { db in
            try await transaction(db) {
                if let label {
                    try await db.query("UPDATE project_keys SET label = \(ProjectKey.storedLabel(label)) WHERE id = \(id)", logger: logger)
                }
                if let enabled {
                    try await db.query("UPDATE project_keys SET enabled = \(Int64(enabled ? 1 : 0)) WHERE id = \(id)", logger: logger)
                }
                if let rateLimit {
                    try await db.query(
                        """
                        UPDATE project_keys SET rate_limit_count = \(rateLimit?.count), rate_limit_window = \(rateLimit?.windowSeconds) WHERE id = \(id)
                        """, logger: logger)
                }
                return try await key(db, id: id)
            }
        }
    }

    // MARK: Settings and payload dictionaries

    package func setting(_ key: String) async throws -> String? {
        try await with { db in try await rows(db, "SELECT value FROM settings WHERE key = \(key)").first?.decode(String.self) }
    }

    package func setSetting(_ key: String, _ value: String) async throws {
        _ = try await with { db in
            try await db.query(
                "INSERT INTO settings (key, value) VALUES (\(key), \(value)) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                logger: logger)
        }
    }

    package func settingIfAbsent(_ key: String, _ value: String) async throws -> String {
        try await with { db in
            try await db.query("INSERT INTO settings (key, value) VALUES (\(key), \(value)) ON CONFLICT DO NOTHING", logger: logger)
            guard let stored = try await rows(db, "SELECT value FROM settings WHERE key = \(key)").first else {
                throw AdminError("setting \(key) vanished")
            }
            return try stored.decode(String.self)
        }
    }

    package func latestPayloadDictionary() async throws -> (id: Int64, bytes: [UInt8])? {
        try await with { db in
            guard let row = try await rows(db, "SELECT id, dictionary FROM payload_dictionaries ORDER BY id DESC LIMIT 1").first else {
                return nil
            }
            let (id, bytes) = try row.decode((Int64, ByteBuffer).self)
            return (id, Array(bytes.readableBytesView))
        }
    }

    package func payloadDictionary(id: Int64) async throws -> [UInt8]? {
        try await with { db in
            try await rows(db, "SELECT dictionary FROM payload_dictionaries WHERE id = \(id)").first
                .map { Array(try $0.decode(ByteBuffer.self).readableBytesView) }
        }
    }

    // MARK: Users and sessions

    private static let userColumns = "SELECT id, email, password_hash, is_admin, created_at, disabled_at FROM users"

    private func users(
        _ db: PostgresConnection, where clause: String, _ value: some PostgresNonThrowingEncodable & PostgresDynamicTypeEncodable
    )
        async throws -> [User]
    {
        var bindings = PostgresBindings()
        bindings.append(value)
        return try Self.users(await rows(db, PostgresQuery(unsafeSQL: Self.userColumns + " WHERE " + clause, binds: bindings)))
    }

    private static func users(_ rows: [PostgresRow]) throws -> [User] {
        try rows.map { row in
            let (id, email, hash, admin, created, disabled) = try row.decode((Int64, String, String, Int64, Int64, Int64?).self)
            return User(id: id, email: email, passwordHash: hash, isAdmin: admin != 0, createdAt: created, disabledAt: disabled)
        }
    }

    package func createUser(email: String, passwordHash: String, isAdmin: Bool) async throws -> User {
        let email = try User.validatedEmail(email)
        return try await with { db in
            try await transaction(db) {
                guard try await count(db, "SELECT COUNT(*) FROM users WHERE lower(email) = lower(\(email))") == 0 else {
                    throw User.emailTaken(email)
                }
                let id = try await count(
                    db,
                    """
                    INSERT INTO users (email, password_hash, is_admin, created_at)
                    VALUES (\(email), \(passwordHash), \(Int64(isAdmin ? 1 : 0)), \(ClockTime.nowMilliseconds)) RETURNING id
                    """)
                return try await users(db, where: "id = $1", id)[0]
            }
        }
    }

    package func user(id: Int64) async throws -> User? {
        try await with { db in try await users(db, where: "id = $1", id).first }
    }

    package func user(email: String) async throws -> User? {
        try await with { db in try await users(db, where: "lower(email) = lower($1)", email.trimmingSpaces).first }
    }

    package func users() async throws -> [User] {
        try await with { db in try Self.users(await rows(db, PostgresQuery(unsafeSQL: Self.userColumns + " ORDER BY id"))) }
    }

    @discardableResult
    package func setPassword(userID: Int64, passwordHash: String, revokeTokens: Bool) async throws -> Int {
        try await with { db in
            try await transaction(db) {
                try await db.query("UPDATE users SET password_hash = \(passwordHash) WHERE id = \(userID)", logger: logger)
                // A new password signs every browser out.
                try await db.query("DELETE FROM sessions WHERE user_id = \(userID)", logger: logger)
                guard revokeTokens else { return 0 }
                return try await rows(
                    db,
                    """
                    UPDATE api_tokens SET revoked_at = \(ClockTime.nowMilliseconds) WHERE user_id = \(userID) AND revoked_at IS NULL
                    RETURNING id
                    """
                ).count
            }
        }
    }

    package func setUserActive(id: Int64, active: Bool, now: Int64) async throws -> User? {
        try await with { db in
            try await transaction(db) {
                if active {
                    try await db.query("UPDATE users SET disabled_at = NULL WHERE id = \(id)", logger: logger)
                } else {
                    try await db.query("UPDATE users SET disabled_at = COALESCE(disabled_at, \(now)) WHERE id = \(id)", logger: logger)
                    try await db.query("DELETE FROM sessions WHERE user_id = \(id)", logger: logger)
                }
                return try await users(db, where: "id = $1", id).first
            }
        }
    }

    package func upgradePasswordHash(userID: Int64, from old: String, to new: String) async throws -> Bool {
        try await with { db in
            try await rows(db, "UPDATE users SET password_hash = \(new) WHERE id = \(userID) AND password_hash = \(old) RETURNING id")
                .count == 1
        }
    }

    package func createSession(_ session: WebSession) async throws {
        _ = try await with { db in
            try await db.query(
                """
                INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at)
                VALUES (\(ByteBuffer(bytes: session.tokenHash)), \(session.userID), \(session.csrfToken), \(session.createdAt), \(session.expiresAt))
                """, logger: logger)
        }
    }

    package func session(tokenHash: [UInt8], now: Int64) async throws -> WebSession? {
        try await with { db in
            guard
                let row = try await rows(
                    db,
                    """
                    SELECT token_hash, user_id, csrf_token, created_at, expires_at FROM sessions
                    WHERE token_hash = \(ByteBuffer(bytes: tokenHash)) AND expires_at > \(now)
                    """
                ).first
            else { return nil }
            let (hash, user, csrf, created, expires) = try row.decode((ByteBuffer, Int64?, String, Int64, Int64).self)
            return WebSession(
                tokenHash: Array(hash.readableBytesView), userID: user, csrfToken: csrf, createdAt: created, expiresAt: expires)
        }
    }

    package func deleteSession(tokenHash: [UInt8]) async throws {
        _ = try await with { db in
            try await db.query("DELETE FROM sessions WHERE token_hash = \(ByteBuffer(bytes: tokenHash))", logger: logger)
        }
    }

    package func deleteExpiredSessions(now: Int64) async throws -> Int {
        try await with { db in try await rows(db, "DELETE FROM sessions WHERE expires_at <= \(now) RETURNING 1").count }
    }

    // MARK: API tokens

    private static let tokenColumns = "SELECT id, label, scopes, prefix, user_id, created_at, last_used_at, revoked_at FROM api_tokens"

    private static func tokens(_ rows: [PostgresRow]) throws -> [APIToken] {
        try rows.map { row in
            let (id, label, scopes, prefix, user, created, used, revoked) = try row.decode(
                (Int64, String, String, String, Int64?, Int64, Int64?, Int64?).self)
            return APIToken(
                id: id, label: label, scopes: APIToken.scopes(stored: scopes),
                prefix: prefix, userID: user, createdAt: created, lastUsedAt: used, revokedAt: revoked)
        }
    }

    package func createToken(hash: [UInt8], prefix: String, label: String, scopes: [TokenScope], userID: Int64?) async throws -> APIToken {
        let scopes = try APIToken.storedScopes(scopes)
        return try await with { db in
            try Self.tokens(
                await rows(
                    db,
                    """
                    INSERT INTO api_tokens (token_hash, label, scopes, prefix, user_id, created_at)
                    VALUES (\(ByteBuffer(bytes: hash)), \(APIToken.storedLabel(label)), \(scopes),
                            \(prefix), \(userID), \(ClockTime.nowMilliseconds))
                    RETURNING id, label, scopes, prefix, user_id, created_at, last_used_at, revoked_at
                    """))[0]
        }
    }

    package func tokens() async throws -> [APIToken] {
        try await with { db in try Self.tokens(await rows(db, PostgresQuery(unsafeSQL: Self.tokenColumns + " ORDER BY id"))) }
    }

    package func activeToken(hash: [UInt8], now: Int64) async throws -> APIToken? {
        try await with { db in
            var bindings = PostgresBindings()
            bindings.append(ByteBuffer(bytes: hash))
            guard
                let token = try Self.tokens(
                    await rows(
                        db,
                        PostgresQuery(
                            unsafeSQL: Self.tokenColumns + " WHERE token_hash = $1 AND revoked_at IS NULL"
                                + " AND (user_id IS NULL OR user_id IN (SELECT id FROM users WHERE disabled_at IS NULL))",
                            binds: bindings))
                ).first
            else { return nil }
            if token.needsUsageStamp(now: now) {
                try await db.query("UPDATE api_tokens SET last_used_at = \(now) WHERE id = \(token.id)", logger: logger)
            }
            return token
        }
    }

    package func replaceAdminToken(settingKey: String, hash: String) async throws {
        try await with { db in
            try await transaction(db) {
                try await db.query(
                    "INSERT INTO settings (key, value) VALUES (\(settingKey), \(hash)) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    logger: logger)
                try await db.query("DELETE FROM sessions WHERE user_id IS NULL", logger: logger)
            }
        }
    }

    package func revokeToken(id: Int64, now: Int64) async throws -> Bool {
        try await with { db in
            try await !rows(db, "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, \(now)) WHERE id = \(id) RETURNING id").isEmpty
        }
    }
}
