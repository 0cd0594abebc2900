import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PitIngest
import PitModel
import PitObservability
import PitStorage
import Testing

/// The writer against a store that fails on demand, on a clock the tests advance: how a failing
/// database is retried (back-off, order kept), when units that fail alone are held and answered,
/// the hold limit, busy versus data errors, and the deferred-work deadline. No test waits for
/// retry time to pass: the clock's sleeps only advance it.

/// Seconds that pass only when a test or the writer's back-off says so.
private final class ManualClock: WriterClock, Sendable {
    private let state = NIOLockedValueBox((now: 0.0, sleeps: [Double](), onSleep: (@Sendable () -> Void)?.none, idleWaits: 0))

    var now: Double { state.withLockedValue { $0.now } }
    var sleeps: [Double] { state.withLockedValue { $0.sleeps } }

    func advance(_ seconds: Double) { state.withLockedValue { $0.now += seconds } }

    /// Runs `action` once, in the writer's next back-off sleep: between two retries, never in
    /// the middle of one.
    func whenSleeping(_ action: @escaping @Sendable () -> Void) { state.withLockedValue { $0.onSleep = action } }

    func sleep(_ seconds: Double) {
        let action = state.withLockedValue { state in
            state.now += seconds
            state.sleeps.append(seconds)
            let action = state.onSleep
            state.onSleep = nil
            return action
        }
        action?()
        // Lets the test thread look in between back-off steps.
        usleep(200)
    }

    /// How often the writer parked with something to come back for (held units).
    var idleWaits: Int { state.withLockedValue { $0.idleWaits } }

    /// Parks at most 2 ms, then the writer reads `now` again.
    func idleWait(_ seconds: Double) -> Double {
        state.withLockedValue { $0.idleWaits += 1 }
        return min(seconds, 0.002)
    }
}

/// What a store reports through `StoreError`, so the writer's tests name no back end.
private struct FakeStoreError: StoreError, Equatable {
    var message: String
    var isBusy = false
    var mayBeCausedByData = false
    var leavesStoreUsable = true
}

private let ioError = FakeStoreError(message: "disk I/O error")
private let busyError = FakeStoreError(message: "database is locked", isBusy: true)
private let constraintError = FakeStoreError(message: "refused", mayBeCausedByData: true)

/// A store that records what it wrote (by the synthetic events' numbers) and fails as told.
/// `@unchecked Sendable`: `state` is behind its lock (it holds an `any Error`, so the box is not
/// `Sendable` by itself).
private final class FakeStore: BatchStore, @unchecked Sendable {
    struct State {
        /// Every write fails with this while set.
        var failure: (any Error)?
        /// The next this many writes fail with `failure` (then it is cleared).
        var failuresLeft = Int.max
        /// Units whose writes fail with a data error (alone or in their batch).
        var poisoned: Set<Int> = []
        /// From this write call on, nothing is poisoned any more (a database that recovers).
        var recoverAtCall: Int?
        var writeCalls = 0
        var committed: [Int] = []
        /// How long after a batch written with an empty queue its deferred work is due.
        var deferInterval: Double?
        var deadline: Double?
        var deferredWrites = 0
        var closed = false
    }

    let state = NIOLockedValueBox(State())
    let clock: ManualClock

    init(clock: ManualClock) { self.clock = clock }

    func write(_ batch: [IngestQueue.Entry]) throws -> BatchOutcome { try write(batch, queueEmpty: false) }

    func write(_ batch: [IngestQueue.Entry], queueEmpty: Bool) throws -> BatchOutcome {
        let numbers = batch.map(Self.number)
        let now = clock.now
        return try state.withLockedValue { state in
            state.writeCalls += 1
            if let call = state.recoverAtCall, state.writeCalls >= call { state.poisoned = [] }
            if let failure = state.failure {
                state.failuresLeft -= 1
                if state.failuresLeft <= 0 {
                    state.failure = nil
                    state.failuresLeft = .max
                }
                throw failure
            }
            if numbers.contains(where: state.poisoned.contains) { throw constraintError }
            state.committed += numbers
            if queueEmpty, let interval = state.deferInterval, state.deadline == nil { state.deadline = now + interval }
            var outcome = BatchOutcome()
            outcome.events = numbers.count
            return outcome
        }
    }

