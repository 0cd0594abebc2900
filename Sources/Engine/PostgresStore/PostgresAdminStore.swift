package import Logging
import NIOConcurrencyHelpers
import NIOCore
import PitModel
package import PitStorage
import PostgresNIO

/// `AdminStore` over a few PostgreSQL connections. Its calls are short and synchronous, like
/// `SQLiteAdminStore`'s, but some run per request (API tokens, browser sessions), so a call takes
/// an idle connection (or opens one) instead of queueing behind a single one. Opening the store
/// migrates the database.
package final class PostgresAdminStore: AdminStore {
    private let url: PostgresDatabaseURL
    private let logger: Logger
    private let idle: NIOLockedValueBox<[PostgresSession]>
    private static let keptIdle = 4

    package init(url: PostgresDatabaseURL, logger: Logger) throws {
        let session = try PostgresSession(url: url, logger: logger)
        try PostgresSchema.migrate(session)
        self.url = url
        self.logger = logger
        idle = NIOLockedValueBox([session])
    }

    package func close() {
        for session in idle.withLockedValue({ sessions in
            defer { sessions.removeAll() }
            return sessions
        }) { session.close() }
    }

    private func with<T>(_ body: (PostgresSession) throws -> T) throws -> T {
        let session = try idle.withLockedValue { $0.popLast() } ?? PostgresSession(url: url, logger: logger)
        defer {
            let surplus = idle.withLockedValue { sessions -> Bool in
                guard sessions.count < Self.keptIdle else { return true }
                sessions.append(session)
                return false
            }
            if surplus { session.close() }
        }
        return try body(session)
    }

    private static let projectColumns = """
        SELECT p.id, o.slug, p.slug, p.name, p.platform, p.created_at FROM projects p
        JOIN organizations o ON o.id = p.organization_id
        """

    private static func projects(_ result: PostgresQueryResult) throws -> [Project] {
        try result.map { row in
            let (id, org, slug, name, platform, created) = try row.decode((Int64, String, String, String, String?, Int64).self)
            return Project(id: id, organizationSlug: org, slug: slug, name: name, platform: platform, createdAt: created)
        }
    }

    private static let keyColumns = """
        SELECT id, project_id, public_key, label, enabled, created_at, rate_limit_count, rate_limit_window FROM project_keys
        """

    private static func keys(_ result: PostgresQueryResult) throws -> [ProjectKey] {
        try result.map { row in
            let (id, project, key, label, enabled, created, limit, window) = try row.decode(
                (Int64, Int64, String, String, Int64, Int64, Int64?, Int64?).self)
            return ProjectKey(
                id: id, projectID: project, publicKey: key, label: label, enabled: enabled != 0, createdAt: created,
                rateLimit: limit.map { ProjectKey.RateLimit(count: $0, windowSeconds: max(1, window ?? 1)) })
        }
    }

    private static func count(_ session: PostgresSession, _ query: PostgresQuery) throws -> Int64 {
        for row in try session.query(query) { return try row.decode(Int64.self) }
        return 0
    }

    package func ensureDefaults(organizationSlug: String, projectSlug: String) throws -> Project {
        try with { db in
            try db.transaction {
                // Two instances starting at once must not both create the default project.
                try db.query("LOCK TABLE projects IN SHARE ROW EXCLUSIVE MODE")
                let now = ClockTime.nowMilliseconds
                try db.query(
                    """
                    INSERT INTO organizations (id, slug, name, created_at) VALUES (1, \(organizationSlug), \(organizationSlug), \(now))
                    ON CONFLICT DO NOTHING
                    """)
                if try Self.count(db, "SELECT COUNT(*) FROM projects") == 0 {
                    try Self.insertProject(db, id: 1, slug: projectSlug, name: projectSlug, platform: nil, now: now)
                }
            }
            return try Self.projects(db.query(PostgresQuery(unsafeSQL: Self.projectColumns + " ORDER BY p.id LIMIT 1")))[0]
        }
    }

    /// A project, its issue-number sequence and its first DSN key.
    private static func insertProject(_ db: PostgresSession, id: Int64, slug: String, name: String, platform: String?, now: Int64) throws {
        try db.query(
            """
            INSERT INTO projects (id, organization_id, slug, name, platform, created_at) VALUES (\(id), 1, \(slug), \(name), \(platform), \(now))
            """)
        try db.query(PostgresQuery(unsafeSQL: "CREATE SEQUENCE IF NOT EXISTS \(PostgresSchema.shortIDSequence(id))"))
        try db.query(
            "INSERT INTO project_keys (project_id, public_key, created_at) VALUES (\(id), \(ProjectKey.generatePublicKey()), \(now))")
    }

    package func projects() throws -> [Project] {
        try with { try Self.projects($0.query(PostgresQuery(unsafeSQL: Self.projectColumns + " ORDER BY p.id"))) }
    }

    package func project(id: Int64) throws -> Project? {
        try with { db in
            var bindings = PostgresBindings()
            bindings.append(id)
            return try Self.projects(db.query(PostgresQuery(unsafeSQL: Self.projectColumns + " WHERE p.id = $1", binds: bindings))).first
        }
    }

    package func project(organizationSlug: String, slug: String) throws -> Project? {
        try with { db in
            var bindings = PostgresBindings()
            bindings.append(organizationSlug)
            bindings.append(slug)
            return try Self.projects(
                db.query(
                    PostgresQuery(
                        unsafeSQL: Self.projectColumns + " WHERE o.slug = $1 AND p.slug = $2",
                        binds: bindings))
            ).first
        }
    }

    package func createProject(name: String, id: Int64?, platform: String?) throws -> Project {
        try with { db in
            try db.transaction {
                // Project ids are chosen like SQLite's rowid (largest + 1, or the caller's), so the
                // table is locked against a concurrent creation for this short transaction.
                try db.query("LOCK TABLE projects IN SHARE ROW EXCLUSIVE MODE")
                let projectID: Int64
                if let id {
                    try Project.validateNewID(id)
                    guard try Self.count(db, "SELECT COUNT(*) FROM projects WHERE id = \(id)") == 0 else { throw Project.idTaken(id) }
                    projectID = id
                } else {
                    projectID = try Self.count(db, "SELECT COALESCE(MAX(id), 0) + 1 FROM projects")
                }
                let taken = try db.query("SELECT slug FROM projects WHERE organization_id = 1").map { try $0.decode(String.self) }
                let slug = Project.uniqueSlug(for: name, taken: Set(taken))
                try Self.insertProject(db, id: projectID, slug: slug, name: name, platform: platform, now: ClockTime.nowMilliseconds)
                var bindings = PostgresBindings()
                bindings.append(projectID)
                return try Self.projects(db.query(PostgresQuery(unsafeSQL: Self.projectColumns + " WHERE p.id = $1", binds: bindings)))[0]
            }
        }
    }

    package func keys(projectID: Int64?) throws -> [ProjectKey] {
        try with { db in
            if let projectID {
                var bindings = PostgresBindings()
                bindings.append(projectID)
                return try Self.keys(
                    db.query(PostgresQuery(unsafeSQL: Self.keyColumns + " WHERE project_id = $1 ORDER BY id", binds: bindings)))
            }
            return try Self.keys(db.query(PostgresQuery(unsafeSQL: Self.keyColumns + " ORDER BY id")))
        }
    }

    package func createKey(projectID: Int64, publicKey: String?, label: String?) throws -> ProjectKey {
        let key = try ProjectKey.validatedPublicKey(publicKey)
        return try with { db in
            try db.transaction {
                guard try Self.count(db, "SELECT COUNT(*) FROM projects WHERE id = \(projectID)") == 1 else {
                    throw Project.missing(projectID)
                }
                guard try Self.count(db, "SELECT COUNT(*) FROM project_keys WHERE public_key = \(key)") == 0 else {
                    throw ProjectKey.publicKeyTaken(key)
                }
                let result = try db.query(
                    """
                    INSERT INTO project_keys (project_id, public_key, label, created_at)
                    VALUES (\(projectID), \(key), \(ProjectKey.storedLabel(label)), \(ClockTime.nowMilliseconds))
                    RETURNING id, project_id, public_key, label, enabled, created_at, rate_limit_count, rate_limit_window
                    """)
                return try Self.keys(result)[0]
            }
        }
    }

    package func setting(_ key: String) throws -> String? {
        try with { db in
            for row in try db.query("SELECT value FROM settings WHERE key = \(key)") { return try row.decode(String.self) }
            return nil
        }
    }

    package func setSetting(_ key: String, _ value: String) throws {
        try with { db in
            _ = try db.query(
                "INSERT INTO settings (key, value) VALUES (\(key), \(value)) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        }
    }

    package func settingIfAbsent(_ key: String, _ value: String) throws -> String {
        try with { db in
            try db.query("INSERT INTO settings (key, value) VALUES (\(key), \(value)) ON CONFLICT DO NOTHING")
            for row in try db.query("SELECT value FROM settings WHERE key = \(key)") { return try row.decode(String.self) }
            throw AdminError("setting \(key) vanished")
        }
    }

    package func latestPayloadDictionary() throws -> (id: Int64, bytes: [UInt8])? {
        try with { db in
            for row in try db.query("SELECT id, dictionary FROM payload_dictionaries ORDER BY id DESC LIMIT 1") {
                let (id, bytes) = try row.decode((Int64, ByteBuffer).self)
                return (id, Array(bytes.readableBytesView))
            }
            return nil
        }
    }

    package func payloadDictionary(id: Int64) throws -> [UInt8]? {
        try with { db in
            for row in try db.query("SELECT dictionary FROM payload_dictionaries WHERE id = \(id)") {
                return Array(try row.decode(ByteBuffer.self).readableBytesView)
            }
            return nil
        }
    }

    // MARK: Projects and keys

    package func renameProject(id: Int64, name: String) throws -> Project? {
        let name = try Project.validatedName(name)
        return try with { db in
            try db.query("UPDATE projects SET name = \(name) WHERE id = \(id)")
            var bindings = PostgresBindings()
            bindings.append(id)
            return try Self.projects(db.query(PostgresQuery(unsafeSQL: Self.projectColumns + " WHERE p.id = $1", binds: bindings))).first
        }
    }

    private static func key(_ db: PostgresSession, id: Int64) throws -> ProjectKey? {
        var bindings = PostgresBindings()
        bindings.append(id)
        return try keys(db.query(PostgresQuery(unsafeSQL: keyColumns + " WHERE id = $1", binds: bindings))).first
    }

    package func key(id: Int64) throws -> ProjectKey? {
        try with { try Self.key($0, id: id) }
    }

    package func updateKey(id: Int64, label: String?, enabled: Bool?, rateLimit: ProjectKey.RateLimit??) throws -> ProjectKey? {
        if case .some(.some(let limit)) = rateLimit { try limit.validate() }
        return try with { db in
            try db.transaction {
                if let label {
                    try db.query("UPDATE project_keys SET label = \(ProjectKey.storedLabel(label)) WHERE id = \(id)")
                }
                if let enabled {
                    try db.query("UPDATE project_keys SET enabled = \(Int64(enabled ? 1 : 0)) WHERE id = \(id)")
                }
                if let rateLimit {
                    try db.query(
                        """
                        UPDATE project_keys SET rate_limit_count = \(rateLimit?.count), rate_limit_window = \(rateLimit?.windowSeconds) WHERE id = \(id)
                        """)
                }
                return try Self.key(db, id: id)
            }
        }
    }

    // MARK: Users and sessions

    private static let userColumns = "SELECT id, email, password_hash, is_admin, created_at, disabled_at FROM users"

    private static func users(_ result: PostgresQueryResult) throws -> [User] {
        try result.map { row in
            let (id, email, hash, admin, created, disabled) = try row.decode((Int64, String, String, Int64, Int64, Int64?).self)
            return User(id: id, email: email, passwordHash: hash, isAdmin: admin != 0, createdAt: created, disabledAt: disabled)
        }
    }

    private static func users(
        _ db: PostgresSession, where clause: String, _ value: some PostgresNonThrowingEncodable & PostgresDynamicTypeEncodable
    ) throws -> [User] {
        var bindings = PostgresBindings()
        bindings.append(value)
        return try users(db.query(PostgresQuery(unsafeSQL: userColumns + " WHERE " + clause, binds: bindings)))
    }

    package func createUser(email: String, passwordHash: String, isAdmin: Bool) throws -> User {
        let email = try User.validatedEmail(email)
        return try with { db in
            try db.transaction {
                guard try Self.count(db, "SELECT COUNT(*) FROM users WHERE lower(email) = lower(\(email))") == 0 else {
                    throw User.emailTaken(email)
                }
                let id = try Self.count(
                    db,
                    """
                    INSERT INTO users (email, password_hash, is_admin, created_at)
                    VALUES (\(email), \(passwordHash), \(Int64(isAdmin ? 1 : 0)), \(ClockTime.nowMilliseconds)) RETURNING id
                    """)
                return try Self.users(db, where: "id = $1", id)[0]
            }
        }
    }

    package func user(id: Int64) throws -> User? {
        try with { try Self.users($0, where: "id = $1", id).first }
    }

    package func user(email: String) throws -> User? {
        try with { try Self.users($0, where: "lower(email) = lower($1)", email.trimmingSpaces).first }
    }

    package func users() throws -> [User] {
        try with { try Self.users($0.query(PostgresQuery(unsafeSQL: Self.userColumns + " ORDER BY id"))) }
    }

    @discardableResult
    package func setPassword(userID: Int64, passwordHash: String, revokeTokens: Bool) throws -> Int {
        try with { db in
            try db.transaction {
                try db.query("UPDATE users SET password_hash = \(passwordHash) WHERE id = \(userID)")
                // A new password signs every browser out.
                try db.query("DELETE FROM sessions WHERE user_id = \(userID)")
                guard revokeTokens else { return 0 }
                return try db.query(
                    """
                    UPDATE api_tokens SET revoked_at = \(ClockTime.nowMilliseconds) WHERE user_id = \(userID) AND revoked_at IS NULL
                    """
                ).metadata.rows ?? 0
            }
        }
    }

    package func setUserActive(id: Int64, active: Bool, now: Int64) throws -> User? {
        try with { db in
            try db.transaction {
                if active {
                    try db.query("UPDATE users SET disabled_at = NULL WHERE id = \(id)")
                } else {
                    try db.query("UPDATE users SET disabled_at = COALESCE(disabled_at, \(now)) WHERE id = \(id)")
                    try db.query("DELETE FROM sessions WHERE user_id = \(id)")
                }
                return try Self.users(db, where: "id = $1", id).first
            }
        }
    }

    package func upgradePasswordHash(userID: Int64, from old: String, to new: String) throws -> Bool {
        try with { db in
            try db.query("UPDATE users SET password_hash = \(new) WHERE id = \(userID) AND password_hash = \(old)").metadata.rows == 1
        }
    }

    package func createSession(_ session: WebSession) throws {
        try with { db in
            _ = try db.query(
                """
                INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at)
                VALUES (\(ByteBuffer(bytes: session.tokenHash)), \(session.userID), \(session.csrfToken), \(session.createdAt), \(session.expiresAt))
                """)
        }
    }

    package func session(tokenHash: [UInt8], now: Int64) throws -> WebSession? {
        try with { db in
            for row in try db.query(
                """
                SELECT token_hash, user_id, csrf_token, created_at, expires_at FROM sessions
                WHERE token_hash = \(ByteBuffer(bytes: tokenHash)) AND expires_at > \(now)
                """)
            {
                let (hash, user, csrf, created, expires) = try row.decode((ByteBuffer, Int64?, String, Int64, Int64).self)
                return WebSession(
                    tokenHash: Array(hash.readableBytesView), userID: user, csrfToken: csrf, createdAt: created, expiresAt: expires)
            }
            return nil
        }
    }

    package func deleteSession(tokenHash: [UInt8]) throws {
        try with { db in _ = try db.query("DELETE FROM sessions WHERE token_hash = \(ByteBuffer(bytes: tokenHash))") }
    }

    package func deleteExpiredSessions(now: Int64) throws -> Int {
        try with { db in try db.query("DELETE FROM sessions WHERE expires_at <= \(now)").metadata.rows ?? 0 }
    }

    // MARK: API tokens

    private static let tokenColumns = "SELECT id, label, scopes, prefix, user_id, created_at, last_used_at, revoked_at FROM api_tokens"

    private static func tokens(_ result: PostgresQueryResult) throws -> [APIToken] {
        try result.map { row in
            let (id, label, scopes, prefix, user, created, used, revoked) = try row.decode(
                (Int64, String, String, String, Int64?, Int64, Int64?, Int64?).self)
            return APIToken(
                id: id, label: label, scopes: APIToken.scopes(stored: scopes),
                prefix: prefix, userID: user, createdAt: created, lastUsedAt: used, revokedAt: revoked)
        }
    }

    package func createToken(hash: [UInt8], prefix: String, label: String, scopes: [TokenScope], userID: Int64?) throws -> APIToken {
        let scopes = try APIToken.storedScopes(scopes)
        return try with { db in
            try Self.tokens(
                db.query(
                    """
                    INSERT INTO api_tokens (token_hash, label, scopes, prefix, user_id, created_at)
                    VALUES (\(ByteBuffer(bytes: hash)), \(APIToken.storedLabel(label)), \(scopes),
                            \(prefix), \(userID), \(ClockTime.nowMilliseconds))
                    RETURNING id, label, scopes, prefix, user_id, created_at, last_used_at, revoked_at
                    """))[0]
        }
    }

    package func tokens() throws -> [APIToken] {
        try with { try Self.tokens($0.query(PostgresQuery(unsafeSQL: Self.tokenColumns + " ORDER BY id"))) }
    }

    package func activeToken(hash: [UInt8], now: Int64) throws -> APIToken? {
        try with { db in
            var bindings = PostgresBindings()
            bindings.append(ByteBuffer(bytes: hash))
            guard
                let token = try Self.tokens(
                    db.query(
                        PostgresQuery(
                            unsafeSQL: Self.tokenColumns + " WHERE token_hash = $1 AND revoked_at IS NULL"
                                + " AND (user_id IS NULL OR user_id IN (SELECT id FROM users WHERE disabled_at IS NULL))",
                            binds: bindings))
                ).first
            else { return nil }
            if token.needsUsageStamp(now: now) {
                try db.query("UPDATE api_tokens SET last_used_at = \(now) WHERE id = \(token.id)")
            }
            return token
        }
    }

    package func replaceAdminToken(settingKey: String, hash: String) throws {
        try with { db in
            try db.transaction {
                try db.query(
                    "INSERT INTO settings (key, value) VALUES (\(settingKey), \(hash)) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                )
                try db.query("DELETE FROM sessions WHERE user_id IS NULL")
            }
        }
    }

    package func revokeToken(id: Int64, now: Int64) throws -> Bool {
        try with { db in
            guard try Self.count(db, "SELECT COUNT(*) FROM api_tokens WHERE id = \(id)") == 1 else { return false }
            try db.query("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, \(now)) WHERE id = \(id)")
            return true
        }
    }
}
