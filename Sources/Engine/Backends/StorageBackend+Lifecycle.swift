package import Logging
package import PitStorage
import SQLiteStore
import PostgresStore

extension StorageBackend {
    /// The retention purge's own connection to the database.
    package func makePurgeStore(logger: Logger) throws -> any PurgeStore {
        switch self {
        case .sqlite(let path, _): try SQLitePurgeStore(path: path)
        case .postgres(let url): try PostgresPurgeStore(url: url, logger: logger)
        }
    }
}
