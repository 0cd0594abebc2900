import PitModel
package import PitStorage
import PostgresNIO

extension PostgresReadStore {
    package func logs(_ query: LogQuery) async throws -> [LogRow] {
        var result: [LogRow] = []
        for try await row in try await client.query(PostgresQuery(LogSQL.logs(query, dialect: Self.dialect)), logger: logger) {
            let c = try row.decode(
                (Int64, Int64, Int64, Int64, Int64, Int64, String?, String?, String, String?, String?, String?, String).self)
            result.append(
                LogRow(
                    id: c.0, projectID: c.1, timestamp: c.2, received: c.3, severity: LogSeverity(rawValue: Int(c.4)) ?? .info,
                    severityNumber: Int(c.5), traceID: c.6, spanID: c.7, body: c.8, release: c.9, environment: c.10, sdk: c.11,
                    attributes: c.12))
        }
        return result
    }
}
