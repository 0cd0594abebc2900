/// Organisations, projects, DSN keys and settings: the small, rarely written tables that the CLI
/// (`pitd init`, `project`, `key`) and the server share. Safe to use from another process while
/// `pitd serve` runs: every write is a short transaction and the server re-reads keys every few
/// seconds.
package protocol AdminStore: Sendable {
    func ensureDefaults(organizationSlug: String, projectSlug: String) throws -> Project
    func projects() throws -> [Project]
    func project(id: Int64) throws -> Project?
    func project(organizationSlug: String, slug: String) throws -> Project?
    func createProject(name: String, id: Int64?, platform: String?) throws -> Project
    func keys(projectID: Int64?) throws -> [ProjectKey]
    func createKey(projectID: Int64, publicKey: String?, label: String?) throws -> ProjectKey
    func setting(_ key: String) throws -> String?
    func setSetting(_ key: String, _ value: String) throws
    /// Sets a setting only when absent; returns the stored value either way.
    func settingIfAbsent(_ key: String, _ value: String) throws -> String
    /// The newest payload dictionary, and any one by id (`PayloadDictionaries`).
    func latestPayloadDictionary() throws -> (id: Int64, bytes: [UInt8])?
    func payloadDictionary(id: Int64) throws -> [UInt8]?

    // Projects and keys, as the settings pages change them.
    func renameProject(id: Int64, name: String) throws -> Project?
    func key(id: Int64) throws -> ProjectKey?
    /// Changes a key's label, enabled flag and rate limit (events per window; nil = unlimited).
    func updateKey(id: Int64, label: String?, enabled: Bool?, rateLimit: ProjectKey.RateLimit??) throws -> ProjectKey?

    // Accounts: users, browser sessions, API tokens.
    func createUser(email: String, passwordHash: String, isAdmin: Bool) throws -> User
    func user(id: Int64) throws -> User?
    func user(email: String) throws -> User?
    func users() throws -> [User]
    /// Replaces the password and signs the user out everywhere; with `revokeTokens` the user's
    /// API tokens are revoked too (an administrator's reset after a suspected compromise).
    /// Returns how many tokens were revoked.
    @discardableResult
    func setPassword(userID: Int64, passwordHash: String, revokeTokens: Bool) throws -> Int
    /// Disables (signs out everywhere, refuses sign-ins and the user's API tokens) or enables
    /// an account. Returns the user as it is now; nil when there is no such user.
    func setUserActive(id: Int64, active: Bool, now: Int64) throws -> User?
    /// Stores a stronger hash of the *same* password (after a sign-in with an old one) without
    /// signing anyone out, and only while the stored hash is still `old`: a password changed in
    /// the meantime wins. Returns whether it replaced it.
    func upgradePasswordHash(userID: Int64, from old: String, to new: String) throws -> Bool
    func createSession(_ session: WebSession) throws
    /// The session with this token hash, if it exists and has not expired at `now`.
    func session(tokenHash: [UInt8], now: Int64) throws -> WebSession?
    func deleteSession(tokenHash: [UInt8]) throws
    /// Removes expired sessions; returns how many.
    func deleteExpiredSessions(now: Int64) throws -> Int
    func createToken(hash: [UInt8], prefix: String, label: String, scopes: [TokenScope], userID: Int64?) throws -> APIToken
    func tokens() throws -> [APIToken]
    /// A token that is not revoked and whose owner (if it has one) is not disabled, by the
    /// SHA-256 of its secret; marks it used.
    func activeToken(hash: [UInt8], now: Int64) throws -> APIToken?
    /// Returns false when there is no such token.
    func revokeToken(id: Int64, now: Int64) throws -> Bool
    /// Stores `hash` as the admin token's (setting `settingKey`) and closes every browser session
    /// opened with the old token, in one transaction.
    func replaceAdminToken(settingKey: String, hash: String) throws
}