    var deferredWorkDeadline: Double? { state.withLockedValue { $0.deadline } }

    func writeDeferredWork() throws {
        state.withLockedValue {
            $0.deferredWrites += 1
            $0.deadline = nil
        }
    }

    func close() { state.withLockedValue { $0.closed = true } }

    var committed: [Int] { state.withLockedValue { $0.committed } }

    static func number(_ entry: IngestQueue.Entry) -> Int {
        guard case .write(let unit) = entry, let hex = unit.event?.eventID.hex else { return -1 }
        return Int(hex, radix: 16) ?? -1
    }
}

private final class Answers: Sendable {
    private let results = NIOLockedValueBox<[Int: Result<Void, any Error>]>([:])
    func record(_ number: Int, _ result: Result<Void, any Error>) { results.withLockedValue { $0[number] = result } }
    var all: [Int: Result<Void, any Error>] { results.withLockedValue { $0 } }
    subscript(_ number: Int) -> Result<Void, any Error>? { all[number] }
}

/// Event `number` as the pipeline makes it; with `answers` its client waits for the commit
/// (ack=committed), without it the client has its 200 already (ack=queued).
private func unit(_ number: Int, answers: Answers? = nil) throws -> WriteUnit {
    let pipeline = IngestPipeline(
        keys: KeyCache(), queue: IngestQueue(maxCount: 1, maxBytes: 1), ack: .queued,
        limits: IngestLimits(), metrics: PitMetrics())
    let record = try pipeline.makeEventRecord(ByteBuffer(string: eventJSON(number)), header: nil, projectID: 1, received: receiveTime)
    var completion: (@Sendable (Result<Void, any Error>) -> Void)?
    if let answers { completion = { answers.record(number, $0) } }
    return WriteUnit(event: record, items: [], completion: completion)
}

/// Polls `condition` (real time, 1 ms steps) for up to a minute: the machine may be busy.
private func eventually(_ condition: () -> Bool) async throws -> Bool {
    let deadline = ClockTime.monotonicSeconds + 60
    while !condition() {
        if ClockTime.monotonicSeconds > deadline { return false }
        try await Task.sleep(for: .milliseconds(1))
    }
    return true
}

/// Runs a writer on `store` while `body` runs, then drains it.
private func withWriter(
    _ store: FakeStore, queue: IngestQueue, batchSize: Int = 64,
    _ body: () async throws -> Void
) async throws {
    let writer = BatchWriter(
        queue: queue, store: store, batchSize: batchSize, metrics: PitMetrics(), clock: store.clock,
        logger: Logger(label: "pit.tests", factory: { _ in SwiftLogNoOpLogHandler() }))
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await writer.run() }
        try await body()
        writer.finish()
        try await group.waitForAll()
    }
}

private func makeQueue(maxCount: Int = 1000) -> IngestQueue { IngestQueue(maxCount: maxCount, maxBytes: 64 << 20) }

