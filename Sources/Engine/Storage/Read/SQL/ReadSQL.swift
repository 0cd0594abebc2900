package import PitModel

/// The read statements other than the issue search that both back ends run, compiled once.
package enum ReadSQL {
    /// The event columns every event read decodes, in this order: id, project_id, issue_id,
    /// event_id, timestamp, received, level, release, environment, processing_errors, payload,
    /// dictionary_id, read_view, payload_size.
    package static let eventColumns = """
        SELECT id, project_id, issue_id, event_id, timestamp, received, level, release, environment, processing_errors,
            payload, dictionary_id, read_view, payload_size FROM events
        """

    /// A project's or an issue's events, newest first, filtered (`ReadStore.events(_:)`).
    package static func events(_ query: EventQuery, dialect: any SQLDialect) -> SQLStatement {
        var statement = SQLStatement(dialect)
        var sql = eventColumns
        if let issueID = query.issueID {
            // (issue_id, id) index; the project check keeps an issue id from another project out.
            sql += " WHERE issue_id = \(statement.bind(issueID)) AND project_id = \(statement.bind(query.projectID))"
        } else {
            sql += " WHERE project_id = \(statement.bind(query.projectID))"
        }
        if let environment = query.environment { sql += " AND environment = \(statement.bind(environment))" }
        if let release = query.release { sql += " AND release = \(statement.bind(release))" }
        if let level = query.level { sql += " AND level = \(statement.bind(Int64(level.rawValue)))" }
        if let user = query.userKey { sql += " AND user_key = \(statement.bind(user))" }
        if let since = query.since { sql += " AND received >= \(statement.bind(since))" }
        if let before = query.before { sql += " AND id < \(statement.bind(before))" }
        sql += " ORDER BY id DESC LIMIT \(statement.bind(Int64(max(1, min(query.limit, 1000)))))"
        statement.sql = sql
        return statement
    }

    /// The row ids of the first, previous, next and latest events of an issue around `rowID`, as
    /// one row of four nullable integers.
    package static func eventNavigation(issueID: Int64, rowID: Int64, environment: String?, dialect: any SQLDialect)
        -> SQLStatement
    {
        var statement = SQLStatement(dialect)
        // Bound in the order they appear: SQLite's `?` placeholders are positional.
        func scope() -> String { environment.map { " AND environment = \(statement.bind($0))" } ?? "" }
        var sql = "SELECT (SELECT MIN(id) FROM events WHERE issue_id = \(statement.bind(issueID))\(scope())),"
        sql += " (SELECT MAX(id) FROM events WHERE issue_id = \(statement.bind(issueID)) AND id < \(statement.bind(rowID))\(scope())),"
        sql += " (SELECT MIN(id) FROM events WHERE issue_id = \(statement.bind(issueID)) AND id > \(statement.bind(rowID))\(scope())),"
        sql += " (SELECT MAX(id) FROM events WHERE issue_id = \(statement.bind(issueID))\(scope()))"
        statement.sql = sql
        return statement
    }

    /// An issue's (key, value, events, first seen, last seen) tag rows, summed over environments
    /// unless one is given, each key's values most frequent first (`TagFacet.facets` groups them).
    package static func tagValues(issueID: Int64, key: String?, environment: String?, limit: Int, dialect: any SQLDialect)
        -> SQLStatement
    {
        var statement = SQLStatement(dialect)
        var sql =
            "SELECT key, value, \(dialect.sum("times_seen")), MIN(first_seen), MAX(last_seen) FROM \(dialect.issueTagValues) t"
            + " WHERE issue_id = \(statement.bind(issueID))"
        if let key { sql += " AND key = \(statement.bind(key))" }
        if let environment { sql += " AND environment = \(statement.bind(environment))" }
        sql +=
            " GROUP BY key, value ORDER BY \(dialect.byteOrder("key")), \(dialect.sum("times_seen")) DESC, \(dialect.byteOrder("value"))"
            + " LIMIT \(statement.bind(Int64(max(1, limit))))"
        statement.sql = sql
        return statement
    }

    /// Feedback columns in this order: id, project_id, feedback_id, event_id, kind, name, email,
    /// comments, url, user_json, timestamp, received, and the issue of the event it is about
    /// (found through the (project_id, event_id) index when read, so feedback that came first
    /// is linked as soon as its event is stored).
    package static func feedback(_ query: FeedbackQuery, dialect: any SQLDialect) -> SQLStatement {
        var statement = SQLStatement(dialect)
        var sql = """
            SELECT f.id, f.project_id, f.feedback_id, f.event_id, f.kind, f.name, f.email, f.comments, f.url, f.user_json,
                f.timestamp, f.received,
                (SELECT e.issue_id FROM events e WHERE e.project_id = f.project_id AND e.event_id = f.event_id) AS issue_id
            FROM feedback f WHERE f.project_id = \(statement.bind(query.projectID))
            """
        if let issueID = query.issueID {
            sql +=
                " AND EXISTS (SELECT 1 FROM events e WHERE e.project_id = f.project_id AND e.event_id = f.event_id"
                + " AND e.issue_id = \(statement.bind(issueID)))"
        }
        if let before = query.before { sql += " AND f.id < \(statement.bind(before))" }
        sql += " ORDER BY f.id DESC LIMIT \(statement.bind(Int64(max(1, min(query.limit, 1000)))))"
        statement.sql = sql
        return statement
    }

    /// Attachment metadata columns in this order: id, project_id, event_id, name, attachment_type,
    /// content_type, size, sha1, received.
    static let attachmentColumns =
        "SELECT id, project_id, event_id, name, attachment_type, content_type, size, sha1, received FROM attachments"

    /// An event's attachments in the order they were stored (the (project_id, event_id, ...)
    /// index); at most 100, which bounds a page (Relay allows 30 per envelope).
    package static func attachments(projectID: Int64, eventID: EventID, dialect: any SQLDialect) -> SQLStatement {
        var statement = SQLStatement(dialect)
        statement.sql =
            attachmentColumns
            + " WHERE project_id = \(statement.bind(projectID)) AND event_id = \(statement.bind(eventID.bytes)) ORDER BY id LIMIT 100"
        return statement
    }

    /// One attachment of a project by id; another project's id finds nothing.
    package static func attachment(projectID: Int64, id: Int64, dialect: any SQLDialect) -> SQLStatement {
        var statement = SQLStatement(dialect)
        statement.sql = attachmentColumns + " WHERE id = \(statement.bind(id)) AND project_id = \(statement.bind(projectID))"
        return statement
    }

    /// An attachment's bytes: size, compressed, content.
    package static func attachmentContent(projectID: Int64, id: Int64, dialect: any SQLDialect) -> SQLStatement {
        var statement = SQLStatement(dialect)
        statement.sql =
            "SELECT size, compressed, content FROM attachments WHERE id = \(statement.bind(id)) AND project_id = \(statement.bind(projectID))"
        return statement
    }
}
