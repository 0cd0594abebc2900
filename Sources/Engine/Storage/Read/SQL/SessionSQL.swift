/// The release-health reads of both back ends, compiled once. Every statement returns the four
/// group columns first (project_id, release, environment, interval), constants where the query
/// does not group by them, so each back end decodes one fixed row shape.
package enum SessionSQL {
    /// project_id, release, environment, interval, started, errored, abnormal, crashed.
    package static func sessions(_ query: SessionQuery, dialect: any SQLDialect) -> SQLStatement {
        var statement = SQLStatement(dialect)
        let columns = groupColumns(query, into: &statement)
        let filter = whereClause(query, into: &statement)
        statement.sql =
            "SELECT \(columns.select), "
            + ["started", "errored", "abnormal", "crashed"].map { "COALESCE(\(dialect.sum($0)), 0)" }.joined(separator: ", ")
            + " FROM \(dialect.sessionHourly) AS s WHERE \(filter)\(columns.groupBy)"
        return statement
    }

    /// project_id, release, environment, interval, outcome, users: each user counted once per
    /// group, under the worst outcome of its sessions there.
    package static func users(_ query: SessionQuery, dialect: any SQLDialect) -> SQLStatement {
        var statement = SQLStatement(dialect)
        let columns = groupColumns(query, into: &statement)
        let filter = whereClause(query, into: &statement)
        let groupBy = columns.groupBy.isEmpty ? " GROUP BY did" : columns.groupBy + ", did"
        let inner = "SELECT \(columns.select), did, MAX(outcome) AS worst FROM session_users WHERE \(filter)\(groupBy)"
        statement.sql =
            "SELECT g_project, g_release, g_environment, g_span, worst, COUNT(*) FROM (\(inner)) u"
            + " GROUP BY g_project, g_release, g_environment, g_span, worst"
        return statement
    }

    /// project_id, release, environment, interval, bucket, sessions.
    package static func durations(_ query: SessionQuery, dialect: any SQLDialect) -> SQLStatement {
        var statement = SQLStatement(dialect)
        let columns = groupColumns(query, into: &statement)
        let filter = whereClause(query, into: &statement)
        statement.sql =
            "SELECT \(columns.select), bucket, \(dialect.sum("sessions")) FROM \(dialect.sessionDurations) AS s WHERE \(filter)"
            + (columns.groupBy.isEmpty ? " GROUP BY bucket" : "\(columns.groupBy), bucket")
        return statement
    }

    /// The group columns, aliased `g_project`, `g_release`, `g_environment`, `g_span` (never a
    /// table column's name: SQLite would resolve the column in `WHERE` to a constant), and the
    /// `GROUP BY` they need (empty when nothing is grouped). The span is grouped by its alias so
    /// its parameters are bound once, where they appear.
    private static func groupColumns(_ query: SessionQuery, into statement: inout SQLStatement) -> (select: String, groupBy: String) {
        var grouped: [String] = []
        var select: [String] = []
        for (on, column, constant, alias) in [
            (query.byProject, "project_id", "CAST(0 AS BIGINT)", "g_project"),
            (query.byRelease, "release", "CAST('' AS TEXT)", "g_release"),
            (query.byEnvironment, "environment", "CAST('' AS TEXT)", "g_environment"),
        ] {
            select.append("\(on ? column : constant) AS \(alias)")
            if on { grouped.append(column) }
        }
        if let hours = query.intervalHours {
            select.append("CAST((hour - \(statement.bind(query.fromHour))) / \(statement.bind(max(1, hours))) AS BIGINT) AS g_span")
            grouped.append("g_span")
        } else {
            select.append("CAST(0 AS BIGINT) AS g_span")
        }
        let groupBy = grouped.isEmpty ? "" : " GROUP BY " + grouped.joined(separator: ", ")
        return (select.joined(separator: ", "), groupBy)
    }

    private static func whereClause(_ query: SessionQuery, into statement: inout SQLStatement) -> String {
        var conditions = [statement.isOneOf("project_id", query.projectIDs.isEmpty ? [-1] : query.projectIDs)]
        conditions.append("hour BETWEEN \(statement.bind(query.fromHour)) AND \(statement.bind(query.toHour))")
        if let releases = query.releases { conditions.append(statement.isOneOf("release", releases.isEmpty ? [""] : releases)) }
        if !query.environments.isEmpty { conditions.append(statement.isOneOf("environment", query.environments)) }
        return conditions.joined(separator: " AND ")
    }
}
