import Foundation
import PitIngest
import PitStorage
import PostgresNIO
import PostgresStore
import SQLiteStore
import Testing

/// Release health on PostgreSQL: the same session batches give the same answers as SQLite, and
/// concurrent writers updating the same sessions count each session once.
@Suite(.enabled(if: PostgresTestDatabase.adminURL != nil, "PIT_TEST_DATABASE_URL is not set"))
struct PostgresSessionParityTests {
    @Test func sameSessionsSameAnswers() async throws {
        let database = try PostgresTestDatabase.create()
        let directory = try TemporaryDirectory()
        let sqlitePath = directory.path("pit.db")
        let sqliteAdmin = try SQLiteAdminStore(path: sqlitePath)
        let postgresAdmin = try await PostgresAdminStore.open(url: database, logger: PostgresTestDatabase.logger)
        for admin in [sqliteAdmin, postgresAdmin] as [any AdminStore] {
            _ = try await admin.ensureDefaults(organizationSlug: "pit", projectSlug: "default")
            _ = try await admin.createProject(name: "Second", id: nil, platform: "python")
        }
        let sqlite = try SQLiteBatchStore(path: sqlitePath, durability: StorageDurability(synchronous: .off))
        let postgres = try PostgresBatchStore(url: database, logger: PostgresTestDatabase.logger)
        defer { postgres.close() }
        for batch in SessionFixtures.batches {
            #expect(try sqlite.write(batch) == postgres.write(batch))
        }
        sqlite.close()

        let left = SQLiteReadStore(path: sqlitePath)
        let right = PostgresReadStore(url: database, logger: PostgresTestDatabase.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await right.client.run() }
            defer { group.cancelAll() }
            for query in SessionFixtures.queries {
                let a = try await left.sessionStats(query)
                let b = try await right.sessionStats(query)
                #expect(a == b, "\(query)")
                #expect(!a.sessions.isEmpty, "\(query)")
            }
            #expect(
                try await left.releases(projectID: nil).map(\.version).sorted() == right.releases(projectID: nil).map(\.version).sorted())
            // The counters were read from pending deltas above; rolled up, they read the same.
            #expect(try await PostgresRollup(client: right.client, logger: PostgresTestDatabase.logger).rollUp())
            for query in SessionFixtures.queries {
                #expect(try await left.sessionStats(query) == right.sessionStats(query), "\(query)")
            }
            for table in ["session_hourly_deltas", "session_duration_deltas"] {
                let rows = try await right.client.query(PostgresQuery(unsafeSQL: "SELECT COUNT(*) FROM \(table)"))
                for try await count in rows.decode(Int64.self) { #expect(count == 0, "\(table)") }
            }
        }

        let purge = try PostgresPurgeStore(url: database, logger: PostgresTestDatabase.logger)
        defer { purge.close() }
        #expect(try purge.purgeSessionStates(startedBefore: SessionFixtures.started, limit: 100) == 0)
        #expect(try purge.purgeSessionStates(startedBefore: .max, limit: 100) == 6)
        #expect(try purge.purgeCounters(projectID: 1, beforeHour: SessionFixtures.hour + 1) > 0)
    }

    @Test func concurrentWritersCountEachSessionOnce() async throws {
        let database = try PostgresTestDatabase.create()
        let admin = try await PostgresAdminStore.open(url: database, logger: PostgresTestDatabase.logger)
        _ = try await admin.ensureDefaults(organizationSlug: "pit", projectSlug: "default")
        // Two writers get the same 200 sessions' updates at once: each session is started by
        // whichever commits first and crashed by the other's update, never counted twice.
        let sids = (0..<200).map { "s\($0)" }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for status in [SessionUpdate.Status.ok, .crashed] {
                group.addTask {
                    let store = try PostgresBatchStore(url: database, logger: PostgresTestDatabase.logger)
                    defer { store.close() }
                    for chunk in stride(from: 0, to: sids.count, by: 20) {
                        let batch = sids[chunk..<chunk + 20].map { SessionFixtures.update($0, status, did: $0) }
                        _ = try store.write(Array(status == .ok ? batch : batch.reversed()))
                    }
                }
            }
            try await group.waitForAll()
        }
        let reader = PostgresReadStore(url: database, logger: PostgresTestDatabase.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await reader.client.run() }
            defer { group.cancelAll() }
            let stats = try await reader.sessionStats(
                SessionQuery(projectIDs: [1], fromHour: SessionFixtures.hour, toHour: SessionFixtures.hour))
            #expect(stats.sessions[SessionGroup()] == SessionTally(started: 200, crashed: 200))
            #expect(stats.users[SessionGroup()] == [.crashed: 200])
        }
    }
}
