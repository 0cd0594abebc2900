import PitModel
package import PitStorage

extension SQLiteReadStore {
    package func logs(_ query: LogQuery) async throws -> [LogRow] {
        try await read { db in
            try db.query(LogSQL.logs(query, dialect: Self.dialect)) { row in
                LogRow(
                    id: row.int(0), projectID: row.int(1), timestamp: row.int(2), received: row.int(3),
                    severity: LogSeverity(rawValue: Int(row.int(4))) ?? .info, severityNumber: Int(row.int(5)), traceID: row.text(6),
                    spanID: row.text(7), body: row.text(8) ?? "", release: row.text(9), environment: row.text(10), sdk: row.text(11),
                    attributes: row.text(12) ?? "{}")
            }
        }
    }
}
