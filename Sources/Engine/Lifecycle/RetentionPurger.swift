import Foundation
package import Logging
import Metrics
package import PitIngest
import PitModel
package import PitStorage
import ServiceLifecycle

/// One retention pass over a `PurgeStore`: each project's expired events in small batches with a
/// pause between them, then expired items, the hourly counters of hours gone, the oldest events
/// while the database is over `max_database_bytes`, the issues left without events, and last the
/// free pages (SQLite incremental vacuum). Synchronous and I/O-bound: it runs on the purger's
/// thread, and tests drive it directly.
package struct RetentionPass {
    package struct Configuration: Sendable, Equatable {
        /// Most rows per transaction.
        package var batchSize: Int
        /// Least sleep between batches.
        package var pause: Double
        /// Pages per incremental-vacuum step (8 KiB each).
        package var vacuumPages: Int
        /// How long one batch may hold the write lock: a slower batch halves the next one's size,
        /// a much faster one doubles it (up to `batchSize`). The writer waits at most about this.
        package var targetBatchSeconds: Double
        /// Sleep at least this many times a batch's duration after it, so the purge holds the
        /// write lock at most 1 / (1 + idleFactor) of the time.
        package var idleFactor: Double
        /// The purge waits (up to `maximumYield` per batch) while the writer's oldest queued write
        /// has waited longer than this: ingest comes first.
        package var writerLagLimit: Double
        package var maximumYield: Double

        package init(
            batchSize: Int = 1000, pause: Double = 0.02, vacuumPages: Int = 256, targetBatchSeconds: Double = 0.02,
            idleFactor: Double = 3, writerLagLimit: Double = 0.1, maximumYield: Double = 0.5
        ) {
            self.writerLagLimit = writerLagLimit
            self.maximumYield = maximumYield
            self.batchSize = batchSize
            self.pause = pause
            self.vacuumPages = vacuumPages
            self.targetBatchSeconds = targetBatchSeconds
            self.idleFactor = idleFactor
        }
    }

    package struct Summary: Sendable, Equatable {
        package var events = 0
        package var eventsOverSize = 0
        package var items = 0
        package var counterRows = 0
        /// States of sessions too old to be updated.
        package var sessionStates = 0
        /// Cron check-ins past their project's retention.
        package var checkIns = 0
        /// Logs past their project's log retention.
        package var logs = 0
        /// Issues found without events (deleted here, or handed to the writer).
        package var emptiedIssues = 0
        package var reclaimedPages = 0
        package var batches = 0
        /// Seconds spent inside purge transactions (the rest of a pass is pauses).
        package var busySeconds = 0.0
        package var interrupted = false

        package init() {}
    }

    package let store: any PurgeStore
    package let policy: RetentionPolicy
    package let configuration: Configuration
    /// Deletes issues through the writer, where the store cannot (SQLite). Returns once done.
    package let deleteIssuesThroughWriter: ([Int64]) throws -> Void
    /// Sleeps between batches; returns false when the purge should stop now.
    package let pause: (Double) -> Bool

    package init(
        store: any PurgeStore, policy: RetentionPolicy, configuration: Configuration = Configuration(),
        deleteIssuesThroughWriter: @escaping ([Int64]) throws -> Void, pause: @escaping (Double) -> Bool = { _ in true }
    ) {
        self.store = store
        self.policy = policy
        self.configuration = configuration
        self.deleteIssuesThroughWriter = deleteIssuesThroughWriter
        self.pause = pause
    }

    /// Interrupted by a stop request between two batches.
    private struct Interrupted: Error {}

    /// Batch size and pauses that adapt to how long batches take (pure, testable).
    package struct Pacing: Sendable, Equatable {
        package private(set) var size: Int
        let limit: Int
        let target: Double

        package init(limit: Int, target: Double) {
            self.limit = max(1, limit)
            self.size = self.limit
            self.target = target
        }

        /// After a batch that took `seconds`: the next size, and the sleep before it.
        package mutating func record(seconds: Double, minimumPause: Double, idleFactor: Double) -> Double {
            if target > 0 {
                if seconds > target { size = max(1, min(size / 2, limit)) } else if seconds < target / 2 { size = min(limit, size * 2) }
            }
            return max(minimumPause, seconds * idleFactor)
        }
    }

    package func run(nowMilliseconds now: Int64 = ClockTime.nowMilliseconds) throws -> Summary {
        var summary = Summary()
        var emptied: [Int64] = []
        var pacing = Pacing(limit: configuration.batchSize, target: configuration.targetBatchSeconds)
        func flushIssues(_ force: Bool) throws {
            guard !emptied.isEmpty, force || emptied.count >= configuration.batchSize else { return }
            if try store.deleteIssuesWithoutEvents(emptied) == nil { try deleteIssuesThroughWriter(emptied) }
            summary.emptiedIssues += emptied.count
            emptied.removeAll()
        }
        /// Runs one batch, then sleeps as the pacing says; throws `Interrupted` when stopped.
        func batch<T>(_ body: (Int) throws -> T) throws -> T {
            let started = ClockTime.monotonicSeconds
            let result = try body(pacing.size)
            let took = store.lastHoldSeconds ?? (ClockTime.monotonicSeconds - started)
            summary.batches += 1
            summary.busySeconds += took
            guard pause(pacing.record(seconds: took, minimumPause: configuration.pause, idleFactor: configuration.idleFactor)) else {
                throw Interrupted()
            }
            return result
        }
        /// Deletes in paced batches of at most `cap` rows until one comes back short; returns how
        /// many rows went.
        func drain(cap: Int = .max, _ delete: (Int) throws -> Int) throws -> Int {
            var total = 0
            while true {
                var asked = 0
                let deleted = try batch { size in
                    asked = min(size, cap)
                    return try delete(asked)
                }
                total += deleted
                if deleted < asked { return total }
            }
        }

        do {
            let projects = try store.projectIDs()
            var cutoffs: [Int64: Int64] = [:]
            for projectID in projects {
                // Logs first: their retention is their own (shorter by default), kept even by a
                // project that keeps its events forever.
                if let logCutoff = policy.logs.cutoff(projectID: projectID, nowMilliseconds: now) {
                    summary.logs += try drain { try store.purgeLogs(projectID: projectID, timestampBefore: logCutoff, limit: $0) }
                }
                guard let cutoff = policy.cutoff(projectID: projectID, nowMilliseconds: now) else { continue }
                cutoffs[projectID] = cutoff
                while true {
                    var asked = 0
                    let purged = try batch { size in
                        asked = size
                        return try store.purgeEvents(.expired(projectID: projectID, receivedBefore: cutoff), limit: size)
                    }
                    summary.events += purged.events
                    emptied += purged.emptiedIssues
                    try flushIssues(false)
                    if purged.events < asked { break }
                }
                // Feedback is kept as long as the events it is about, and counted with the items.
                summary.items += try drain { try store.purgeFeedback(projectID: projectID, receivedBefore: cutoff, limit: $0) }
                // Attachments go with their events. A row may hold up to 200 MiB, so a batch
                // takes at most 100 of them whatever the pacing allows.
                summary.items += try drain(cap: 100) {
                    try store.purgeAttachments(projectID: projectID, receivedBefore: cutoff, limit: $0)
                }
                // Transactions and their spans are kept as long as the events.
                summary.items += try drain { try store.purgeTransactions(projectID: projectID, receivedBefore: cutoff, limit: $0) }
                summary.items += try drain { try store.purgeSpans(projectID: projectID, startedBefore: cutoff * 1000, limit: $0) }
                // A profile may hold up to 50 MiB of samples, so a batch takes at most 100 of them.
                summary.items += try drain(cap: 100) {
                    try store.purgeProfiles(projectID: projectID, receivedBefore: cutoff, limit: $0)
                }
                summary.counterRows += try store.purgeCounters(projectID: projectID, beforeHour: HourlyCounts.hour(ofMilliseconds: cutoff))
                summary.checkIns += try drain { try store.purgeCheckIns(projectID: projectID, createdBefore: cutoff, limit: $0) }
            }

            if let newest = cutoffs.values.max() {
                var cursor: Int64 = 0
                while true {
                    let purged = try batch { size in
                        try store.purgeItems(after: cursor, limit: size, newestCutoff: newest) { cutoffs[$0] }
                    }
                    summary.items += purged.deleted
                    cursor = purged.cursor
                    if purged.done { break }
                }
            }

            if let maximum = policy.maxDatabaseBytes, let used = try store.usedBytes(), used > maximum {
                // Down to 95 % of the cap, so the next few batches of ingest do not start it again.
                let target = maximum / 20 * 19
                var boundary: Int64?
                while let used = try store.usedBytes(), used > target {
                    let purged = try batch { size in try store.purgeEvents(.oldest, limit: size) }
                    summary.eventsOverSize += purged.events
                    emptied += purged.emptiedIssues
                    boundary = purged.newestReceived ?? boundary
                    if let newest = purged.newestReceived {
                        // Attachments often hold most of the space: they go with the oldest events.
                        for projectID in projects {
                            summary.items += try drain(cap: 100) {
                                try store.purgeAttachments(projectID: projectID, receivedBefore: newest + 1, limit: $0)
                            }
                        }
                    }
                    try flushIssues(false)
                    if purged.events == 0 { break }
                }
                if let boundary {
                    for projectID in projects {
                        summary.counterRows += try store.purgeCounters(
                            projectID: projectID,
                            beforeHour: HourlyCounts.hour(ofMilliseconds: boundary))
                    }
                }
            }

            try flushIssues(true)

            // Every project's, whatever its retention: a session state is only needed while
            // updates of the session are accepted.
            let sessionsBefore = now - Int64(SessionParser.maxAgeSeconds * 1000)
            summary.sessionStates += try drain { try store.purgeSessionStates(startedBefore: sessionsBefore, limit: $0) }

            // Outcomes are kept `OutcomeRetention.hours`, whatever the projects keep events.
            let outcomesBefore = HourlyCounts.hour(ofMilliseconds: now) - OutcomeRetention.hours
            summary.counterRows += try drain { try store.purgeOutcomes(beforeHour: outcomesBefore, limit: $0) }

            while true {
                let freed = try batch { _ in try store.reclaimSpace(maxPages: configuration.vacuumPages) }
                summary.reclaimedPages += freed
                if freed < configuration.vacuumPages { break }
            }
        } catch is Interrupted {
            summary.interrupted = true
            try flushIssues(true)
        }
        return summary
    }
}

