import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PitIngest
import PitModel
import PitObservability
import PitStorage
import PostgresNIO
import PostgresStore
import SQLiteStore
import Testing

/// A database that refuses one event (a trigger on its id) must cost that event only: the rest of
/// its batch commits and is acknowledged, the refused one is told so, counters count what was
/// stored once, and with ack=queued the writer does not retry the refused event for ever.
private let poisonID = 5
private let poisonHex = String(format: "%032x", poisonID)

/// One back end under test: a fresh store, a way to run SQL on it, and what was stored.
private protocol PoisonBackend {
    func makeStore() throws -> any BatchStore
    func execute(_ sql: String) throws
    func storedEvents() throws -> Int64
    /// The one issue's count, pending counters included.
    func timesSeen() throws -> Int64
}

private final class SQLitePoisonBackend: PoisonBackend {
    let directory: TemporaryDirectory
    let path: String

    init() async throws {
        directory = try TemporaryDirectory()
        path = directory.path("pit.db")
        _ = try await SQLiteAdminStore(path: path).ensureDefaults(organizationSlug: "org", projectSlug: "proj")
    }

    func makeStore() throws -> any BatchStore { try SQLiteBatchStore(path: path, durability: StorageDurability(synchronous: .off)) }
    func execute(_ sql: String) throws { try SQLiteConnection(path: path).execute(sql) }
    func storedEvents() throws -> Int64 { try SQLiteConnection(path: path).scalarInt("SELECT COUNT(*) FROM events") ?? 0 }
    func timesSeen() throws -> Int64 { try SQLiteConnection(path: path).scalarInt("SELECT SUM(times_seen) FROM issues") ?? 0 }

    static let poisonTrigger = """
        CREATE TRIGGER poison BEFORE INSERT ON events WHEN hex(NEW.event_id) = upper('\(poisonHex)')
        BEGIN SELECT RAISE(ABORT, 'poison'); END
        """
}

private final class PostgresPoisonBackend: PoisonBackend {
    let url: PostgresDatabaseURL

    init() async throws {
        url = try PostgresTestDatabase.create()
        _ = try await PostgresAdminStore.open(url: url, logger: PostgresTestDatabase.logger).ensureDefaults(
            organizationSlug: "org", projectSlug: "proj")
    }

    func makeStore() throws -> any BatchStore { try PostgresBatchStore(url: url, logger: PostgresTestDatabase.logger) }

    func execute(_ sql: String) throws {
        let session = try PostgresSession(url: url, logger: PostgresTestDatabase.logger)
        defer { session.close() }
        // One statement per query: the extended protocol takes no more.
        for statement in sql.components(separatedBy: "\n;\n") { try session.query(PostgresQuery(unsafeSQL: statement)) }
    }

    private func scalar(_ sql: String) throws -> Int64 {
        let session = try PostgresSession(url: url, logger: PostgresTestDatabase.logger)
        defer { session.close() }
        for row in try session.query(PostgresQuery(unsafeSQL: sql)) { return try row.decode(Int64?.self) ?? 0 }
        return 0
    }

    func storedEvents() throws -> Int64 { try scalar("SELECT COUNT(*) FROM events") }
    func timesSeen() throws -> Int64 {
        try scalar(
            "SELECT ((SELECT COALESCE(SUM(times_seen), 0) FROM issues) + (SELECT COALESCE(SUM(events), 0) FROM issue_deltas))::bigint")
    }

    static let poisonTrigger = """
        CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN
            IF encode(NEW.event_id, 'hex') = '\(poisonHex)' THEN RAISE EXCEPTION 'poison'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql
        ;
        CREATE TRIGGER poison BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION poison();
        """
}

private final class Outcomes: Sendable {
    private let results = NIOLockedValueBox<[Int: Result<Void, any Error>]>([:])
    func record(_ index: Int, _ result: Result<Void, any Error>) { results.withLockedValue { $0[index] = result } }
    var all: [Int: Result<Void, any Error>] { results.withLockedValue { $0 } }
}

private func unit(_ index: Int, completion: (@Sendable (Result<Void, any Error>) -> Void)?) throws -> WriteUnit {
    let pipeline = IngestPipeline(
        keys: KeyCache(), queue: IngestQueue(maxCount: 1, maxBytes: 1), ack: .queued,
        limits: IngestLimits(), metrics: PitMetrics())
    let record = try pipeline.makeEventRecord(ByteBuffer(string: eventJSON(index)), header: nil, projectID: 1, received: receiveTime)
    return WriteUnit(event: record, items: [], completion: completion)
}

/// Polls `condition` for up to a minute (the machine may be busy); false if it never held.
private func eventually(_ condition: () throws -> Bool) async throws -> Bool {
    let deadline = ClockTime.monotonicSeconds + 60
    while try !condition() {
        if ClockTime.monotonicSeconds > deadline { return false }
        try await Task.sleep(for: .milliseconds(10))
    }
    return true
}

