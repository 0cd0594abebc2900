/// A DSN key of a project. Its rules are in `ProjectKey+Rules`.
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
