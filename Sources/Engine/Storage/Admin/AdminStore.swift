/// The admin side's storage, split by concern: projects and their DSN keys (`ProjectStore`),
/// settings and payload dictionaries (`SettingStore`), accounts, browser sessions and API tokens
/// (`AccountStore`), and what sentry-cli uploads from CI (`ReleaseFileStore`, read back through
/// `ArtifactLookup`). Every call is async and never blocks a cooperative thread: SQLite runs its
/// statements on `BlockingWork.admin`'s threads behind its one connection's lock, PostgreSQL uses
/// postgres-nio's async API on a few pooled connections.
///
/// The rules (validation, slugs, key labels and rotation, token scopes, error messages) live in
/// `Admin/*+Rules` and `ProjectStore+Keys`, written once; a back end holds only its SQL. Safe to
/// use from another process while `pitd serve` runs: every write is a short transaction and the
/// server re-reads keys every few seconds.
package typealias AdminStore = ProjectStore & SettingStore & AccountStore & ReleaseFileStore & ArtifactLookup & DeferredEventStore

/// Organisations, projects and DSN keys: what the CLI (`pitd init`, `project`, `key`), the
/// settings pages, the API and the ingest key cache share.
package protocol ProjectStore: Sendable {
    func ensureDefaults(organizationSlug: String, projectSlug: String) async throws -> Project
    func projects() async throws -> [Project]
    func project(id: Int64) async throws -> Project?
    func project(organizationSlug: String, slug: String) async throws -> Project?
    func createProject(name: String, id: Int64?, platform: String?) async throws -> Project
    func renameProject(id: Int64, name: String) async throws -> Project?
    func keys(projectID: Int64?) async throws -> [ProjectKey]
    func key(id: Int64) async throws -> ProjectKey?
    func createKey(projectID: Int64, publicKey: String?, label: String?) async throws -> ProjectKey
    /// Changes a key's label, enabled flag and rate limit (events per window; nil = unlimited).
    func updateKey(id: Int64, label: String?, enabled: Bool?, rateLimit: ProjectKey.RateLimit??) async throws -> ProjectKey?
    /// The project's Apdex threshold T in milliseconds; nil when there is no such project.
    func apdexThreshold(projectID: Int64) async throws -> Int64?
    /// Sets it (`Apdex.validatedThreshold`); transactions stored from then on are counted against it.
    func setApdexThreshold(projectID: Int64, milliseconds: Int64) async throws
}

/// Server settings (the admin token's hash, retention overrides) and the payload dictionaries.
package protocol SettingStore: Sendable {
    func setting(_ key: String) async throws -> String?
    func setSetting(_ key: String, _ value: String) async throws
    /// Sets a setting only when absent; returns the stored value either way.
    func settingIfAbsent(_ key: String, _ value: String) async throws -> String
    /// The newest payload dictionary, and any one by id (`PayloadDictionaries`).
    func latestPayloadDictionary() async throws -> (id: Int64, bytes: [UInt8])?
    func payloadDictionary(id: Int64) async throws -> [UInt8]?
}

/// Accounts: users, browser sessions, API tokens, and the admin token's sessions.
package protocol AccountStore: Sendable {
    func createUser(email: String, passwordHash: String, isAdmin: Bool) async throws -> User
    func user(id: Int64) async throws -> User?
    func user(email: String) async throws -> User?
    func users() async throws -> [User]
    /// Replaces the password and signs the user out everywhere; with `revokeTokens` the user's
    /// API tokens are revoked too (an administrator's reset after a suspected compromise).
    /// Returns how many tokens were revoked.
    @discardableResult
    func setPassword(userID: Int64, passwordHash: String, revokeTokens: Bool) async throws -> Int
    /// Disables (signs out everywhere, refuses sign-ins and the user's API tokens) or enables
    /// an account. Returns the user as it is now; nil when there is no such user.
    func setUserActive(id: Int64, active: Bool, now: Int64) async throws -> User?
    /// Stores a stronger hash of the *same* password (after a sign-in with an old one) without
    /// signing anyone out, and only while the stored hash is still `old`: a password changed in
    /// the meantime wins. Returns whether it replaced it.
    func upgradePasswordHash(userID: Int64, from old: String, to new: String) async throws -> Bool
    func createSession(_ session: WebSession) async throws
    /// The session with this token hash, if it exists and has not expired at `now`.
    func session(tokenHash: [UInt8], now: Int64) async throws -> WebSession?
    func deleteSession(tokenHash: [UInt8]) async throws
    /// Removes expired sessions; returns how many.
    func deleteExpiredSessions(now: Int64) async throws -> Int
    func createToken(hash: [UInt8], prefix: String, label: String, scopes: [TokenScope], userID: Int64?) async throws -> APIToken
    func tokens() async throws -> [APIToken]
    /// A token that is not revoked and whose owner (if it has one) is not disabled, by the
    /// SHA-256 of its secret; marks it used (`APIToken.needsUsageStamp`).
    func activeToken(hash: [UInt8], now: Int64) async throws -> APIToken?
    /// Returns false when there is no such token.
    func revokeToken(id: Int64, now: Int64) async throws -> Bool
    /// Stores `hash` as the admin token's (setting `settingKey`) and closes every browser session
    /// opened with the old token, in one transaction.
    func replaceAdminToken(settingKey: String, hash: String) async throws
}
