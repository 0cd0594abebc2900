import Dispatch
import Foundation
import NIOCore
import PitIngest
import PitModel
import PitObservability
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Write units that can be told apart: each carries an event with a distinct event id.
private func unit(_ index: Int) throws -> WriteUnit {
    let pipeline = IngestPipeline(
        keys: KeyCache(), queue: IngestQueue(maxCount: 1, maxBytes: 1), ack: .queued,
        limits: IngestLimits(), metrics: PitMetrics())
    let id = String(format: "%032x", index + 1)
    let record = try pipeline.makeEventRecord(
        ByteBuffer(string: #"{"event_id":"\#(id)","message":"m"}"#), header: nil,
        projectID: 1, received: receiveTime)
    return WriteUnit(event: record, items: [])
}

private func eventIndex(_ entry: IngestQueue.Entry) -> Int? {
    guard case .write(let unit) = entry, let id = unit.event?.eventID else { return nil }
    return Int(id.low) - 1
}

@Suite struct IngestQueueTests {
    @Test func countBudget() throws {
        let queue = IngestQueue(maxCount: 2, maxBytes: 1 << 30)
        #expect(queue.offer(try unit(0)) == .accepted)
        #expect(queue.offer(try unit(1)) == .accepted)
        #expect(queue.offer(try unit(2)) == .full)
        #expect(queue.depth.count == 2)
        #expect(queue.take(maxCount: 1)?.compactMap(eventIndex) == [0])
        #expect(queue.offer(try unit(3)) == .accepted)
        #expect(queue.take(maxCount: 10)?.compactMap(eventIndex) == [1, 3])
    }

    @Test func byteBudget() throws {
        let first = try unit(0)
        let cost = first.cost
        #expect(cost > 512)
        let queue = IngestQueue(maxCount: 100, maxBytes: 2 * cost - 1)
        #expect(queue.offer(first) == .accepted)
        #expect(queue.depth.bytes == cost)
        #expect(queue.offer(try unit(1)) == .full)
        #expect(queue.depth == (1, cost))
        _ = queue.take(maxCount: 10)
        #expect(queue.depth == (0, 0))
        #expect(queue.offer(try unit(2)) == .accepted)
    }

    @Test func costCountsWhatTheUnitHolds() throws {
        // 100 KB of one character compresses to a few hundred bytes, but the queued unit also
        // keeps the decoded payload (the grouping's source): the budget must see those bytes.
        let pipeline = IngestPipeline(
            keys: KeyCache(), queue: IngestQueue(maxCount: 1, maxBytes: 1), ack: .queued,
            limits: IngestLimits(), metrics: PitMetrics())
        func big(_ index: Int) throws -> WriteUnit {
            let payload = #"{"event_id":"\#(String(format: "%032x", index))","message":"\#(String(repeating: "x", count: 100_000))"}"#
            return WriteUnit(
                event: try pipeline.makeEventRecord(
                    ByteBuffer(string: payload), header: nil, projectID: 1,
                    received: receiveTime), items: [])
        }
        let first = try big(1)
        #expect(try #require(first.event).compressedPayload.count < 2_000)
        // The unit shares the request buffer's storage, which NIO sized to a power of two.
        #expect(first.cost >= 100_000)
        // Plus the message kept for the read view (`EventRecord.message`, cut at 8 KiB).
        #expect(first.cost < 150_000)
        let queue = IngestQueue(maxCount: 100, maxBytes: 150_000)
        #expect(queue.offer(first) == .accepted)
        #expect(queue.offer(try big(2)) == .full)
    }

    @Test func oversizedUnitIsAcceptedIntoAnEmptyQueue() throws {
        // Otherwise a unit bigger than the whole budget could never be written.
        let queue = IngestQueue(maxCount: 10, maxBytes: 10)
        #expect(queue.offer(try unit(0)) == .accepted)
        #expect(queue.offer(try unit(1)) == .full)
    }

    @Test func emptyUnitsCostNothing() {
        #expect(WriteUnit(event: nil, items: []).cost == 0)
        let queue = IngestQueue(maxCount: 3, maxBytes: 0)
        for _ in 0..<3 { #expect(queue.offer(WriteUnit(event: nil, items: [])) == .accepted) }
        #expect(queue.offer(WriteUnit(event: nil, items: [])) == .full)
    }

    @Test func takeBatchesInOrder() throws {
        let queue = IngestQueue(maxCount: 100, maxBytes: 1 << 30)
        for i in 0..<7 { #expect(queue.offer(try unit(i)) == .accepted) }
        #expect(queue.take(maxCount: 3)?.compactMap(eventIndex) == [0, 1, 2])
        #expect(queue.take(maxCount: 3)?.compactMap(eventIndex) == [3, 4, 5])
        #expect(queue.take(maxCount: 3)?.compactMap(eventIndex) == [6])
        #expect(queue.depth == (0, 0))
    }

    @Test func finishDrainsThenReturnsNil() throws {
        let queue = IngestQueue(maxCount: 100, maxBytes: 1 << 30)
        #expect(queue.offer(try unit(0)) == .accepted)
        #expect(queue.offer(try unit(1)) == .accepted)
        queue.finish()
        #expect(queue.offer(try unit(2)) == .closed)
        #expect(queue.offer(command: .setStatus(issueIDs: [1], status: .resolved, resolveInNextRelease: false)) { _ in } == false)
        #expect(queue.take(maxCount: 1)?.compactMap(eventIndex) == [0])
        #expect(queue.take(maxCount: 10)?.compactMap(eventIndex) == [1])
        #expect(queue.take(maxCount: 10) == nil)
        #expect(queue.take(maxCount: 10) == nil)
    }

    @Test func blockingTakeWakesOnOffer() throws {
        let queue = IngestQueue(maxCount: 100, maxBytes: 1 << 30)
        let result = TakeResult()
        let done = DispatchSemaphore(value: 0)
        Thread {
            result.set(queue.take(maxCount: 10)?.compactMap(eventIndex))
            done.signal()
        }.start()
        // The taker is blocked: nothing arrives within 100 ms.
        #expect(done.wait(timeout: .now() + .milliseconds(100)) == .timedOut)
        #expect(queue.offer(try unit(5)) == .accepted)
        #expect(done.wait(timeout: .now() + .seconds(10)) == .success)
        #expect(result.get() == [5])
    }

    @Test func blockingTakeWakesOnFinish() {
        let queue = IngestQueue(maxCount: 100, maxBytes: 1 << 30)
        let result = TakeResult()
        result.set([-1])
        let done = DispatchSemaphore(value: 0)
        Thread {
            result.set(queue.take(maxCount: 10)?.compactMap(eventIndex))
            done.signal()
        }.start()
        #expect(done.wait(timeout: .now() + .milliseconds(50)) == .timedOut)
        queue.finish()
        #expect(done.wait(timeout: .now() + .seconds(10)) == .success)
        #expect(result.get() == nil)
    }

    @Test func commandsAreNeverShedAndKeepTheirOrder() throws {
        let queue = IngestQueue(maxCount: 1, maxBytes: 1 << 30)
        #expect(queue.offer(try unit(0)) == .accepted)
        #expect(queue.offer(try unit(1)) == .full)
        let completed = TakeResult()
        let accepted = queue.offer(command: .setStatus(issueIDs: [7], status: .ignored, resolveInNextRelease: false)) { result in
            if case .success = result { completed.set([1]) }
        }
        #expect(accepted)
        #expect(queue.depth.count == 2)
        let batch = try #require(queue.take(maxCount: 10))
        #expect(batch.count == 2)
        #expect(eventIndex(batch[0]) == 0)
        guard case .command(.setStatus(let ids, let status, let inNextRelease), let completion) = batch[1] else {
            Issue.record("expected a command, got \(batch[1])")
            return
        }
        #expect(ids == [7] && status == .ignored && !inNextRelease)
        completion(.success(()))
        #expect(completed.get() == [1])
    }

    @Test func oldestAge() throws {
        let queue = IngestQueue(maxCount: 10, maxBytes: 1 << 30)
        #expect(queue.oldestAgeSeconds == 0)
        #expect(queue.offer(try unit(0)) == .accepted)
        Thread.sleep(forTimeInterval: 0.02)
        #expect(queue.oldestAgeSeconds >= 0.02)
        _ = queue.take(maxCount: 10)
        #expect(queue.oldestAgeSeconds == 0)
    }
}

/// A value handed between threads in tests.
final class TakeResult: @unchecked Sendable {
    // @unchecked Sendable: `value` is only touched while `lock` is held.
    private let lock = NSLock()
    private var value: [Int]?

    func set(_ value: [Int]?) { lock.withLock { self.value = value } }
    func get() -> [Int]? { lock.withLock { value } }
}

/// The lock-free ring under several threads, and the waits of `take`.
@Suite struct IngestQueueConcurrencyTests {
    /// Runs `body` on a new thread; the semaphore is signalled when it returns.
    private func spawn(_ body: @escaping @Sendable () -> Void) -> DispatchSemaphore {
        let done = DispatchSemaphore(value: 0)
        Thread {
            body()
            done.signal()
        }.start()
        return done
    }

    /// Several producers offer distinct units through a small ring (many laps, many `.full`
    /// retries) while one or two consumers take batches: every unit is taken exactly once, and
    /// each consumer sees each producer's units in the order they were offered.
    @Test(arguments: [1, 2])
    func fifoUnderConcurrentProducers(consumers: Int) throws {
        let producers = 4
        let perProducer = 1500
        let units = try (0..<producers * perProducer).map(unit)
        let queue = IngestQueue(maxCount: 64, maxBytes: 1 << 30)
        let taken = Collected()
        var finished: [DispatchSemaphore] = []
        for _ in 0..<consumers {
            finished.append(
                spawn {
                    var mine: [Int] = []
                    while let batch = queue.take(maxCount: 50) { mine.append(contentsOf: batch.compactMap(eventIndex)) }
                    taken.append(mine)
                })
        }
        let offered = (0..<producers).map { producer in
            spawn {
                for index in producer * perProducer..<(producer + 1) * perProducer {
                    while true {
                        let result = queue.offer(units[index])
                        if result == .accepted { break }
                        precondition(result == .full)
                        sched_yield()
                    }
                }
            }
        }
        for done in offered { #expect(done.wait(timeout: .now() + .seconds(60)) == .success) }
        queue.finish()
        for done in finished { #expect(done.wait(timeout: .now() + .seconds(60)) == .success) }
        let views = taken.all()
        #expect(views.count == consumers)
        #expect(views.flatMap { $0 }.sorted() == Array(0..<producers * perProducer))
        for view in views {
            for producer in 0..<producers {
                let own = view.filter { $0 / perProducer == producer }
                #expect(own == own.sorted(), "consumer saw producer \(producer) out of order")
            }
        }
        #expect(queue.depth == (0, 0))
    }

    /// Producers that offer one unit at a time with pauses make the consumer park and wake
    /// thousands of times: a lost wake-up would leave it asleep with units queued.
    @Test func consumerParksAndWakesWithoutLoss() throws {
        let queue = IngestQueue(maxCount: 1000, maxBytes: 1 << 30)
        let total = 4000
        let count = Collected()
        let consumer = spawn {
            var seen = 0
            while let batch = queue.take(maxCount: 1000) { seen += batch.count }
            count.append([seen])
        }
        let refused = Collected()
        let producers = (0..<2).map { _ in
            spawn {
                for index in 0..<total / 2 {
                    if queue.offer(WriteUnit(event: nil, items: [])) != .accepted { refused.append([index]) }
                    if index % 7 == 0 { usleep(20) } else { sched_yield() }
                }
            }
        }
        for done in producers { #expect(done.wait(timeout: .now() + .seconds(60)) == .success) }
        queue.finish()
        #expect(consumer.wait(timeout: .now() + .seconds(60)) == .success)
        #expect(count.all() == [[total]])
        #expect(refused.all().isEmpty)
    }

    @Test func byteBudgetBoundary() throws {
        let first = try unit(0)
        let cost = first.cost
        let queue = IngestQueue(maxCount: 100, maxBytes: 2 * cost)
        #expect(queue.offer(first) == .accepted)
        #expect(queue.offer(try unit(1)) == .accepted)  // bytes + cost == maxBytes fits
        #expect(queue.depth == (2, 2 * cost))
        #expect(queue.offer(try unit(2)) == .full)
        #expect(queue.offer(WriteUnit(event: nil, items: [])) == .accepted)  // costs nothing
        #expect(queue.take(maxCount: 1)?.compactMap(eventIndex) == [0])
        #expect(queue.depth == (2, cost))
        #expect(queue.offer(try unit(3)) == .accepted)
        #expect(queue.take(maxCount: 10)?.count == 3)
        #expect(queue.depth == (0, 0))
    }

    /// Commands pass both budgets, beyond the ring's spare cells too (a consumer frees cells).
    @Test func commandsBypassBothBudgets() throws {
        let queue = IngestQueue(maxCount: 1, maxBytes: 1)
        #expect(queue.offer(try unit(0)) == .accepted)  // oversized, into an empty queue
        #expect(queue.offer(try unit(1)) == .full)
        #expect(queue.offer(WriteUnit(event: nil, items: [])) == .full)
        let commands = 500
        let received = Collected()
        let consumer = spawn {
            var ids: [Int] = []
            while let batch = queue.take(maxCount: 100) {
                for entry in batch {
                    switch entry {
                    case .write: ids.append(-1)
                    case .command(.setStatus(let issueIDs, _, _), let completion):
                        ids.append(Int(issueIDs[0]))
                        completion(.success(()))
                    case .command: ids.append(-2)
                    }
                }
            }
            received.append(ids)
        }
        for id in 0..<commands {
            #expect(queue.offer(command: .setStatus(issueIDs: [Int64(id)], status: .resolved, resolveInNextRelease: false)) { _ in })
        }
        queue.finish()
        #expect(consumer.wait(timeout: .now() + .seconds(60)) == .success)
        #expect(received.all() == [[-1] + Array(0..<commands)])
    }

    @Test func commandsExceedTheCountBudgetWithoutAConsumer() throws {
        let queue = IngestQueue(maxCount: 2, maxBytes: 1 << 30)
        #expect(queue.offer(try unit(0)) == .accepted)
        #expect(queue.offer(try unit(1)) == .accepted)
        for id in 0..<20 {
            #expect(queue.offer(command: .setStatus(issueIDs: [Int64(id)], status: .ignored, resolveInNextRelease: false)) { _ in })
        }
        #expect(queue.depth.count == 22)
        #expect(queue.offer(try unit(2)) == .full)
        #expect(queue.take(maxCount: 100)?.count == 22)
        #expect(queue.offer(try unit(3)) == .accepted)
    }

    /// Two consumers parked on an empty queue both return nil on `finish`.
    @Test func finishWakesEveryParkedConsumer() {
        let queue = IngestQueue(maxCount: 10, maxBytes: 1 << 30)
        let results = Collected()
        let consumers = (0..<2).map { _ in
            spawn { results.append(queue.take(maxCount: 10) == nil ? [] : [1]) }
        }
        for done in consumers { #expect(done.wait(timeout: .now() + .milliseconds(50)) == .timedOut) }
        queue.finish()
        for done in consumers { #expect(done.wait(timeout: .now() + .seconds(10)) == .success) }
        #expect(results.all() == [[], []])
    }

    /// A consumer waiting out a long commit delay with a short batch is woken by `finish`, takes
    /// what is queued at once, then gets nil.
    @Test func finishCutsTheCommitDelayShortAndDrains() throws {
        let queue = IngestQueue(maxCount: 100, maxBytes: 1 << 30)
        #expect(queue.offer(try unit(0)) == .accepted)
        #expect(queue.offer(try unit(1)) == .accepted)
        let result = Collected()
        let started = ClockTime.monotonicSeconds
        let consumer = spawn {
            while let batch = queue.take(maxCount: 100, commitDelay: 30) { result.append(batch.compactMap(eventIndex)) }
        }
        #expect(consumer.wait(timeout: .now() + .milliseconds(100)) == .timedOut)
        queue.finish()
        #expect(consumer.wait(timeout: .now() + .seconds(10)) == .success)
        #expect(ClockTime.monotonicSeconds - started < 10)
        #expect(result.all() == [[0, 1]])
    }

    /// With a commit delay a short batch waits for more; the unit that fills it ends the wait
    /// early, long before the delay.
    @Test func commitDelayWaitsForAFullBatch() throws {
        let queue = IngestQueue(maxCount: 100, maxBytes: 1 << 30)
        #expect(queue.offer(try unit(0)) == .accepted)
        let result = TakeResult()
        let started = ClockTime.monotonicSeconds
        let consumer = spawn { result.set(queue.take(maxCount: 3, commitDelay: 30)?.compactMap(eventIndex)) }
        #expect(consumer.wait(timeout: .now() + .milliseconds(50)) == .timedOut)
        #expect(queue.offer(try unit(1)) == .accepted)
        #expect(consumer.wait(timeout: .now() + .milliseconds(50)) == .timedOut)
        #expect(queue.offer(try unit(2)) == .accepted)
        #expect(queue.offer(try unit(3)) == .accepted)
        #expect(consumer.wait(timeout: .now() + .seconds(10)) == .success)
        #expect(ClockTime.monotonicSeconds - started < 10)
        #expect(result.get() == [0, 1, 2])
        #expect(queue.take(maxCount: 3)?.compactMap(eventIndex) == [3])
    }

    /// When nothing more comes, a short batch goes after the delay.
    @Test func commitDelayExpires() throws {
        let queue = IngestQueue(maxCount: 100, maxBytes: 1 << 30)
        #expect(queue.offer(try unit(0)) == .accepted)
        #expect(queue.offer(try unit(1)) == .accepted)
        let started = ClockTime.monotonicSeconds
        #expect(queue.take(maxCount: 10, commitDelay: 0.05)?.compactMap(eventIndex) == [0, 1])
        let waited = ClockTime.monotonicSeconds - started
        #expect(waited >= 0.045 && waited < 5)
    }

    /// The age is the oldest queued entry's, after takes and after the ring has wrapped.
    @Test func oldestAgeFollowsTheHead() throws {
        let queue = IngestQueue(maxCount: 4, maxBytes: 1 << 30)
        for _ in 0..<1000 {  // wrap the 68-cell ring several times
            #expect(queue.offer(WriteUnit(event: nil, items: [])) == .accepted)
            _ = queue.take(maxCount: 1)
        }
        #expect(queue.oldestAgeSeconds == 0)
        #expect(queue.offer(try unit(0)) == .accepted)
        Thread.sleep(forTimeInterval: 0.05)
        #expect(queue.offer(try unit(1)) == .accepted)
        #expect(queue.oldestAgeSeconds >= 0.05)
        #expect(queue.take(maxCount: 1)?.compactMap(eventIndex) == [0])
        let age = queue.oldestAgeSeconds
        #expect(age >= 0 && age < 0.05)
        _ = queue.take(maxCount: 1)
        #expect(queue.oldestAgeSeconds == 0)
    }
}

/// Values gathered from several threads in tests.
final class Collected: @unchecked Sendable {
    // @unchecked Sendable: `values` is only touched while `lock` is held.
    private let lock = NSLock()
    private var values: [[Int]] = []

    func append(_ value: [Int]) { lock.withLock { values.append(value) } }
    func all() -> [[Int]] { lock.withLock { values } }
}
