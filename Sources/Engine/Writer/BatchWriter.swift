import CoreMetrics
import Foundation
package import Logging
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

    package convenience init(queue: IngestQueue, store: any BatchStore, batchSize: Int, commitDelay: Double = 0, metrics: PitMetrics,
                             health: StorageHealth? = nil, logger: Logger)
    {
        self.init(queue: queue, stores: [store], batchSize: batchSize, commitDelay: commitDelay, metrics: metrics, health: health,
                  logger: logger)
    }

    package init(queue: IngestQueue, stores: [any BatchStore], batchSize: Int, commitDelay: Double = 0, metrics: PitMetrics,
                 health: StorageHealth? = nil, logger: Logger)
    {
        precondition(!stores.isEmpty, "a writer needs a store")
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
        while let batch = queue.take(maxCount: batchSize, commitDelay: commitDelay,
                                     idleTimeout: store.deferredWorkDeadline.map { max(0, $0 - ClockTime.monotonicSeconds) })
        {
            if batch.isEmpty {
                do { try store.writeDeferredWork() } catch {
                    logger.warning("deferred counters not written, retrying with the next batch", metadata: ["error": "\(error)"])
                }
                continue
            }
            let started = ClockTime.monotonicSeconds
            let queueEmpty = queue.depth.count == 0
            var result = write(batch, queueEmpty: queueEmpty, to: store)
            // Units queued with ack=queued were answered 200 already: a failed batch holding one
            // is kept and retried (the queue fills meanwhile and new requests are shed with 503)
            // instead of being dropped, until it commits or, once shutting down, a few more tries.
            if case .failure = result, batch.contains(where: Self.isAcknowledged) {
                var delay = 0.05
                var triesAfterFinish = 0
                while case .failure(let error) = result, triesAfterFinish < 5 {
                    if health?.recordFailure(error) == true {
                        logger.error("database writes fail; holding acknowledged events", metadata: ["pit.writer": "\(name)", "error": "\(error)"])
                    }
                    if queue.isFinished { triesAfterFinish += 1 }
                    Thread.sleep(forTimeInterval: delay)
                    delay = min(delay * 2, 1)
                    result = write(batch, queueEmpty: queueEmpty, to: store)
                }
            }
            metrics.commitLatency.recordSeconds(ClockTime.monotonicSeconds - started)
            metrics.batchSize.record(batch.count)
            let depth = queue.depth
            metrics.queueDepth.record(depth.count)
            metrics.queueBytes.record(depth.bytes)
            switch result {
            case .success:
                if health?.recordSuccess() == true { logger.notice("database writes succeed again", metadata: ["pit.writer": "\(name)"]) }
            case .failure(let error):
                if health?.recordFailure(error) == true {
                    logger.error("database writes fail; answering 503 until they succeed", metadata: ["pit.writer": "\(name)", "error": "\(error)"])
                }
            }
            switch result {
            case .success(let outcome):
                metrics.stored.increment(by: outcome.events)
                metrics.duplicates.increment(by: outcome.duplicates)
                metrics.issuesCreated.increment(by: outcome.newIssues)
                metrics.regressions.increment(by: outcome.regressions)
                complete(batch, with: .success(()))
            case .failure(let error):
                metrics.writerFailures.increment()
                logger.error("batch write failed", metadata: ["pit.batch_size": "\(batch.count)", "error": "\(error)"])
                complete(batch, with: .failure(error))
            }
        }
        store.close()
        logger.info("writer drained and closed", metadata: ["pit.writer": "\(name)"])
    }

    /// Writes a batch; a CLI command can hold SQLite's write lock briefly, so a busy database is
    /// retried a few times before the batch fails (failing means 503s, never a lost acknowledged event).
    private func write(_ batch: [IngestQueue.Entry], queueEmpty: Bool, to store: any BatchStore) -> Result<BatchOutcome, any Error> {
        var result: Result<BatchOutcome, any Error> = .failure(CancellationError())
        for attempt in 1...3 {
            do {
                return .success(try store.write(batch, queueEmpty: queueEmpty))
            } catch let error as SQLiteError where error.isBusy && attempt < 3 {
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

    private func complete(_ batch: [IngestQueue.Entry], with result: Result<Void, any Error>) {
        var tickets: [CommitTicket] = []
        tickets.reserveCapacity(batch.count)
        for entry in batch {
            switch entry {
            case .write(let unit):
                if let ticket = unit.ticket { tickets.append(ticket) }
                unit.completion?(result)
            case .command(_, let completion): completion(result)
            }
        }
        EventLoopCommitSink.deliver(tickets, result: result)
    }
}

/// Carries the store to the writer thread. `@unchecked Sendable`: after `BatchWriter.init` the
/// store is only ever touched by the writer thread.
private final class StoreHandoff: @unchecked Sendable {
    let store: any BatchStore
    init(store: any BatchStore) { self.store = store }
}
