import Foundation
package import Logging
import NIOCore
import PostgresNIO
package import PitModel

/// What pit-bench and the tests ask a PostgreSQL server directly: fresh databases for runs, the
/// stored event ids for verification, and the size of a database.
package enum PostgresInspection {
    /// Creates an empty database on the server `server` names and returns its URL.
    package static func createDatabase(on server: PostgresDatabaseURL, prefix: String = "pit_bench", logger: Logger) throws -> PostgresDatabaseURL {
        let session = try PostgresSession(url: server, logger: logger)
        defer { session.close() }
        let name = "\(prefix)_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        try session.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"))
        var url = server
        url.database = name
        return url
    }

    /// Drops a database created by `createDatabase` (connecting to the server's own database).
    package static func dropDatabase(_ url: PostgresDatabaseURL, server: PostgresDatabaseURL, logger: Logger) throws {
        let session = try PostgresSession(url: server, logger: logger)
        defer { session.close() }
        try session.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(url.database) WITH (FORCE)"))
    }

    package static func eventIDs(_ url: PostgresDatabaseURL, logger: Logger) throws -> Set<EventID> {
        let session = try PostgresSession(url: url, logger: logger)
        defer { session.close() }
        var ids = Set<EventID>()
        for row in try session.query("SELECT event_id FROM events") {
            if let id = EventID(bytes: Array(try row.decode(ByteBuffer.self).readableBytesView)) { ids.insert(id) }
        }
        return ids
    }

    package static func databaseBytes(_ url: PostgresDatabaseURL, logger: Logger) throws -> Int {
        let session = try PostgresSession(url: url, logger: logger)
        defer { session.close() }
        for row in try session.query("SELECT pg_database_size(current_database())") { return Int(try row.decode(Int64.self)) }
        return 0
    }
}
