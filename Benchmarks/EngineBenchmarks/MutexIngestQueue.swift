import PitModel
import PitIngest
import Foundation

/// The ingest queue as it was before the lock-free ring (Engine's `IngestQueue` up to commit
/// 23b005c), kept here only as the baseline of the `IngestQueue` microbenchmarks: a mutex +
/// condition variable around an array; producers hold the lock for an append, the writer for a
/// bulk drain. Not used by pitd.
///
/// `@unchecked Sendable`: every mutable field is only touched while `condition` is locked.
final class MutexIngestQueue: @unchecked Sendable {
    typealias Entry = IngestQueue.Entry
    typealias OfferResult = IngestQueue.OfferResult

    private let condition = NSCondition()
    private var entries: [Entry] = []
    /// Monotonic enqueue time of each entry, parallel to `entries`, for the writer-lag figure.
    private var enqueuedAt: [Double] = []
    private var head = 0
    private var bytes = 0
    private var finished = false
    let maxCount: Int
    let maxBytes: Int

    init(maxCount: Int, maxBytes: Int) {
        self.maxCount = maxCount
        self.maxBytes = maxBytes
    }

    func offer(_ unit: WriteUnit) -> OfferResult {
        let cost = unit.cost
        condition.lock()
        defer { condition.unlock() }
        guard !finished else { return .closed }
        let count = entries.count - head
        guard count < maxCount, bytes + cost <= maxBytes || count == 0 else { return .full }
        entries.append(.write(unit))
        enqueuedAt.append(ClockTime.monotonicSeconds)
        bytes += cost
        condition.signal()
        return .accepted
    }

    /// Commands are never shed: they are rare and a person is waiting for them.
    func offer(command: IssueCommand, completion: @escaping @Sendable (Result<Void, any Error>) -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !finished else { return false }
        entries.append(.command(command, completion))
        enqueuedAt.append(ClockTime.monotonicSeconds)
        condition.signal()
        return true
    }

    /// Blocks until entries are queued, then takes up to `maxCount` of them. Returns nil once the
    /// queue is finished and empty: the writer's signal to stop.
    ///
    /// With a `commitDelay`, a batch smaller than `limit` waits up to that long for more entries
    /// (PostgreSQL's `commit_delay`): every commit writes whole pages to the WAL, so a few
    /// hundred microseconds of waiting at moderate load saves most of the commits.
    func take(maxCount limit: Int, commitDelay: Double = 0) -> [Entry]? {
        condition.lock()
        defer { condition.unlock() }
        while entries.count == head && !finished { condition.wait() }
        if commitDelay > 0 && !finished && entries.count - head < limit {
            let deadline = Date(timeIntervalSinceNow: commitDelay)
            while entries.count - head < limit && !finished && condition.wait(until: deadline) {}
        }
        let available = entries.count - head
        if available == 0 { return nil }
        let n = min(limit, available)
        let batch = Array(entries[head..<head + n])
        head += n
        for entry in batch { if case .write(let unit) = entry { bytes -= unit.cost } }
        // Compact occasionally so the array does not grow without bound.
        if head == entries.count {
            entries.removeAll(keepingCapacity: entries.capacity <= 65536)
            enqueuedAt.removeAll(keepingCapacity: enqueuedAt.capacity <= 65536)
            head = 0
        } else if head > 4096 && head * 2 > entries.count {
            entries.removeFirst(head)
            enqueuedAt.removeFirst(head)
            head = 0
        }
        return batch
    }

    /// Stops accepting; `take` drains what is left, then returns nil.
    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// True once `finish` was called (shutting down).
    var isFinished: Bool {
        condition.lock()
        defer { condition.unlock() }
        return finished
    }

    /// How long the oldest queued entry has waited: the writer's lag behind the handlers.
    var oldestAgeSeconds: Double {
        condition.lock()
        defer { condition.unlock() }
        guard head < enqueuedAt.count else { return 0 }
        return ClockTime.monotonicSeconds - enqueuedAt[head]
    }

    var depth: (count: Int, bytes: Int) {
        condition.lock()
        defer { condition.unlock() }
        return (entries.count - head, bytes)
    }
}
