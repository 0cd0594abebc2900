import Foundation
import Logging
import NIOCore
import PitIngest
import PitLifecycle
import PitModel
import PitObservability
import PitStorage
import PostgresNIO
import PostgresStore
import SQLiteStore
import Testing

private let day = 86_400.0
private let nowMilliseconds = Int64(receiveTime * 1000)

/// Runs one retention pass over the fixture's database as the server's purger would, issue
/// deletions going through the fixture's writer.
private func purge(_ fixture: StoreFixture, policy: RetentionPolicy, batchSize: Int = 2) async throws -> RetentionPass.Summary {
    // The purge walks the projects table, which the server's admin store fills.
    _ = try await SQLiteAdminStore(path: fixture.path).ensureDefaults(organizationSlug: "pit", projectSlug: "default")
    let store = try SQLitePurgeStore(path: fixture.path)
    let pass = RetentionPass(store: store, policy: policy, configuration: .init(batchSize: batchSize, pause: 0)) { ids in
        _ = try fixture.store.write([.command(.purgeIssues(issueIDs: ids), { _ in })])
    }
    return try pass.run(nowMilliseconds: nowMilliseconds)
}

private func scalar(_ path: String, _ sql: String) throws -> Int64 {
    try SQLiteConnection(path: path, readOnly: true).scalarInt(sql) ?? 0
}

@Suite struct RetentionPurgeTests {
    /// Session states go once no update of their session is accepted, whatever the project's
    /// retention (here: forever); the hourly health counters stay.
    @Test func dropsSessionStatesPastTheUpdateWindow() async throws {
        let fixture = try StoreFixture()
        let started = nowMilliseconds - Int64(6 * day * 1000)
        func update(_ sid: String, started: Int64) -> IngestQueue.Entry {
            .write(
                WriteUnit(
                    event: nil, items: [],
                    sessions: [.update(SessionUpdate(projectID: 1, sid: sid, release: "1.0", started: started, status: .exited))]))
        }
        _ = try fixture.store.write([
            update("old-1", started: started), update("old-2", started: started), update("new", started: nowMilliseconds),
        ])
        let summary = try await purge(fixture, policy: RetentionPolicy(defaultDays: 0))
        #expect(summary.sessionStates == 2)
        #expect(try scalar(fixture.path, "SELECT COUNT(*) FROM session_states") == 1)
        #expect(try scalar(fixture.path, "SELECT SUM(started) FROM session_hourly") == 3)
    }

    /// Feedback goes once it is as old as the events it is about may be, in batches.
    @Test func purgesExpiredFeedback() async throws {
        let fixture = try StoreFixture()
        func feedback(_ n: Int, received: Double) -> FeedbackRecord {
            FeedbackRecord(
                projectID: 1, feedbackID: EventID(high: 1, low: UInt64(n)), eventID: nil, kind: .userReport, name: "", email: "",
                comments: "n\(n)", timestamp: Int64(received * 1000), received: Int64(received * 1000))
        }
        var unit = WriteUnit(event: nil, items: [])
        unit.feedback = (1...5).map { feedback($0, received: receiveTime - 100 * day) } + [feedback(6, received: receiveTime)]
        _ = try fixture.store.write([.write(unit)])
        let summary = try await purge(fixture, policy: RetentionPolicy(defaultDays: 90))
        #expect(summary.items == 5)
        #expect(try await fixture.reader.feedback(FeedbackQuery(projectID: 1)).map(\.comments) == ["n6"])
    }

