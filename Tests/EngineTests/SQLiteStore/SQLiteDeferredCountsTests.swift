import Foundation
import Logging
import NIOCore
import PitIngest
import PitModel
import PitObservability
import PitStorage
import SQLiteStore
import Testing

/// The writer's derived counters (issue counts and users, tag values, releases, environments,
/// hourly series) wait in memory while the queue stays busy; these check that they end up the
/// same as when every batch writes them, including after a crash that lost the waiting ones.
@Suite struct SQLiteDeferredCountsTests {
    private let pipeline = IngestPipeline(
        keys: KeyCache(), queue: IngestQueue(maxCount: 1, maxBytes: 1), ack: .queued,
        limits: IngestLimits(), metrics: PitMetrics())
    // No WAL: a store that is dropped without `close` then leaves no checkpointer thread behind.
    private let durability = StorageDurability(synchronous: .off, journalMode: .delete)

    /// Four batches over three issues, two releases, two environments, repeated users and tags.
    private func batches() throws -> [[IngestQueue.Entry]] {
        var id = 0
        return try (0..<4).map { batch in
            try (0..<6).map { index -> IngestQueue.Entry in
                id += 1
                let json = eventJSON(
                    id, type: ["ValueError", "KeyError", "TypeError"][(batch + index) % 3], release: index % 2 == 0 ? "1.0" : "1.1",
                    user: #"{"id":"u\#(index % 4)","email":"u\#(index % 4)@example.com"}"#,
                    tags: #"{"browser":"\#(index % 3 == 0 ? "chrome" : "firefox")"}"#,
                    environment: batch % 2 == 0 ? "production" : "staging", offset: Double(-3600 * batch - index)
                )
                let record = try pipeline.makeEventRecord(ByteBuffer(string: json), header: nil, projectID: 1, received: receiveTime)
                return .write(WriteUnit(event: record, items: []))
            }
        }
    }

    /// Every derived table, one line per row, in a stable order.
    private func derivedRows(_ path: String) throws -> [String] {
        let connection = try SQLiteConnection(path: path, readOnly: true)
        let queries = [
            "SELECT id, times_seen, users_seen, first_seen, last_seen, first_release, last_release FROM issues ORDER BY id",
            "SELECT issue_id, user_key FROM issue_users ORDER BY 1, 2",
            "SELECT issue_id, environment, key, value, times_seen, first_seen, last_seen FROM issue_tag_values ORDER BY 1, 2, 3, 4",
            "SELECT project_id, version, first_seen, last_seen, events, new_issues FROM releases ORDER BY 1, 2",
            "SELECT project_id, environment, events FROM project_environments ORDER BY 1, 2",
            "SELECT issue_id, hour, events FROM issue_hourly ORDER BY 1, 2",
            "SELECT project_id, hour, events, new_issues FROM project_hourly ORDER BY 1, 2",
        ]
        return try queries.flatMap { sql in
            try connection.statement(sql).query([]) { row in
                (0..<7).map { column in row.isNull(Int32(column)) ? "null" : (row.text(Int32(column)) ?? "") }.joined(separator: "|")
            }.map { "\(sql.prefix(40)): \($0)" }
        }
    }

    private func timesSeen(_ path: String) throws -> Int64 {
        try SQLiteConnection(path: path, readOnly: true).scalarInt("SELECT SUM(times_seen) FROM issues") ?? 0
    }

    /// Counters written with every batch, as at light load.
    private func reference(_ directory: TemporaryDirectory) throws -> [String] {
        let path = directory.path("reference.db")
        let store = try SQLiteBatchStore(path: path, durability: durability)
        for batch in try batches() { _ = try store.write(batch, queueEmpty: true) }
        store.close()
        return try derivedRows(path)
    }

    /// Writes every batch, the first `countedBatches` with their counters, and drops the store
    /// without `close`, as a kill -9 would: the other batches are stored but not counted.
    private func crash(_ path: String, countedBatches: Int) throws {
        let all = try batches()
        let store = try SQLiteBatchStore(path: path, durability: durability, countsInterval: 3600)
        for batch in all[..<countedBatches] { _ = try store.write(batch, queueEmpty: false) }
        try store.writeDeferredWork()
        for batch in all[countedBatches...] { _ = try store.write(batch, queueEmpty: false) }
    }

    @Test func countersWaitUnderLoadUntilTheyAreDue() throws {
        let directory = try TemporaryDirectory()
        let expected = try reference(directory)
        let path = directory.path("deferred.db")
        // As if the events came faster than any light-load rate, even when the queue runs dry.
        let store = try SQLiteBatchStore(path: path, durability: durability, countsInterval: 3600, lightLoadRate: 0)
        for batch in try batches() { _ = try store.write(batch, queueEmpty: true) }
        // Events are stored at once; their counters are not written yet.
        #expect(try SQLiteConnection(path: path, readOnly: true).scalarInt("SELECT COUNT(*) FROM events") == 24)
        #expect(try timesSeen(path) == 0)
        let deadline = try #require(store.deferredWorkDeadline)
        #expect(deadline > ClockTime.monotonicSeconds + 3000)
        try store.writeDeferredWork()
        #expect(store.deferredWorkDeadline == nil)
        #expect(try derivedRows(path) == expected)
        store.close()
        #expect(try derivedRows(path) == expected)
    }