@Suite struct BatchWriterRetryTests {
    /// ack=queued: the clients have their 200, so a failing database is retried with a doubling
    /// back-off (capped at 1 s) until the batch commits, in queue order, and later units follow.
    @Test func acknowledgedUnitsAreRetriedWithBackOffInOrder() async throws {
        let clock = ManualClock()
        let store = FakeStore(clock: clock)
        store.state.withLockedValue {
            $0.failure = ioError
            $0.failuresLeft = 6
        }
        let queue = makeQueue()
        for number in 1...5 { #expect(queue.offer(try unit(number)) == .accepted) }
        try await withWriter(store, queue: queue) {
            let written = try await eventually { store.committed.count == 5 }
            #expect(written)
            #expect(queue.offer(try unit(6)) == .accepted)
            let rest = try await eventually { store.committed.count == 6 }
            #expect(rest)
        }
        #expect(store.committed == Array(1...6))
        #expect(clock.sleeps == [0.05, 0.1, 0.2, 0.4, 0.8, 1.0])
        #expect(store.state.withLockedValue { $0.writeCalls } == 7 + 1, "seven tries for the first batch, one for the sixth unit")
        #expect(store.state.withLockedValue { $0.closed })
    }

    /// ack=committed: a database error that is not about the data fails the batch at once; the
    /// waiting clients are told (503 upstream), nothing is held or retried, the next batch writes.
    @Test func waitingClientsAreToldOfAFailedBatchAtOnce() async throws {
        let clock = ManualClock()
        let store = FakeStore(clock: clock)
        store.state.withLockedValue {
            $0.failure = ioError
            $0.failuresLeft = 1
        }
        let queue = makeQueue()
        let answers = Answers()
        for number in 1...3 { #expect(queue.offer(try unit(number, answers: answers)) == .accepted) }
        try await withWriter(store, queue: queue) {
            let answered = try await eventually { answers.all.count == 3 }
            #expect(answered)
            #expect(queue.offer(try unit(4, answers: answers)) == .accepted)
            let fourth = try await eventually { answers[4] != nil }
            #expect(fourth)
        }
        for number in 1...3 {
            guard case .failure(let error) = answers[number] else {
                Issue.record("event \(number) acknowledged")
                continue
            }
            #expect(!(error is UnitRejected), "\(error)")
            #expect((error as? FakeStoreError) == ioError)
        }
        #expect((try? answers[4]?.get()) != nil)
        #expect(store.committed == [4])
        #expect(clock.sleeps.isEmpty)
    }

    /// A busy database (a CLI command holding SQLite's lock) is retried in place: two busy
    /// answers cost nothing, a third fails the batch; neither is taken for a data error.
    @Test func busyIsRetriedInPlaceNotIsolated() async throws {
        let clock = ManualClock()
        let store = FakeStore(clock: clock)
        store.state.withLockedValue {
            $0.failure = busyError
            $0.failuresLeft = 2
        }
        let queue = makeQueue()
        let answers = Answers()
        #expect(queue.offer(try unit(1, answers: answers)) == .accepted)
        #expect(queue.offer(try unit(2, answers: answers)) == .accepted)
        try await withWriter(store, queue: queue) {
            let answered = try await eventually { answers.all.count == 2 }
            #expect(answered)
            #expect(store.state.withLockedValue { $0.writeCalls } == 3)
            store.state.withLockedValue {
                $0.failure = busyError
                $0.failuresLeft = 3
            }
            #expect(queue.offer(try unit(3, answers: answers)) == .accepted)
            let third = try await eventually { answers[3] != nil }
            #expect(third)
        }
        #expect((try? answers[1]?.get()) != nil)
        #expect((try? answers[2]?.get()) != nil)
        guard case .failure(let error) = answers[3] else {
            Issue.record("event 3 acknowledged although the database stayed busy")
            return
        }
        #expect((error as? FakeStoreError)?.isBusy == true)
        // Three attempts for the busy batch, no halving: busy says nothing about the data.
        #expect(store.state.withLockedValue { $0.writeCalls } == 3 + 3)
        #expect(store.committed == [1, 2])
    }

    /// A data error isolates the unit: the rest of its batch commits in order, the unit is
    /// refused for good (400 upstream).
    @Test func dataErrorCostsOnlyItsUnit() async throws {
        let clock = ManualClock()
        let store = FakeStore(clock: clock)
        store.state.withLockedValue { $0.poisoned = [3] }
        let queue = makeQueue()
        let answers = Answers()
        for number in 1...5 { #expect(queue.offer(try unit(number, answers: answers)) == .accepted) }
        try await withWriter(store, queue: queue) {
            let answered = try await eventually { answers.all.count == 5 }
            #expect(answered)
        }
        #expect(store.committed == [1, 2, 4, 5])
        for number in [1, 2, 4, 5] { #expect((try? answers[number]?.get()) != nil) }
        guard case .failure(let error) = answers[3] else {
            Issue.record("the poisoned event was acknowledged")
            return
        }
        #expect(error is UnitRejected, "\(error)")
    }

    /// A unit that fails alone with nothing else written is held with its answer: after the
    /// retry interval (1 s) with the database still refusing it, its client is told of a failed
    /// write (503), not that the event is bad.
    @Test func unitFailingAloneIsHeldForTheRetryInterval() async throws {
        let clock = ManualClock()
        let store = FakeStore(clock: clock)
        store.state.withLockedValue { $0.poisoned = [1] }
        let queue = makeQueue()
        let answers = Answers()
        #expect(queue.offer(try unit(1, answers: answers)) == .accepted)
        try await withWriter(store, queue: queue) {
            let tried = try await eventually { store.state.withLockedValue { $0.writeCalls } == 1 }
            #expect(tried)
            // The clock moves only once the writer holds the unit and parks: advanced earlier (a
            // loaded machine can keep the writer thread off the CPU between the write and the
            // hold), the retry time would be set from the advanced clock and never come.
            let parked = try await eventually { clock.idleWaits > 0 }
            #expect(parked)
            clock.advance(0.9)
            try await Task.sleep(for: .milliseconds(20))
            #expect(answers[1] == nil, "answered before the retry interval")
            #expect(store.state.withLockedValue { $0.writeCalls } == 1)
            clock.advance(0.1)
            let answered = try await eventually { answers[1] != nil }
            #expect(answered)
        }
        guard case .failure(let error) = answers[1] else {
            Issue.record("acknowledged")
            return
        }
        #expect(!(error is UnitRejected), "\(error)")
        #expect(store.state.withLockedValue { $0.writeCalls } == 2)
    }

    /// A held unit is refused for good once a later batch commits: the database works, so the
    /// unit is at fault.
    @Test func heldUnitIsRefusedOnceAnotherBatchCommits() async throws {
        let clock = ManualClock()
        let store = FakeStore(clock: clock)
        store.state.withLockedValue { $0.poisoned = [1] }
        let queue = makeQueue()
        let answers = Answers()
        #expect(queue.offer(try unit(1, answers: answers)) == .accepted)
        try await withWriter(store, queue: queue) {
            let tried = try await eventually { store.state.withLockedValue { $0.writeCalls } == 1 }
            #expect(tried)
            #expect(answers[1] == nil)
            #expect(queue.offer(try unit(2, answers: answers)) == .accepted)
            let answered = try await eventually { answers.all.count == 2 }
            #expect(answered)
        }
        #expect((try? answers[2]?.get()) != nil)
        guard case .failure(let error) = answers[1] else {
            Issue.record("the held event was acknowledged")
            return
        }
        #expect(error is UnitRejected, "\(error)")
        #expect(clock.now == 0, "no retry interval needed when another batch proves the database works")
    }

    /// Past the hold limit (100 acknowledged units failing alone) the database refuses
    /// everything: the writer stops taking batches, so the queue fills and sheds (503), and
    /// retries with back-off; when the database takes writes again the held units commit in
    /// their order, then what queued meanwhile.
    @Test func holdLimitStopsTakingBatchesUntilTheStoreRecovers() async throws {
        let clock = ManualClock()
        let store = FakeStore(clock: clock)
        store.state.withLockedValue { $0.poisoned = Set(1...101) }
        let queue = makeQueue(maxCount: 150)
        for number in 1...101 { #expect(queue.offer(try unit(number)) == .accepted) }
        try await withWriter(store, queue: queue, batchSize: 200) {
            let holding = try await eventually { clock.sleeps.count >= 3 }
            #expect(holding)
            var offered = 102
            var answer = queue.offer(try unit(offered))
            while answer == .accepted {
                offered += 1
                answer = queue.offer(try unit(offered))
            }
            // Full: ingest sheds with 503 while the writer takes none of the new units.
            #expect(answer == .full)
            #expect(queue.depth.count == offered - 102)
            #expect(store.committed.isEmpty)
            // The database recovers between two retries: every held unit commits, in order.
            clock.whenSleeping { store.state.withLockedValue { $0.poisoned = [] } }
            let written = try await eventually { store.committed.count == offered - 1 }
            #expect(written)
            #expect(store.committed == Array(1..<offered))
        }
        #expect(Array(clock.sleeps.prefix(3)) == [0.05, 0.1, 0.2])
    }

    /// A database that refuses every write with a data-like error and recovers in the middle of
    /// a retry of the held units: the part written after the recovery commits, and the units
    /// that failed alone before it are written once more instead of being taken for bad data
    /// (they were refused for good, acknowledged events dropped, before `settle` did so). They
    /// commit after the part that proved the database works, so the order is not the queue's.
    @Test func recoveryDuringARetryKeepsEveryHeldUnit() async throws {
        let clock = ManualClock()
        let store = FakeStore(clock: clock)
        // 101 units fail alone in 201 writes (whole batch, halves, ... singles); the retry's
        // isolation starts at call 202, and the database recovers 50 calls into it.
        store.state.withLockedValue {
            $0.poisoned = Set(1...101)
            $0.recoverAtCall = 252
        }
        let queue = makeQueue()
        for number in 1...101 { #expect(queue.offer(try unit(number)) == .accepted) }
        try await withWriter(store, queue: queue, batchSize: 200) {
            let recovered = try await eventually { !store.committed.isEmpty }
            #expect(recovered)
            // The rest of that retry runs on at once on the writer thread.
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(store.committed.sorted() == Array(1...101))
    }

    /// Shutting down while the database refuses everything: a few more tries, then the writer
    /// gives the held units up and closes, instead of hanging the shutdown.
    @Test func shutdownEndsTheHoldAfterAFewTries() async throws {
        let clock = ManualClock()
        let store = FakeStore(clock: clock)
        store.state.withLockedValue { $0.poisoned = Set(1...101) }
        let queue = makeQueue()
        for number in 1...101 { #expect(queue.offer(try unit(number)) == .accepted) }
        try await withWriter(store, queue: queue, batchSize: 200) {
            let holding = try await eventually { clock.sleeps.count >= 2 }
            #expect(holding)
        }
        #expect(store.state.withLockedValue { $0.closed })
        #expect(store.committed.isEmpty)
    }

    /// Deferred work (SQLite's counters) is written when its deadline passes with no batch,
    /// not before.
    @Test func deferredWorkWaitsForItsDeadline() async throws {
        let clock = ManualClock()
        let store = FakeStore(clock: clock)
        store.state.withLockedValue { $0.deferInterval = 0.5 }
        let queue = makeQueue()
        try await withWriter(store, queue: queue) {
            #expect(queue.offer(try unit(1)) == .accepted)
            let written = try await eventually { store.committed == [1] }
            #expect(written)
            #expect(store.deferredWorkDeadline == 0.5)
            clock.advance(0.4)
            try await Task.sleep(for: .milliseconds(20))
            #expect(store.state.withLockedValue { $0.deferredWrites } == 0)
            clock.advance(0.1)
            let deferred = try await eventually { store.state.withLockedValue { $0.deferredWrites } == 1 }
            #expect(deferred)
            #expect(store.deferredWorkDeadline == nil)
        }
        #expect(store.state.withLockedValue { $0.deferredWrites } == 1)
    }
}
