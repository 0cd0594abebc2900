import Foundation
import PitModel

/// The time `BatchWriter` reads and sleeps on: when held units are retried, the back-off while
/// the database fails, and how long it waits for a batch before the store's deferred work is due.
/// Production uses `SystemWriterClock`; tests pass one they advance by hand, so retry and hold
/// timing is checked without waiting for it.
package protocol WriterClock: Sendable {
    /// Monotonic seconds; `BatchStore.deferredWorkDeadline` is on this clock too.
    var now: Double { get }
    /// Blocks the writer thread for `seconds` of this clock (the back-off between retries).
    func sleep(_ seconds: Double)
    /// How long the writer parks in the queue, in real seconds, when it has something to do
    /// `seconds` from now on this clock. The system clock parks exactly that long; a clock that
    /// tests advance by hand parks briefly and lets the writer look at `now` again.
    func idleWait(_ seconds: Double) -> Double
}

package struct SystemWriterClock: WriterClock {
    package init() {}
    package var now: Double { ClockTime.monotonicSeconds }
    package func sleep(_ seconds: Double) { Thread.sleep(forTimeInterval: seconds) }
    package func idleWait(_ seconds: Double) -> Double { seconds }
}