    /// Logs have their own retention (30 days by default, per project overridable), even in a
    /// project that keeps its events forever; they go oldest first, in batches.
    @Test func purgesLogsPastTheirOwnRetention() async throws {
        let fixture = try StoreFixture()
        func log(_ n: Int, age: Double, projectID: Int64 = 1) -> LogRecord {
            LogRecord(
                projectID: projectID, timestamp: Int64((receiveTime - age * day) * 1000), received: nowMilliseconds, severity: .info,
                body: "n\(n)")
        }
        var unit = WriteUnit(event: nil, items: [])
        unit.logs = (1...5).map { log($0, age: 31) } + [log(6, age: 29), log(7, age: 10)]
        _ = try fixture.store.write([.write(unit)])
        let policy = RetentionPolicy(defaultDays: 0)
        var summary = try await purge(fixture, policy: policy)
        #expect(summary.logs == 5 && summary.events == 0)
        #expect(try await fixture.reader.logs(LogQuery(projectIDs: [1])).map(\.body) == ["n7", "n6"])
        #expect(policy.logs.days(projectID: 1) == 30 && policy.logs.defaultDays == RetentionPolicy.defaultLogDays)

        // A project's own log retention, kept in the settings like the events' override.
        let admin = try SQLiteAdminStore(path: fixture.path)
        try await policy.logs.setOverride(20, projectID: 1, store: admin)
        let reloaded = RetentionPolicy(defaultDays: 0)
        try await reloaded.reload(from: admin)
        #expect(reloaded.logs.override(projectID: 1) == 20 && reloaded.override(projectID: 1) == nil)
        summary = try await purge(fixture, policy: reloaded)
        #expect(summary.logs == 1)
        #expect(try await fixture.reader.logs(LogQuery(projectIDs: [1])).map(\.body) == ["n7"])
        try await reloaded.logs.setOverride(0, projectID: 1, store: admin)
        #expect(try await purge(fixture, policy: reloaded).logs == 0, "0 keeps logs forever")
    }

    /// Attachments go with the events they belong to, in batches of at most 100.
    @Test func purgesExpiredAttachments() async throws {
        let fixture = try StoreFixture()
        func attachment(_ n: Int, received: Double) -> AttachmentRecord {
            AttachmentRecord.make(
                ByteBuffer(string: "file \(n)"), projectID: 1, eventID: EventID(high: 2, low: UInt64(n)), name: "f\(n).txt",
                attachmentType: nil, contentType: "text/plain", received: received)
        }
        var unit = WriteUnit(event: nil, items: [])
        unit.attachments = (1...150).map { attachment($0, received: receiveTime - 100 * day) } + [attachment(151, received: receiveTime)]
        _ = try fixture.store.write([.write(unit)])
        let summary = try await purge(fixture, policy: RetentionPolicy(defaultDays: 90))
        #expect(summary.items == 150)
        #expect(try scalar(fixture.path, "SELECT COUNT(*) FROM attachments") == 1)
        #expect(try await fixture.reader.attachments(projectID: 1, eventID: EventID(high: 2, low: 151)).map(\.name) == ["f151.txt"])
    }

