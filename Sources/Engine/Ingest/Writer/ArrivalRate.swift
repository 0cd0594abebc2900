import Foundation

/// How fast entries reach one writer, estimated from the batches it takes, so that it waits
/// `commit_delay_us` for company only when company is coming.
///
/// Every commit rewrites whole pages (table tails, counters, each index leaf it touches), so
/// fewer, larger commits cost less: at 4,500 events/s a 2-5 ms delay grew batches from 2-6 to
/// 20-55 events and cut the writer's CPU per event by 15-35 %; at 1,000/s pitd's whole CPU per
/// event fell 25-30 % (results/2026-12-03T1130Z-commit-delay). A request that arrives alone
/// would wait the whole delay for nobody: at 10 requests a second that is the delay added to
/// every ack and nothing saved. So the delay applies only while the observed rate brings at least one more
/// entry within it (PostgreSQL's `commit_siblings` asks the same question of open transactions).
package struct ArrivalRate {
    /// Entries per second, smoothed over about `horizon`.
    package private(set) var perSecond: Double = 0
    private var lastTake: Double?
    /// How quickly the estimate forgets: a burst a second ago says little about now.
    package static let horizon = 0.1

    package init() {}

    /// A batch of `entries` was taken at `now` (seconds, monotonic). Every entry that arrived
    /// since the previous take is in it unless the batch was full, when the rate is high anyway.
    package mutating func record(entries: Int, at now: Double) {
        defer { lastTake = now }
        guard let lastTake, now > lastTake else { return }
        let interval = now - lastTake
        let observed = Double(entries) / interval
        // Weighted by the time the observation covers, so a long quiet gap replaces the estimate
        // at once while the many short intervals of a busy second average out.
        let weight = 1 - exp(-interval / Self.horizon)
        perSecond += (observed - perSecond) * weight
    }

    /// The delay worth waiting before committing a batch that is not full.
    package func commitDelay(upTo delay: Double) -> Double {
        delay > 0 && perSecond * delay >= 1 ? delay : 0
    }
}
