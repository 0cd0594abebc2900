package import PitModel

/// The performance reads of both back ends, compiled once.
package enum TransactionSQL {
    /// project_id, name, total, failures, extrapolated, satisfied, tolerated, duration_sum, then
    /// the histogram buckets `h00`…`h47`: the window's aggregates per project and name, from the
    /// hour rows for long windows (`TransactionSummaryQuery.readsHours`), else the minute rows.
    package static func summaries(_ query: TransactionSummaryQuery, dialect: any SQLDialect) -> SQLStatement {
        var statement = SQLStatement(dialect)
        let sums =
            (["total", "failures"].map { dialect.sum($0) } + ["SUM(extrapolated)"]
                + (["satisfied", "tolerated", "duration_sum"] + DurationHistogram.columns).map { dialect.sum($0) })
        let filtered = aggregateRows(query, into: &statement)
        statement.sql = "SELECT project_id, name, \(sums.joined(separator: ", ")) FROM \(filtered) GROUP BY project_id, name"
        return statement
    }

    /// project_id, name, unit, total: the window's counts per project, name and minute or hour
    /// (whichever `summaries` reads), for sparklines.
    package static func series(_ query: TransactionSummaryQuery, dialect: any SQLDialect) -> SQLStatement {
        var statement = SQLStatement(dialect)
        let unit = query.readsHours ? "hour" : "minute"
        let filtered = aggregateRows(query, into: &statement)
        statement.sql =
            "SELECT project_id, name, \(unit), \(dialect.sum("total")) FROM \(filtered) GROUP BY project_id, name, \(unit)"
        return statement
    }

    /// `table AS a WHERE …`: the aggregate rows of the query's window and filters.
    private static func aggregateRows(_ query: TransactionSummaryQuery, into statement: inout SQLStatement) -> String {
        let dialect = statement.dialect
        let (table, unit, scale): (String, String, Int64) =
            query.readsHours ? (dialect.transactionHours, "hour", 3_600_000) : (dialect.transactionMinutes, "minute", 60_000)
        let first = query.from / scale
        let last = (query.to + scale - 1) / scale
        var sql = "\(table) AS a WHERE "
        sql += query.projectIDs.isEmpty ? "1 = 0" : statement.isOneOf("project_id", query.projectIDs)
        sql += " AND \(unit) >= \(statement.bind(first)) AND \(unit) < \(statement.bind(last))"
        if let text = query.nameContains, !text.isEmpty {
            sql += " AND LOWER(name) LIKE \(statement.bind("%" + LikePattern.escape(text.lowercased()) + "%")) ESCAPE '\\'"
        }
        if let name = query.name { sql += " AND name = \(statement.bind(name))" }
        if !query.environments.isEmpty { sql += " AND " + statement.isOneOf("environment", query.environments) }
        if let release = query.release { sql += " AND release = \(statement.bind(release))" }
        return sql
    }

    /// At most this many spans are read for the span pages, whatever the sample of transactions
    /// holds (a transaction may carry a thousand).
    package static let maxSampleSpans = 50_000

    /// `transactionColumns` of the sampled transactions: one name's slowest first, through
    /// `transactions_slowest` (the window filtered from the index, rows read only for the ones
    /// kept), else the project's newest first, through `transactions_project_received`.
    package static func samples(_ query: TransactionSampleQuery, dialect: any SQLDialect) -> SQLStatement {
        var statement = SQLStatement(dialect)
        statement.sql = sampleSelect(transactionColumns, query, into: &statement)
        return statement
    }

    /// The sample's size and its durations summed (microseconds).
    package static func sampleTotals(_ query: TransactionSampleQuery, dialect: any SQLDialect) -> SQLStatement {
        var statement = SQLStatement(dialect)
        let sample = sampleSelect("duration_us", query, into: &statement)
        statement.sql = "SELECT COUNT(*), COALESCE(\(dialect.sum("t.duration_us")), 0) FROM (\(sample)) AS t"
        return statement
    }

    /// op, description, trace_id, segment_id, duration_us: the spans of the sampled transactions
    /// (found through `spans_trace`), at most `maxSampleSpans` + 1. `+s.project_id` keeps SQLite
    /// from looping over `spans_project_start`, every span of the project per transaction.
    package static func sampleSpans(_ query: TransactionSampleQuery, dialect: any SQLDialect) -> SQLStatement {
        var statement = SQLStatement(dialect)
        let sample = sampleSelect("trace_id, span_id", query, into: &statement)
        statement.sql =
            "SELECT s.op, s.description, s.trace_id, s.segment_id, s.duration_us FROM (\(sample)) AS t "
            + "JOIN spans s ON s.trace_id = t.trace_id AND s.segment_id = t.span_id WHERE +s.project_id = \(statement.bind(query.projectID)) "
            + "LIMIT \(statement.bind(Int64(maxSampleSpans + 1)))"
        return statement
    }

    private static func sampleSelect(_ columns: String, _ query: TransactionSampleQuery, into statement: inout SQLStatement) -> String {
        var sql = "SELECT \(columns) FROM transactions WHERE project_id = \(statement.bind(query.projectID))"
        // With a name, `+received` keeps SQLite off `transactions_project_received`: without
        // statistics it would rather range over the whole project's window (519 ms for a day of
        // 200,000 transactions, against 0.1 ms walking `transactions_slowest`).
        let received = query.name == nil ? "received" : "+received"
        if let name = query.name { sql += " AND name = \(statement.bind(name))" }
        sql += " AND \(received) >= \(statement.bind(query.from)) AND \(received) < \(statement.bind(query.to))"
        if let environment = query.environment { sql += " AND environment = \(statement.bind(environment))" }
        sql += query.name == nil ? " ORDER BY received DESC" : " ORDER BY duration_us DESC"
        return sql + " LIMIT \(statement.bind(Int64(query.limit)))"
    }

    /// name, measurements: the project's newest transactions of the window that carry
    /// measurements, through the partial index `transactions_measurements` (a backend's
    /// transactions, which have none, are not read at all).
    package static func measurements(_ query: TransactionSampleQuery, dialect: any SQLDialect) -> SQLStatement {
        var statement = SQLStatement(dialect)
        var sql =
            "SELECT name, measurements FROM transactions WHERE project_id = \(statement.bind(query.projectID)) AND measurements IS NOT NULL"
        sql += " AND received >= \(statement.bind(query.from)) AND received < \(statement.bind(query.to))"
        if let name = query.name { sql += " AND name = \(statement.bind(name))" }
        if let environment = query.environment { sql += " AND environment = \(statement.bind(environment))" }
        statement.sql = sql + " ORDER BY received DESC LIMIT \(statement.bind(Int64(query.limit)))"
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