    /// Old events go with everything that counted them; an issue with no events left goes too,
    /// and its fingerprint starts a new issue afterwards.
    @Test func purgesExpiredEventsAndWhatDependsOnThem() async throws {
        let fixture = try StoreFixture()
        let old = receiveTime - 100 * day
        // Issue A: three old events. Issue B: one old (staging), one recent. Issue C: recent.
        for id in 1...3 {
            try fixture.write(try fixture.record(eventJSON(id, type: "OldError", user: "{\"id\":\"u\(id)\"}"), received: old))
        }
        try fixture.write(try fixture.record(eventJSON(4, type: "MixedError", release: "1.0", environment: "staging"), received: old))
        try fixture.write(
            try fixture.record(eventJSON(5, type: "MixedError", release: "1.0", environment: "staging"), received: receiveTime))
        try fixture.write(try fixture.record(eventJSON(6, type: "NewError"), received: receiveTime))
        // An attachment-like item of an old event and one of a recent event.
        let items = try SQLiteConnection(path: fixture.path)
        for received in [old, receiveTime] {
            try items.statement(
                """
                INSERT INTO items (project_id, type, received, header, payload_size, payload) VALUES (1, 'attachment', ?, '{}', 1, x'01')
                """
            ).run([.int(Int64(received * 1000))])
        }
        #expect(try await fixture.issues().count == 3)

        let summary = try await purge(fixture, policy: RetentionPolicy(defaultDays: 90))
        #expect(summary.events == 4)
        #expect(summary.items == 1)
        #expect(summary.emptiedIssues == 1)

        let issues = try await fixture.issues()
        #expect(Set(issues.map { String($0.title.prefix(8)) }) == ["MixedErr", "NewError"])
        let mixed = try #require(issues.first { $0.title.hasPrefix("MixedError") })
        #expect(mixed.timesSeen == 1)
        // The counters that counted the purged events were lowered by as much.
        #expect(try fixture.tags(issueID: mixed.id).contains("environment=staging×1"))
        #expect(try fixture.tags(issueID: mixed.id).contains("release=1.0×1"))
        #expect(try scalar(fixture.path, "SELECT events FROM releases WHERE version = '1.0'") == 1)
        #expect(try scalar(fixture.path, "SELECT events FROM project_environments WHERE environment = 'staging'") == 1)
        let oldHour = Int64(old * 1000) / 3_600_000
        #expect(try scalar(fixture.path, "SELECT COUNT(*) FROM issue_hourly WHERE hour <= \(oldHour)") == 0)
        #expect(try scalar(fixture.path, "SELECT COUNT(*) FROM project_hourly WHERE hour <= \(oldHour)") == 0)
        // Nothing of the deleted issue is left behind.
        for table in ["issue_users", "issue_groupings", "issue_tag_values", "issue_hourly"] {
            #expect(try scalar(fixture.path, "SELECT COUNT(*) FROM \(table) WHERE issue_id NOT IN (SELECT id FROM issues)") == 0)
        }
        #expect(try scalar(fixture.path, "SELECT COUNT(*) FROM issue_hashes WHERE issue_id NOT IN (SELECT id FROM issues)") == 0)
        #expect(try scalar(fixture.path, "SELECT COUNT(*) FROM events") == 2)
        #expect(try scalar(fixture.path, "SELECT COUNT(*) FROM items") == 1)

        // The writer forgot the fingerprint: the same error now opens a new issue.
        let again = try fixture.write(try fixture.record(eventJSON(7, type: "OldError"), received: receiveTime))
        #expect(again.newIssues == 1)
        #expect(try await fixture.issues().count == 3)

        // A second pass finds nothing more to do.
        let second = try await purge(fixture, policy: RetentionPolicy(defaultDays: 90))
        #expect(second.events == 0 && second.items == 0 && second.emptiedIssues == 0)
    }

    /// An issue that receives an event between the purge finding it empty and the writer
    /// running the deletion survives.
    @Test func writerKeepsAnIssueThatGotANewEvent() async throws {
        let fixture = try StoreFixture()
        try fixture.write(try fixture.record(eventJSON(1), received: receiveTime - 100 * day))
        let issue = try await fixture.onlyIssue()
        let store = try SQLitePurgeStore(path: fixture.path)
        let batch = try store.purgeEvents(.expired(projectID: 1, receivedBefore: nowMilliseconds - 90 * 86_400_000), limit: 10)
        #expect(batch.emptiedIssues == [issue.id])
        try fixture.write(try fixture.record(eventJSON(2), received: receiveTime))
        _ = try fixture.store.write([.command(.purgeIssues(issueIDs: [issue.id]), { _ in })])
        let survivor = try await fixture.onlyIssue()
        #expect(survivor.id == issue.id)
        #expect(try fixture.write(try fixture.record(eventJSON(3), received: receiveTime)).newIssues == 0)
    }

