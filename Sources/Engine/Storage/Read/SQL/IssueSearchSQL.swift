import PitModel

/// The issue search compiled to SQL, once for both back ends: an `IssueQuery`'s terms become a
/// condition on the `issues` columns, its sort and cursor the keyset page. The back ends choose
/// the table the condition runs over (PostgreSQL adds pending counter deltas) and execute it.
package enum IssueSearchSQL {
    /// The condition an issue must meet (no leading `WHERE`). Tag terms match within the searched
    /// environments when there are any (`environment:prod browser:Firefox` = Firefox seen in
    /// prod). Tag terms are `id IN (…)` over the (key, value, issue_id) index rather than a
    /// correlated EXISTS: a rare value (one user's email) then costs one index range instead of a
    /// probe per issue. `now` resolves the relative time terms (milliseconds).
    package static func condition(projectID: Int64, query: IssueQuery, now: Int64, into statement: inout SQLStatement) -> String {
        var sql = "project_id = \(statement.bind(projectID))"
        if !query.statuses.isEmpty { sql += " AND " + statement.isOneOf("status", query.statuses.map { Int64($0.rawValue) }) }
        if !query.levels.isEmpty { sql += " AND " + statement.isOneOf("level", query.levels.map { Int64($0.rawValue) }) }
        if let span = query.lastSeenWithin { sql += " AND last_seen >= \(statement.bind(now - span))" }
        if let span = query.firstSeenWithin { sql += " AND first_seen >= \(statement.bind(now - span))" }
        for text in query.text { sql += " AND " + statement.dialect.issueTextMatch(text, into: &statement) }
        let tagValues = statement.dialect.issueTagValues
        let facets = query.tags + query.releases.map { ("release", $0) }
        if !query.environments.isEmpty {
            sql +=
                " AND id IN (SELECT t.issue_id FROM \(tagValues) t WHERE t.key = 'environment' AND "
                + statement.isOneOf("t.value", query.environments) + ")"
            for (key, value) in facets {
                sql +=
                    " AND id IN (SELECT t.issue_id FROM \(tagValues) t WHERE t.key = \(statement.bind(key))"
                    + " AND t.value = \(statement.bind(value)) AND " + statement.isOneOf("t.environment", query.environments) + ")"
            }
        } else {
            for (key, value) in facets {
                sql +=
                    " AND id IN (SELECT t.issue_id FROM \(tagValues) t WHERE t.key = \(statement.bind(key))"
                    + " AND t.value = \(statement.bind(value)))"
            }
        }
        return sql
    }

    /// ` AND …` past the query's cursor (the last issue of the previous page), or nothing.
    package static func afterCursor(_ query: IssueQuery, into statement: inout SQLStatement) -> String {
        guard let cursor = query.cursor else { return "" }
        let column = query.sort.column
        return
            " AND (\(column) < \(statement.bind(cursor.value)) OR (\(column) = \(statement.bind(cursor.value))"
            + " AND id < \(statement.bind(cursor.id))))"
    }

    /// ` ORDER BY … LIMIT …` of a page: the sort column, then the id, both descending (the
    /// keyset the cursor continues), at most 1,000 issues.
    package static func page(_ query: IssueQuery, into statement: inout SQLStatement) -> String {
        " ORDER BY \(query.sort.column) DESC, id DESC LIMIT \(statement.bind(Int64(max(1, min(query.limit, 1000)))))"
    }

    /// Counts the issues of `table` that match, up to `IssueQuery.maxHits` + 1: beyond that,
    /// "1,000+" is as useful and costs no full scan.
    package static func count(from table: String, projectID: Int64, query: IssueQuery, now: Int64, dialect: any SQLDialect)
        -> SQLStatement
    {
        var statement = SQLStatement(dialect)
        let condition = condition(projectID: projectID, query: query, now: now, into: &statement)
        statement.sql = "SELECT COUNT(*) FROM (SELECT 1 FROM \(table) WHERE \(condition) LIMIT \(IssueQuery.maxHits + 1)) AS matches"
        return statement
    }
}
