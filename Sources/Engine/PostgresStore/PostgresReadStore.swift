package import Logging
import NIOCore
package import PitModel
package import PitStorage
package import PostgresNIO

/// The read side over postgres-nio's `PostgresClient` and its connection pool. The client is a
/// `Service`: the owner runs it in its ServiceGroup (before the HTTP server, so it stops after it).
package final class PostgresReadStore: ReadStore {
    package let client: PostgresClient
    private let logger: Logger
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

    private static let eventColumns = """
        SELECT id, project_id, issue_id, event_id, timestamp, received, level, release, environment, processing_errors,
            payload, dictionary_id FROM events
        """

    private func events(_ query: PostgresQuery) async throws -> [EventRow] {
        var result: [EventRow] = []
        for try await row in try await client.query(query, logger: logger) {
            let c = try row.decode(
                (Int64, Int64, Int64, ByteBuffer, Int64, Int64, Int64, String?, String, String?, ByteBuffer, Int64?).self)
            let (payload, payloadError) = EventRow.readPayload { try decompress(Array(c.10.readableBytesView), dictionaryID: c.11) }
            result.append(
                EventRow(
                    rowID: c.0, projectID: c.1, issueID: c.2,
                    eventID: EventID(bytes: Array(c.3.readableBytesView)) ?? EventID(high: 0, low: 0),
                    timestamp: c.4, received: c.5, level: Level(rawValue: Int(c.6)) ?? .error, release: c.7, environment: c.8,
                    processingErrors: c.9, payload: payload, payloadError: payloadError
                ))
        }
        return result
    }

    private func decompress(_ bytes: [UInt8], dictionaryID: Int64?) throws -> [UInt8] {
        guard let dictionaryID else { return try PayloadCodec.decompress(bytes, limit: maximumPayloadBytes) }
        guard let dictionaries else { throw PayloadCodecError.corrupt("payload needs dictionary \(dictionaryID)") }
        return try dictionaries.decompress(bytes, dictionaryID: dictionaryID, limit: maximumPayloadBytes)
    }

    /// Appends a value to `bindings` and returns its placeholder.
    private struct Binder {
        var bindings = PostgresBindings()

        mutating func callAsFunction(_ value: some PostgresNonThrowingEncodable & PostgresDynamicTypeEncodable) -> String {
            bindings.append(value)
            return "$\(bindings.count)"
        }
    }

    /// The WHERE clause of an issue search, as `SQLiteReadStore.issueFilter`: tag terms match
    /// within the searched environments when there are any.
    private static func issueFilter(projectID: Int64, query: IssueQuery, now: Int64, bind: inout Binder) -> String {
        var sql = " WHERE project_id = \(bind(projectID))"
        if !query.statuses.isEmpty { sql += " AND status = ANY(\(bind(query.statuses.map { Int64($0.rawValue) })))" }
        if !query.levels.isEmpty { sql += " AND level = ANY(\(bind(query.levels.map { Int64($0.rawValue) })))" }
        if let span = query.lastSeenWithin { sql += " AND last_seen >= \(bind(now - span))" }
        if let span = query.firstSeenWithin { sql += " AND first_seen >= \(bind(now - span))" }
        for text in query.text {
            // SQLite's LIKE ignores ASCII case; ILIKE does too.
            let pattern = "%" + LikePattern.escape(text) + "%"
            sql += " AND (title ILIKE \(bind(pattern)) ESCAPE '\\' OR culprit ILIKE \(bind(pattern)) ESCAPE '\\')"
        }
        var facets = query.tags
        facets += query.releases.map { ("release", $0) }
        if !query.environments.isEmpty {
            let environments = bind(query.environments)
            sql +=
                " AND id IN (SELECT t.issue_id FROM \(PostgresCounters.allTagValues) t WHERE t.key = 'environment'"
                + " AND t.value = ANY(\(environments)))"
            for (key, value) in facets {
                sql +=
                    " AND id IN (SELECT t.issue_id FROM \(PostgresCounters.allTagValues) t WHERE t.key = \(bind(key))"
                    + " AND t.value = \(bind(value)) AND t.environment = ANY(\(environments)))"
            }
        } else {
            for (key, value) in facets {
                sql +=
                    " AND id IN (SELECT t.issue_id FROM \(PostgresCounters.allTagValues) t WHERE t.key = \(bind(key))"
                    + " AND t.value = \(bind(value)))"
            }
        }
        return sql
    }

    /// A page of issues in two parts: those without pending deltas straight from the table's sort
    /// index (their counters are exact), and those with deltas, few whatever the project's size,
    /// with their counters brought up to date; the page is the best of both. Both parts read one
    /// snapshot, so an issue whose deltas are rolled up meanwhile is in exactly one of them.
    package func issues(projectID: Int64, query: IssueQuery) async throws -> [IssueRow] {
        var bind = Binder()
        var filter = Self.issueFilter(projectID: projectID, query: query, now: ClockTime.nowMilliseconds, bind: &bind)
        let column = query.sort.column
        if let cursor = query.cursor {
            let value = bind(cursor.value)
            filter += " AND (\(column) < \(value) OR (\(column) = \(value) AND id < \(bind(cursor.id))))"
        }
        let order = " ORDER BY \(column) DESC, id DESC LIMIT \(bind(Int64(max(1, min(query.limit, 1000)))))"
        let sql =
            Self.issueColumns + " FROM (("
            + Self.issueColumns + " FROM issues" + filter + " AND id NOT IN (SELECT issue_id FROM issue_deltas)" + order + ") UNION ALL ("
            + Self.issueColumns + " FROM \(PostgresCounters.liveIssues(pendingOnly: true)) AS issues" + filter + ")) AS issues" + order
        return try await issues(PostgresQuery(unsafeSQL: sql, binds: bind.bindings))
    }

    package func issueCount(projectID: Int64, query: IssueQuery) async throws -> Int {
        var bind = Binder()
        // Counted up to IssueQuery.maxHits + 1, as SQLite's store does.
        let sql =
            "SELECT COUNT(*) FROM (SELECT 1 FROM \(PostgresCounters.liveIssues()) AS issues"
            + Self.issueFilter(projectID: projectID, query: query, now: ClockTime.nowMilliseconds, bind: &bind)
            + " LIMIT \(IssueQuery.maxHits + 1)) AS matches"
        return Int(try await scalar(PostgresQuery(unsafeSQL: sql, binds: bind.bindings)) ?? 0)
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
        var bind = Binder()
        var sql = Self.eventColumns
        if let issueID = query.issueID {
            // (issue_id, id) index; the project check keeps an issue id from another project out.
            sql += " WHERE issue_id = \(bind(issueID)) AND project_id = \(bind(query.projectID))"
        } else {
            sql += " WHERE project_id = \(bind(query.projectID))"
        }
        if let environment = query.environment { sql += " AND environment = \(bind(environment))" }
        if let release = query.release { sql += " AND release = \(bind(release))" }
        if let level = query.level { sql += " AND level = \(bind(Int64(level.rawValue)))" }
        if let user = query.userKey { sql += " AND user_key = \(bind(user))" }
        if let since = query.since { sql += " AND received >= \(bind(since))" }
        if let before = query.before { sql += " AND id < \(bind(before))" }
        sql += " ORDER BY id DESC LIMIT \(bind(Int64(max(1, min(query.limit, 1000)))))"
        return try await events(PostgresQuery(unsafeSQL: sql, binds: bind.bindings))
    }

    package func event(issueID: Int64, rowID: Int64) async throws -> EventRow? {
        var bind = Binder()
        let sql = Self.eventColumns + " WHERE id = \(bind(rowID)) AND issue_id = \(bind(issueID))"
        return try await events(PostgresQuery(unsafeSQL: sql, binds: bind.bindings)).first
    }

    package func eventNavigation(issueID: Int64, rowID: Int64, environment: String?) async throws -> EventNavigation {
        var bind = Binder()
        let issue = bind(issueID)
        let row = bind(rowID)
        let scope = environment.map { " AND environment = \(bind($0))" } ?? ""
        let sql = """
            SELECT (SELECT MIN(id) FROM events WHERE issue_id = \(issue)\(scope)),
                   (SELECT MAX(id) FROM events WHERE issue_id = \(issue) AND id < \(row)\(scope)),
                   (SELECT MIN(id) FROM events WHERE issue_id = \(issue) AND id > \(row)\(scope)),
                   (SELECT MAX(id) FROM events WHERE issue_id = \(issue)\(scope))
            """
        for try await result in try await client.query(PostgresQuery(unsafeSQL: sql, binds: bind.bindings), logger: logger) {
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

    /// (key, value) rows summed over environments unless one is given, most frequent first. Text
    /// orders byte-wise (`COLLATE "C"`), as SQLite's default collation does.
    private func tagValueRows(issueID: Int64, key: String?, environment: String?, limit: Int) async throws -> [(String, TagValue)] {
        var bind = Binder()
        var sql =
            "SELECT key, value, SUM(times_seen)::BIGINT, MIN(first_seen), MAX(last_seen) FROM \(PostgresCounters.allTagValues) t"
            + " WHERE issue_id = \(bind(issueID))"
        if let key { sql += " AND key = \(bind(key))" }
        if let environment { sql += " AND environment = \(bind(environment))" }
        sql +=
            " GROUP BY key, value ORDER BY key COLLATE \"C\", SUM(times_seen) DESC, value COLLATE \"C\" LIMIT \(bind(Int64(max(1, limit))))"
        var result: [(String, TagValue)] = []
        for try await row in try await client.query(PostgresQuery(unsafeSQL: sql, binds: bind.bindings), logger: logger) {
            let (key, value, count, first, last) = try row.decode((String, String, Int64, Int64, Int64).self)
            result.append((key, TagValue(value: value, count: count, firstSeen: first, lastSeen: last)))
        }
        return result
    }

    package func releases(projectID: Int64?) async throws -> [ReleaseRow] {
        var bind = Binder()
        let sql =
            "SELECT project_id, version, MIN(first_seen), MAX(last_seen), SUM(events)::BIGINT, SUM(new_issues)::BIGINT"
            + " FROM \(PostgresCounters.allReleases) r" + (projectID.map { " WHERE project_id = \(bind($0))" } ?? "")
            + " GROUP BY project_id, version ORDER BY MIN(first_seen) DESC, version COLLATE \"C\" LIMIT 1000"
        var result: [ReleaseRow] = []
        for try await row in try await client.query(PostgresQuery(unsafeSQL: sql, binds: bind.bindings), logger: logger) {
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
