package import PitModel

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

package struct Project: Sendable, Equatable {
    package var id: Int64
    package var organizationSlug: String
    package var slug: String
    package var name: String
    package var platform: String?
    package var createdAt: Int64

    package init(id: Int64, organizationSlug: String, slug: String, name: String, platform: String? = nil, createdAt: Int64) {
        self.id = id
        self.organizationSlug = organizationSlug
        self.slug = slug
        self.name = name
        self.platform = platform
        self.createdAt = createdAt
    }
}

package struct ProjectKey: Sendable, Equatable {
    package var id: Int64
    package var projectID: Int64
    package var publicKey: String
    package var label: String
    package var enabled: Bool
    package var createdAt: Int64
    package var rateLimit: RateLimit?

    /// At most `count` events per `windowSeconds`, as Sentry's per-key rate limits.
    package struct RateLimit: Sendable, Equatable, Hashable {
        package var count: Int64
        package var windowSeconds: Int64

        package init(count: Int64, windowSeconds: Int64) {
            self.count = count
            self.windowSeconds = windowSeconds
        }

        /// Sentry's `RateLimitSerializer` bounds: a window of at most one day, a count of at
        /// least 0. Pit's windows start at 1 s (a 0 s window would never count anything).
        package static let windowRange: ClosedRange<Int64> = 1...86400
        package static let countRange: ClosedRange<Int64> = 0...Int64(Int32.max)

        /// A limit a client asked for, refused unless inside the bounds above.
        package static func validated(count: Int64?, windowSeconds: Int64?) throws(IngestError) -> RateLimit {
            guard let count, countRange.contains(count) else {
                throw .badRequest("rateLimit.count must be a whole number from \(countRange.lowerBound) to \(countRange.upperBound)")
            }
            guard let windowSeconds, windowRange.contains(windowSeconds) else {
                throw .badRequest(
                    "rateLimit.window must be a whole number of seconds from \(windowRange.lowerBound) to \(windowRange.upperBound)")
            }
            return RateLimit(count: count, windowSeconds: windowSeconds)
        }
    }

    package init(
        id: Int64, projectID: Int64, publicKey: String, label: String, enabled: Bool, createdAt: Int64,
        rateLimit: RateLimit? = nil
    ) {
        self.id = id
        self.projectID = projectID
        self.publicKey = publicKey
        self.label = label
        self.enabled = enabled
        self.createdAt = createdAt
        self.rateLimit = rateLimit
    }
}

package struct AdminError: Error, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}

extension Project {
    /// Sentry-style slug: lowercase letters, digits and dashes.
    package static func slugify(_ name: String) -> String {
        var slug = ""
        var lastWasDash = true
        for scalar in name.lowercased().unicodeScalars {
            if (scalar >= "a" && scalar <= "z") || (scalar >= "0" && scalar <= "9") || scalar == "_" {
                slug.unicodeScalars.append(scalar)
                lastWasDash = false
            } else if !lastWasDash {
                slug += "-"
                lastWasDash = true
            }
        }
        while slug.hasSuffix("-") { slug.removeLast() }
        return slug.isEmpty ? "project" : String(slug.prefix(50))
    }
}

extension ProjectKey {
    /// 32 random hex characters, the shape of Sentry's public keys.
    package static func generatePublicKey() -> String {
        EventID.random().hex
    }
}
