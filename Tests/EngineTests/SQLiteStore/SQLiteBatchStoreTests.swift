import Foundation
import NIOCore
import PitIngest
import PitModel
import PitObservability
import PitPayloads
import PitQuery
import PitStorage
import SQLiteStore
import Testing

/// A batch store and a read store over one database in a fresh temporary directory.
final class StoreFixture {
    let directory: TemporaryDirectory
    let path: String
    var store: SQLiteBatchStore
    let reader: SQLiteReadStore
    private let pipeline = IngestPipeline(
        keys: KeyCache(), queue: IngestQueue(maxCount: 1, maxBytes: 1), ack: .queued,
        limits: IngestLimits(), metrics: PitMetrics())

    init() throws {
        directory = try TemporaryDirectory()
        path = directory.path("pit.db")
        store = try SQLiteBatchStore(path: path, durability: StorageDurability(synchronous: .off, journalMode: .wal))
        reader = SQLiteReadStore(path: path)
    }

    /// Closes the batch store and opens a new one on the same file (as a restart does).
    func reopen() throws {
        store.close()
        store = try SQLiteBatchStore(path: path, durability: StorageDurability())
    }

    func record(_ json: String, projectID: Int64 = 1, received: Double = receiveTime) throws -> EventRecord {
        try pipeline.makeEventRecord(ByteBuffer(string: json), header: nil, projectID: projectID, received: received)
    }

    @discardableResult
    func write(_ records: EventRecord...) throws -> BatchOutcome {
        try store.write(records.map { .write(WriteUnit(event: $0, items: [])) })
    }

    @discardableResult
    func setStatus(_ ids: [Int64], _ status: IssueStatus, inNextRelease: Bool = false) throws -> BatchOutcome {
        try store.write([.command(.setStatus(issueIDs: ids, status: status, resolveInNextRelease: inNextRelease), { _ in })])
    }

    func issues(_ query: String = "") async throws -> [IssueRow] {
        try await reader.issues(projectID: 1, query: try IssueQuery(parsing: query))
    }

    func onlyIssue() async throws -> IssueRow {
        let all = try await issues()
        try #require(all.count == 1)
        return all[0]
    }

    /// Rows of `issue_tag_values` for an issue, as "key=value×count", sorted.
    func tags(issueID: Int64) throws -> [String] {
        let connection = try SQLiteConnection(path: path, readOnly: true)
        return try connection.statement(
            "SELECT key, value, SUM(times_seen) FROM issue_tag_values WHERE issue_id = ? GROUP BY key, value ORDER BY key, value"
        )
        .query([.int(issueID)]) { "\($0.text(0) ?? "")=\($0.text(1) ?? "")×\($0.int(2))" }
    }
}

/// An error event payload. `id` becomes the event id, `offset` seconds are added to the receive time.
func eventJSON(
    _ id: Int, type: String = "ValueError", value: String = "bad input", release: String? = nil,
    user: String? = nil, tags: String? = nil, level: String = "error", environment: String? = nil,
    offset: Double = -60
) -> String {
    var members = [
        "\"event_id\":\"\(String(format: "%032x", id))\"", "\"timestamp\":\(receiveTime + offset)", "\"level\":\"\(level)\"",
        "\"platform\":\"python\"",
        "\"exception\":{\"values\":[{\"type\":\"\(type)\",\"value\":\"\(value)\",\"stacktrace\":{\"frames\":[{\"module\":\"app.views\",\"function\":\"index\",\"in_app\":true}]}}]}",
    ]
    if let release { members.append("\"release\":\"\(release)\"") }
    if let user { members.append("\"user\":\(user)") }
    if let tags { members.append("\"tags\":\(tags)") }
    if let environment { members.append("\"environment\":\"\(environment)\"") }
    return "{" + members.joined(separator: ",") + "}"
}

private func millis(_ offset: Double) -> Int64 { Int64((receiveTime + offset) * 1000) }

