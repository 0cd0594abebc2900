package import PitModel

/// The profile reads of both back ends, compiled once. Every statement names the projects it
/// may read, so a profile id or a trace id never reaches another project's rows.
package enum ProfileSQL {
    /// Columns of `ProfileRow`, in its order.
    package static let columns =
        "project_id, profile_id, transaction_id, trace_id, platform, timestamp, duration_us, samples, received"

    /// `columns`, then payload and payload_size: one profile by id.
    package static func profile(projectID: Int64, profileID: EventID, dialect: any SQLDialect) -> SQLStatement {
        var statement = SQLStatement(dialect)
        statement.sql =
            "SELECT \(columns), payload, payload_size FROM profiles WHERE project_id = \(statement.bind(projectID)) AND profile_id = "
            + statement.bind(profileID.bytes)
        return statement
    }

    /// `columns`: the profiles of one transaction, earliest first.
    package static func ofTransaction(projectID: Int64, transactionID: EventID, dialect: any SQLDialect) -> SQLStatement {
        var statement = SQLStatement(dialect)
        statement.sql =
            "SELECT \(columns) FROM profiles WHERE project_id = \(statement.bind(projectID)) AND transaction_id = "
            + "\(statement.bind(transactionID.bytes)) ORDER BY timestamp, id LIMIT 10"
        return statement
    }

    /// `columns`: the profiles of a trace in the projects, earliest first, at most `limit`.
    package static func ofTrace(traceID: TraceID, projectIDs: [Int64], limit: Int, dialect: any SQLDialect) -> SQLStatement {
        var statement = SQLStatement(dialect)
        statement.sql =
            "SELECT \(columns) FROM profiles WHERE trace_id = \(statement.bind(traceID.bytes)) AND "
            + statement.isOneOf("project_id", projectIDs.isEmpty ? [-1] : projectIDs)
            + " ORDER BY timestamp, id LIMIT \(statement.bind(Int64(limit)))"
        return statement
    }
}
