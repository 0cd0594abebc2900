/// What a session came to, as release health counts it (PROTOCOL.md §7). Ordered by how bad it
/// is: a session or a user is counted once, under the worst outcome it reached, so a session that
/// errored and then crashed is a crash and no longer an error, and nothing goes back to healthy.
package enum SessionOutcome: Int64, Sendable, Comparable, CaseIterable {
    case healthy = 0
    /// Ended with `errors > 0` (or status `errored`), without crashing or ending abnormally.
    case errored = 1
    /// Ended without a clean exit or a crash being seen (an app killed by the OS, a hang).
    case abnormal = 2
    case crashed = 3

    /// Sentry's `session.status` values.
    package var name: String {
        switch self {
        case .healthy: "healthy"
        case .errored: "errored"
        case .abnormal: "abnormal"
        case .crashed: "crashed"
        }
    }

    package init?(name: String) {
        guard let outcome = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = outcome
    }

    package static func < (a: SessionOutcome, b: SessionOutcome) -> Bool { a.rawValue < b.rawValue }
}
