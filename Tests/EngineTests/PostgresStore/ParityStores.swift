import Foundation
import PitIngest
import PitStorage
import PostgresNIO
import PostgresStore
import SQLiteStore
import Testing

/// The two back ends side by side for a parity test: a fresh PostgreSQL database (migrated, with
/// the default organization and project) and a SQLite file, written with the same batches and
/// then read through their read stores.
struct ParityStores {
    let database: PostgresDatabaseURL
    let sqlitePath: String
    let postgres: PostgresBatchStore
    let sqlite: SQLiteBatchStore
    private let directory: TemporaryDirectory

    init() async throws {
        database = try PostgresTestDatabase.create()
        // Opening the admin store migrates the new database; the project numbers its issues.
        let admin = try await PostgresAdminStore.open(url: database, logger: PostgresTestDatabase.logger)
        _ = try await admin.ensureDefaults(organizationSlug: "pit", projectSlug: "default")
        postgres = try PostgresBatchStore(url: database, logger: PostgresTestDatabase.logger)
        directory = try TemporaryDirectory()
        sqlitePath = directory.path("pit.db")
        sqlite = try SQLiteBatchStore(path: sqlitePath, durability: StorageDurability(synchronous: .off))
    }

    /// Writes each batch through both back ends; both must report the same outcome.
    func write(_ batches: [[IngestQueue.Entry]]) throws {
        for (index, entries) in batches.enumerated() {
            let a = try sqlite.write(entries)
            let b = try postgres.write(entries)
            #expect(a == b, "batch \(index): \(a) vs \(b)")
        }
    }

    /// Closes the writers and runs `body` with SQLite's and PostgreSQL's read stores (the
    /// latter's client running meanwhile).
    func read(_ body: (SQLiteReadStore, PostgresReadStore) async throws -> Void) async throws {
        sqlite.close()
        postgres.close()
        let left = SQLiteReadStore(path: sqlitePath)
        let right = PostgresReadStore(url: database, logger: PostgresTestDatabase.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await right.client.run() }
            defer { group.cancelAll() }
            try await body(left, right)
        }
    }
}