@Suite struct SQLiteBatchStoreTests {
    @Test func firstEventCreatesAnIssue() async throws {
        let fixture = try StoreFixture()
        let json = eventJSON(1, release: "1.0")
        let outcome = try fixture.write(try fixture.record(json))
        var expected = BatchOutcome()
        expected.events = 1
        expected.newIssues = 1
        // What alert rules read: the event, its issue, and that it created it.
        let committed = try #require(outcome.committedEvents.first)
        #expect(outcome.committedEvents.count == 1 && committed.change == .created && committed.title == "ValueError: bad input")
        #expect(committed.release == "1.0" && committed.environment == "production" && committed.level == .error)
        expected.committedEvents = outcome.committedEvents
        #expect(outcome == expected)

        let issue = try await fixture.onlyIssue()
        #expect(issue.projectID == 1 && issue.shortID == 1)
        #expect(issue.kind == "error")
        #expect(issue.title == "ValueError: bad input")
        #expect(issue.culprit == "app.views in index")
        #expect(issue.level == .error)
        #expect(issue.status == .unresolved && issue.substatus == .new && issue.resolvedInRelease == nil)
        #expect(issue.timesSeen == 1 && issue.usersSeen == 0)
        #expect(issue.firstSeen == millis(-60) && issue.lastSeen == millis(-60))
        #expect(issue.firstRelease == "1.0" && issue.lastRelease == "1.0")
        #expect(jsonError(Array(issue.metadata.utf8)) == nil)
        // Lists leave the grouping explanation out; the issue itself carries it.
        #expect(issue.grouping.isEmpty)
        let detail = try #require(try await fixture.reader.issue(id: issue.id))
        #expect(jsonError(Array(detail.grouping.utf8)) == nil && detail.grouping.hasPrefix("["))

        let counts = try await fixture.reader.counts(projectID: 1)
        #expect(counts == (1, 1, 0))
        let eventID = try #require(EventID(String(format: "%032x", 1)))
        let row = try #require(try await fixture.reader.event(projectID: 1, eventID: eventID))
        #expect(row.issueID == issue.id)
        #expect(String(decoding: row.payload, as: UTF8.self) == json)
        #expect(row.timestamp == millis(-60) && row.received == millis(0))
        #expect(row.level == .error && row.release == "1.0" && row.environment == "production" && row.processingErrors == nil)
        #expect(try await fixture.reader.latestEvent(issueID: issue.id)?.eventID == eventID)
        #expect(try await fixture.reader.event(projectID: 2, eventID: eventID) == nil)
    }

    @Test func eventsOfOneGroupShareAnIssue() async throws {
        let fixture = try StoreFixture()
        let first = try fixture.write(try fixture.record(eventJSON(1, release: "1.0", offset: -300)))
        #expect(first.newIssues == 1)
        let second = try fixture.write(
            try fixture.record(eventJSON(2, value: "other value", release: "1.1", offset: -100)),
            try fixture.record(eventJSON(3, release: "1.0", offset: -200)))
        #expect(second.events == 2 && second.newIssues == 0)
        let issue = try await fixture.onlyIssue()
        #expect(issue.timesSeen == 3)
        #expect(issue.firstSeen == millis(-300) && issue.lastSeen == millis(-100))
        #expect(issue.firstRelease == "1.0")
        // The last release in batch order.
        #expect(issue.lastRelease == "1.0")
        #expect(issue.substatus == .new)
        let events = try await fixture.reader.events(issueID: issue.id, limit: 10, before: nil)
        #expect(events.map(\.eventID.low) == [3, 2, 1])
        let page = try await fixture.reader.events(issueID: issue.id, limit: 1, before: events[0].rowID)
        #expect(page.map(\.eventID.low) == [2])
    }

    @Test func differentGroupsGetTheirOwnIssuesAndShortIDs() async throws {
        let fixture = try StoreFixture()
        let outcome = try fixture.write(
            try fixture.record(eventJSON(1, type: "ValueError")), try fixture.record(eventJSON(2, type: "KeyError")),
            try fixture.record(eventJSON(3, type: "ValueError")))
        #expect(outcome.events == 3 && outcome.newIssues == 2)
        let issues = try await fixture.issues().sorted { $0.shortID < $1.shortID }
        #expect(issues.map(\.shortID) == [1, 2])
        #expect(issues.map(\.title) == ["ValueError: bad input", "KeyError: bad input"])
        #expect(issues.map(\.timesSeen) == [2, 1])
        // Projects number their issues independently.
        try fixture.write(try fixture.record(eventJSON(4, type: "ValueError"), projectID: 2))
        let other = try await fixture.reader.issues(projectID: 2, query: IssueQuery())
        #expect(other.map(\.shortID) == [1])
    }

