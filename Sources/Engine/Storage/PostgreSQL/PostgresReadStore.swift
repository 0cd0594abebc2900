package import Logging
import NIOCore
package import PostgresNIO

/// The read side over postgres-nio's `PostgresClient` and its connection pool. The client is a
/// `Service`: the owner runs it in its ServiceGroup (before the HTTP server, so it stops after it).
package final class PostgresReadStore: ReadStore {
    package let client: PostgresClient
    private let logger: Logger
    private let maximumPayloadBytes: Int
    private let dictionaries: PayloadDictionaries?

    package init(url: PostgresDatabaseURL, maxConnections: Int = 8, maximumPayloadBytes: Int = 256 * 1024 * 1024,
                 dictionaries: PayloadDictionaries? = nil, logger: Logger)
    {
        client = PostgresClient(configuration: url.clientConfiguration(maximumConnections: maxConnections), backgroundLogger: logger)
        self.logger = logger
        self.maximumPayloadBytes = maximumPayloadBytes
        self.dictionaries = dictionaries
    }

    private static let issueColumns = """
        SELECT id, project_id, short_id, kind, title, culprit, metadata, level, status, substatus, resolved_in_release,
            first_seen, last_seen, times_seen, users_seen, first_release, last_release, grouping FROM issues
        """

    private func issues(_ query: PostgresQuery) async throws -> [IssueRow] {
        var result: [IssueRow] = []
        for try await row in try await client.query(query, logger: logger) {
            let columns = try row.decode((Int64, Int64, Int64, String, String, String, String, Int64, Int64, Int64, String?,
                                          Int64, Int64, Int64, Int64, String?, String?, String).self)
            result.append(IssueRow(
                id: columns.0, projectID: columns.1, shortID: columns.2, kind: columns.3, title: columns.4, culprit: columns.5,
                metadata: columns.6, level: Level(rawValue: Int(columns.7)) ?? .error,
                status: IssueStatus(rawValue: Int(columns.8)) ?? .unresolved, substatus: IssueSubstatus(rawValue: Int(columns.9)) ?? .none,
                resolvedInRelease: columns.10, firstSeen: columns.11, lastSeen: columns.12, timesSeen: columns.13,
                usersSeen: columns.14, firstRelease: columns.15, lastRelease: columns.16, grouping: columns.17
            ))
        }
        return result
    }

    private static let eventColumns = """
        SELECT id, project_id, issue_id, event_id, timestamp, received, level, release, environment, processing_errors,
            payload, dictionary_id FROM events
        """

    private func events(_ query: PostgresQuery) async throws -> [EventRow] {
        var result: [EventRow] = []
        for try await row in try await client.query(query, logger: logger) {
            let c = try row.decode((Int64, Int64, Int64, ByteBuffer, Int64, Int64, Int64, String?, String, String?, ByteBuffer, Int64?).self)
            result.append(EventRow(
                rowID: c.0, projectID: c.1, issueID: c.2, eventID: EventID(bytes: Array(c.3.readableBytesView)) ?? EventID(high: 0, low: 0),
                timestamp: c.4, received: c.5, level: Level(rawValue: Int(c.6)) ?? .error, release: c.7, environment: c.8,
                processingErrors: c.9, payload: try decompress(Array(c.10.readableBytesView), dictionaryID: c.11)
            ))
        }
        return result
    }

    private func decompress(_ bytes: [UInt8], dictionaryID: Int64?) throws -> [UInt8] {
        guard let dictionaryID else { return try PayloadCodec.decompress(bytes, limit: maximumPayloadBytes) }
        guard let dictionaries else { throw BodyDecodingError.corrupt("payload needs dictionary \(dictionaryID)") }
        return try dictionaries.decompress(bytes, dictionaryID: dictionaryID, limit: maximumPayloadBytes)
    }

    package func issues(projectID: Int64, query: IssueQuery) async throws -> [IssueRow] {
        var sql = Self.issueColumns + " WHERE project_id = $1"
        var bindings = PostgresBindings()
        bindings.append(projectID)
        func bind(_ value: some PostgresNonThrowingEncodable & PostgresDynamicTypeEncodable) -> String {
            bindings.append(value)
            return "$\(bindings.count)"
        }
        if !query.statuses.isEmpty { sql += " AND status = ANY(\(bind(query.statuses.map { Int64($0.rawValue) })))" }
        if !query.levels.isEmpty { sql += " AND level = ANY(\(bind(query.levels.map { Int64($0.rawValue) })))" }
        for text in query.text {
            // SQLite's LIKE is case-insensitive for ASCII; ILIKE is the same here.
            let pattern = "%" + SQLiteReadStore.escapeLike(text) + "%"
            sql += " AND (title ILIKE \(bind(pattern)) ESCAPE '\\' OR culprit ILIKE \(bind(pattern)) ESCAPE '\\')"
        }
        var facets = query.tags
        facets += query.environments.map { ("environment", $0) }
        facets += query.releases.map { ("release", $0) }
        for (key, value) in facets {
            sql += " AND EXISTS (SELECT 1 FROM issue_tags t WHERE t.issue_id = issues.id AND t.key = \(bind(key)) AND t.value = \(bind(value)))"
        }
        let column: String
        switch query.sort {
        case .date: column = "last_seen"
        case .new: column = "first_seen"
        case .freq: column = "times_seen"
        case .user: column = "users_seen"
        }
        if let cursor = query.cursor {
            let value = bind(cursor.value)
            sql += " AND (\(column) < \(value) OR (\(column) = \(value) AND id < \(bind(cursor.id))))"
        }
        sql += " ORDER BY \(column) DESC, id DESC LIMIT \(bind(Int64(max(1, min(query.limit, 1000)))))"
        return try await issues(PostgresQuery(unsafeSQL: sql, binds: bindings))
    }

    package func issue(id: Int64) async throws -> IssueRow? {
        var bindings = PostgresBindings()
        bindings.append(id)
        return try await issues(PostgresQuery(unsafeSQL: Self.issueColumns + " WHERE id = $1", binds: bindings)).first
    }

    package func events(issueID: Int64, limit: Int, before: Int64?) async throws -> [EventRow] {
        var bindings = PostgresBindings()
        bindings.append(issueID)
        bindings.append(before ?? Int64.max)
        bindings.append(Int64(max(1, min(limit, 1000))))
        return try await events(PostgresQuery(unsafeSQL: Self.eventColumns + " WHERE issue_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
                                              binds: bindings))
    }

    package func event(projectID: Int64, eventID: EventID) async throws -> EventRow? {
        var bindings = PostgresBindings()
        bindings.append(projectID)
        bindings.append(ByteBuffer(bytes: eventID.bytes))
        return try await events(PostgresQuery(unsafeSQL: Self.eventColumns + " WHERE project_id = $1 AND event_id = $2", binds: bindings)).first
    }

    package func latestEvent(issueID: Int64) async throws -> EventRow? {
        try await events(issueID: issueID, limit: 1, before: nil).first
    }

    package func counts(projectID: Int64) async throws -> (events: Int64, issues: Int64, items: Int64) {
        let query: PostgresQuery = """
            SELECT (SELECT COALESCE(SUM(times_seen), 0)::BIGINT FROM issues WHERE project_id = \(projectID)),
                   (SELECT COUNT(*) FROM issues WHERE project_id = \(projectID)),
                   (SELECT COUNT(*) FROM items WHERE project_id = \(projectID))
            """
        for try await row in try await client.query(query, logger: logger) {
            let (events, issues, items) = try row.decode((Int64, Int64, Int64).self)
            return (events, issues, items)
        }
        return (0, 0, 0)
    }
}
