package import Logging
import NIOCore
package import PitModel
package import PitStorage
package import PostgresNIO

/// The read side over postgres-nio's `PostgresClient` and its connection pool. The client is a
/// `Service`: the owner runs it in its ServiceGroup (before the HTTP server, so it stops after it).
package final class PostgresReadStore: ReadStore {
    package let client: PostgresClient
    let logger: Logger
    private let maximumPayloadBytes: Int
    private let dictionaries: PayloadDictionaries?

    package init(
        url: PostgresDatabaseURL, maxConnections: Int = 8, maximumPayloadBytes: Int = 256 * 1024 * 1024,
        dictionaries: PayloadDictionaries? = nil, logger: Logger
    ) {
        client = PostgresClient(configuration: url.clientConfiguration(maximumConnections: maxConnections), backgroundLogger: logger)
        self.logger = logger
        self.maximumPayloadBytes = maximumPayloadBytes
        self.dictionaries = dictionaries
    }

    /// Lists leave the grouping explanation out (`grouping` = ""): only the issue page shows it.
    private static let issueColumns = """
        SELECT id, project_id, short_id, kind, title, culprit, metadata, level, status, substatus, resolved_in_release,
            first_seen, last_seen, times_seen, users_seen, first_release, last_release, ''
        """

    /// Counters as they stand (`PostgresCounters`): what was rolled up plus what is pending.
    private static let issueDetailColumns = """
        SELECT id, project_id, short_id, kind, title, culprit, metadata, level, status, substatus, resolved_in_release,
            first_seen, last_seen, times_seen, users_seen, first_release, last_release,
            COALESCE((SELECT grouping FROM issue_groupings g WHERE g.issue_id = issues.id), '') FROM \(PostgresCounters.liveIssues()) AS issues
        """

    private func issues(_ query: PostgresQuery) async throws -> [IssueRow] {
        var result: [IssueRow] = []
        for try await row in try await client.query(query, logger: logger) {
            let columns = try row.decode(
                (
                    Int64, Int64, Int64, String, String, String, String, Int64, Int64, Int64, String?,
                    Int64, Int64, Int64, Int64, String?, String?, String
                ).self)
            result.append(
                IssueRow(
                    id: columns.0, projectID: columns.1, shortID: columns.2, kind: columns.3, title: columns.4, culprit: columns.5,
                    metadata: columns.6, level: Level(rawValue: Int(columns.7)) ?? .error,
                    status: IssueStatus(rawValue: Int(columns.8)) ?? .unresolved,
                    substatus: IssueSubstatus(rawValue: Int(columns.9)) ?? .none,
                    resolvedInRelease: columns.10, firstSeen: columns.11, lastSeen: columns.12, timesSeen: columns.13,
                    usersSeen: columns.14, firstRelease: columns.15, lastRelease: columns.16, grouping: columns.17
                ))
        }
        return result
    }

    private static let eventColumns = ReadSQL.eventColumns

    private typealias EventColumns = (
        Int64, Int64, Int64, ByteBuffer, Int64, Int64, Int64, String?, String, String?, ByteBuffer, Int64?, ByteBuffer?, Int64
    )

    private func events(_ query: PostgresQuery) async throws -> [EventRow] {
        var rows: [EventColumns] = []
        for try await row in try await client.query(query, logger: logger) {
            rows.append(try row.decode(EventColumns.self))
        }
        try await loadDictionaries(Set(rows.compactMap(\.11)))
        var result: [EventRow] = []
        result.reserveCapacity(rows.count)
        for c in rows {
            var view = c.12.flatMap { EventReadView(decoding: $0.readableBytesView) }
            let (payload, payloadError) = EventRow.readPayload {
                var payload = try decompress(Array(c.10.readableBytesView), dictionaryID: c.11)
                if let stored = StoredEventPayload.splitReadView(&payload, payloadSize: Int(c.13)) { view = stored }
                return payload
            }
            result.append(
                EventRow(
                    rowID: c.0, projectID: c.1, issueID: c.2,
                    eventID: EventID(bytes: Array(c.3.readableBytesView)) ?? EventID(high: 0, low: 0),
                    timestamp: c.4, received: c.5, level: Level(rawValue: Int(c.6)) ?? .error, release: c.7, environment: c.8,
                    processingErrors: c.9, payload: payload, payloadError: payloadError,
                    view: view
                ))
        }
        return result
    }

    /// Loads the dictionaries these rows' payloads need that this process has not seen (one
    /// another instance trained), so that decoding them never waits on the database.
    private func loadDictionaries(_ ids: Set<Int64>) async throws {
        guard let dictionaries else { return }
        for id in ids where !dictionaries.has(id: id) {
            for try await row in try await client.query("SELECT dictionary FROM payload_dictionaries WHERE id = \(id)", logger: logger) {
                let bytes = try row.decode(ByteBuffer.self)
                if let dictionary = PayloadDictionary(id: id, bytes: Array(bytes.readableBytesView)) { dictionaries.remember(dictionary) }
            }
        }
    }

    func decompress(_ bytes: [UInt8], dictionaryID: Int64?) throws -> [UInt8] {
        guard let dictionaryID else { return try PayloadCodec.decompress(bytes, limit: maximumPayloadBytes) }
        guard let dictionaries else { throw PayloadCodecError.corrupt("payload needs dictionary \(dictionaryID)") }
        return try dictionaries.decompress(bytes, dictionaryID: dictionaryID, limit: maximumPayloadBytes)
    }

    static let dialect = PostgresDialect()

    /// A page of issues in two parts: those without pending deltas straight from the table's sort
    /// index (their counters are exact), and those with deltas, few whatever the project's size,
    /// with their counters brought up to date; the page is the best of both. Both parts read one
    /// snapshot, so an issue whose deltas are rolled up meanwhile is in exactly one of them.
    package func issues(projectID: Int64, query: IssueQuery) async throws -> [IssueRow] {
        var statement = SQLStatement(Self.dialect)
        // Numbered placeholders let both parts share the condition's parameters.
        let filter =
            " WHERE " + IssueSearchSQL.condition(projectID: projectID, query: query, now: ClockTime.nowMilliseconds, into: &statement)
            + IssueSearchSQL.afterCursor(query, into: &statement)
        let order = IssueSearchSQL.page(query, into: &statement)
        statement.sql =
            Self.issueColumns + " FROM (("
            + Self.issueColumns + " FROM issues" + filter + " AND id NOT IN (SELECT issue_id FROM issue_deltas)" + order + ") UNION ALL ("
            + Self.issueColumns + " FROM \(PostgresCounters.liveIssues(pendingOnly: true)) AS issues" + filter + ")) AS issues" + order
        return try await issues(PostgresQuery(statement))
    }

    package func issueCount(projectID: Int64, query: IssueQuery) async throws -> Int {
        let statement = IssueSearchSQL.count(
            from: "\(PostgresCounters.liveIssues()) AS issues", projectID: projectID, query: query, now: ClockTime.nowMilliseconds,
            dialect: Self.dialect)
        return Int(try await scalar(PostgresQuery(statement)) ?? 0)
    }

    private func scalar(_ query: PostgresQuery) async throws -> Int64? {
        for try await row in try await client.query(query, logger: logger) { return try row.decode(Int64?.self) }
        return nil
    }

    package func issue(id: Int64) async throws -> IssueRow? {
        var bindings = PostgresBindings()
        bindings.append(id)
        return try await issues(PostgresQuery(unsafeSQL: Self.issueDetailColumns + " WHERE id = $1", binds: bindings)).first
    }

    package func events(issueID: Int64, limit: Int, before: Int64?) async throws -> [EventRow] {
        var bindings = PostgresBindings()
        bindings.append(issueID)
        bindings.append(before ?? Int64.max)
        bindings.append(Int64(max(1, min(limit, 1000))))
        return try await events(
            PostgresQuery(
                unsafeSQL: Self.eventColumns + " WHERE issue_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
                binds: bindings))
    }

    package func event(projectID: Int64, eventID: EventID) async throws -> EventRow? {
        var bindings = PostgresBindings()
        bindings.append(projectID)
        bindings.append(ByteBuffer(bytes: eventID.bytes))
        return try await events(PostgresQuery(unsafeSQL: Self.eventColumns + " WHERE project_id = $1 AND event_id = $2", binds: bindings))
            .first
    }

    package func missingEvents(projectID: Int64, eventIDs: [EventID]) async throws -> [EventID] {
        guard !eventIDs.isEmpty else { return [] }
        // The ids travel as one text array (hex), so a batch is one statement: the planner looks
        // each up in the (project_id, event_id) index.
        let query: PostgresQuery = """
            SELECT encode(event_id, 'hex') FROM events
            WHERE project_id = \(projectID) AND event_id IN (SELECT decode(id, 'hex') FROM unnest(\(eventIDs.map(\.hex))::text[]) AS id)
            """
        var found = Set<String>()
        for try await row in try await client.query(query, logger: logger) { found.insert(try row.decode(String.self)) }
        return eventIDs.filter { !found.contains($0.hex) }
    }

    package func feedback(_ query: FeedbackQuery) async throws -> [FeedbackRow] {
        var result: [FeedbackRow] = []
        for try await row in try await client.query(PostgresQuery(ReadSQL.feedback(query, dialect: Self.dialect)), logger: logger) {
            let c = try row.decode(
                (Int64, Int64, ByteBuffer, ByteBuffer?, String, String, String, String, String?, String?, Int64, Int64, Int64?).self)
            result.append(
                FeedbackRow(
                    id: c.0, projectID: c.1, feedbackID: EventID(bytes: Array(c.2.readableBytesView)) ?? EventID(high: 0, low: 0),
                    eventID: c.3.flatMap { EventID(bytes: Array($0.readableBytesView)) }, kind: c.4, name: c.5, email: c.6, comments: c.7,
                    url: c.8, user: c.9, timestamp: c.10, received: c.11, issueID: c.12))
        }
        return result
    }

    package func attachments(projectID: Int64, eventID: EventID) async throws -> [AttachmentRow] {
        try await attachmentRows(ReadSQL.attachments(projectID: projectID, eventID: eventID, dialect: Self.dialect))
    }

    package func attachment(projectID: Int64, id: Int64) async throws -> AttachmentRow? {
        try await attachmentRows(ReadSQL.attachment(projectID: projectID, id: id, dialect: Self.dialect)).first
    }

    package func attachmentContent(projectID: Int64, id: Int64) async throws -> StoredAttachmentContent? {
        let statement = ReadSQL.attachmentContent(projectID: projectID, id: id, dialect: Self.dialect)
        for try await row in try await client.query(PostgresQuery(statement), logger: logger) {
            let (size, compressed, content) = try row.decode((Int64, Bool, ByteBuffer).self)
            return StoredAttachmentContent(size: size, compressed: compressed, bytes: Array(content.readableBytesView))
        }
        return nil
    }

    private func attachmentRows(_ statement: SQLStatement) async throws -> [AttachmentRow] {
        var result: [AttachmentRow] = []
        for try await row in try await client.query(PostgresQuery(statement), logger: logger) {
            let c = try row.decode((Int64, Int64, ByteBuffer, String, String, String?, Int64, String, Int64).self)
            result.append(
                AttachmentRow(
                    id: c.0, projectID: c.1, eventID: EventID(bytes: Array(c.2.readableBytesView)) ?? EventID(high: 0, low: 0), name: c.3,
                    type: c.4, contentType: c.5, size: c.6, sha1: c.7, received: c.8))
        }
        return result
    }

    package func outcomes(_ query: OutcomeQuery) async throws -> [OutcomeRow] {
        var result: [OutcomeRow] = []
        for try await row in try await client.query(PostgresQuery(OutcomeSQL.rows(query, dialect: Self.dialect)), logger: logger) {
            let c = try row.decode((Int64, Int64, String, String, String, Int64, Int64).self)
            guard let outcome = OutcomeKind(rawValue: c.2) else { continue }
            result.append(
                OutcomeRow(
                    key: OutcomeKey(projectID: c.0, hour: c.1, outcome: outcome, category: c.3, reason: c.4),
                    tally: OutcomeTally(quantity: c.5, timesSeen: c.6)))
        }
        return result
    }

    package func latestEvent(issueID: Int64) async throws -> EventRow? {
        try await events(issueID: issueID, limit: 1, before: nil).first
    }

    package func counts(projectID: Int64) async throws -> (events: Int64, issues: Int64, items: Int64) {
        let query: PostgresQuery = """
            SELECT (SELECT COALESCE(SUM(times_seen), 0)::BIGINT FROM issues WHERE project_id = \(projectID))
                     + (SELECT COALESCE(SUM(d.events), 0)::BIGINT FROM issue_deltas d JOIN issues i ON i.id = d.issue_id
                        WHERE i.project_id = \(projectID)),
                   (SELECT COUNT(*) FROM issues WHERE project_id = \(projectID)),
                   (SELECT COUNT(*) FROM items WHERE project_id = \(projectID))
            """
        for try await row in try await client.query(query, logger: logger) {
            let (events, issues, items) = try row.decode((Int64, Int64, Int64).self)
            return (events, issues, items)
        }
        return (0, 0, 0)
    }

    package func events(_ query: EventQuery) async throws -> [EventRow] {
        try await events(PostgresQuery(ReadSQL.events(query, dialect: Self.dialect)))
    }

    package func event(issueID: Int64, rowID: Int64) async throws -> EventRow? {
        var bindings = PostgresBindings()
        bindings.append(rowID)
        bindings.append(issueID)
        return try await events(PostgresQuery(unsafeSQL: Self.eventColumns + " WHERE id = $1 AND issue_id = $2", binds: bindings)).first
    }

    package func eventNavigation(issueID: Int64, rowID: Int64, environment: String?) async throws -> EventNavigation {
        let statement = ReadSQL.eventNavigation(issueID: issueID, rowID: rowID, environment: environment, dialect: Self.dialect)
        for try await result in try await client.query(PostgresQuery(statement), logger: logger) {
            let (first, previous, next, latest) = try result.decode((Int64?, Int64?, Int64?, Int64?).self)
            return EventNavigation(first: first, previous: previous, next: next, latest: latest)
        }
        return EventNavigation()
    }

    package func tagFacets(issueID: Int64, environment: String?, topValues: Int) async throws -> [TagFacet] {
        let values = try await tagValueRows(issueID: issueID, key: nil, environment: environment, limit: 100_000)
        return TagFacet.facets(from: values, topValues: topValues)
    }

    package func tagValues(issueID: Int64, key: String, environment: String?, limit: Int) async throws -> [TagValue] {
        try await tagValueRows(issueID: issueID, key: key, environment: environment, limit: limit).map(\.1)
    }

    private func tagValueRows(issueID: Int64, key: String?, environment: String?, limit: Int) async throws -> [(String, TagValue)] {
        let statement = ReadSQL.tagValues(issueID: issueID, key: key, environment: environment, limit: limit, dialect: Self.dialect)
        var result: [(String, TagValue)] = []
        for try await row in try await client.query(PostgresQuery(statement), logger: logger) {
            let (key, value, count, first, last) = try row.decode((String, String, Int64, Int64, Int64).self)
            result.append((key, TagValue(value: value, count: count, firstSeen: first, lastSeen: last)))
        }
        return result
    }

    package func releases(projectID: Int64?) async throws -> [ReleaseRow] {
        var statement = SQLStatement(Self.dialect)
        let project = projectID.map { " WHERE project_id = \(statement.bind($0))" } ?? ""
        statement.sql =
            "SELECT project_id, version, MIN(first_seen), MAX(last_seen), SUM(events)::BIGINT, SUM(new_issues)::BIGINT"
            + " FROM \(PostgresCounters.allReleases) r" + project
            + " GROUP BY project_id, version ORDER BY MIN(first_seen) DESC, version COLLATE \"C\" LIMIT 1000"
        var result: [ReleaseRow] = []
        for try await row in try await client.query(PostgresQuery(statement), logger: logger) {
            let (project, version, first, last, events, newIssues) = try row.decode((Int64, String, Int64, Int64, Int64, Int64).self)
            result.append(
                ReleaseRow(projectID: project, version: version, firstSeen: first, lastSeen: last, events: events, newIssues: newIssues))
        }
        return result
    }

    package func issueHourly(issueIDs: [Int64], fromHour: Int64, toHour: Int64) async throws -> [Int64: [Int64: Int64]] {
        guard !issueIDs.isEmpty else { return [:] }
        var result: [Int64: [Int64: Int64]] = [:]
        let query: PostgresQuery = """
            SELECT issue_id, hour, SUM(events)::BIGINT FROM \(unescaped: PostgresCounters.allIssueHourly) h
            WHERE issue_id = ANY(\(issueIDs)) AND hour BETWEEN \(fromHour) AND \(toHour) GROUP BY issue_id, hour
            """
        for try await row in try await client.query(query, logger: logger) {
            let (issue, hour, events) = try row.decode((Int64, Int64, Int64).self)
            result[issue, default: [:]][hour] = events
        }
        return result
    }

    package func projectHourly(projectID: Int64, fromHour: Int64, toHour: Int64) async throws -> [Int64: HourlyCounts.ProjectCounts] {
        var result: [Int64: HourlyCounts.ProjectCounts] = [:]
        let query: PostgresQuery = """
            SELECT hour, SUM(events)::BIGINT, SUM(new_issues)::BIGINT FROM \(unescaped: PostgresCounters.allProjectHourly) h
            WHERE project_id = \(projectID) AND hour BETWEEN \(fromHour) AND \(toHour) GROUP BY hour
            """
        for try await row in try await client.query(query, logger: logger) {
            let (hour, events, newIssues) = try row.decode((Int64, Int64, Int64).self)
            result[hour] = HourlyCounts.ProjectCounts(events: events, newIssues: newIssues)
        }
        return result
    }

    package func environments(projectID: Int64) async throws -> [String] {
        let query: PostgresQuery = """
            SELECT environment FROM \(unescaped: PostgresCounters.allEnvironments) e WHERE project_id = \(projectID)
            GROUP BY environment ORDER BY SUM(events) DESC, environment COLLATE "C" LIMIT 100
            """
        var result: [String] = []
        for try await row in try await client.query(query, logger: logger) { result.append(try row.decode(String.self)) }
        return result
    }
}