    @Test func duplicateEventIDsAreIgnored() async throws {
        let fixture = try StoreFixture()
        let record = try fixture.record(eventJSON(1, user: #"{"id":"u1"}"#, tags: #"{"a":"b"}"#))
        let first = try fixture.write(record, record)
        #expect(first.events == 1 && first.duplicates == 1 && first.newIssues == 1)
        let second = try fixture.write(record)
        #expect(second.events == 0 && second.duplicates == 1 && second.newIssues == 0)
        let issue = try await fixture.onlyIssue()
        #expect(issue.timesSeen == 1 && issue.usersSeen == 1)
        #expect(try await fixture.reader.counts(projectID: 1) == (1, 1, 0))
        #expect(try fixture.tags(issueID: issue.id).contains("a=b×1"))
        // The same id in another project is a different event.
        #expect(try fixture.write(try fixture.record(eventJSON(1), projectID: 2)).events == 1)
    }

    @Test func duplicateEventIDWithAnotherFingerprintCreatesNoIssue() async throws {
        let fixture = try StoreFixture()
        try fixture.write(try fixture.record(eventJSON(1, type: "ValueError")))
        // A client reusing an id for a different error: the copy is a duplicate, and must not
        // leave an issue without events behind.
        let outcome = try fixture.write(
            try fixture.record(eventJSON(1, type: "KeyError")), try fixture.record(eventJSON(2, type: "TypeError")))
        #expect(outcome.duplicates == 1 && outcome.events == 1 && outcome.newIssues == 1)
        let issues = try await fixture.issues().sorted { $0.shortID < $1.shortID }
        #expect(issues.map(\.title) == ["ValueError: bad input", "TypeError: bad input"])
        #expect(issues.map(\.shortID) == [1, 2])
        // The fingerprint was not kept either: a real KeyError later opens its own issue.
        #expect(try fixture.write(try fixture.record(eventJSON(3, type: "KeyError"))).newIssues == 1)
        let after = try await fixture.issues().sorted { $0.shortID < $1.shortID }
        #expect(after.map(\.timesSeen) == [1, 1, 1])
        #expect(after.map(\.shortID) == [1, 2, 3])
    }

    @Test func usersSeenCountsDistinctIdentities() async throws {
        let fixture = try StoreFixture()
        try fixture.write(
            try fixture.record(eventJSON(1, user: #"{"id":"1"}"#)), try fixture.record(eventJSON(2, user: #"{"id":1}"#)),
            try fixture.record(eventJSON(3, user: #"{"email":"a@b.c"}"#)), try fixture.record(eventJSON(4)),
            try fixture.record(eventJSON(5, user: #"{"ip_address":"{{auto}}"}"#)))
        #expect(try await fixture.onlyIssue().usersSeen == 2)
        try fixture.write(
            try fixture.record(eventJSON(6, user: #"{"email":"a@b.c"}"#)),
            try fixture.record(eventJSON(7, user: #"{"username":"ann"}"#)))
        let issue = try await fixture.onlyIssue()
        #expect(issue.usersSeen == 3)
        #expect(issue.timesSeen == 7)
    }

    @Test func issueTagsAreAggregated() async throws {
        let fixture = try StoreFixture()
        try fixture.write(
            try fixture.record(eventJSON(1, release: "1.0", tags: #"{"browser":"firefox"}"#)),
            try fixture.record(eventJSON(2, release: "1.0", tags: #"{"browser":"firefox"}"#, environment: "staging")))
        try fixture.write(try fixture.record(eventJSON(3, tags: #"[["browser","chrome"]]"#, level: "warning")))
        let issue = try await fixture.onlyIssue()
        #expect(
            try fixture.tags(issueID: issue.id) == [
                "browser=chrome×1", "browser=firefox×2", "environment=production×2", "environment=staging×1", "level=error×2",
                "level=warning×1", "release=1.0×2",
            ])
        // The facets drive the issue search.
        #expect(try await fixture.issues("browser:chrome").map(\.id) == [issue.id])
        #expect(try await fixture.issues("browser:safari").isEmpty)
        #expect(try await fixture.issues("environment:staging release:1.0").map(\.id) == [issue.id])
        #expect(try await fixture.issues("release:2.0").isEmpty)
    }

    @Test func resolvedIssueRegressesOnANewEvent() async throws {
        let fixture = try StoreFixture()
        try fixture.write(try fixture.record(eventJSON(1)))
        let id = try await fixture.onlyIssue().id
        try fixture.setStatus([id], .resolved)
        var issue = try await fixture.onlyIssue()
        #expect(issue.status == .resolved && issue.substatus == IssueSubstatus.none && issue.resolvedInRelease == nil)

        let outcome = try fixture.write(try fixture.record(eventJSON(2)))
        #expect(outcome.regressions == 1 && outcome.newIssues == 0 && outcome.events == 1)
        issue = try await fixture.onlyIssue()
        #expect(issue.status == .unresolved && issue.substatus == .regressed)
        #expect(issue.timesSeen == 2)
        // Once unresolved, later events are no regressions.
        #expect(try fixture.write(try fixture.record(eventJSON(3))).regressions == 0)
        // Unresolving by hand makes the issue ongoing.
        try fixture.setStatus([id], .unresolved)
        #expect(try await fixture.onlyIssue().substatus == .ongoing)
    }

    @Test func ignoredIssuesDoNotRegress() async throws {
        let fixture = try StoreFixture()
        try fixture.write(try fixture.record(eventJSON(1)))
        let id = try await fixture.onlyIssue().id
        try fixture.setStatus([id], .ignored)
        #expect(try fixture.write(try fixture.record(eventJSON(2))).regressions == 0)
        let issue = try await fixture.onlyIssue()
        #expect(issue.status == .ignored && issue.substatus == .archivedForever)
        #expect(issue.timesSeen == 2)
    }

    @Test func resolvedInNextReleaseRegressesOnlyForANewerRelease() async throws {
        let fixture = try StoreFixture()
        try fixture.write(try fixture.record(eventJSON(1, release: "0.9", offset: -500)))
        try fixture.write(try fixture.record(eventJSON(2, release: "1.0", offset: -400)))
        let id = try await fixture.onlyIssue().id
        try fixture.setStatus([id], .resolved, inNextRelease: true)
        var issue = try await fixture.onlyIssue()
        #expect(issue.status == .resolved && issue.resolvedInRelease == "1.0")

        #expect(try fixture.write(try fixture.record(eventJSON(3, release: "1.0", offset: -300))).regressions == 0)
        #expect(try fixture.write(try fixture.record(eventJSON(4, release: "0.9", offset: -300))).regressions == 0)
        #expect(try fixture.write(try fixture.record(eventJSON(5, offset: -300))).regressions == 0)
        issue = try await fixture.onlyIssue()
        #expect(issue.status == .resolved && issue.timesSeen == 5)

        #expect(try fixture.write(try fixture.record(eventJSON(6, release: "2.0", offset: -200))).regressions == 1)
        issue = try await fixture.onlyIssue()
        #expect(issue.status == .unresolved && issue.substatus == .regressed && issue.resolvedInRelease == nil)
        #expect(issue.lastRelease == "2.0")
    }

    /// The writer's indexes are caches: once emptied for size, misses read the database, and
    /// grouping, regressions and release order come out as if everything had stayed in memory.
    @Test func boundedIndexesFallBackToTheDatabase() async throws {
        let fixture = try StoreFixture()
        fixture.store.close()
        fixture.store = try SQLiteBatchStore(path: fixture.path, durability: StorageDurability(), indexLimit: 4)
        for n in 0..<20 {
            try fixture.write(try fixture.record(eventJSON(n, type: "Error\(n)", release: "1.\(n)", offset: Double(n - 500))))
        }
        #expect(fixture.store.indexedCount <= 20, "\(fixture.store.indexedCount) entries")
        var issues = try await fixture.issues()
        #expect(issues.count == 20)
        let first = try #require(issues.first { $0.shortID == 1 })
        // Resolved in the next release after 1.0: an event of release 1.5 (first seen later) regresses it,
        // one of 1.0 itself does not, though neither the issue nor the releases are indexed any more.
        try fixture.setStatus([first.id], .resolved, inNextRelease: true)
        for n in 100..<110 { try fixture.write(try fixture.record(eventJSON(n, type: "Other\(n)"))) }
        #expect(try fixture.write(try fixture.record(eventJSON(200, type: "Error0", release: "1.0"))).regressions == 0)
        for n in 110..<120 { try fixture.write(try fixture.record(eventJSON(n, type: "Other\(n)"))) }
        let outcome = try fixture.write(try fixture.record(eventJSON(201, type: "Error0", release: "1.5")))
        #expect(outcome.regressions == 1 && outcome.newIssues == 0)
        issues = try await fixture.issues()
        #expect(issues.count == 40)
        #expect(issues.first { $0.id == first.id }?.timesSeen == 3)
        #expect(fixture.store.indexedCount <= 20)
    }

    @Test func aConnectionKeepsABoundedNumberOfPreparedStatements() throws {
        let directory = try TemporaryDirectory()
        let connection = try SQLiteConnection(path: directory.path("pit.db"))
        let held = try connection.statement("SELECT 1")
        for n in 0..<2000 { _ = try connection.statement("SELECT \(n) + 1") }
        #expect(connection.cachedStatements <= SQLiteConnection.statementCacheLimit)
        // One taken before the cache was emptied still works.
        #expect(try held.query([]) { $0.int(0) } == [1])
    }

    @Test func commandsForUnknownIssuesAreIgnored() async throws {
        let fixture = try StoreFixture()
        try fixture.write(try fixture.record(eventJSON(1)))
        #expect(try fixture.setStatus([999], .resolved) == BatchOutcome())
        #expect(try await fixture.onlyIssue().status == .unresolved)
    }

    /// A trigger makes every fatal event's insert fail, so a batch can be made to fail halfway.
    private func installFailingTrigger(_ fixture: StoreFixture) throws {
        try SQLiteConnection(path: fixture.path).execute(
            """
            CREATE TRIGGER fail_fatal BEFORE INSERT ON events WHEN NEW.level = 50
            BEGIN SELECT RAISE(ABORT, 'forced failure'); END
            """)
    }

    @Test func failedBatchRollsBackTheNewIssueIndex() async throws {
        let fixture = try StoreFixture()
        try installFailingTrigger(fixture)
        let first = try fixture.record(eventJSON(1, type: "ValueError"))
        #expect(throws: SQLiteError.self) {
            try fixture.write(first, try fixture.record(eventJSON(2, type: "KeyError", level: "fatal")))
        }
        #expect(try await fixture.reader.counts(projectID: 1) == (0, 0, 0))
        // Had the fingerprint index kept the rolled-back issue, this event would join an issue row
        // that does not exist.
        let outcome = try fixture.write(first, try fixture.record(eventJSON(3, type: "KeyError")))
        #expect(outcome.events == 2 && outcome.newIssues == 2)
        let issues = try await fixture.issues().sorted { $0.shortID < $1.shortID }
        #expect(issues.map(\.shortID) == [1, 2])
        #expect(issues.map(\.timesSeen) == [1, 1])
    }

    @Test func failedBatchRollsBackARegression() async throws {
        let fixture = try StoreFixture()
        try fixture.write(try fixture.record(eventJSON(1)))
        let id = try await fixture.onlyIssue().id
        try fixture.setStatus([id], .resolved)
        try installFailingTrigger(fixture)
        #expect(throws: SQLiteError.self) {
            try fixture.write(try fixture.record(eventJSON(2)), try fixture.record(eventJSON(3, type: "KeyError", level: "fatal")))
        }
        #expect(try await fixture.onlyIssue().status == .resolved)
        // The in-memory status is still "resolved", so the next event regresses the issue.
        #expect(try fixture.write(try fixture.record(eventJSON(4))).regressions == 1)
        let issue = try await fixture.onlyIssue()
        #expect(issue.status == .unresolved && issue.substatus == .regressed && issue.timesSeen == 2)
    }

    @Test func failedCommandBatchRollsBackTheStatus() async throws {
        let fixture = try StoreFixture()
        try fixture.write(try fixture.record(eventJSON(1)))
        let id = try await fixture.onlyIssue().id
        try installFailingTrigger(fixture)
        #expect(throws: SQLiteError.self) {
            try fixture.store.write([
                .command(.setStatus(issueIDs: [id], status: .resolved, resolveInNextRelease: false), { _ in }),
                .write(WriteUnit(event: try fixture.record(eventJSON(2, type: "KeyError", level: "fatal")), items: [])),
            ])
        }
        #expect(try await fixture.onlyIssue().status == .unresolved)
        // Still unresolved in memory: a new event is no regression.
        #expect(try fixture.write(try fixture.record(eventJSON(3))).regressions == 0)
    }

    @Test func reopeningReloadsTheIndexes() async throws {
        let fixture = try StoreFixture()
        try fixture.write(
            try fixture.record(eventJSON(1, type: "ValueError", release: "1.0", offset: -300)),
            try fixture.record(eventJSON(2, type: "KeyError", release: "1.0", offset: -300)))
        let issues = try await fixture.issues().sorted { $0.shortID < $1.shortID }
        try fixture.setStatus([issues[0].id], .resolved, inNextRelease: true)
        try fixture.reopen()

        // Same fingerprint after the restart: same issue, and the resolution survived.
        #expect(try fixture.write(try fixture.record(eventJSON(3, type: "KeyError"))).newIssues == 0)
        #expect(try fixture.write(try fixture.record(eventJSON(4, type: "ValueError", release: "1.0"))).regressions == 0)
        let regressed = try fixture.write(try fixture.record(eventJSON(5, type: "ValueError", release: "1.1")))
        #expect(regressed.regressions == 1 && regressed.newIssues == 0)
        // A new group continues the short-id sequence, and duplicates are still recognised.
        let more = try fixture.write(
            try fixture.record(eventJSON(6, type: "TypeError")), try fixture.record(eventJSON(1, type: "ValueError")))
        #expect(more.newIssues == 1 && more.duplicates == 1)
        let after = try await fixture.issues().sorted { $0.shortID < $1.shortID }
        #expect(after.map(\.shortID) == [1, 2, 3])
        #expect(after.map(\.timesSeen) == [3, 2, 1])
        #expect(after[0].status == .unresolved && after[0].substatus == .regressed)
    }
}

@Suite struct SQLiteReadStoreQueryTests {
    @Test func filtersSortsAndPages() async throws {
        let fixture = try StoreFixture()
        try fixture.write(
            try fixture.record(eventJSON(1, type: "ValueError", offset: -300)),
            try fixture.record(eventJSON(2, type: "KeyError", level: "warning", offset: -200)),
            try fixture.record(eventJSON(3, type: "KeyError", level: "warning", offset: -250)),
            try fixture.record(eventJSON(4, type: "TypeError", value: "100% wrong_thing", offset: -100)))
        let all = try await fixture.issues()
        // Default sort: last seen, newest first.
        #expect(all.map(\.title) == ["TypeError: 100% wrong_thing", "KeyError: bad input", "ValueError: bad input"])
        #expect(try await fixture.issues("level:warning").map(\.title) == ["KeyError: bad input"])
        #expect(try await fixture.issues("level:error").count == 2)
        #expect(try await fixture.issues("KeyError").map(\.title) == ["KeyError: bad input"])
        #expect(try await fixture.issues("app.views").count == 3)
        // LIKE wildcards in the search text are literal.
        #expect(try await fixture.issues("100%").map(\.title) == ["TypeError: 100% wrong_thing"])
        #expect(try await fixture.issues("wrong_").count == 1)
        #expect(try await fixture.issues("%").count == 1)
        #expect(try await fixture.issues("_").count == 1)

        try fixture.setStatus([all[0].id], .resolved)
        #expect(try await fixture.issues("is:unresolved").count == 2)
        #expect(try await fixture.issues("is:resolved").map(\.id) == [all[0].id])

        var query = IssueQuery()
        query.sort = .freq
        query.limit = 1
        let first = try await fixture.reader.issues(projectID: 1, query: query)
        #expect(first.map(\.title) == ["KeyError: bad input"])
        query.cursor = IssueQuery.Cursor(value: first[0].timesSeen, id: first[0].id)
        let second = try await fixture.reader.issues(projectID: 1, query: query)
        #expect(second.count == 1 && second[0].timesSeen == 1)
        query.sort = .new
        query.cursor = nil
        query.limit = 10
        #expect(
            try await fixture.reader.issues(projectID: 1, query: query).map(\.title)
                == ["TypeError: 100% wrong_thing", "KeyError: bad input", "ValueError: bad input"])
        #expect(try await fixture.reader.issue(id: all[2].id)?.title == "ValueError: bad input")
        #expect(try await fixture.reader.issue(id: 12345) == nil)
    }
}

/// Ingest keeps what the read side shows (`EventReadView`) beside the payload: what reads back is
/// what the pipeline derived, and rendering it gives what deriving it again at read time gives.
@Suite struct SQLiteEventReadViewTests {
    @Test func storedAtIngestReadBack() async throws {
        let fixture = try StoreFixture()
        let record = try fixture.record(
            eventJSON(1, tags: #"{"browser":"Firefox","environment":"ignored","release":"dropped"}"#, environment: "prod"))
        try fixture.write(record)
        let event = try #require(try await fixture.reader.latestEvent(issueID: fixture.onlyIssue().id))
        let view = try #require(event.view)
        #expect(
            view
                == EventReadView(
                    kind: record.grouping.kind, title: record.grouping.title, culprit: record.grouping.culprit,
                    message: record.message, tags: Array(record.facetTags.prefix(record.ownTagCount))))
        #expect(view.kind == "error" && view.title == "ValueError: bad input")
        #expect(view.tags.map(\.key) == ["browser"])

        var stored = JSONWriter()
        SentryAPIRenderer.event(event, issue: nil, into: &stored)
        var derived = JSONWriter()
        var old = event
        old.view = nil
        SentryAPIRenderer.event(old, issue: nil, into: &derived)
        #expect(stored.string == derived.string)
    }

    /// Events stored while the view had a column of its own (migration 8) read it from there:
    /// their payload frame holds the JSON alone.
    @Test func viewInItsOwnColumnStillReads() async throws {
        let fixture = try StoreFixture()
        let json = eventJSON(1, tags: #"{"browser":"Firefox"}"#, environment: "prod")
        try fixture.write(try fixture.record(json))
        fixture.store.close()
        let column = EventReadView(kind: "error", title: "from the column", culprit: "c", message: nil, tags: [("k", "v")])
        let connection = try SQLiteConnection(path: fixture.path)
        try connection.statement("UPDATE events SET payload = ?, read_view = ?").run([
            .blob(PayloadCodec.compress(ByteBuffer(string: json))), .blob(column.encoded()),
        ])
        let event = try #require(try await fixture.reader.latestEvent(issueID: fixture.onlyIssue().id))
        #expect(event.view == column)
        #expect(event.payload == Array(json.utf8))
    }

    /// The bytes per event the read view adds inside the payload's frame, on 10,000 synthetic
    /// events (pit-bench's payloads): the stored payloads against the same JSON compressed alone.
    @Test func bytesPerEvent() throws {
        let fixture = try StoreFixture()
        let synthetic = SyntheticEvents()
        let count = 10_000
        var alone = 0
        for start in stride(from: 0, to: count, by: 500) {
            let records = try (start..<start + 500).map { index in
                let payload = synthetic.eventPayload(
                    index: index, eventID: EventID(String(format: "%032x", index + 1))!, timestamp: receiveTime - 60)
                alone += payload.withUnsafeBytes { PayloadCodec.compress($0) }.count
                return try fixture.record(String(decoding: payload, as: UTF8.self))
            }
            _ = try fixture.store.write(records.map { .write(WriteUnit(event: $0, items: [])) })
        }
        fixture.store.close()
        let connection = try SQLiteConnection(path: fixture.path)
        let payloads = try connection.scalarInt("SELECT SUM(LENGTH(payload)) FROM events") ?? 0
        try connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        try connection.execute("VACUUM")
        let file = try FileManager.default.attributesOfItem(atPath: fixture.path)[.size] as? Int ?? 0
        let stored = Double(payloads) / Double(count)
        let compressedAlone = Double(alone) / Double(count)
        print("payload with its read view \(stored) B/event, alone \(compressedAlone); file \(file / count) B/event")
        // 68 B measured (a column of its own took ~200 B per event, plus its row overhead).
        #expect(stored - compressedAlone < 96)
    }
}
