import Foundation
import Logging
import NIOCore
import PitIngest
import PitModel
import PitPayloads
import PitStorage
import PostgresNIO
import PostgresStore
import SQLiteStore
import Testing

/// The same events through SQLite's and PostgreSQL's stores must give the same read answers:
/// the two back ends' schemas and writers have one meaning. Runs when PIT_TEST_DATABASE_URL names a
/// PostgreSQL server (`scripts/test` starts one); each run gets a database of its own.
@Suite(.enabled(if: PostgresTestDatabase.adminURL != nil, "PIT_TEST_DATABASE_URL is not set"))
struct PostgresParityTests {
    @Test func sameEventsSameAnswers() async throws {
        let database = try PostgresTestDatabase.create()
        let directory = try TemporaryDirectory()
        let sqlitePath = directory.path("pit.db")
        let sqliteAdmin = try SQLiteAdminStore(path: sqlitePath)
        let postgresAdmin = try await PostgresAdminStore.open(url: database, logger: PostgresTestDatabase.logger)
        for admin in [sqliteAdmin, postgresAdmin] as [any AdminStore] {
            _ = try await admin.ensureDefaults(organizationSlug: "pit", projectSlug: "default")
            _ = try await admin.createProject(name: "Second", id: nil, platform: "python")
        }
        #expect(try await sqliteAdmin.projects().map(\.slug) == postgresAdmin.projects().map(\.slug))

        let sqlite = try SQLiteBatchStore(path: sqlitePath, durability: StorageDurability(synchronous: .off))
        let postgres = try PostgresBatchStore(url: database, logger: PostgresTestDatabase.logger)
        defer { postgres.close() }
        let fixture = try StoreFixture()
        func batch(_ events: [(json: String, project: Int64, received: Double)]) throws -> [IngestQueue.Entry] {
            try events.map {
                .write(WriteUnit(event: try fixture.record($0.json, projectID: $0.project, received: $0.received), items: []))
            }
        }
        var batches: [[IngestQueue.Entry]] = []
        // Several fingerprints, releases, users, tags and environments; a duplicate inside a batch.
        batches.append(
            try batch([
                (
                    eventJSON(
                        1, type: "ValueError", release: "1.0", user: #"{"id":"u1"}"#, tags: #"{"browser":"Firefox"}"#, environment: "prod"),
                    1, receiveTime
                ),
                (eventJSON(2, type: "KeyError", release: "1.0", user: #"{"id":"u2"}"#, environment: "staging"), 1, receiveTime + 1),
                (
                    eventJSON(
                        3, type: "ValueError", release: "1.1", user: #"{"id":"u1"}"#, tags: #"{"browser":"Chrome"}"#, environment: "prod"),
                    1, receiveTime + 2
                ),
                (eventJSON(3, type: "ValueError", release: "1.1"), 1, receiveTime + 2),
                (eventJSON(4, type: "TypeError", level: "warning"), 2, receiveTime + 3),
            ]))
        // A duplicate of an earlier batch's event, more of the same issues, an hour later.
        batches.append(
            try batch([
                (eventJSON(2, type: "KeyError"), 1, receiveTime + 3600),
                (eventJSON(5, type: "KeyError", release: "1.1", user: #"{"id":"u3"}"#, environment: "staging"), 1, receiveTime + 3601),
                (eventJSON(6, type: "ZeroDivisionError", value: "division by zero", release: "1.1"), 1, receiveTime + 3602),
            ]))
        // Status changes travel through the writer, between events.
        batches.append([
            .command(.setStatus(issueIDs: [1], status: .resolved, resolveInNextRelease: false), { _ in }),
            .command(.setStatus(issueIDs: [2], status: .resolved, resolveInNextRelease: true), { _ in }),
            .command(.setStatus(issueIDs: [3], status: .ignored, resolveInNextRelease: false), { _ in }),
        ])
        // Issue 1 regresses; issue 2 (resolved in 1.1) stays resolved for 1.1 and regresses for 2.0.
        batches.append(
            try batch([
                (eventJSON(7, type: "ValueError", release: "1.0"), 1, receiveTime + 3700),
                (eventJSON(8, type: "KeyError", release: "1.1"), 1, receiveTime + 3701),
                (eventJSON(9, type: "TypeError", level: "warning"), 2, receiveTime + 3702),
            ]))
        batches.append(try batch([(eventJSON(10, type: "KeyError", release: "2.0", environment: "prod"), 1, receiveTime + 7300)]))

        for (index, entries) in batches.enumerated() {
            let a = try sqlite.write(entries)
            let b = try postgres.write(entries)
            #expect(a == b, "batch \(index): \(a) vs \(b)")
        }
        sqlite.close()

        let left = SQLiteReadStore(path: sqlitePath)
        let right = PostgresReadStore(url: database, logger: PostgresTestDatabase.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await right.client.run() }
            defer { group.cancelAll() }
            // Counters are read through their pending deltas first, then once rolled up.
            try await compare(left, right)
            #expect(try await PostgresRollup(client: right.client, logger: PostgresTestDatabase.logger).rollUp())
            #expect(try PostgresTestDatabase.pendingDeltas(database) == 0)
            try await compare(left, right)
        }
    }

    private func compare(_ left: any ReadStore, _ right: any ReadStore) async throws {
        for project: Int64 in [1, 2] {
            for text in [
                "", "is:unresolved", "is:resolved", "is:ignored", "release:1.0", "release:1.1", "environment:prod",
                "environment:staging", "browser:Firefox", "environment:prod browser:Chrome", "level:warning", "Key",
                "is:unresolved level:error", "keyerror", "Ke", "\"Error\"", "tag:browser:Firefox", "environment:prod environment:staging",
                "release:1.1 environment:staging", "is:unresolved is:ignored", "lastSeen:-24h", "age:-7d", "100%", "a_b",
            ] {
                for sort in IssueQuery.Sort.allCases {
                    var query = try IssueQuery(parsing: text)
                    query.sort = sort
                    let a = try await left.issues(projectID: project, query: query)
                    let b = try await right.issues(projectID: project, query: query)
                    #expect(a == b, "issues project \(project) \"\(text)\" sort \(sort)")
                    let countA = try await left.issueCount(projectID: project, query: query)
                    let countB = try await right.issueCount(projectID: project, query: query)
                    #expect(countA == countB, "issueCount project \(project) \"\(text)\"")
                    // The same pages through the keyset cursor, two issues at a time.
                    query.limit = 2
                    var pages = 0
                    while pages < 10 {
                        let pageA = try await left.issues(projectID: project, query: query)
                        let pageB = try await right.issues(projectID: project, query: query)
                        #expect(pageA == pageB, "page \(pages) project \(project) \"\(text)\" sort \(sort)")
                        guard let last = pageA.last, pageA.count == 2 else { break }
                        query.cursor = IssueQuery.Cursor(value: sort.value(of: last), id: last.id)
                        pages += 1
                    }
                }
            }
            let countsA = try await left.counts(projectID: project)
            let countsB = try await right.counts(projectID: project)
            #expect(countsA == countsB)
            #expect(try await left.releases(projectID: project) == right.releases(projectID: project))
            #expect(try await left.environments(projectID: project) == right.environments(projectID: project))
            let hours = HourlyCounts.hour(ofMilliseconds: Int64(receiveTime * 1000))
            let hourlyA = try await left.projectHourly(projectID: project, fromHour: hours - 1, toHour: hours + 3)
            let hourlyB = try await right.projectHourly(projectID: project, fromHour: hours - 1, toHour: hours + 3)
            #expect(hourlyA.mapValues { [$0.events, $0.newIssues] } == hourlyB.mapValues { [$0.events, $0.newIssues] })
            var events = EventQuery(projectID: project)
            events.limit = 100
            try expectSame(try await left.events(events), try await right.events(events), "project \(project) events")
            events.environment = "prod"
            try expectSame(try await left.events(events), try await right.events(events), "project \(project) prod events")
        }
        #expect(try await left.releases(projectID: nil) == right.releases(projectID: nil))
        // The verification lookup: ids of the other project and ids never sent are missing, in
        // the order asked.
        let asked = [4, 1, 11, 3, 9].map { EventID(String(format: "%032x", $0))! }
        let missing = [4, 11, 9].map { EventID(String(format: "%032x", $0))! }
        #expect(try await left.missingEvents(projectID: 1, eventIDs: asked) == missing)
        #expect(try await right.missingEvents(projectID: 1, eventIDs: asked) == missing)
        #expect(try await right.missingEvents(projectID: 1, eventIDs: []) == [])
        let all = try await left.issues(projectID: 1, query: IssueQuery()) + left.issues(projectID: 2, query: IssueQuery())
        #expect(all.count == 4)
        let ids = all.map(\.id)
        let hours = HourlyCounts.hour(ofMilliseconds: Int64(receiveTime * 1000))
        #expect(
            try await left.issueHourly(issueIDs: ids, fromHour: hours - 1, toHour: hours + 3)
                == right.issueHourly(issueIDs: ids, fromHour: hours - 1, toHour: hours + 3))
        for issue in all {
            #expect(try await left.issue(id: issue.id) == right.issue(id: issue.id))
            try expectSame(
                try await left.events(issueID: issue.id, limit: 100, before: nil),
                try await right.events(issueID: issue.id, limit: 100, before: nil), "issue \(issue.id) events")
            try expectSame(
                try await left.latestEvent(issueID: issue.id).map { [$0] } ?? [],
                try await right.latestEvent(issueID: issue.id).map { [$0] } ?? [], "issue \(issue.id) latest")
            #expect(
                try await left.tagFacets(issueID: issue.id, environment: nil, topValues: 3)
                    == right.tagFacets(issueID: issue.id, environment: nil, topValues: 3))
            #expect(
                try await left.tagFacets(issueID: issue.id, environment: "prod", topValues: 3)
                    == right.tagFacets(issueID: issue.id, environment: "prod", topValues: 3))
            #expect(
                try await left.tagValues(issueID: issue.id, key: "release", environment: nil, limit: 10)
                    == right.tagValues(issueID: issue.id, key: "release", environment: nil, limit: 10))
            for event in try await left.events(issueID: issue.id, limit: 100, before: nil) {
                #expect(
                    try await left.eventNavigation(issueID: issue.id, rowID: event.rowID, environment: nil)
                        == right.eventNavigation(issueID: issue.id, rowID: event.rowID, environment: nil))
                try expectSame(
                    try await left.event(projectID: event.projectID, eventID: event.eventID).map { [$0] } ?? [],
                    try await right.event(projectID: event.projectID, eventID: event.eventID).map { [$0] } ?? [],
                    "event \(event.eventID)")
            }
        }
    }