/// Runs a `RetentionPass` every `interval` on a dedicated thread (the deletes block on SQLite or
/// on PostgreSQL round trips, never on the cooperative pool), with its own connection.
///
/// Placed after the writer in the service group, it stops before the writer drains: a pass is
/// interrupted between two batches, and every batch is a committed transaction of its own.
///
/// `@unchecked Sendable`: the store is used only by the purge thread; `stopped` and the
/// continuation are guarded by `condition`.
package final class RetentionPurger: Service, @unchecked Sendable {
    private let makeStore: @Sendable () throws -> any PurgeStore
    private let policy: RetentionPolicy
    private let admin: any AdminStore
    private let queue: IngestQueue
    private let interval: Double
    private let configuration: RetentionPass.Configuration
    private let logger: Logger
    private let condition = NSCondition()
    private var stopped = false
    private let purgedEvents = Counter(label: "pit_retention_purged_events_total")
    private let purgedItems = Counter(label: "pit_retention_purged_items_total")

    package init(
        makeStore: @escaping @Sendable () throws -> any PurgeStore, policy: RetentionPolicy, admin: any AdminStore,
        queue: IngestQueue, interval: Double, configuration: RetentionPass.Configuration, logger: Logger
    ) {
        self.makeStore = makeStore
        self.policy = policy
        self.admin = admin
        self.queue = queue
        self.interval = interval
        self.configuration = configuration
        self.logger = logger
    }

    package func run() async throws {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                    let thread = Thread { [self] in
                        loop()
                        done.resume()
                    }
                    thread.name = "pit-retention"
                    thread.start()
                }
            } onGracefulShutdown: { [self] in
                stop()
            }
        } onCancel: { [self] in
            stop()
        }
    }

    private func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    /// Sleeps up to `seconds`; false once stopped.
    private func sleep(_ seconds: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(seconds)
        while !stopped, Date() < deadline { _ = condition.wait(until: deadline) }
        return !stopped
    }

    private func loop() {
        var store: (any PurgeStore)?
        // The first pass waits a little: startup (migrations, index loading) comes first.
        var wait = min(interval, 5)
        while sleep(wait) {
            wait = interval
            do {
                if store == nil { store = try makeStore() }
                // This loop has a thread of its own, so it may wait here for the async store.
                let (policy, admin) = (policy, admin)
                try BlockingWork.waitOnThisThread { try await policy.reload(from: admin) }
                let started = ClockTime.monotonicSeconds
                let pass = RetentionPass(
                    store: store!, policy: policy, configuration: configuration,
                    deleteIssuesThroughWriter: { [self] in try deleteThroughWriter($0) },
                    pause: { [self] in pauseBetweenBatches($0) })
                let summary = try pass.run()
                let uploadChunks = try purgeUploadChunks()
                purgedEvents.increment(by: summary.events + summary.eventsOverSize)
                purgedItems.increment(by: summary.items)
                if summary.events + summary.eventsOverSize + summary.items + summary.emptiedIssues + summary.reclaimedPages
                    + summary.sessionStates + summary.checkIns + summary.logs + uploadChunks > 0
                {
                    let seconds = ClockTime.monotonicSeconds - started
                    logger.info(
                        "retention purge pass",
                        metadata: [
                            "pit.events": "\(summary.events)", "pit.events_over_size": "\(summary.eventsOverSize)",
                            "pit.items": "\(summary.items)", "pit.issues_emptied": "\(summary.emptiedIssues)",
                            "pit.counter_rows": "\(summary.counterRows)", "pit.reclaimed_pages": "\(summary.reclaimedPages)",
                            "pit.session_states": "\(summary.sessionStates)", "pit.check_ins": "\(summary.checkIns)",
                            "pit.logs": "\(summary.logs)",
                            "pit.upload_chunks": "\(uploadChunks)",
                            "pit.seconds": "\(String(format: "%.2f", seconds))",
                            "pit.busy_seconds": "\(String(format: "%.2f", summary.busySeconds))",
                            "pit.events_per_second": "\(Int(Double(summary.events + summary.eventsOverSize) / max(seconds, 0.001)))",
                            "pit.interrupted": "\(summary.interrupted)",
                        ])
                    // More may be waiting (a pass deletes what was expired when it began): go on soon.
                    if summary.interrupted == false && summary.batches > 1 { wait = min(interval, 1) }
                }
            } catch {
                logger.warning("retention purge pass failed; retrying next pass", metadata: ["pit.error": "\(error)"])
                // A lost PostgreSQL session reconnects on its own; a fresh store also re-reads the schema.
                if (error as? any StoreError)?.leavesStoreUsable != true {
                    store?.close()
                    store = nil
                }
            }
        }
        store?.close()
    }

    /// Upload chunks past `UploadChunkRetention` (abandoned uploads, and those assembled long
    /// ago), in small batches on the admin store, where they were written.
    private func purgeUploadChunks() throws -> Int {
        let admin = admin
        let before = ClockTime.nowMilliseconds - UploadChunkRetention.milliseconds
        return try BlockingWork.waitOnThisThread {
            var total = 0
            while true {
                let deleted = try await admin.purgeUploadChunks(createdBefore: before, limit: 100)
                total += deleted
                if deleted < 100 { return total }
            }
        }
    }

    /// Sleeps `seconds`, then longer while the writer is behind: a purge batch taking the write
    /// lock then would only add to that wait. Bounded, so a writer that is always behind (a busy
    /// machine) still lets the purge progress.
    private func pauseBetweenBatches(_ seconds: Double) -> Bool {
        guard sleep(seconds) else { return false }
        var waited = 0.0
        while queue.oldestAgeSeconds > configuration.writerLagLimit && waited < configuration.maximumYield {
            guard sleep(0.01) else { return false }
            waited += 0.01
        }
        return true
    }

    /// SQLite: issue rows go through the writer's queue as a command; waits for its commit.
    private func deleteThroughWriter(_ ids: [Int64]) throws {
        // A few hundred per command: they run inside one of the writer's ingest batches.
        var start = 0
        while start < ids.count {
            let end = min(start + 200, ids.count)
            try deleteChunkThroughWriter(Array(ids[start..<end]))
            start = end
        }
    }

    private func deleteChunkThroughWriter(_ ids: [Int64]) throws {
        let done = DispatchSemaphore(value: 0)
        let outcome = OutcomeBox()
        guard
            queue.offer(
                command: .purgeIssues(issueIDs: ids),
                completion: { result in
                    outcome.set(result)
                    done.signal()
                })
        else { throw AdminError("the writer is stopping") }
        while done.wait(timeout: .now() + 1) == .timedOut {
            // The writer always completes a queued command (or fails it on close); keep waiting,
            // but give way to a shutdown.
            guard sleep(0) else { return }
        }
        if case .failure(let error) = outcome.get() { throw error }
    }

    private final class OutcomeBox: @unchecked Sendable {
        // Written once by the writer thread before the semaphore signal, read after the wait.
        private var value: Result<Void, any Error> = .success(())
        func set(_ result: Result<Void, any Error>) { value = result }
        func get() -> Result<Void, any Error> { value }
    }
}
