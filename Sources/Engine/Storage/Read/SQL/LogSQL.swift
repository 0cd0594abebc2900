import PitModel

/// The log explorer's read, compiled once for both back ends.
package enum LogSQL {
    /// Log columns in this order: id, project_id, timestamp, received, level, severity_number,
    /// trace_id, span_id, body, release, environment, sdk, attributes. Newest first by
    /// (timestamp, id), the `logs_project_timestamp` index's order. Text filters compare
    /// lowercased text with `LIKE`, which both back ends run alike.
    package static func logs(_ query: LogQuery, dialect: any SQLDialect) -> SQLStatement {
        var statement = SQLStatement(dialect)
        var sql = """
            SELECT id, project_id, timestamp, received, level, severity_number, trace_id, span_id, body, release, environment, sdk,
                attributes FROM logs WHERE
            """
        sql += " " + (query.projectIDs.isEmpty ? "1 = 0" : statement.isOneOf("project_id", query.projectIDs))
        if let since = query.since { sql += " AND timestamp >= \(statement.bind(since))" }
        if let until = query.until { sql += " AND timestamp < \(statement.bind(until))" }
        if let before = query.before {
            sql +=
                " AND (timestamp < \(statement.bind(before.timestamp))"
                + " OR (timestamp = \(statement.bind(before.timestamp)) AND id < \(statement.bind(before.id))))"
        }
        if !query.severities.isEmpty {
            sql += " AND " + statement.isOneOf("level", query.severities.map { Int64($0.rawValue) })
        }
        if let traceID = query.traceID { sql += " AND trace_id = \(statement.bind(traceID))" }
        if let spanID = query.spanID { sql += " AND span_id = \(statement.bind(spanID))" }
        if let release = query.release { sql += " AND release = \(statement.bind(release))" }
        if !query.environments.isEmpty { sql += " AND " + statement.isOneOf("environment", query.environments) }
        for pattern in query.messagePatterns { sql += " AND LOWER(body) LIKE \(statement.bind(pattern)) ESCAPE '\\'" }
        for group in query.attributeFragments where !group.isEmpty {
            let alternatives = group.map {
                "LOWER(attributes) LIKE \(statement.bind("%" + LikePattern.escape($0.lowercased()) + "%")) ESCAPE '\\'"
            }
            sql += " AND (" + alternatives.joined(separator: " OR ") + ")"
        }
        if !query.excludedSeverities.isEmpty {
            sql += " AND NOT " + statement.isOneOf("level", query.excludedSeverities.map { Int64($0.rawValue) })
        }
        for pattern in query.excludedMessagePatterns { sql += " AND LOWER(body) NOT LIKE \(statement.bind(pattern)) ESCAPE '\\'" }
        for group in query.excludedAttributeFragments where !group.isEmpty {
            let alternatives = group.map {
                "LOWER(attributes) LIKE \(statement.bind("%" + LikePattern.escape($0.lowercased()) + "%")) ESCAPE '\\'"
            }
            sql += " AND NOT (" + alternatives.joined(separator: " OR ") + ")"
        }
        // A log without the column (NULL) has none of the excluded values.
        for column in LogQuery.Column.allCases {
            guard let values = query.excludedValues[column], !values.isEmpty else { continue }
            sql += " AND (\(column.rawValue) IS NULL OR NOT \(statement.isOneOf(column.rawValue, values)))"
        }
        sql += " ORDER BY timestamp DESC, id DESC LIMIT \(statement.bind(Int64(max(1, min(query.limit, 1000)))))"
        statement.sql = sql
        return statement
    }
}
