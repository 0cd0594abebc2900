package import Logging
package import PitIngest
package import PitStorage
package import PostgresStore
import SQLiteStore
package import ServiceLifecycle

/// The one place that knows which back end a server runs on. Without a `database_url` everything
/// is SQLite in the data directory; with one, PostgreSQL, for any number of stateless instances.
package enum StorageBackend: Sendable, CustomStringConvertible {
    case sqlite(path: String, durability: StorageDurability)
    case postgres(PostgresDatabaseURL)

    package init(databaseURL: String?, sqlitePath: String, durability: StorageDurability) throws {
        if let databaseURL, !databaseURL.isEmpty {
            self = .postgres(try PostgresDatabaseURL(databaseURL))
        } else {
            self = .sqlite(path: sqlitePath, durability: durability)
        }
    }

    package var description: String {
        switch self {
        case .sqlite(let path, _): "sqlite:\(path)"
        case .postgres(let url): url.description
        }
    }

    package var isPostgres: Bool {
        if case .postgres = self { return true }
        return false
    }

    /// Writer threads when the setting `writers` is not given: one for both. SQLite has one
    /// writer by design (one write lock, an in-memory issue index). PostgreSQL's batches only
    /// append (counters are delta rows, see `PostgresRollup`), so its writers commit in parallel
    /// without queueing on each other's row locks: in the ramps of 2026-12-01 (a busy machine)
    /// two writers reached knees of 4,000 and 2,000 events/s where one missed the first step.
    /// The default stays at one until quieter runs confirm it.
    package var defaultWriters: Int { 1 }

    /// Opens (creating and migrating when needed) the admin side.
    package func makeAdminStore(logger: Logger) async throws -> any AdminStore {
        switch self {
        case .sqlite(let path, _):
            let sqlite = try await BlockingWork.run(timeout: 600) { try SQLiteAdminStore(path: path) }
            return sqlite
        case .postgres(let url): return try await PostgresAdminStore.open(url: url, logger: logger)
        }
    }

    /// The alert store (rules, channels, the delivery outbox); the admin store must have been
    /// opened first (it migrates the database).
    package func makeAlertStore(logger: Logger) async throws -> any AlertStore {
        switch self {
        case .sqlite(let path, _): return try await BlockingWork.run(timeout: 600) { try SQLiteAlertStore(path: path) }
        case .postgres(let url): return try PostgresAlertStore(url: url, logger: logger)
        }
    }

    /// What `PayloadDictionaries` loads a dictionary with on a reader's own thread: SQLite's
    /// readers run on a Dispatch queue, so they read it there (`SQLiteAdminStore.loadPayloadDictionary`);
    /// PostgreSQL's run on the cooperative pool and load the dictionaries their rows need before
    /// decoding them (`PostgresReadStore`), so they have none.
    package func makePayloadDictionaryLoader(adminStore: any AdminStore) throws -> (@Sendable (Int64) throws -> [UInt8]?)? {
        switch self {
        case .sqlite(let path, _):
            let sqlite = try (adminStore as? SQLiteAdminStore) ?? SQLiteAdminStore(path: path)
            return { try sqlite.loadPayloadDictionary(id: $0) }
        case .postgres: return nil
        }
    }

    /// One store per writer thread.
    package func makeBatchStore(logger: Logger) throws -> any BatchStore {
        switch self {
        case .sqlite(let path, let durability): try SQLiteBatchStore(path: path, durability: durability)
        case .postgres(let url): try PostgresBatchStore(url: url, logger: logger)
        }
    }

    /// The read side, and the services it needs running (PostgreSQL's connection pool, then the
    /// counter roll-up, which uses the pool and so stops before it).
    /// `connections` bounds PostgreSQL's pool (the setting `database_pool_size`).
    package func makeReadStore(dictionaries: PayloadDictionaries?, connections: Int = 8, logger: Logger)
        -> (store: any ReadStore, services: [any Service])
    {
        switch self {
        case .sqlite(let path, _):
            return (SQLiteReadStore(path: path, dictionaries: dictionaries), [])
        case .postgres(let url):
            let store = PostgresReadStore(url: url, maxConnections: connections, dictionaries: dictionaries, logger: logger)
            return (store, [store.client, PostgresRollup(client: store.client, logger: logger)])
        }
    }
}
