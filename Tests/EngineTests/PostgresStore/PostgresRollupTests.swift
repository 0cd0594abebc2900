import Foundation
import Logging
import PitIngest
import PitStorage
import PostgresNIO
import PostgresStore
import Synchronization
import Testing

/// PostgreSQL's writers append counter deltas and a roll-up folds them in later (see
/// `PostgresRollup`): counts must be exact before, during and after it, with writers and
/// roll-ups from several instances running at once.
@Suite(.enabled(if: PostgresTestDatabase.adminURL != nil, "PIT_TEST_DATABASE_URL is not set"))
struct PostgresRollupTests {
    private static let writers = 2
    private static let batches = 12
    private static let perBatch = 25
    private static let users = 13

    /// Two writers (as on two instances) store events of one new fingerprint at once, while two
    /// roll-ups (as on two instances) race each other: one issue, every count exact throughout.
    @Test func concurrentWritersAndRollupsCountExactly() async throws {
        let database = try PostgresTestDatabase.create()
        let admin = try await PostgresAdminStore.open(url: database, logger: PostgresTestDatabase.logger)
        _ = try await admin.ensureDefaults(organizationSlug: "pit", projectSlug: "default")
        await admin.close()

        let fixture = try StoreFixture()
        var work: [[[IngestQueue.Entry]]] = []
        var id = 0
        for writer in 0..<Self.writers {
            var batches: [[IngestQueue.Entry]] = []
            for batch in 0..<Self.batches {
                var entries: [IngestQueue.Entry] = []
                for _ in 0..<Self.perBatch {
                    id += 1
                    let json = eventJSON(
                        id, release: "1.\(id % 3)", user: #"{"id":"u\#(id % Self.users)"}"#,
                        environment: id % 2 == 0 ? "prod" : "staging", offset: Double(id % 100))
                    // Two hours of arrival times, so hourly counters of both hours are written at once.
                    let received = receiveTime + Double((writer * Self.batches + batch) % 2) * 3600
                    entries.append(.write(WriteUnit(event: try fixture.record(json, received: received), items: [])))
                }
                batches.append(entries)
            }
            work.append(batches)
        }
        let total = Int64(Self.writers * Self.batches * Self.perBatch)

        let readers = (0..<2).map { _ in PostgresReadStore(url: database, logger: PostgresTestDatabase.logger) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for reader in readers { group.addTask { await reader.client.run() } }
            defer { group.cancelAll() }
            let rollups = readers.map { PostgresRollup(client: $0.client, logger: PostgresTestDatabase.logger) }
            let reader = readers[0]

            let done = Flag()
            let ran = Counter()
            try await withThrowingTaskGroup(of: Void.self) { inner in
                for batches in work {
                    let unit = Unchecked(batches)
                    inner.addTask {
                        try await onThread {
                            let store = try PostgresBatchStore(url: database, logger: PostgresTestDatabase.logger)
                            defer { store.close() }
                            for batch in unit.value { _ = try store.write(batch) }
                        }
                    }
                }
                for rollup in rollups {
                    inner.addTask {
                        while !done.value {
                            if try await rollup.rollUp() { ran.add() }
                        }
                    }
                }
                // Counts only grow while the writers run, whatever the roll-ups are doing.
                inner.addTask {
                    var last: Int64 = 0
                    while !done.value {
                        let count = try await reader.counts(projectID: 1).events
                        #expect(count >= last && count <= total)
                        last = count
                    }
                }
                // The writers finish first; then the roll-ups and the watcher stop.
                try await inner.next()
                try await inner.next()
                done.set()
                try await inner.waitForAll()
            }
            #expect(ran.value > 0)

            func expectExact(_ when: String) async throws {
                let issues = try await reader.issues(projectID: 1, query: IssueQuery())
                try #require(issues.count == 1, "\(when): one issue for one fingerprint")
                let issue = issues[0]
                #expect(issue.timesSeen == total, "\(when)")
                #expect(issue.usersSeen == Int64(Self.users), "\(when)")
                #expect(try await reader.issue(id: issue.id)?.timesSeen == total, "\(when)")
                #expect(try await reader.counts(projectID: 1).events == total, "\(when)")
                #expect(try await reader.issueCount(projectID: 1, query: IssueQuery()) == 1, "\(when)")
                let releases = try await reader.releases(projectID: 1)
                #expect(releases.count == 3 && releases.reduce(0) { $0 + $1.events } == total, "\(when)")
                #expect(releases.reduce(0) { $0 + $1.newIssues } == 1, "\(when)")
                #expect(
                    try await reader.tagValues(issueID: issue.id, key: "environment", environment: nil, limit: 10)
                        .reduce(0) { $0 + $1.count } == total, "\(when)")
                #expect(Set(try await reader.environments(projectID: 1)) == ["prod", "staging"], "\(when)")
                let hour = HourlyCounts.hour(ofMilliseconds: Int64(receiveTime * 1000))
                let issueHours = try await reader.issueHourly(issueIDs: [issue.id], fromHour: hour - 1, toHour: hour + 2)
                #expect(issueHours[issue.id]?.values.reduce(0, +) == total && issueHours[issue.id]?.count == 2, "\(when)")
                let projectHours = try await reader.projectHourly(projectID: 1, fromHour: hour - 1, toHour: hour + 2)
                #expect(projectHours.values.reduce(0) { $0 + $1.events } == total, "\(when)")
                #expect(projectHours.values.reduce(0) { $0 + $1.newIssues } == 1, "\(when)")
                var byCount = IssueQuery()
                byCount.sort = .freq
                #expect(try await reader.issues(projectID: 1, query: byCount).map(\.timesSeen) == [total], "\(when)")
            }
            try await expectExact("with the last deltas pending")
            try await rollups[1].rollUp()
            #expect(try PostgresTestDatabase.pendingDeltas(database) == 0)
            try await expectExact("rolled up")
            // A roll-up with nothing to do changes nothing.
            try await rollups[0].rollUp()
            try await expectExact("rolled up twice")
        }
    }

    /// A database created before the delta tables existed gains them and keeps its counts.
    @Test func migratesADatabaseFromBeforeTheDeltaTables() async throws {
        let database = try PostgresTestDatabase.create()
        let admin = try await PostgresAdminStore.open(url: database, logger: PostgresTestDatabase.logger)
        _ = try await admin.ensureDefaults(organizationSlug: "pit", projectSlug: "default")
        await admin.close()
        let fixture = try StoreFixture()
        let store = try PostgresBatchStore(url: database, logger: PostgresTestDatabase.logger)
        _ = try store.write([.write(WriteUnit(event: try fixture.record(eventJSON(1, release: "1.0")), items: []))])
        store.close()
        let reader = PostgresReadStore(url: database, logger: PostgresTestDatabase.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await reader.client.run() }
            defer { group.cancelAll() }
            try await PostgresRollup(client: reader.client, logger: PostgresTestDatabase.logger).rollUp()
            // Back to the schema of shared migration 6 with its counters filled in.
            let session = try PostgresSession(url: database, logger: PostgresTestDatabase.logger)
            defer { session.close() }
            for table in [
                "issue_deltas", "issue_tag_deltas", "release_deltas", "project_environment_deltas", "issue_hourly_deltas",
                "project_hourly_deltas", "outcomes_hourly_deltas", "session_hourly_deltas", "session_duration_deltas",
                "transaction_minute_deltas",
            ] {
                try session.query(PostgresQuery(unsafeSQL: "DROP TABLE \(table)"))
            }
            try session.query("DELETE FROM pit_migrations WHERE version > 1000")

            let reopened = try await PostgresAdminStore.open(url: database, logger: PostgresTestDatabase.logger)
            await reopened.close()
            let writer = try PostgresBatchStore(url: database, logger: PostgresTestDatabase.logger)
            _ = try writer.write([.write(WriteUnit(event: try fixture.record(eventJSON(2, release: "1.0")), items: []))])
            writer.close()
            let issues = try await reader.issues(projectID: 1, query: IssueQuery())
            #expect(issues.map(\.timesSeen) == [2])
            #expect(try await reader.releases(projectID: 1).map(\.events) == [2])
        }
    }
}

/// Runs blocking work (a batch store's synchronous calls) on a thread of its own, off the
/// cooperative pool.
private func onThread(_ body: @escaping @Sendable () throws -> Void) async throws {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
        Thread {
            do {
                try body()
                continuation.resume()
            } catch {
                continuation.resume(throwing: error)
            }
        }.start()
    }
}

/// `@unchecked Sendable`: handed to exactly one thread, which alone touches it afterwards.
private final class Unchecked<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

private final class Flag: Sendable {
    private let state = Mutex(false)
    var value: Bool { state.withLock { $0 } }
    func set() { state.withLock { $0 = true } }
}

private final class Counter: Sendable {
    private let state = Mutex(0)
    var value: Int { state.withLock { $0 } }
    func add() { state.withLock { $0 += 1 } }
}