    @Test func atLightLoadEveryBatchThatEmptiesTheQueueIsCountedAtOnce() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("light.db")
        let store = try SQLiteBatchStore(path: path, durability: durability, countsInterval: 3600)
        var written: Int64 = 0
        for batch in try batches() {
            for entry in batch {
                Thread.sleep(forTimeInterval: 0.02)  // 50 events/s
                _ = try store.write([entry], queueEmpty: true)
                written += 1
                #expect(try timesSeen(path) == written)
            }
        }
        #expect(store.deferredWorkDeadline == nil)
        store.close()
    }

    @Test func theWriterWritesWaitingCountersWhenNoBatchComes() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("writer.db")
        let queue = IngestQueue(maxCount: 1000, maxBytes: 64 << 20)
        let store = try SQLiteBatchStore(path: path, durability: durability, countsInterval: 0.2)
        let writer = BatchWriter(
            queue: queue, store: store, batchSize: 1000, metrics: PitMetrics(),
            logger: Logger(label: "pit.tests", factory: { _ in SwiftLogNoOpLogHandler() }))
        let units = try batches().flatMap { $0 }.compactMap { entry -> WriteUnit? in
            if case .write(let unit) = entry { return unit }
            return nil
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await writer.run() }
            // 24 events offered at once; whatever the batches, nothing follows them.
            for unit in units { #expect(queue.offer(unit) == .accepted) }
            // Generous: the rest of the suite can hold the threads that start the writer for seconds.
            let deadline = Date().addingTimeInterval(60)
            while try timesSeen(path) < 24 && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(try timesSeen(path) == 24)
            writer.finish()
            try await group.waitForAll()
        }
    }

    @Test func countersAreWrittenAtLeastEveryInterval() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("interval.db")
        let store = try SQLiteBatchStore(path: path, durability: durability, countsInterval: 0)
        for batch in try batches() { _ = try store.write(batch, queueEmpty: false) }
        #expect(try timesSeen(path) == 24)
        store.close()
    }

    @Test func closingWritesWaitingCounters() throws {
        let directory = try TemporaryDirectory()
        let expected = try reference(directory)
        let path = directory.path("closed.db")
        let store = try SQLiteBatchStore(path: path, durability: durability, countsInterval: 3600)
        for batch in try batches() { _ = try store.write(batch, queueEmpty: false) }
        store.close()
        #expect(try derivedRows(path) == expected)
    }

    @Test func aRestartAfterACrashCountsTheEventsWhoseCountersWereLost() throws {
        let directory = try TemporaryDirectory()
        let expected = try reference(directory)
        let path = directory.path("crashed.db")
        try crash(path, countedBatches: 2)
        #expect(try timesSeen(path) == 12)
        let reopened = try SQLiteBatchStore(path: path, durability: durability)
        #expect(try derivedRows(path) == expected)
        reopened.close()
        // Counting again is idempotent: a second restart finds nothing left to count.
        let again = try SQLiteBatchStore(path: path, durability: durability)
        again.close()
        #expect(try derivedRows(path) == expected)
    }

    @Test func aRecountThatCannotBeWrittenDoesNotStopTheStart() throws {
        // After a crash on a full disk the recount's own write fails too: the store must open
        // (pitd then answers 503, not "connection refused") and count once writes succeed.
        let directory = try TemporaryDirectory()
        let expected = try reference(directory)
        let path = directory.path("crashed.db")
        try crash(path, countedBatches: 1)
        // A trigger stands in for the full disk: any counters write fails.
        let blocker = try SQLiteConnection(path: path)
        try blocker.execute(
            """
            CREATE TRIGGER refuse_counts BEFORE UPDATE ON issues BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END
            """)
        let reopened = try SQLiteBatchStore(path: path, durability: durability)
        #expect(try timesSeen(path) == 6)
        #expect(reopened.deferredWorkDeadline != nil)
        try blocker.execute("DROP TRIGGER refuse_counts")
        try reopened.writeDeferredWork()
        reopened.close()
        #expect(try derivedRows(path) == expected)
    }

    @Test func aDatabaseWithoutTheWatermarkIsTakenAsCounted() throws {
        let directory = try TemporaryDirectory()
        let expected = try reference(directory)
        let path = directory.path("reference.db")
        let connection = try SQLiteConnection(path: path)
        try connection.execute("DELETE FROM settings WHERE key = 'counts_through_event_id'")
        let store = try SQLiteBatchStore(path: path, durability: durability)
        store.close()
        #expect(try derivedRows(path) == expected)
    }
}
