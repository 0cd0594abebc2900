import Foundation
package import Logging
import PostgresNIO

/// Throw-away databases for `pitd database` (which pit-bench runs for a spawned pitd): create a
/// fresh one, measure it, drop it.
package enum PostgresInspection {
    /// Creates an empty database on the server `server` names and returns its URL.
    package static func createDatabase(on server: PostgresDatabaseURL, prefix: String = "pit_bench", logger: Logger) throws
        -> PostgresDatabaseURL
    {
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

    package static func databaseBytes(_ url: PostgresDatabaseURL, logger: Logger) throws -> Int {
        let session = try PostgresSession(url: url, logger: logger)
        defer { session.close() }
        for row in try session.query("SELECT pg_database_size(current_database())") { return Int(try row.decode(Int64.self)) }
        return 0
    }
}