    /// Issue 10 (Medium, unbounded growth): the writer's fingerprint cache is emptied past its
    /// limit, and a fingerprint it forgot still finds its issue in the database.
    @Test func fingerprintCacheStaysBounded() async throws {
        let database = try PostgresTestDatabase.create()
        let admin = try await PostgresAdminStore.open(url: database, logger: PostgresTestDatabase.logger)
        _ = try await admin.ensureDefaults(organizationSlug: "pit", projectSlug: "default")
        let writer = try PostgresBatchStore(url: database, logger: PostgresTestDatabase.logger, cacheLimit: 4)
        defer { writer.close() }
        let fixture = try StoreFixture()
        for round in 0..<3 {
            let entries: [IngestQueue.Entry] = try (0..<5).map { n in
                .write(WriteUnit(event: try fixture.record(eventJSON(round * 10 + n + 1, type: "Error\(n)")), items: []))
            }
            let outcome = try writer.write(entries)
            #expect(outcome.newIssues == (round == 0 ? 5 : 0))
            #expect(writer.indexedCount <= 5, "\(writer.indexedCount) entries after round \(round)")
        }
        let session = try PostgresSession(url: database, logger: PostgresTestDatabase.logger)
        defer { session.close() }
        var issues: Int64 = -1
        for row in try session.query("SELECT COUNT(*) FROM issues") { issues = try row.decode(Int64.self) }
        #expect(issues == 5)
    }

