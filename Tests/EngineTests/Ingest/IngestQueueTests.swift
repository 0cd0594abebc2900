import Dispatch
import Engine
import Foundation
import NIOCore
import Testing

/// Write units that can be told apart: each carries an event with a distinct event id.
private func unit(_ index: Int) throws -> WriteUnit {
    let pipeline = IngestPipeline(keys: KeyCache(), queue: IngestQueue(maxCount: 1, maxBytes: 1), ack: .queued,
                                  limits: IngestLimits(), metrics: PitMetrics())
    let id = String(format: "%032x", index + 1)
    let record = try pipeline.makeEventRecord(ByteBuffer(string: #"{"event_id":"\#(id)","message":"m"}"#), header: nil,
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
    private let lock = NSLock()
    private var value: [Int]?

    func set(_ value: [Int]?) { lock.withLock { self.value = value } }
    func get() -> [Int]? { lock.withLock { value } }
}
