import PitIngest
import PitModel
import PitQuery
import PitStorage

/// The time the server's sign-in, session and token checks read. The server uses the system
/// clocks; tests pass a clock they move by hand, so session expiry and sign-in throttling are
/// tested without sleeping.
struct PitClock: Sendable {
    /// Wall time in milliseconds since 1970 (session and token expiry, `last_used` stamps).
    var wallMilliseconds: @Sendable () -> Int64
    /// Monotonic seconds (sign-in throttling).
    var monotonicSeconds: @Sendable () -> Double

    static let system = PitClock(wallMilliseconds: { ClockTime.nowMilliseconds }, monotonicSeconds: { ClockTime.monotonicSeconds })
}
