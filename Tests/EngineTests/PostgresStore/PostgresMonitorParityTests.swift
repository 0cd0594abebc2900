import Foundation
import PitIngest
import PitStorage
import PostgresNIO
import PostgresStore
import Testing

/// Cron monitors on PostgreSQL: the scenario SQLite runs (`MonitorScenario`), with the same answers.
@Suite(.enabled(if: PostgresTestDatabase.adminURL != nil, "PIT_TEST_DATABASE_URL is not set"))
struct PostgresMonitorParityTests {
    @Test func scenario() async throws {
        let database = try PostgresTestDatabase.create()
        let admin = try await PostgresAdminStore.open(url: database, logger: PostgresTestDatabase.logger)
        _ = try await admin.ensureDefaults(organizationSlug: "pit", projectSlug: "default")
        let store = try PostgresBatchStore(url: database, logger: PostgresTestDatabase.logger)
        let reader = PostgresReadStore(url: database, logger: PostgresTestDatabase.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await reader.client.run() }
            defer { group.cancelAll() }
            try await MonitorScenario.run(store: store, reader: reader)
            let purge = try PostgresPurgeStore(url: database, logger: PostgresTestDatabase.logger)
            defer { purge.close() }
            try await MonitorScenario.purge(purge, reader: reader)
        }
    }
}