    @Test func projectOverridesAndForever() async throws {
        let fixture = try StoreFixture()
        let tenDaysAgo = receiveTime - 10 * day
        try fixture.write(try fixture.record(eventJSON(1), projectID: 1, received: tenDaysAgo))
        try fixture.write(try fixture.record(eventJSON(2), projectID: 2, received: tenDaysAgo))
        try fixture.write(try fixture.record(eventJSON(3), projectID: 3, received: receiveTime - 1000 * day))
        let admin = try SQLiteAdminStore(path: fixture.path)
        _ = try await admin.ensureDefaults(organizationSlug: "pit", projectSlug: "default")
        _ = try await admin.createProject(name: "Short", id: 2, platform: nil)
        _ = try await admin.createProject(name: "Forever", id: 3, platform: nil)
        let policy = RetentionPolicy(defaultDays: 90)
        try await policy.setOverride(7, projectID: 2, store: admin)
        try await policy.setOverride(0, projectID: 3, store: admin)
        // A fresh policy reads the overrides back from the settings table.
        let reloaded = RetentionPolicy(defaultDays: 90)
        try await reloaded.reload(from: admin)
        #expect(reloaded.days(projectID: 1) == 90 && reloaded.days(projectID: 2) == 7 && reloaded.days(projectID: 3) == 0)

        let summary = try await purge(fixture, policy: reloaded)
        #expect(summary.events == 1)
        #expect(try scalar(fixture.path, "SELECT COUNT(*) FROM events WHERE project_id = 2") == 0)
        #expect(try scalar(fixture.path, "SELECT COUNT(*) FROM events WHERE project_id IN (1, 3)") == 2)

        try await reloaded.setOverride(nil, projectID: 2, store: admin)
        try await reloaded.reload(from: admin)
        #expect(reloaded.override(projectID: 2) == nil && reloaded.days(projectID: 2) == 90)
    }

