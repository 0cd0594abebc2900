import CoreMetrics
import Foundation
package import Logging
package import PitModel
package import PitObservability
package import PitStorage
import ServiceLifecycle

/// Drains the ingest queue into the store on one dedicated thread: take what is queued (up to
/// `ingest_batch_size`), write it in one transaction, commit, then complete the acks of that batch.
/// Group commit needs no timer: while one batch commits, the next one queues up.
///
/// A dedicated thread, not a task: SQLite calls block, and blocking the cooperative pool or an
/// event loop would stall every request. On graceful shutdown the queue stops accepting, the
/// thread drains what was accepted, commits it, and closes the store.
///
/// With several stores (PostgreSQL) there is one thread per store, all taking from the same
/// queue; the service ends when every thread has drained and closed its store.
package final class BatchWriter: Service, Sendable {
    private let queue: IngestQueue
    private let stores: [StoreHandoff]
    private let batchSize: Int
    private let commitDelay: Double
    private let metrics: PitMetrics
    private let logger: Logger
    private let health: StorageHealth?
    private let name: String
    /// One "batch write failed" line per second while storage is down.
    private let failureLog = LogGate(intervalSeconds: 1)
    /// Refused requests' outcomes, written with the next batch (or within
    /// `RejectedOutcomes.flushInterval` when idle, and when the writer stops).
    private let rejections: RejectedOutcomes?
    /// Retry times, back-off and the deferred-work deadline; tests drive it by hand.
    private let clock: any WriterClock
    /// Told what every batch committed (the alert evaluator); nil when nothing listens.
    private let observer: (any CommitObserver)?

    package convenience init(
        queue: IngestQueue, store: any BatchStore, batchSize: Int, commitDelay: Double = 0, metrics: PitMetrics,
        health: StorageHealth? = nil, clock: any WriterClock = SystemWriterClock(), rejections: RejectedOutcomes? = nil,
        observer: (any CommitObserver)? = nil, logger: Logger
    ) {
        self.init(
            queue: queue, stores: [store], batchSize: batchSize, commitDelay: commitDelay, metrics: metrics, health: health,
            clock: clock, rejections: rejections, observer: observer, logger: logger)
    }

    package init(
        queue: IngestQueue, stores: [any BatchStore], batchSize: Int, commitDelay: Double = 0, metrics: PitMetrics,
        health: StorageHealth? = nil, clock: any WriterClock = SystemWriterClock(), rejections: RejectedOutcomes? = nil,
        observer: (any CommitObserver)? = nil, logger: Logger
    ) {
        precondition(!stores.isEmpty, "a writer needs a store")
        self.observer = observer
        self.rejections = rejections
        self.clock = clock
        self.health = health
        self.name = "pit-writer"
        self.commitDelay = max(0, commitDelay)
        self.queue = queue
        self.stores = stores.map(StoreHandoff.init(store:))
        self.batchSize = max(1, batchSize)
        self.metrics = metrics
        self.logger = logger
    }

    package func run() async throws {
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                for (index, store) in stores.enumerated() {
                    let name = stores.count == 1 ? name : "\(name)-\(index)"
                    group.addTask {
                        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                            let thread = Thread { [self] in
                                self.loop(store: store.store, name: name)
                                continuation.resume()
                            }
                            thread.name = name
                            thread.start()
                        }
                    }
                }
            }
        } onGracefulShutdown: { [queue] in
            queue.finish()
        }
    }

    /// Stops accepting and lets the writer drain; for owners that do not run a ServiceGroup.
    package func finish() { queue.finish() }

    private func loop(store: any BatchStore, name: String) {
        var held = HeldUnits()
        var arrivals = ArrivalRate()
        while var batch = queue.take(
            maxCount: batchSize, commitDelay: arrivals.commitDelay(upTo: commitDelay), idleTimeout: idleTimeout(store, held))
        {
            if !batch.isEmpty { arrivals.record(entries: batch.count, at: ClockTime.monotonicSeconds) }
            if let unit = rejectedOutcomes() { batch.append(.write(unit)) }
            if batch.isEmpty {
                // Woken for held units, or early by a clock that parks briefly: the deferred
                // work waits for its own deadline.
                if let deadline = store.deferredWorkDeadline, clock.now >= deadline {
                    do { try store.writeDeferredWork() } catch {
                        logger.warning("deferred counters not written, retrying with the next batch", metadata: ["error": "\(error)"])
                    }
                }
                if !held.units.isEmpty, clock.now >= held.retryAt { retryHeld(&held, evidence: false, store: store, name: name) }
                continue
            }
            let started = clock.now
            let queueEmpty = queue.depth.count == 0
            var settlement = settle(batch, queueEmpty: queueEmpty, store: store)
            // Units queued with ack=queued were answered 200 already: those left unwritten by a
            // failing database are kept and retried (the queue fills meanwhile and new requests
            // are shed with 503) instead of being dropped, until they commit or, once shutting
            // down, a few more tries. Only the unwritten ones: the rest of the batch committed.
            if settlement.failure != nil, settlement.unwritten.contains(where: { Self.isAcknowledged(batch[$0]) }) {
                var delay = 0.05
                var triesAfterFinish = 0
                while let error = settlement.failure, triesAfterFinish < 5 {
                    if health?.recordFailure(error) == true {
                        logger.error(
                            "database writes fail; holding acknowledged events", metadata: ["pit.writer": "\(name)", "error": "\(error)"])
                    }
                    if queue.isFinished { triesAfterFinish += 1 }
                    clock.sleep(delay)
                    delay = min(delay * 2, 1)
                    settlement.retryUnwritten(settle(batch, indices: settlement.unwritten, queueEmpty: queueEmpty, store: store))
                }
            }
            metrics.commitLatency.recordSeconds(clock.now - started)
            metrics.batchSize.record(batch.count)
            let depth = queue.depth
            metrics.queueDepth.record(depth.count)
            metrics.queueBytes.record(depth.bytes)
            record(settlement.outcome)
            let evidence = settlement.committed.contains { if case .write = batch[$0] { true } else { false } }
            if let error = settlement.failure {
                if health?.recordFailure(error) == true {
                    logger.error(
                        "database writes fail; answering 503 until they succeed", metadata: ["pit.writer": "\(name)", "error": "\(error)"])
                }
                metrics.writerFailures.increment()
                if let heldBack = failureLog.pass() {
                    logger.error(
                        "batch write failed",
                        metadata: [
                            "pit.batch_size": "\(settlement.unwritten.count)", "error": "\(error)",
                            "pit.similar_lines_dropped": "\(heldBack)",
                        ])
                }
            } else if evidence || settlement.suspects.isEmpty {
                if health?.recordSuccess() == true { logger.notice("database writes succeed again", metadata: ["pit.writer": "\(name)"]) }
            }
            var outcomes = [Result<Void, any Error>?](repeating: .success(()), count: batch.count)
            if let error = settlement.failure { for index in settlement.unwritten { outcomes[index] = .failure(error) } }
            for (index, error) in settlement.suspects {
                if evidence {
                    outcomes[index] = .failure(reject(batch[index], error: error))
                } else {
                    // Failing alone while nothing else was written says nothing about whether
                    // the unit or the database is at fault: hold it (and its answer) until a
                    // later batch commits or the retry interval passes.
                    if held.units.isEmpty { held.retryAt = clock.now + HeldUnits.retryInterval }
                    held.units.append(batch[index])
                    outcomes[index] = nil
                }
            }
            complete(batch, with: outcomes)
            if !held.units.isEmpty, evidence || clock.now >= held.retryAt {
                retryHeld(&held, evidence: evidence, store: store, name: name)
            }
            if held.units.count > HeldUnits.limit { holdUntilWritten(&held, store: store, name: name) }
        }
        // Shutting down: what was refused since the last batch (the HTTP server stopped first).
        if let unit = rejectedOutcomes() {
            let settlement = settle([.write(unit)], queueEmpty: true, store: store)
            if let error = settlement.failure ?? settlement.suspects.first?.1 {
                logger.warning("rejected outcomes not written at shutdown", metadata: ["error": "\(error)"])
            }
        }
        if !held.units.isEmpty {
            // Shutting down: a last try, and what fails alone now is refused for good.
            retryHeld(&held, evidence: true, store: store, name: name)
            if !held.units.isEmpty {
                logger.error("acknowledged events could not be written before shutdown", metadata: ["pit.count": "\(held.units.count)"])
            }
        }
        store.close()
        logger.info("writer drained and closed", metadata: ["pit.writer": "\(name)"])
    }

    /// A unit carrying the refused requests' outcomes counted since the last one, if any.
    private func rejectedOutcomes() -> WriteUnit? {
        guard let rejections, !rejections.isEmpty else { return nil }
        var unit = WriteUnit(event: nil, items: [])
        unit.outcomes = rejections.drain()
        return unit.outcomes.isEmpty ? nil : unit
    }

    /// The idle timeout of `take`: the store's deferred work, the next retry of held units, or
    /// the next flush of refused requests' outcomes.
    private func idleTimeout(_ store: any BatchStore, _ held: HeldUnits) -> Double? {
        let now = clock.now
        var deferred = store.deferredWorkDeadline.map { max(0, $0 - now) }
        if rejections != nil { deferred = min(deferred ?? .infinity, RejectedOutcomes.flushInterval) }
        guard !held.units.isEmpty else { return deferred.map(clock.idleWait) }
        return clock.idleWait(min(deferred ?? .infinity, max(0, held.retryAt - now)))
    }

    private func record(_ outcome: BatchOutcome) {
        metrics.stored.increment(by: outcome.events)
        metrics.duplicates.increment(by: outcome.duplicates)
        metrics.issuesCreated.increment(by: outcome.newIssues)
        metrics.regressions.increment(by: outcome.regressions)
        if let observer, !outcome.committedEvents.isEmpty { observer.committed(outcome.committedEvents) }
    }

    // MARK: Isolating a poisoned unit

    /// Units that failed on their own while nothing else of their batch was written: a poisoned
    /// unit, or a database that refuses every write alike. Which one is told by the next batch.
    private struct HeldUnits {
        var units: [IngestQueue.Entry] = []
        var retryAt = 0.0
        /// Past this many (acknowledged ones, ack=queued) the database is refusing everything, not
        /// one unit: the writer stops taking new batches until they are written, and the queue
        /// fills and sheds with 503.
        static let limit = 100
        static let retryInterval = 1.0
    }

    /// Writes the held units again. With `evidence` (another batch committed since they failed)
    /// or if some of them commit now, a unit that still fails alone on its data is refused for
    /// good. Otherwise the database is failing: a unit someone waits for is answered as a
    /// failed write (503); an acknowledged one stays held.
    private func retryHeld(_ held: inout HeldUnits, evidence: Bool, store: any BatchStore, name: String) {
        let units = held.units
        held.units = []
        let settlement = settle(units, queueEmpty: true, store: store)
        record(settlement.outcome)
        let confirmed = evidence || settlement.committed.contains { if case .write = units[$0] { true } else { false } }
        var outcomes = [Result<Void, any Error>?](repeating: .success(()), count: units.count)
        for (index, error) in settlement.suspects {
            if confirmed {
                outcomes[index] = .failure(reject(units[index], error: error))
            } else {
                if health?.recordFailure(error) == true {
                    logger.error(
                        "database writes fail; answering 503 until they succeed", metadata: ["pit.writer": "\(name)", "error": "\(error)"])
                }
                outcomes[index] = .failure(error)
            }
        }
        if let error = settlement.failure { for index in settlement.unwritten { outcomes[index] = .failure(error) } }
        for index in units.indices where Self.isAcknowledged(units[index]) {
            if case .failure(let error) = outcomes[index], !(error is UnitRejected) {
                held.units.append(units[index])
                outcomes[index] = nil
            }
        }
        complete(units, with: outcomes)
        held.retryAt = clock.now + HeldUnits.retryInterval
    }

    /// Too many held units: the database refuses every write alike. Stop taking batches and
    /// retry them until something commits; at shutdown give up after a few tries.
    private func holdUntilWritten(_ held: inout HeldUnits, store: any BatchStore, name: String) {
        logger.error(
            "database refuses every write; holding acknowledged events",
            metadata: [
                "pit.writer": "\(name)",
                "pit.held": "\(held.units.count)",
            ])
        var delay = 0.05
        var triesAfterFinish = 0
        while !held.units.isEmpty, triesAfterFinish < 5 {
            if queue.isFinished { triesAfterFinish += 1 }
            clock.sleep(delay)
            delay = min(delay * 2, 1)
            retryHeld(&held, evidence: false, store: store, name: name)
        }
        if !held.units.isEmpty {
            logger.error("acknowledged events could not be written before shutdown", metadata: ["pit.count": "\(held.units.count)"])
            for unit in held.units { _ = reject(unit, error: StoreRefusedEveryWrite()) }
            held.units = []
        }
    }

    /// Counts and logs a unit the database refused, and makes the error its waiter is told.
    private func reject(_ entry: IngestQueue.Entry, error: any Error) -> UnitRejected {
        var eventID: EventID?
        var itemType = "envelope"
        if case .write(let unit) = entry {
            eventID =
                unit.event?.eventID ?? unit.items.first?.eventID ?? unit.feedback.first?.feedbackID ?? unit.attachments.first?.eventID
            itemType =
                unit.event != nil
                ? "event"
                : unit.items.first?.type ?? unit.feedback.first?.kind.rawValue
                    ?? (unit.attachments.isEmpty ? (unit.logs.isEmpty ? "envelope" : "log") : "attachment")
        }
        metrics.rejected(reason: UnitRejected.metricReason, itemType: itemType)
        logger.error(
            "the database refused one event; it is dropped, the rest of its batch is stored",
            metadata: ["pit.event_id": "\(eventID?.hex ?? "-")", "error": "\(error)"])
        return UnitRejected(eventID: eventID)
    }

    /// What became of each entry of a batch written with isolation.
    private struct Settlement {
        var outcome = BatchOutcome()
        /// Indices into the batch, in the order they were written.
        var committed: [Int] = []
        /// Entries that failed alone on an error their data may have caused.
        var suspects: [(index: Int, error: any Error)] = []
        /// Entries not written because the database failed as a whole (`failure`).
        var unwritten: [Int] = []
        var failure: (any Error)?

        /// Takes the result of retrying `unwritten`.
        mutating func retryUnwritten(_ retry: Settlement) {
            outcome.add(retry.outcome)
            committed += retry.committed
            suspects += retry.suspects
            unwritten = retry.unwritten
            failure = retry.failure
        }
    }

    private func settle(_ batch: [IngestQueue.Entry], queueEmpty: Bool, store: any BatchStore) -> Settlement {
        settle(batch, indices: Array(batch.indices), queueEmpty: queueEmpty, store: store)
    }

    /// Writes `indices` of `batch`. When the transaction fails on an error that one unit's data
    /// may cause (a constraint, a value the database refuses), the part is split in halves and
    /// each is written on its own, down to single units: the others commit and only the units
    /// that fail alone are suspects. Any other error (busy, disk, connection) would fail every
    /// part alike, so it stops the isolation and leaves the rest unwritten.
    private func settle(_ batch: [IngestQueue.Entry], indices: [Int], queueEmpty: Bool, store: any BatchStore) -> Settlement {
        var settlement = Settlement()
        var parts: [ArraySlice<Int>] = [indices[...]]
        // Units that failed alone before any part committed.
        var failedBeforeAnyCommit: [Int] = []
        while let part = parts.popLast() {
            guard !part.isEmpty else { continue }
            if settlement.failure != nil {
                settlement.unwritten += part
                continue
            }
            let entries = part.count == batch.count ? batch : part.map { batch[$0] }
            switch write(entries, queueEmpty: queueEmpty, to: store) {
            case .success(let outcome):
                settlement.outcome.add(outcome)
                settlement.committed += part
            case .failure(let error) where Self.mayBeCausedByData(error):
                if part.count == 1 {
                    settlement.suspects.append((part.first!, error))
                    if settlement.committed.isEmpty { failedBeforeAnyCommit.append(part.first!) }
                } else {
                    // Last in, first out: the first half is written first, keeping queue order.
                    let middle = part.startIndex + part.count / 2
                    parts.append(part[middle...])
                    parts.append(part[..<middle])
                }
            case .failure(let error):
                settlement.failure = error
                settlement.unwritten += part
            }
        }
        // A database that refuses every write alike and recovers part way through looks, to the
        // units that failed before the recovery, like data at fault. Only a unit that fails after
        // a write has succeeded is a suspect: the early ones are written once more, alone.
        guard !failedBeforeAnyCommit.isEmpty, settlement.failure == nil, !settlement.committed.isEmpty else { return settlement }
        settlement.suspects.removeAll { failedBeforeAnyCommit.contains($0.index) }
        for index in failedBeforeAnyCommit {
            if settlement.failure != nil {
                settlement.unwritten.append(index)
                continue
            }
            switch write([batch[index]], queueEmpty: queueEmpty, to: store) {
            case .success(let outcome):
                settlement.outcome.add(outcome)
                settlement.committed.append(index)
            case .failure(let error) where Self.mayBeCausedByData(error):
                settlement.suspects.append((index, error))
            case .failure(let error):
                settlement.failure = error
                settlement.unwritten.append(index)
            }
        }
        return settlement
    }

    private static func mayBeCausedByData(_ error: any Error) -> Bool {
        (error as? any StoreError)?.mayBeCausedByData ?? false
    }

    /// Writes a batch; a CLI command can hold SQLite's write lock briefly, so a busy database is
    /// retried a few times before the batch fails (failing means 503s, never a lost acknowledged event).
    private func write(_ batch: [IngestQueue.Entry], queueEmpty: Bool, to store: any BatchStore) -> Result<BatchOutcome, any Error> {
        var result: Result<BatchOutcome, any Error> = .failure(CancellationError())
        for attempt in 1...3 {
            do {
                return .success(try store.write(batch, queueEmpty: queueEmpty))
            } catch let error as any StoreError where error.isBusy && attempt < 3 {
                logger.warning("database busy, retrying batch", metadata: ["pit.attempt": "\(attempt)"])
                result = .failure(error)
            } catch {
                return .failure(error)
            }
        }
        return result
    }

    /// A write whose client already has its 200 (ack=queued: no completion to report to).
    private static func isAcknowledged(_ entry: IngestQueue.Entry) -> Bool {
        if case .write(let unit) = entry { return !unit.awaitsCommit }
        return false
    }

    /// Tells every waiter its entry's outcome (nil: not decided yet, the entry is held): one
    /// delivery per event loop for the successes, which is a whole batch normally.
    private func complete(_ batch: [IngestQueue.Entry], with outcomes: [Result<Void, any Error>?]) {
        var tickets: [CommitTicket] = []
        tickets.reserveCapacity(batch.count)
        var otherTickets: [(CommitTicket, Result<Void, any Error>)] = []
        // Entries are read in place (`pointee` is an addressor): iterating the array copied
        // each whole unit (~900 bytes, a retain per field) to read two of its fields, 3 % of the
        // writer thread's samples (perf at 8,000/s).
        batch.withUnsafeBufferPointer { entries in
            guard let base = entries.baseAddress else { return }
            for index in entries.indices {
                guard let result = outcomes[index] else { continue }
                // The two fields are read before either is used: calling a completion while the
                // unit is bound made the compiler copy the unit, since the call could change it.
                let (ticket, completion): (CommitTicket?, (@Sendable (Result<Void, any Error>) -> Void)?) =
                    switch (base + index).pointee {
                    case .write(let unit): (unit.ticket, unit.completion)
                    case .command(_, let completion): (nil, completion)
                    }
                if let ticket {
                    if case .success = result { tickets.append(ticket) } else { otherTickets.append((ticket, result)) }
                }
                completion?(result)
            }
        }
        EventLoopCommitSink.deliver(tickets, result: .success(()))
        for (ticket, result) in otherTickets { EventLoopCommitSink.deliver([ticket], result: result) }
    }
}

