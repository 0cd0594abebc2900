package import Logging
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

    /// Writer threads when the setting `writers` is not given. SQLite has one writer by design
    /// (one write lock, an in-memory issue index). PostgreSQL commits in parallel: while one
    /// writer waits for its commit to be flushed, the others build and send their batches.
    package var defaultWriters: Int {
        switch self {
        case .sqlite: 1
        case .postgres: 4
        }
    }

    /// Opens (creating and migrating when needed) the admin side.
    package func makeAdminStore(logger: Logger) throws -> any AdminStore {
        switch self {
        case .sqlite(let path, _): try SQLiteAdminStore(path: path)
        case .postgres(let url): try PostgresAdminStore(url: url, logger: logger)
        }
    }

    /// One store per writer thread.
    package func makeBatchStore(logger: Logger) throws -> any BatchStore {
        switch self {
        case .sqlite(let path, let durability): try SQLiteBatchStore(path: path, durability: durability)
        case .postgres(let url): try PostgresBatchStore(url: url, logger: logger)
        }
    }

    /// The read side, and the services it needs running (PostgreSQL's connection pool).
    package func makeReadStore(dictionaries: PayloadDictionaries?, logger: Logger) -> (store: any ReadStore, services: [any Service]) {
        switch self {
        case .sqlite(let path, _):
            return (SQLiteReadStore(path: path, dictionaries: dictionaries), [])
        case .postgres(let url):
            let store = PostgresReadStore(url: url, dictionaries: dictionaries, logger: logger)
            return (store, [store.client])
        }
    }
}
