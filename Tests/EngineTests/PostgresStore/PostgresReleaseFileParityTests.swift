import PitStorage
import PostgresStore
import SQLiteStore
import Testing

/// Releases, deploys, chunks, artifact bundles and their lookups, and debug files give the same
/// answers on PostgreSQL's admin store as on SQLite's (`ReleaseFileTranscript`).
@Suite(.enabled(if: PostgresTestDatabase.adminURL != nil, "PIT_TEST_DATABASE_URL is not set"))
struct PostgresReleaseFileParityTests {
    @Test func sameOperationsSameAnswers() async throws {
        let database = try PostgresTestDatabase.create()
        let directory = try TemporaryDirectory()
        let sqlite = try SQLiteAdminStore(path: directory.path("pit.db"))
        let postgres = try await PostgresAdminStore.open(url: database, logger: PostgresTestDatabase.logger)
        let left = try await ReleaseFileTranscript.run(sqlite)
        let right = try await ReleaseFileTranscript.run(postgres)
        await postgres.close()
        #expect(left == right)
    }
}
