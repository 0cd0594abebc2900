import Foundation
package import PitModel
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The bounded hand-off between request handlers and the batch writers.
///
/// Bounded by count and by bytes: when either budget is spent, `offer` refuses at once and the
/// handler answers 503 (shed, don't stall). Producers are the event-loop threads; consumers are
/// the writer threads (one with SQLite, `writers` with PostgreSQL).
///
/// Lock-free for producers: a bounded multi-producer multi-consumer ring after Dmitry Vyukov's
/// bounded queue (one sequence number per cell), on `Synchronization.Atomic`. An `offer` is a
/// compare-and-swap on the budget word, a fetch-add for a ticket, three stores into the cell and
/// one full fence; it takes the mutex only when a consumer is parked and nobody has woken it yet. A
/// consumer claims a whole batch with one compare-and-swap and parks on `condition` only when
/// the ring is empty (or, with a commit delay, while its batch is short).
///
/// The three pieces of shared state and their invariants:
///
/// - **Budget word** (`budget`): bit 63 = closed, bits 40..62 = count, bits 0..39 = bytes. A
///   producer *reserves* its entry here (one CAS that checks `closed` and the count and byte
///   budgets together, so the rule is the mutex queue's exactly) before it touches the ring; a
///   consumer gives the reservation back only after it has moved the entry out and released the
///   cell. So `count` is never below the number of entries in the ring (being published,
///   published, or being moved out), and once `closed` is set no reservation can be made:
///   `closed && count == 0` means no entry is queued or ever will be.
/// - **Ring** (`cells`, `enqueuePosition`, `dequeuePosition`): positions only grow. Cell
///   `p % capacity` has sequence `p` when free for the producer holding ticket `p`, `p + 1` once that
///   producer has published, and `p + capacity` once a consumer has taken it (free for ticket
///   `p + capacity`). Sequences of a cell only grow, so there is no ABA. The capacity is
///   `maxCount` plus room for commands (not rounded to a power of two: every cell becomes
///   resident once the ring has wrapped, and an entry is ~620 bytes), so with a single consumer (which releases cells in order)
///   a producer holding a reservation always finds its cell free; with several consumers it can
///   find the cell of the previous lap still being moved out by a consumer that was preempted
///   between claiming and releasing, and then it spins until that consumer releases it.
/// - **Wake-up** (`parked`, `wakePending`, `batchTarget`, `condition`): see `publish` and `park`.
///   The invariant: a consumer waits on `condition` only after it has registered (`parked` or
///   `batchTarget`), cleared `wakePending` and found nothing to take, all while holding the
///   mutex; and every producer, after publishing, either sees no registration (then the
///   consumer's re-check, which follows its registration in the total order of the fences, sees
///   the published entry), or sees `wakePending` set by a producer that will broadcast under the
///   mutex after this consumer waits, or sets it itself and broadcasts. No wake-up is lost. The
///   consumer re-checks only the head cell: it can take nothing before the head is published, and
///   the head's producer is bound by the same argument. `finish`, and the consumer that gives back
///   the last reservation of a finished queue, broadcast under the mutex, which the re-check holds.
///
/// `@unchecked Sendable`: `cells` and `entries` are raw buffers shared by all threads. An entry is
/// written only by the producer holding that cell's ticket while the sequence says "free for this
/// ticket", and read (moved out) only by the consumer whose CAS on `dequeuePosition` claimed that
/// position while the sequence said "published"; the release store of the sequence hands the cell
/// from one to the other. Everything else is an `Atomic` or guarded by `condition`.
package final class IngestQueue: @unchecked Sendable {
    package enum Entry: Sendable {
        case write(WriteUnit)
        case command(IssueCommand, @Sendable (Result<Void, any Error>) -> Void)
    }

    package enum OfferResult: Sendable { case accepted, full, closed }

    package let maxCount: Int
    package let maxBytes: Int

    /// The atomics of one slot of the ring. `~Copyable` because it holds atomics; it lives in
    /// `cells` and is only ever accessed in place. The slot's entry is `entries[index]`, apart so
    /// that no access to the entry overlaps the atomics and a batch moves out with `memcpy`.
    private struct Cell: ~Copyable {
        /// Vyukov's sequence number (see the type's documentation).
        let sequence: Atomic<Int>
        /// Bit pattern of the monotonic time the entry was published, for `oldestAgeSeconds`.
        /// Atomic so that a reader may look at it while the next lap's producer writes it: the
        /// reader validates what it read against `sequence`, as a seqlock does.
        let enqueuedAt: Atomic<UInt64>
        /// The entry's byte cost, so the consumer gives it back without looking into the entry.
        /// Written and read relaxed: the sequence's release/acquire orders it.
        let cost: Atomic<UInt64>
    }

    private let cells: UnsafeMutablePointer<Cell>
    /// Uninitialized storage: the entry of position `p` is initialized while cell `p % capacity` has
    /// sequence `p + 1`, i.e. from its producer's publish until a consumer moves it out.
    private let entries: UnsafeMutablePointer<Entry>
    private let capacity: Int
    /// The byte budget as the budget word can hold it (2^38 bytes: no limit in practice).
    private let byteLimit: UInt64

    private let budget = Atomic<UInt64>(0)
    private let enqueuePosition = Atomic<Int>(0)
    private let dequeuePosition = Atomic<Int>(0)
    /// Consumers waiting for any entry (the ring was empty).
    private let parked = Atomic<Int>(0)
    /// A consumer waiting out its commit delay wants to be woken early when the entry at this
    /// position is published (it completes the batch); `Int.max` when nobody waits so.
    private let batchTarget = Atomic<Int>(.max)
    /// Set by the producer that has taken on waking the parked consumers; cleared by a consumer
    /// when it registers to park. While it is set, producers skip the mutex.
    private let wakePending = Atomic<Bool>(false)
    private let condition = NSCondition()

    private static let closedBit: UInt64 = 1 << 63
    private static let countShift: UInt64 = 40
    private static let countUnit: UInt64 = 1 << 40
    private static let countMask: UInt64 = (1 << 23) - 1
    private static let bytesMask: UInt64 = (1 << 40) - 1
    /// Cells beyond `maxCount` for commands, which the budgets never refuse. Past that (more
    /// commands waiting than this on top of a full queue) a command offer waits for a free cell.
    private static let commandRoom = 64

    package init(maxCount: Int, maxBytes: Int) {
        precondition(maxCount < 1 << 22, "the ingest queue holds at most 4,194,303 entries")
        self.maxCount = maxCount
        self.maxBytes = maxBytes
        self.byteLimit = UInt64(min(max(maxBytes, 0), 1 << 38))
        capacity = max(maxCount, 0) + Self.commandRoom
        cells = .allocate(capacity: capacity)
        for index in 0..<capacity {
            (cells + index).initialize(to: Cell(sequence: Atomic(index), enqueuedAt: Atomic(0), cost: Atomic(0)))
        }
        entries = .allocate(capacity: capacity)
    }

    deinit {
        // No producer or consumer is left (each holds a reference), so every reserved entry is
        // published and those still queued are the positions from the head to the tail.
        let tail = enqueuePosition.load(ordering: .acquiring)
        for position in dequeuePosition.load(ordering: .acquiring)..<tail {
            (entries + position % capacity).deinitialize(count: 1)
        }
        cells.deinitialize(count: capacity)
        cells.deallocate()
        entries.deallocate()
    }

    package func offer(_ unit: WriteUnit) -> OfferResult {
        let cost = UInt64(unit.cost)
        precondition(cost <= Self.bytesMask >> 1, "a write unit larger than 512 GiB")
        var word = budget.load(ordering: .relaxed)
        while true {
            if word & Self.closedBit != 0 { return .closed }
            let count = (word >> Self.countShift) & Self.countMask
            let bytes = word & Self.bytesMask
            guard count < maxCount, bytes + cost <= byteLimit || count == 0 else { return .full }
            let (exchanged, original) = budget.compareExchange(
                expected: word, desired: word + Self.countUnit + cost, successOrdering: .acquiring, failureOrdering: .relaxed)
            if exchanged { break }
            word = original
        }
        publish(.write(unit), cost: cost)
        return .accepted
    }

    /// Commands are never shed: they are rare and a person is waiting for them.
    package func offer(command: IssueCommand, completion: @escaping @Sendable (Result<Void, any Error>) -> Void) -> Bool {
        var word = budget.load(ordering: .relaxed)
        while true {
            if word & Self.closedBit != 0 { return false }
            let (exchanged, original) = budget.compareExchange(
                expected: word, desired: word + Self.countUnit, successOrdering: .acquiring, failureOrdering: .relaxed)
            if exchanged { break }
            word = original
        }
        publish(.command(command, completion), cost: 0)
        return true
    }

    /// Puts a reserved entry into the ring and wakes a parked consumer if there is one.
    private func publish(_ entry: consuming Entry, cost: UInt64) {
        let position = enqueuePosition.wrappingAdd(1, ordering: .relaxed).oldValue
        let index = position % capacity
        let cell = cells + index
        // Free at once unless a consumer is still moving out the previous lap's entry (or more
        // commands than `commandRoom` overfill a full queue): wait for it.
        var spins = 0
        while cell.pointee.sequence.load(ordering: .acquiring) != position { Self.backOff(&spins) }
        (entries + index).initialize(to: entry)
        cell.pointee.cost.store(cost, ordering: .relaxed)
        // Release fence: a reader of `enqueuedAt` that sees this store also sees the sequence
        // move past the previous lap's "published" value (the seqlock's write side).
        atomicMemoryFence(ordering: .releasing)
        cell.pointee.enqueuedAt.store(ClockTime.monotonicSeconds.bitPattern, ordering: .relaxed)
        cell.pointee.sequence.store(position + 1, ordering: .releasing)
        // Dekker with `park`/`waitForBatch`: publish; fence; read the registrations. A consumer
        // registers; fence; re-checks the ring. Of two sequentially consistent fences one comes
        // first, so either the consumer's re-check sees this entry or this read sees its
        // registration (and the `wakePending` it cleared).
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if parked.load(ordering: .relaxed) > 0 || position >= batchTarget.load(ordering: .relaxed) {
            wakeConsumers()
        }
    }

    /// The slow path of `publish`: at most one producer per parking round takes the mutex.
    private func wakeConsumers() {
        // Seeing `true` here is enough: whoever set it after the sleeper cleared it will take the
        // mutex, which the sleeper holds until it waits, and broadcast.
        if wakePending.load(ordering: .relaxed) || wakePending.exchange(true, ordering: .sequentiallyConsistent) { return }
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    private static func backOff(_ spins: inout Int) {
        spins += 1
        if spins > 64 { sched_yield() }
    }

    /// Blocks until entries are queued, then takes up to `limit` of them, oldest first. Returns
    /// nil once the queue is finished and empty: the writer's signal to stop.
    ///
    /// With a `commitDelay`, a batch smaller than `limit` waits up to that long for more entries
    /// (PostgreSQL's `commit_delay`): every commit writes whole pages to the WAL, so a few
    /// hundred microseconds of waiting at moderate load saves most of the commits.
    package func take(maxCount limit: Int, commitDelay: Double = 0, idleTimeout: Double? = nil) -> [Entry]? {
        let limit = max(1, limit)
        var deadline: Double?
        // With an idle timeout, an empty array says nothing arrived for that long.
        let idleDeadline = idleTimeout.map { ClockTime.monotonicSeconds + $0 }
        while true {
            let (head, ready) = readyEntries(limit: limit)
            if ready > 0 {
                if ready < limit && commitDelay > 0 && !isFinished {
                    let now = ClockTime.monotonicSeconds
                    let due = deadline ?? now + commitDelay
                    deadline = due
                    if now < due {
                        waitForBatch(target: head + limit - 1, limit: limit, until: due)
                        continue
                    }
                }
                if let batch = claim(head: head, count: ready) { return batch }
                continue  // another consumer took the head first
            }
            let word = budget.load(ordering: .acquiring)
            if word & Self.closedBit != 0 && (word >> Self.countShift) & Self.countMask == 0 { return nil }
            if let idleDeadline, ClockTime.monotonicSeconds >= idleDeadline { return [] }
            park(until: idleDeadline)
        }
    }

    /// The head position and how many published entries follow it without a gap (≤ `limit`).
    private func readyEntries(limit: Int) -> (head: Int, ready: Int) {
        var head = dequeuePosition.load(ordering: .relaxed)
        while true {
            var ready = 0
            var index = head % capacity
            while ready < limit {
                let position = head + ready
                let sequence = cells[index].sequence.load(ordering: .acquiring)
                if sequence == position + 1 {
                    ready += 1
                    index += 1
                    if index == capacity { index = 0 }
                } else if ready == 0 && sequence > position + 1 {
                    break  // taken by another consumer: the head has moved on
                } else {
                    return (head, ready)
                }
            }
            if ready > 0 { return (head, ready) }
            head = dequeuePosition.load(ordering: .relaxed)
        }
    }

    /// Claims `count` published entries from `head` with one CAS, moves them out (at most two
    /// `memcpy`s, no retain or release), frees their cells and gives their reservations back. Nil
    /// if another consumer moved the head first.
    private func claim(head: Int, count: Int) -> [Entry]? {
        guard dequeuePosition.compareExchange(expected: head, desired: head + count, ordering: .relaxed).exchanged else {
            return nil
        }
        let batch = [Entry](unsafeUninitializedCapacity: count) { buffer, initialized in
            var moved = 0
            while moved < count {
                let start = (head + moved) % capacity
                let run = min(count - moved, capacity - start)
                (buffer.baseAddress! + moved).moveInitialize(from: entries + start, count: run)
                moved += run
            }
            initialized = count
        }
        var bytes: UInt64 = 0
        var index = head % capacity
        for position in head..<head + count {
            bytes += cells[index].cost.load(ordering: .relaxed)
            cells[index].sequence.store(position + capacity, ordering: .releasing)
            index += 1
            if index == capacity { index = 0 }
        }
        let after = budget.wrappingSubtract(UInt64(count) << Self.countShift + bytes, ordering: .acquiringAndReleasing).newValue
        if after & Self.closedBit != 0 && (after >> Self.countShift) & Self.countMask == 0 {
            // The last entry of a finished queue: a consumer that found the ring empty while this
            // batch was being moved out is parked; the mutex orders this broadcast after its wait
            // or this decrement before its re-check.
            condition.lock()
            condition.broadcast()
            condition.unlock()
        }
        return batch
    }

    /// True when a consumer has something to do: an entry published at the head, or the queue
    /// finished and drained (then `take` returns nil).
    private func hasWork() -> Bool {
        var head = dequeuePosition.load(ordering: .relaxed)
        while true {
            let sequence = cells[head % capacity].sequence.load(ordering: .acquiring)
            if sequence == head + 1 { return true }
            if sequence <= head { break }
            head = dequeuePosition.load(ordering: .relaxed)  // taken meanwhile: look again
        }
        let word = budget.load(ordering: .acquiring)
        return word & Self.closedBit != 0 && (word >> Self.countShift) & Self.countMask == 0
    }

    /// Sleeps until a producer publishes, `finish` is called or the last entry of a finished queue
    /// is taken. The head cell is the one to watch: a consumer can take nothing until it is
    /// published, and its producer wakes us after publishing.
    private func park(until deadline: Double?) {
        condition.lock()
        parked.wrappingAdd(1, ordering: .sequentiallyConsistent)
        wakePending.store(false, ordering: .sequentiallyConsistent)
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if !hasWork() {
            if let deadline {
                let remaining = deadline - ClockTime.monotonicSeconds
                if remaining > 0 { _ = condition.wait(until: Date(timeIntervalSinceNow: remaining)) }
            } else {
                condition.wait()
            }
        }
        parked.wrappingSubtract(1, ordering: .relaxed)
        condition.unlock()
    }

    /// Waits out the commit delay: until the entry at `target` (the one that fills the batch) is
    /// published, `finish` is called or `deadline` passes. An entry published out of order can
    /// leave a full batch waiting out the rest of its delay; nothing is lost either way.
    private func waitForBatch(target: Int, limit: Int, until deadline: Double) {
        condition.lock()
        batchTarget.store(target, ordering: .sequentiallyConsistent)
        wakePending.store(false, ordering: .sequentiallyConsistent)
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        if readyEntries(limit: limit).ready < limit && !isFinished {
            let remaining = deadline - ClockTime.monotonicSeconds
            if remaining > 0 { _ = condition.wait(until: Date(timeIntervalSinceNow: remaining)) }
        }
        // Leave another consumer's later target in place.
        _ = batchTarget.compareExchange(expected: target, desired: .max, ordering: .relaxed)
        condition.unlock()
    }

    /// Stops accepting; `take` drains what is left, then returns nil.
    package func finish() {
        budget.bitwiseOr(Self.closedBit, ordering: .sequentiallyConsistent)
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    /// True once `finish` was called (shutting down).
    package var isFinished: Bool {
        budget.load(ordering: .acquiring) & Self.closedBit != 0
    }

    /// How long the oldest queued entry has waited: the writer's lag behind the handlers. Lock-free
    /// and cheap (admission control reads it every few milliseconds): the head cell's publish
    /// time, read seqlock-style. Zero when the queue is empty or its oldest entry is still being
    /// published (its age is then a few instructions).
    package var oldestAgeSeconds: Double {
        for _ in 0..<8 {
            let head = dequeuePosition.load(ordering: .acquiring)
            let cell = cells + head % capacity
            let sequence = cell.pointee.sequence.load(ordering: .acquiring)
            if sequence == head + 1 {
                let bits = cell.pointee.enqueuedAt.load(ordering: .relaxed)
                atomicMemoryFence(ordering: .acquiring)
                if cell.pointee.sequence.load(ordering: .relaxed) == sequence {
                    return max(0, ClockTime.monotonicSeconds - Double(bitPattern: bits))
                }
            } else if sequence <= head {
                return 0
            }
            // Taken or refilled while we looked: read the new head.
        }
        return 0
    }

    /// Queued entries and their bytes, reservations in flight included.
    package var depth: (count: Int, bytes: Int) {
        let word = budget.load(ordering: .relaxed)
        return (Int((word >> Self.countShift) & Self.countMask), Int(word & Self.bytesMask))
    }
}
