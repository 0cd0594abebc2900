package import PitModel
import SQLiteStore
package import PostgresStore
import Foundation
import Logging

/// Checks that every event the server acknowledged is stored.
package enum Verifier {
    package struct Outcome: Sendable {
        package var stored: Int
        package var missing: Int
        package var method: String
    }

    /// Reads the (stopped) server's SQLite database directly.
    package static func database(path: String, accepted: [EventID]) throws -> Outcome {
        let connection = try SQLiteConnection(path: path, readOnly: true)
        let ids = try connection.statement("SELECT event_id FROM events").query([]) { EventID(bytes: $0.blob(0)) }
        let stored = Set(ids.compactMap { $0 })
        let missing = accepted.reduce(0) { $0 + (stored.contains($1) ? 0 : 1) }
        return Outcome(stored: stored.count, missing: missing, method: "database: every acknowledged event id looked up")
    }

    /// Reads the (stopped) servers' PostgreSQL database directly.
    package static func postgres(_ url: PostgresDatabaseURL, accepted: [EventID]) throws -> Outcome {
        let stored = try PostgresInspection.eventIDs(url, logger: Logger(label: "pit-bench"))
        let missing = accepted.reduce(0) { $0 + (stored.contains($1) ? 0 : 1) }
        return Outcome(stored: stored.count, missing: missing, method: "database: every acknowledged event id looked up in PostgreSQL")
    }

    /// Asks a running server's read API for a sample of the acknowledged events.
    package static func api(host: String, port: Int, pathPrefix: String, organization: String, project: String, token: String,
                            accepted: [EventID], sample: Int = 500) -> Outcome
    {
        let step = max(1, accepted.count / max(1, sample))
        var checked = 0
        var missing = 0
        for index in stride(from: 0, to: accepted.count, by: step) {
            let path = "\(pathPrefix)/api/0/projects/\(organization)/\(project)/events/\(accepted[index].hex)/"
            let response = try? SimpleHTTP.get(host: host, port: port, path: path, headers: ["Authorization": "Bearer \(token)"])
            checked += 1
            if response?.status != 200 { missing += 1 }
        }
        return Outcome(stored: checked - missing, missing: missing,
                       method: "api: \(checked) of \(accepted.count) acknowledged events looked up")
    }
}
