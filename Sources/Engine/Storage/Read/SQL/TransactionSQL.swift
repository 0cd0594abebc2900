package import PitModel

/// The performance reads of both back ends, compiled once.
package enum TransactionSQL {
    /// project_id, name, total, failures, extrapolated, satisfied, tolerated, duration_sum, then
    /// the histogram buckets `h00`…`h47`: the window's aggregates per project and name, from the
    /// hour rows for long windows (`TransactionSummaryQuery.readsHours`), else the minute rows.
    package static func summaries(_ query: TransactionSummaryQuery, dialect: any SQLDialect) -> SQLStatement {
        var statement = SQLStatement(dialect)
        let hourly = query.readsHours
        let (table, unit, scale): (String, String, Int64) =
            hourly ? (dialect.transactionHours, "hour", 3_600_000) : (dialect.transactionMinutes, "minute", 60_000)
        let first = query.from / scale
        let last = (query.to + scale - 1) / scale
        let sums =
            (["total", "failures"].map { dialect.sum($0) } + ["SUM(extrapolated)"]
                + (["satisfied", "tolerated", "duration_sum"] + DurationHistogram.columns).map { dialect.sum($0) })
        var sql = "SELECT project_id, name, \(sums.joined(separator: ", ")) FROM \(table) AS a WHERE "
        sql += query.projectIDs.isEmpty ? "1 = 0" : statement.isOneOf("project_id", query.projectIDs)
        sql += " AND \(unit) >= \(statement.bind(first)) AND \(unit) < \(statement.bind(last))"
        if let text = query.nameContains, !text.isEmpty {
            sql += " AND LOWER(name) LIKE \(statement.bind("%" + LikePattern.escape(text.lowercased()) + "%")) ESCAPE '\\'"
        }
        if !query.environments.isEmpty { sql += " AND " + statement.isOneOf("environment", query.environments) }
        if let release = query.release { sql += " AND release = \(statement.bind(release))" }
        sql += " GROUP BY project_id, name"
        statement.sql = sql
        return statement
    }

    /// Columns of `TransactionRow`, in its order.
    package static let transactionColumns = """
        project_id, event_id, trace_id, span_id, parent_span_id, name, op, status, start_us, duration_us, release, environment,
            platform, sample_rate, measurements, received
        """

    /// The trace's transactions in the projects, earliest first.
    package static func traceTransactions(traceID: TraceID, projectIDs: [Int64], limit: Int, dialect: any SQLDialect) -> SQLStatement {
        var statement = SQLStatement(dialect)
        statement.sql =
            "SELECT \(transactionColumns) FROM transactions WHERE trace_id = \(statement.bind(traceID.bytes)) AND "
            + statement.isOneOf("project_id", projectIDs.isEmpty ? [-1] : projectIDs)
            + " ORDER BY start_us, id LIMIT \(statement.bind(Int64(limit)))"
        return statement
    }

    /// project_id, trace_id, span_id, parent_span_id, segment_id, op, description, status,
    /// start_us, duration_us: the trace's spans in the projects, earliest first.
    package static func traceSpans(traceID: TraceID, projectIDs: [Int64], limit: Int, dialect: any SQLDialect) -> SQLStatement {
        var statement = SQLStatement(dialect)
        statement.sql =
            """
            SELECT project_id, trace_id, span_id, parent_span_id, segment_id, op, description, status, start_us, duration_us
            FROM spans WHERE trace_id = \(statement.bind(traceID.bytes)) AND
            """ + " " + statement.isOneOf("project_id", projectIDs.isEmpty ? [-1] : projectIDs)
            + " ORDER BY start_us, span_id LIMIT \(statement.bind(Int64(limit)))"
        return statement
    }

    /// project_id, event_id, issue_id, short_id, title, level, timestamp, span_id: the error
    /// events of the trace in the projects, earliest first.
    package static func traceErrors(traceID: TraceID, projectIDs: [Int64], limit: Int, dialect: any SQLDialect) -> SQLStatement {
        var statement = SQLStatement(dialect)
        statement.sql =
            """
            SELECT e.project_id, e.event_id, e.issue_id, i.short_id, i.title, e.level, e.timestamp, e.span_id
            FROM events e JOIN issues i ON i.id = e.issue_id WHERE e.trace_id = \(statement.bind(traceID.bytes)) AND
            """ + " " + statement.isOneOf("e.project_id", projectIDs.isEmpty ? [-1] : projectIDs)
            + " ORDER BY e.timestamp, e.id LIMIT \(statement.bind(Int64(limit)))"
        return statement
    }

    /// `transactionColumns`, then payload, dictionary_id, payload_size: one transaction by id.
    package static func transaction(projectID: Int64, eventID: EventID, dialect: any SQLDialect) -> SQLStatement {
        var statement = SQLStatement(dialect)
        statement.sql =
            "SELECT \(transactionColumns), payload, dictionary_id, payload_size FROM transactions WHERE project_id = "
            + "\(statement.bind(projectID)) AND event_id = \(statement.bind(eventID.bytes))"
        return statement
    }
}