private func runWriter(_ store: any BatchStore, queue: IngestQueue, _ body: () async throws -> Void) async throws {
    let writer = BatchWriter(
        queue: queue, store: store, batchSize: 64, metrics: PitMetrics(),
        logger: Logger(label: "pit.tests", factory: { _ in SwiftLogNoOpLogHandler() }))
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { try await writer.run() }
        try await body()
        writer.finish()
        try await group.waitForAll()
    }
}

/// ack=committed: ten events in one batch, the fifth refused.
private func poisonedBatch(_ backend: some PoisonBackend, trigger: String) async throws {
    let store = try backend.makeStore()
    try backend.execute(trigger)
    let queue = IngestQueue(maxCount: 100, maxBytes: 64 << 20)
    let outcomes = Outcomes()
    for index in 1...10 { #expect(queue.offer(try unit(index) { outcomes.record(index, $0) }) == .accepted) }
    try await runWriter(store, queue: queue) {
        let reached1 = try await eventually { outcomes.all.count == 10 }
        #expect(reached1)
    }
    let all = outcomes.all
    for index in 1...10 where index != poisonID {
        #expect((try? all[index]?.get()) != nil, "event \(index): \(String(describing: all[index]))")
    }
    guard case .failure(let error) = all[poisonID] else {
        Issue.record("the poisoned event was acknowledged")
        return
    }
    #expect(error is UnitRejected, "\(error)")
    #expect(try backend.storedEvents() == 9)
    // The failed first attempt counted nothing: the issue counts what is stored, once.
    #expect(try backend.timesSeen() == 9)
}

/// ack=queued: the refused event arrives alone (nothing else in its batch proves the database
/// works); it is held, and refused for good once a later batch commits. The writer then drains
/// and stops instead of retrying it for ever.
private func poisonedAloneQueued(_ backend: some PoisonBackend, trigger: String) async throws {
    let store = try backend.makeStore()
    try backend.execute(trigger)
    let queue = IngestQueue(maxCount: 100, maxBytes: 64 << 20)
    try await runWriter(store, queue: queue) {
        #expect(queue.offer(try unit(1, completion: nil)) == .accepted)
        let reached2 = try await eventually { try backend.storedEvents() == 1 }
        #expect(reached2)
        #expect(queue.offer(try unit(poisonID, completion: nil)) == .accepted)
        try await Task.sleep(for: .milliseconds(300))
        // A writer retrying the refused event in a loop would never get to this one.
        #expect(queue.offer(try unit(2, completion: nil)) == .accepted)
        let reached3 = try await eventually { try backend.storedEvents() == 2 }
        #expect(reached3)
    }
    #expect(try backend.storedEvents() == 2)
    #expect(try backend.timesSeen() == 2)
}

@Suite struct BatchWriterIsolationTests {
    @Test func sqlitePoisonedUnitDoesNotFailItsBatch() async throws {
        try await poisonedBatch(try await SQLitePoisonBackend(), trigger: SQLitePoisonBackend.poisonTrigger)
    }

    @Test func sqlitePoisonedUnitAloneWithAckQueuedIsDropped() async throws {
        try await poisonedAloneQueued(try await SQLitePoisonBackend(), trigger: SQLitePoisonBackend.poisonTrigger)
    }

    @Test func everyWriteFailingIsStillAStorageFailure() async throws {
        let backend = try await SQLitePoisonBackend()
        let store = try backend.makeStore()
        try backend.execute("CREATE TRIGGER refuse BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'down'); END")
        let queue = IngestQueue(maxCount: 100, maxBytes: 64 << 20)
        let outcomes = Outcomes()
        for index in 1...4 { #expect(queue.offer(try unit(index) { outcomes.record(index, $0) }) == .accepted) }
        try await runWriter(store, queue: queue) {
            let reached4 = try await eventually { outcomes.all.count == 4 }
            #expect(reached4)
        }
        // Nothing committed, so nothing says one unit is at fault: 503s, not refusals.
        for (_, result) in outcomes.all {
            guard case .failure(let error) = result else {
                Issue.record("acknowledged")
                continue
            }
            #expect(!(error is UnitRejected), "\(error)")
        }
    }
}

@Suite(.enabled(if: PostgresTestDatabase.adminURL != nil, "PIT_TEST_DATABASE_URL is not set"))
struct PostgresBatchWriterIsolationTests {
    @Test func postgresPoisonedUnitDoesNotFailItsBatch() async throws {
        try await poisonedBatch(try await PostgresPoisonBackend(), trigger: PostgresPoisonBackend.poisonTrigger)
    }

    @Test func postgresPoisonedUnitAloneWithAckQueuedIsDropped() async throws {
        try await poisonedAloneQueued(try await PostgresPoisonBackend(), trigger: PostgresPoisonBackend.poisonTrigger)
    }
}