/// Carries the store to the writer thread. `@unchecked Sendable`: after `BatchWriter.init` the
/// store is only ever touched by the writer thread.
private final class StoreHandoff: @unchecked Sendable {
    let store: any BatchStore
    init(store: any BatchStore) { self.store = store }
}

/// A write unit the database refused on its own while the rest of its batch was stored (see
/// `BatchWriter.settle`). Its client is answered 400, not 503: the same event sent again would
/// be refused again, and SDKs drop an envelope on a 4xx instead of retrying it. Relay answers an
/// event it cannot accept for its content with 400 too; the database's own words stay in the
/// log, since they can name tables and values.
package struct UnitRejected: Error, CustomStringConvertible {
    package let eventID: EventID?
    package static let metricReason = "storage_rejected"
    package static let detail = "the event could not be stored: the database refused it; sending it again will not help"
    package var description: String { "event \(eventID?.hex ?? "-") refused by the database" }
}

/// Acknowledged events still refused at shutdown, after the database refused every write.
private struct StoreRefusedEveryWrite: Error, CustomStringConvertible {
    var description: String { "the database refused every write until shutdown" }
}

extension BatchOutcome {
    mutating func add(_ other: BatchOutcome) {
        events += other.events
        duplicates += other.duplicates
        items += other.items
        newIssues += other.newIssues
        regressions += other.regressions
        committedEvents += other.committedEvents
    }
}