    /// A payload compressed with a dictionary this process has never seen (another instance
    /// trained it) decodes: the read store loads the dictionary asynchronously before decoding
    /// its rows, never blocking a cooperative thread on the database.
    @Test func dictionaryTrainedElsewhereIsLoadedForReading() async throws {
        let database = try PostgresTestDatabase.create()
        let admin = try await PostgresAdminStore.open(url: database, logger: PostgresTestDatabase.logger)
        _ = try await admin.ensureDefaults(organizationSlug: "pit", projectSlug: "default")
        let generator = SyntheticEvents(fingerprints: 20)
        let samples = (0..<200).map { generator.eventPayload(index: $0, eventID: .random(), timestamp: receiveTime) }
        let bytes = try #require(PayloadDictionary.train(samples: samples))
        let dictionary = try #require(PayloadDictionary(id: 7, bytes: bytes))
        let json = eventJSON(1)
        var record = try StoreFixture().record(json)
        record.compressedPayload = dictionary.compress(ByteBuffer(string: json))
        record.dictionaryID = 7
        let writer = try PostgresBatchStore(url: database, logger: PostgresTestDatabase.logger)
        defer { writer.close() }
        _ = try writer.write([
            .command(.storeDictionary(id: 7, bytes: bytes, sampleCount: samples.count), { _ in }),
            .write(WriteUnit(event: record, items: [])),
        ])

        let dictionaries = PayloadDictionaries(loader: nil)
        let reader = PostgresReadStore(url: database, dictionaries: dictionaries, logger: PostgresTestDatabase.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await reader.client.run() }
            defer { group.cancelAll() }
            let event = try #require(try await reader.events(EventQuery(projectID: 1)).first)
            #expect(event.payloadError == nil)
            #expect(event.payload == Array(json.utf8))
            #expect(dictionaries.has(id: 7))
        }
    }

    private func expectSame(_ a: [EventRow], _ b: [EventRow], _ what: String) throws {
        #expect(a.count == b.count, "\(what): \(a.count) vs \(b.count) events")
        for (x, y) in zip(a, b) {
            #expect(x.rowID == y.rowID && x.issueID == y.issueID && x.eventID == y.eventID && x.projectID == y.projectID, "\(what)")
            #expect(x.timestamp == y.timestamp && x.received == y.received && x.level == y.level, "\(what)")
            #expect(x.release == y.release && x.environment == y.environment && x.processingErrors == y.processingErrors, "\(what)")
            #expect(x.payload == y.payload, "\(what) payload")
            #expect(x.view != nil && x.view == y.view, "\(what) read view")
        }
    }
}

/// A fresh database on the PostgreSQL server named by PIT_TEST_DATABASE_URL.
enum PostgresTestDatabase {
    static let adminURL = ProcessInfo.processInfo.environment["PIT_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let logger = Logger(label: "pit-tests")

    static func create() throws -> PostgresDatabaseURL {
        let admin = try PostgresDatabaseURL(try #require(adminURL))
        let session = try PostgresSession(url: admin, logger: logger)
        defer { session.close() }
        let name = "pit_swift_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        try session.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        var url = admin
        url.database = name
        return url
    }

    /// Rows waiting in the counter delta tables.
    static func pendingDeltas(_ url: PostgresDatabaseURL) throws -> Int64 {
        let session = try PostgresSession(url: url, logger: logger)
        defer { session.close() }
        var total: Int64 = 0
        for table in [
            "issue_deltas", "issue_tag_deltas", "release_deltas", "project_environment_deltas", "issue_hourly_deltas",
            "project_hourly_deltas",
        ] {
            for row in try session.query(PostgresQuery(unsafeSQL: "SELECT COUNT(*) FROM \(table)")) { total += try row.decode(Int64.self) }
        }
        return total
    }
}
