import Dispatch
import NIOConcurrencyHelpers
package import PitModel
package import PitStorage

/// Read-only connections for the API and UI. Queries run on a Dispatch queue, never on the
/// cooperative pool: `sqlite3_step` blocks. WAL lets them read while the writer commits.
package final class SQLiteReadStore: ReadStore {
    private let path: String
    private let idle = NIOLockedValueBox<[SQLiteConnection]>([])
    private let queue = DispatchQueue(label: "pit.sqlite.readers", attributes: .concurrent)
    /// Bounds concurrent readers (and so open connections).
    private let slots: DispatchSemaphore
    private let maximumPayloadBytes: Int
    private let dictionaries: PayloadDictionaries?

    package init(
        path: String, maxReaders: Int = 4, maximumPayloadBytes: Int = 256 * 1024 * 1024,
        dictionaries: PayloadDictionaries? = nil
    ) {
        self.path = path
        self.dictionaries = dictionaries
        self.slots = DispatchSemaphore(value: maxReaders)
        self.maximumPayloadBytes = maximumPayloadBytes
    }

    private func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { [self] in
                slots.wait()
                defer { slots.signal() }
                do {
                    let connection = try idle.withLockedValue { $0.popLast() } ?? Self.open(path)
                    defer { idle.withLockedValue { $0.append(connection) } }
                    continuation.resume(returning: try body(connection))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// Lists leave the grouping explanation out (`grouping` = ""): only the issue page shows it.
    /// A reader connection. Memory-mapped reads and a 32 MB page cache: with the default 2 MB
    /// cache, a search over 10,000 issues re-read the issue table through pread() on every
    /// request (measured 70 ms for a free-text search with no match; 10x less mapped).
    private static func open(_ path: String) throws -> SQLiteConnection {
        let connection = try SQLiteConnection(path: path, readOnly: true)
        try connection.execute("PRAGMA mmap_size=1073741824")
        try connection.execute("PRAGMA cache_size=-32768")
        return connection
    }

    private static let issueColumns = """
        SELECT id, project_id, short_id, kind, title, culprit, metadata, level, status, substatus, resolved_in_release,
            first_seen, last_seen, times_seen, users_seen, first_release, last_release, '' FROM issues
        """

    private static let issueDetailColumns = """
        SELECT id, project_id, short_id, kind, title, culprit, metadata, level, status, substatus, resolved_in_release,
            first_seen, last_seen, times_seen, users_seen, first_release, last_release,
            (SELECT grouping FROM issue_groupings g WHERE g.issue_id = issues.id) FROM issues
        """

    private static func issue(_ row: SQLiteStatement) -> IssueRow {
        IssueRow(
            id: row.int(0), projectID: row.int(1), shortID: row.int(2), kind: row.text(3) ?? "error",
            title: row.text(4) ?? "", culprit: row.text(5) ?? "", metadata: row.text(6) ?? "{}",
            level: Level(rawValue: Int(row.int(7))) ?? .error, status: IssueStatus(rawValue: Int(row.int(8))) ?? .unresolved,
            substatus: IssueSubstatus(rawValue: Int(row.int(9))) ?? .none, resolvedInRelease: row.text(10),
            firstSeen: row.int(11), lastSeen: row.int(12), timesSeen: row.int(13), usersSeen: row.int(14),
            firstRelease: row.text(15), lastRelease: row.text(16), grouping: row.text(17) ?? "[]"
        )
    }

    private static let eventColumns = """
        SELECT id, project_id, issue_id, event_id, timestamp, received, level, release, environment, processing_errors,
            payload, dictionary_id FROM events
        """

    private func event(_ row: SQLiteStatement) throws -> EventRow {
        let (payload, payloadError) = EventRow.readPayload {
            try decompress(row.blob(10), dictionaryID: row.isNull(11) ? nil : row.int(11))
        }
        return EventRow(
            rowID: row.int(0), projectID: row.int(1), issueID: row.int(2),
            eventID: EventID(bytes: row.blob(3)) ?? EventID(high: 0, low: 0), timestamp: row.int(4), received: row.int(5),
            level: Level(rawValue: Int(row.int(6))) ?? .error, release: row.text(7), environment: row.text(8) ?? "production",
            processingErrors: row.text(9), payload: payload, payloadError: payloadError
        )
    }

    private func decompress(_ bytes: [UInt8], dictionaryID: Int64?) throws -> [UInt8] {
        guard let dictionaryID else { return try PayloadCodec.decompress(bytes, limit: maximumPayloadBytes) }
        guard let dictionaries else { throw PayloadCodecError.corrupt("payload needs dictionary \(dictionaryID)") }
        return try dictionaries.decompress(bytes, dictionaryID: dictionaryID, limit: maximumPayloadBytes)
    }

    /// The WHERE clause of an issue search. Tag terms match within the searched environments when
    /// there are any (`environment:prod browser:Firefox` = Firefox seen in prod). Tag terms are
    /// `id IN (…)` over the (key, value, issue_id) index rather than a correlated EXISTS: a rare
    /// value (one user's email) then costs one index range instead of a probe per issue.
    static func issueFilter(projectID: Int64, query: IssueQuery, now: Int64) -> (sql: String, bindings: [SQLiteValue]) {
        var sql = " WHERE project_id = ?"
        var bindings: [SQLiteValue] = [.int(projectID)]
        func placeholders(_ count: Int) -> String { Array(repeating: "?", count: count).joined(separator: ",") }
        func anyOf(_ column: String, _ values: [SQLiteValue]) {
            guard !values.isEmpty else { return }
            sql += " AND \(column) IN (\(placeholders(values.count)))"
            bindings += values
        }
        anyOf("status", query.statuses.map { .int(Int64($0.rawValue)) })
        anyOf("level", query.levels.map { .int(Int64($0.rawValue)) })
        if let span = query.lastSeenWithin {
            sql += " AND last_seen >= ?"
            bindings.append(.int(now - span))
        }
        if let span = query.firstSeenWithin {
            sql += " AND first_seen >= ?"
            bindings.append(.int(now - span))
        }
        for text in query.text {
            if text.unicodeScalars.count >= 3 {
                // Trigram index: a quoted phrase is a substring match on title or culprit.
                sql += " AND id IN (SELECT rowid FROM issue_search WHERE issue_search MATCH ?)"
                bindings.append(
                    .text("\"" + text.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""))
            } else {
                sql += " AND (title LIKE ? ESCAPE '\\' OR culprit LIKE ? ESCAPE '\\')"
                let pattern = "%" + LikePattern.escape(text) + "%"
                bindings += [.text(pattern), .text(pattern)]
            }
        }
        var facets = query.tags
        facets += query.releases.map { ("release", $0) }
        if !query.environments.isEmpty {
            let environments = query.environments.map { SQLiteValue.text($0) }
            sql +=
                " AND id IN (SELECT t.issue_id FROM issue_tag_values t WHERE t.key = 'environment'"
                + " AND t.value IN (\(placeholders(environments.count))))"
            bindings += environments
            for (key, value) in facets {
                sql +=
                    " AND id IN (SELECT t.issue_id FROM issue_tag_values t WHERE t.key = ? AND t.value = ?"
                    + " AND t.environment IN (\(placeholders(environments.count))))"
                bindings += [.text(key), .text(value)] + environments
            }
        } else {
            for (key, value) in facets {
                sql += " AND id IN (SELECT t.issue_id FROM issue_tag_values t WHERE t.key = ? AND t.value = ?)"
                bindings += [.text(key), .text(value)]
            }
        }
        return (sql, bindings)
    }

    package func issues(projectID: Int64, query: IssueQuery) async throws -> [IssueRow] {
        let now = ClockTime.nowMilliseconds
        return try await read { db in
            let (filter, filterBindings) = Self.issueFilter(projectID: projectID, query: query, now: now)
            var sql = Self.issueColumns + filter
            var bindings = filterBindings
            let column = query.sort.column
            if let cursor = query.cursor {
                sql += " AND (\(column) < ? OR (\(column) = ? AND id < ?))"
                bindings += [.int(cursor.value), .int(cursor.value), .int(cursor.id)]
            }
            sql += " ORDER BY \(column) DESC, id DESC LIMIT ?"
            bindings.append(.int(Int64(max(1, min(query.limit, 1000)))))
            return try db.statement(sql).query(bindings, Self.issue)
        }
    }

    package func issueCount(projectID: Int64, query: IssueQuery) async throws -> Int {
        let now = ClockTime.nowMilliseconds
        return try await read { db in
            let (filter, bindings) = Self.issueFilter(projectID: projectID, query: query, now: now)
            let sql = "SELECT COUNT(*) FROM (SELECT 1 FROM issues" + filter + " LIMIT \(IssueQuery.maxHits + 1))"
            return Int(try db.scalarInt(sql, bindings) ?? 0)
        }
    }

    package func issue(id: Int64) async throws -> IssueRow? {
        try await read { db in try db.statement(Self.issueDetailColumns + " WHERE id = ?").query([.int(id)], Self.issue).first }
    }

    package func events(issueID: Int64, limit: Int, before: Int64?) async throws -> [EventRow] {
        try await read { [self] db in
            try db.statement(Self.eventColumns + " WHERE issue_id = ? AND id < ? ORDER BY id DESC LIMIT ?")
                .query([.int(issueID), .int(before ?? Int64.max), .int(Int64(max(1, min(limit, 1000))))], event)
        }
    }

    package func event(projectID: Int64, eventID: EventID) async throws -> EventRow? {
        try await read { [self] db in
            try db.statement(Self.eventColumns + " WHERE project_id = ? AND event_id = ?")
                .query([.int(projectID), .blob(eventID.bytes)], event).first
        }
    }

    package func missingEvents(projectID: Int64, eventIDs: [EventID]) async throws -> [EventID] {
        try await read { db in
            let statement = try db.statement("SELECT 1 FROM events WHERE project_id = ? AND event_id = ?")
            return try eventIDs.filter { id in
                try statement.query([.int(projectID), .blob(id.bytes)]) { _ in true }.isEmpty
            }
        }
    }

    package func latestEvent(issueID: Int64) async throws -> EventRow? {
        try await events(issueID: issueID, limit: 1, before: nil).first
    }

    package func counts(projectID: Int64) async throws -> (events: Int64, issues: Int64, items: Int64) {
        try await read { db in
            let events = try db.scalarInt("SELECT COALESCE(SUM(times_seen), 0) FROM issues WHERE project_id = ?", [.int(projectID)]) ?? 0
            let issues = try db.scalarInt("SELECT COUNT(*) FROM issues WHERE project_id = ?", [.int(projectID)]) ?? 0
            let items = try db.scalarInt("SELECT COUNT(*) FROM items WHERE project_id = ?", [.int(projectID)]) ?? 0
            return (events, issues, items)
        }
    }

    package func events(_ query: EventQuery) async throws -> [EventRow] {
        try await read { [self] db in
            var sql = Self.eventColumns
            var bindings: [SQLiteValue] = []
            if let issueID = query.issueID {
                // (issue_id, id) index; the project check keeps an issue id from another project out.
                sql += " WHERE issue_id = ? AND project_id = ?"
                bindings += [.int(issueID), .int(query.projectID)]
            } else {
                sql += " WHERE project_id = ?"
                bindings.append(.int(query.projectID))
            }
            func filter(_ condition: String, _ value: SQLiteValue?) {
                guard let value else { return }
                sql += " AND " + condition
                bindings.append(value)
            }
            filter("environment = ?", query.environment.map { .text($0) })
            filter("release = ?", query.release.map { .text($0) })
            filter("level = ?", query.level.map { .int(Int64($0.rawValue)) })
            filter("user_key = ?", query.userKey.map { .text($0) })
            filter("received >= ?", query.since.map { .int($0) })
            filter("id < ?", query.before.map { .int($0) })
            sql += " ORDER BY id DESC LIMIT ?"
            bindings.append(.int(Int64(max(1, min(query.limit, 1000)))))
            return try db.statement(sql).query(bindings, event)
        }
    }

    package func event(issueID: Int64, rowID: Int64) async throws -> EventRow? {
        try await read { [self] db in
            try db.statement(Self.eventColumns + " WHERE id = ? AND issue_id = ?").query([.int(rowID), .int(issueID)], event).first
        }
    }

    package func eventNavigation(issueID: Int64, rowID: Int64, environment: String?) async throws -> EventNavigation {
        try await read { db in
            let scope = environment == nil ? "" : " AND environment = ?"
            let extra: [SQLiteValue] = environment.map { [.text($0)] } ?? []
            func one(_ sql: String, _ bindings: [SQLiteValue]) throws -> Int64? {
                try db.statement(sql).query(bindings) { $0.isNull(0) ? nil : $0.int(0) }.first ?? nil
            }
            return EventNavigation(
                first: try one("SELECT MIN(id) FROM events WHERE issue_id = ?" + scope, [.int(issueID)] + extra),
                previous: try one(
                    "SELECT MAX(id) FROM events WHERE issue_id = ? AND id < ?" + scope, [.int(issueID), .int(rowID)] + extra),
                next: try one("SELECT MIN(id) FROM events WHERE issue_id = ? AND id > ?" + scope, [.int(issueID), .int(rowID)] + extra),
                latest: try one("SELECT MAX(id) FROM events WHERE issue_id = ?" + scope, [.int(issueID)] + extra)
            )
        }
    }

    package func tagFacets(issueID: Int64, environment: String?, topValues: Int) async throws -> [TagFacet] {
        let values = try await tagValueRows(issueID: issueID, key: nil, environment: environment, limit: 100_000)
        return TagFacet.facets(from: values, topValues: topValues)
    }

    package func tagValues(issueID: Int64, key: String, environment: String?, limit: Int) async throws -> [TagValue] {
        try await tagValueRows(issueID: issueID, key: key, environment: environment, limit: limit).map(\.1)
    }

    /// (key, value) rows summed over environments unless one is given, most frequent first.
    private func tagValueRows(issueID: Int64, key: String?, environment: String?, limit: Int) async throws -> [(String, TagValue)] {
        try await read { db in
            var sql = "SELECT key, value, SUM(times_seen), MIN(first_seen), MAX(last_seen) FROM issue_tag_values WHERE issue_id = ?"
            var bindings: [SQLiteValue] = [.int(issueID)]
            if let key {
                sql += " AND key = ?"
                bindings.append(.text(key))
            }
            if let environment {
                sql += " AND environment = ?"
                bindings.append(.text(environment))
            }
            sql += " GROUP BY key, value ORDER BY key, SUM(times_seen) DESC, value LIMIT ?"
            bindings.append(.int(Int64(max(1, limit))))
            return try db.statement(sql).query(bindings) { row in
                (row.text(0) ?? "", TagValue(value: row.text(1) ?? "", count: row.int(2), firstSeen: row.int(3), lastSeen: row.int(4)))
            }
        }
    }

    package func releases(projectID: Int64?) async throws -> [ReleaseRow] {
        try await read { db in
            let sql =
                "SELECT project_id, version, first_seen, last_seen, events, new_issues FROM releases"
                + (projectID == nil ? "" : " WHERE project_id = ?") + " ORDER BY first_seen DESC, version LIMIT 1000"
            return try db.statement(sql).query(projectID.map { [.int($0)] } ?? []) { row in
                ReleaseRow(
                    projectID: row.int(0), version: row.text(1) ?? "", firstSeen: row.int(2), lastSeen: row.int(3),
                    events: row.int(4), newIssues: row.int(5))
            }
        }
    }

    package func issueHourly(issueIDs: [Int64], fromHour: Int64, toHour: Int64) async throws -> [Int64: [Int64: Int64]] {
        guard !issueIDs.isEmpty else { return [:] }
        return try await read { db in
            var result: [Int64: [Int64: Int64]] = [:]
            // One statement per chunk keeps under SQLite's variable limit; each probe is a PK range.
            for chunk in stride(from: 0, to: issueIDs.count, by: 500).map({ Array(issueIDs[$0..<min($0 + 500, issueIDs.count)]) }) {
                let sql =
                    "SELECT issue_id, hour, events FROM issue_hourly WHERE issue_id IN ("
                    + Array(repeating: "?", count: chunk.count).joined(separator: ",") + ") AND hour BETWEEN ? AND ?"
                for (issue, hour, events) in try db.statement(sql).query(
                    chunk.map { .int($0) } + [.int(fromHour), .int(toHour)],
                    {
                        ($0.int(0), $0.int(1), $0.int(2))
                    })
                {
                    result[issue, default: [:]][hour] = events
                }
            }
            return result
        }
    }

    package func projectHourly(projectID: Int64, fromHour: Int64, toHour: Int64) async throws -> [Int64: HourlyCounts.ProjectCounts] {
        try await read { db in
            var result: [Int64: HourlyCounts.ProjectCounts] = [:]
            for (hour, events, newIssues) in try db.statement(
                "SELECT hour, events, new_issues FROM project_hourly WHERE project_id = ? AND hour BETWEEN ? AND ?"
            ).query([.int(projectID), .int(fromHour), .int(toHour)], { ($0.int(0), $0.int(1), $0.int(2)) }) {
                result[hour] = HourlyCounts.ProjectCounts(events: events, newIssues: newIssues)
            }
            return result
        }
    }

    package func environments(projectID: Int64) async throws -> [String] {
        try await read { db in
            try db.statement(
                "SELECT environment FROM project_environments WHERE project_id = ? ORDER BY events DESC, environment LIMIT 100"
            )
            .query([.int(projectID)]) { $0.text(0) ?? "" }
        }
    }
}