    /// Issue 10: the purge lowered an issue's event count but not its distinct users. A user
    /// whose every event of the issue is gone leaves it; one with an event left stays, in
    /// whichever environment that event was.
    @Test func purgeRecountsUsersSeen() async throws {
        let fixture = try StoreFixture()
        let old = receiveTime - 100 * day
        // u1: old and recent (other environment); u2: old only, three events over several
        // batches; u3: recent only.
        try fixture.write(try fixture.record(eventJSON(1, user: #"{"id":"u1"}"#), received: old))
        for id in 2...4 { try fixture.write(try fixture.record(eventJSON(id, user: #"{"id":"u2"}"#), received: old)) }
        try fixture.write(try fixture.record(eventJSON(5, user: #"{"id":"u1"}"#, environment: "staging"), received: receiveTime))
        try fixture.write(try fixture.record(eventJSON(6, user: #"{"id":"u3"}"#), received: receiveTime))
        #expect(try await fixture.onlyIssue().usersSeen == 3)

        let summary = try await purge(fixture, policy: RetentionPolicy(defaultDays: 90))
        #expect(summary.events == 4)
        let issue = try await fixture.onlyIssue()
        #expect(issue.timesSeen == 2)
        #expect(issue.usersSeen == 2)
        let connection = try SQLiteConnection(path: fixture.path, readOnly: true)
        #expect(
            try connection.statement("SELECT user_key FROM issue_users ORDER BY user_key").query([]) { $0.text(0) ?? "" } == [
                "id:u1", "id:u3",
            ])
        // A second pass changes nothing.
        _ = try await purge(fixture, policy: RetentionPolicy(defaultDays: 90))
        #expect(try await fixture.onlyIssue().usersSeen == 2)
    }

    @Test func sizeCapDeletesOldestFirst() async throws {
        let fixture = try StoreFixture()
        for id in 1...20 {
            try fixture.write(try fixture.record(eventJSON(id, type: "E\(id % 4)"), received: receiveTime - Double(100 - id) * 60))
        }
        let store = try SQLitePurgeStore(path: fixture.path)
        let used = try #require(try store.usedBytes())
        // Below what the schema alone takes: everything goes, oldest first, and then the loop
        // stops because nothing is left rather than spinning.
        let summary = try await purge(fixture, policy: RetentionPolicy(defaultDays: 0, maxDatabaseBytes: used / 100))
        #expect(summary.events == 0 && summary.eventsOverSize == 20)
        #expect(try await fixture.issues().isEmpty)
        #expect(try scalar(fixture.path, "SELECT COUNT(*) FROM issue_hashes") == 0)
    }

    @Test func newDatabasesGiveSpaceBack() async throws {
        let fixture = try StoreFixture()
        #expect(try scalar(fixture.path, "PRAGMA auto_vacuum") == 2)
        // Random text: zstd would shrink a repeated one to nothing.
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        for id in 1...50 {
            let noise = String((0..<20_000).map { _ in alphabet.randomElement()! })
            try fixture.write(try fixture.record(eventJSON(id, value: noise), received: receiveTime - 100 * day))
        }
        let pagesBefore = try scalar(fixture.path, "PRAGMA page_count")
        let summary = try await purge(fixture, policy: RetentionPolicy(defaultDays: 90), batchSize: 10)
        #expect(summary.events == 50)
        #expect(summary.reclaimedPages > 0)
        #expect(try scalar(fixture.path, "PRAGMA page_count") < pagesBefore)
    }

    /// A slow batch halves the next and buys a pause three times its length, so the purge holds
    /// the write lock a quarter of the time at most; fast batches grow back to the limit.
    @Test func pacingKeepsBatchesShortAndTheLockShareSmall() async {
        var pacing = RetentionPass.Pacing(limit: 1000, target: 0.02)
        #expect(pacing.size == 1000)
        #expect(abs(pacing.record(seconds: 0.08, minimumPause: 0.02, idleFactor: 3) - 0.24) < 1e-9)
        #expect(pacing.size == 500)
        _ = pacing.record(seconds: 0.05, minimumPause: 0.02, idleFactor: 3)
        #expect(pacing.size == 250)
        #expect(abs(pacing.record(seconds: 0.015, minimumPause: 0.02, idleFactor: 3) - 0.045) < 1e-9)
        #expect(pacing.size == 250)
        #expect(pacing.record(seconds: 0.001, minimumPause: 0.02, idleFactor: 3) == 0.02)
        #expect(pacing.size == 500)
        for _ in 0..<5 { _ = pacing.record(seconds: 0.001, minimumPause: 0.02, idleFactor: 3) }
        #expect(pacing.size == 1000)
        for _ in 0..<20 { _ = pacing.record(seconds: 1, minimumPause: 0.02, idleFactor: 3) }
        #expect(pacing.size == 1)
    }

    @Test func ingestDropsEventsAlreadyPastRetention() async throws {
        let policy = RetentionPolicy(defaultDays: 7)
        let pipeline = IngestPipeline(
            keys: KeyCache(), queue: IngestQueue(maxCount: 1, maxBytes: 1), ack: .queued,
            limits: IngestLimits(), metrics: PitMetrics(), retention: policy)
        func record(ageDays: Double) throws -> EventRecord {
            try pipeline.makeEventRecord(
                ByteBuffer(string: eventJSON(1, offset: -ageDays * day)), header: nil, projectID: 1,
                received: receiveTime)
        }
        #expect(pipeline.keepingUnexpired(try record(ageDays: 6)) != nil)
        #expect(pipeline.keepingUnexpired(try record(ageDays: 8)) == nil)
        // Past 30 days Relay's normalisation moves the timestamp to the receive time: kept.
        #expect(pipeline.keepingUnexpired(try record(ageDays: 40)) != nil)

        // Logs by their own retention (30 days here), whatever the events'.
        func log(ageDays: Double, projectID: Int64 = 1) -> LogRecord {
            LogRecord(
                projectID: projectID, timestamp: Int64((receiveTime - ageDays * day) * 1000), received: nowMilliseconds, severity: .info,
                body: "\(ageDays)")
        }
        #expect(pipeline.keepingUnexpired([log(ageDays: 29), log(ageDays: 31), log(ageDays: 8)]).map(\.body) == ["29.0", "8.0"])
    }
}

@Suite struct SQLiteBackupTests {
    @Test func backupWhileWritingThenRestore() async throws {
        let fixture = try StoreFixture()
        for id in 1...100 { try fixture.write(try fixture.record(eventJSON(id, type: "E\(id % 7)"))) }
        let backup = fixture.directory.path("backup.sqlite")
        // A second connection keeps writing while the backup runs; the copy holds at least what
        // had committed when it started.
        let path = fixture.path
        let writer = Task.detached {
            let connection = try SQLiteConnection(path: path)
            for id in 1...200 {
                try connection.transaction { try connection.execute("INSERT INTO settings (key, value) VALUES ('k\(id)', 'v')") }
            }
        }
        let summary = try SQLiteBackup.backup(from: fixture.path, to: backup)
        try await writer.value
        #expect(summary.events == 100)
        #expect(try SQLiteBackup.verify(backup).events == 100)

        let restored = fixture.directory.path("restored/pit.sqlite")
        try FileManager.default.createDirectory(atPath: fixture.directory.path("restored"), withIntermediateDirectories: true)
        let result = try SQLiteBackup.restore(from: backup, into: restored)
        #expect(result.events == 100 && result.previous == nil)
        #expect(try scalar(restored, "SELECT COUNT(*) FROM events") == 100)
        // Restoring over an existing database keeps the old one aside.
        let again = try SQLiteBackup.restore(from: backup, into: restored)
        #expect(again.previous != nil)
    }

    @Test func verifyRefusesWhatIsNotAPitDatabase() async throws {
        let directory = try TemporaryDirectory()
        let garbage = directory.path("garbage.sqlite")
        try Data(repeating: 0x41, count: 10_000).write(to: URL(fileURLWithPath: garbage))
        #expect(throws: SQLiteBackup.Failure.self) { try SQLiteBackup.verify(garbage) }
        let empty = directory.path("empty.sqlite")
        _ = try SQLiteConnection(path: empty)
        #expect(throws: SQLiteBackup.Failure.self) { try SQLiteBackup.verify(empty) }
    }
}

/// The same purge against PostgreSQL.
@Suite(.enabled(if: PostgresTestDatabase.adminURL != nil, "PIT_TEST_DATABASE_URL is not set"))
struct PostgresRetentionPurgeTests {
    @Test func purgesExpiredEventsAndEmptiedIssues() async throws {
        let database = try PostgresTestDatabase.create()
        let admin = try await PostgresAdminStore.open(url: database, logger: PostgresTestDatabase.logger)
        _ = try await admin.ensureDefaults(organizationSlug: "pit", projectSlug: "default")
        let writer = try PostgresBatchStore(url: database, logger: PostgresTestDatabase.logger)
        defer { writer.close() }
        let fixture = try StoreFixture()
        let old = receiveTime - 100 * day
        var entries: [IngestQueue.Entry] = []
        for id in 1...3 {
            entries.append(.write(WriteUnit(event: try fixture.record(eventJSON(id, type: "OldError"), received: old), items: [])))
        }
        entries.append(
            .write(
                WriteUnit(
                    event: try fixture.record(
                        eventJSON(4, type: "MixedError", release: "1.0", offset: -100 * day + 60),
                        received: old), items: [])))
        entries.append(
            .write(
                WriteUnit(
                    event: try fixture.record(eventJSON(5, type: "MixedError", release: "1.0"), received: receiveTime),
                    items: [])))
        _ = try writer.write(entries)
        // Events reach retention long after their counter deltas were rolled up; the purge
        // lowers the counter rows, so roll these up first, as time would have.
        let reader = PostgresReadStore(url: database, logger: PostgresTestDatabase.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await reader.client.run() }
            defer { group.cancelAll() }
            _ = try await PostgresRollup(client: reader.client, logger: PostgresTestDatabase.logger).rollUp()
        }

        let store = try PostgresPurgeStore(url: database, logger: PostgresTestDatabase.logger)
        defer { store.close() }
        let pass = RetentionPass(store: store, policy: RetentionPolicy(defaultDays: 90), configuration: .init(batchSize: 2, pause: 0)) {
            _ in
            Issue.record("PostgreSQL deletes issues itself")
        }
        let summary = try pass.run(nowMilliseconds: nowMilliseconds)
        #expect(summary.events == 4)
        #expect(summary.emptiedIssues == 1)

        let session = try PostgresSession(url: database, logger: PostgresTestDatabase.logger)
        defer { session.close() }
        func count(_ sql: String) throws -> Int64 {
            var value: Int64 = -1
            for row in try session.query(PostgresQuery(unsafeSQL: sql)) { value = try row.decode(Int64.self) }
            return value
        }
        #expect(try count("SELECT COUNT(*) FROM events") == 1)
        #expect(try count("SELECT COUNT(*) FROM issues") == 1)
        #expect(try count("SELECT times_seen FROM issues") == 1)
        #expect(try count("SELECT events FROM releases WHERE version = '1.0'") == 1)
        #expect(try count("SELECT COUNT(*) FROM issue_hashes WHERE issue_id NOT IN (SELECT id FROM issues)") == 0)
        #expect(try count("SELECT COUNT(*) FROM issue_tag_values WHERE issue_id NOT IN (SELECT id FROM issues)") == 0)
    }

    /// Issue 10 on PostgreSQL: distinct users are counted down with the events.
    @Test func purgeRecountsUsersSeen() async throws {
        let database = try PostgresTestDatabase.create()
        let admin = try await PostgresAdminStore.open(url: database, logger: PostgresTestDatabase.logger)
        _ = try await admin.ensureDefaults(organizationSlug: "pit", projectSlug: "default")
        let writer = try PostgresBatchStore(url: database, logger: PostgresTestDatabase.logger)
        defer { writer.close() }
        let fixture = try StoreFixture()
        let old = receiveTime - 100 * day
        var entries: [IngestQueue.Entry] = []
        func add(_ id: Int, _ user: String, environment: String? = nil, received: Double) throws {
            entries.append(
                .write(
                    WriteUnit(
                        event: try fixture.record(
                            eventJSON(id, user: "{\"id\":\"\(user)\"}", environment: environment),
                            received: received), items: [])))
        }
        try add(1, "u1", received: old)
        for id in 2...4 { try add(id, "u2", received: old) }
        try add(5, "u1", environment: "staging", received: receiveTime)
        try add(6, "u3", received: receiveTime)
        _ = try writer.write(entries)
        let reader = PostgresReadStore(url: database, logger: PostgresTestDatabase.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await reader.client.run() }
            defer { group.cancelAll() }
            _ = try await PostgresRollup(client: reader.client, logger: PostgresTestDatabase.logger).rollUp()
        }

        let store = try PostgresPurgeStore(url: database, logger: PostgresTestDatabase.logger)
        defer { store.close() }
        let pass = RetentionPass(store: store, policy: RetentionPolicy(defaultDays: 90), configuration: .init(batchSize: 2, pause: 0)) {
            _ in
        }
        #expect(try pass.run(nowMilliseconds: nowMilliseconds).events == 4)

        let session = try PostgresSession(url: database, logger: PostgresTestDatabase.logger)
        defer { session.close() }
        var usersSeen: Int64 = -1
        for row in try session.query("SELECT users_seen FROM issues") { usersSeen = try row.decode(Int64.self) }
        #expect(usersSeen == 2)
        var users: [String] = []
        for row in try session.query("SELECT user_key FROM issue_users ORDER BY user_key") { users.append(try row.decode(String.self)) }
        #expect(users == ["id:u1", "id:u3"])
    }
}
