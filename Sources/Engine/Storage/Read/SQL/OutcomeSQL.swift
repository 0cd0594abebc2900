/// The outcome rows a `stats_v2` answer and the project stats page are built from: columns
/// project_id, hour, outcome, category, reason, quantity, times_seen, one row per stored key
/// (the table's primary key), in key order.
package enum OutcomeSQL {
    package static func rows(_ query: OutcomeQuery, dialect: any SQLDialect) -> SQLStatement {
        var statement = SQLStatement(dialect)
        let projects = statement.isOneOf("project_id", query.projectIDs.isEmpty ? [-1] : query.projectIDs)
        statement.sql = """
            SELECT project_id, hour, outcome, category, reason, quantity, times_seen FROM \(dialect.outcomesHourly) AS o
            WHERE \(projects) AND hour >= \(statement.bind(query.fromHour)) AND hour <= \(statement.bind(query.toHour))
            ORDER BY project_id, hour, \(dialect.byteOrder("outcome")), \(dialect.byteOrder("category")), \(dialect.byteOrder("reason"))
            """
        return statement
    }
}
