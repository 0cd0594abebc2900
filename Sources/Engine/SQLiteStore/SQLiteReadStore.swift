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

    func read<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
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

    private static let eventColumns = ReadSQL.eventColumns

    private func event(_ row: SQLiteStatement) throws -> EventRow {
        var view: EventReadView? = row.isNull(12) ? nil : EventReadView(decoding: row.blob(12))
        let (payload, payloadError) = EventRow.readPayload {
            var payload = try decompress(row.blob(10), dictionaryID: row.isNull(11) ? nil : row.int(11))
            if let stored = StoredEventPayload.splitReadView(&payload, payloadSize: Int(row.int(13))) { view = stored }
            return payload
        }
        return EventRow(
            rowID: row.int(0), projectID: row.int(1), issueID: row.int(2),
            eventID: EventID(bytes: row.blob(3)) ?? EventID(high: 0, low: 0), timestamp: row.int(4), received: row.int(5),
            level: Level(rawValue: Int(row.int(6))) ?? .error, release: row.text(7), environment: row.text(8) ?? "production",
            processingErrors: row.text(9), payload: payload, payloadError: payloadError,
            view: view
        )
    }

    func decompress(_ bytes: [UInt8], dictionaryID: Int64?) throws -> [UInt8] {
        guard let dictionaryID else { return try PayloadCodec.decompress(bytes, limit: maximumPayloadBytes) }
        guard let dictionaries else { throw PayloadCodecError.corrupt("payload needs dictionary \(dictionaryID)") }
        return try dictionaries.decompress(bytes, dictionaryID: dictionaryID, limit: maximumPayloadBytes)
    }

    static let dialect = SQLiteDialect()

    package func issues(projectID: Int64, query: IssueQuery) async throws -> [IssueRow] {
        let now = ClockTime.nowMilliseconds
        return try await read { db in
            var statement = SQLStatement(Self.dialect)
            let condition = IssueSearchSQL.condition(projectID: projectID, query: query, now: now, into: &statement)
            let cursor = IssueSearchSQL.afterCursor(query, into: &statement)
            let page = IssueSearchSQL.page(query, into: &statement)
            statement.sql = Self.issueColumns + " WHERE " + condition + cursor + page
            return try db.query(statement, Self.issue)
        }
    }

    package func issueCount(projectID: Int64, query: IssueQuery) async throws -> Int {
        let now = ClockTime.nowMilliseconds
        return try await read { db in
            let statement = IssueSearchSQL.count(from: "issues", projectID: projectID, query: query, now: now, dialect: Self.dialect)
            return Int(try db.query(statement) { $0.int(0) }.first ?? 0)
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

    package func feedback(_ query: FeedbackQuery) async throws -> [FeedbackRow] {
        try await read { db in
            try db.query(ReadSQL.feedback(query, dialect: Self.dialect)) { row in
                FeedbackRow(
                    id: row.int(0), projectID: row.int(1), feedbackID: EventID(bytes: row.blob(2)) ?? EventID(high: 0, low: 0),
                    eventID: row.isNull(3) ? nil : EventID(bytes: row.blob(3)), kind: row.text(4) ?? "feedback", name: row.text(5) ?? "",
                    email: row.text(6) ?? "", comments: row.text(7) ?? "", url: row.text(8), user: row.text(9), timestamp: row.int(10),
                    received: row.int(11), issueID: row.isNull(12) ? nil : row.int(12))
            }
        }
    }

    package func attachments(projectID: Int64, eventID: EventID) async throws -> [AttachmentRow] {
        try await read { db in
            try db.query(ReadSQL.attachments(projectID: projectID, eventID: eventID, dialect: Self.dialect), Self.attachmentRow)
        }
    }

    package func attachment(projectID: Int64, id: Int64) async throws -> AttachmentRow? {
        try await read { db in
            try db.query(ReadSQL.attachment(projectID: projectID, id: id, dialect: Self.dialect), Self.attachmentRow).first
        }
    }

    package func attachmentContent(projectID: Int64, id: Int64) async throws -> StoredAttachmentContent? {
        try await read { db in
            try db.query(ReadSQL.attachmentContent(projectID: projectID, id: id, dialect: Self.dialect)) { row in
                StoredAttachmentContent(size: row.int(0), compressed: row.int(1) != 0, bytes: row.blob(2))
            }.first
        }
    }

    private static func attachmentRow(_ row: SQLiteStatement) -> AttachmentRow {
        AttachmentRow(
            id: row.int(0), projectID: row.int(1), eventID: EventID(bytes: row.blob(2)) ?? EventID(high: 0, low: 0),
            name: row.text(3) ?? "",
            type: row.text(4) ?? "event.attachment", contentType: row.text(5), size: row.int(6), sha1: row.text(7) ?? "",
            received: row.int(8))
    }

    package func outcomes(_ query: OutcomeQuery) async throws -> [OutcomeRow] {
        try await read { db in
            try db.query(OutcomeSQL.rows(query, dialect: Self.dialect)) { row in
                OutcomeKind(rawValue: row.text(2) ?? "").map { outcome in
                    OutcomeRow(
                        key: OutcomeKey(
                            projectID: row.int(0), hour: row.int(1), outcome: outcome, category: row.text(3) ?? "",
                            reason: row.text(4) ?? ""),
                        tally: OutcomeTally(quantity: row.int(5), timesSeen: row.int(6)))
                }
            }.compactMap { $0 }
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
        try await read { [self] db in try db.query(ReadSQL.events(query, dialect: Self.dialect), event) }
    }

    package func event(issueID: Int64, rowID: Int64) async throws -> EventRow? {
        try await read { [self] db in
            try db.statement(Self.eventColumns + " WHERE id = ? AND issue_id = ?").query([.int(rowID), .int(issueID)], event).first
        }
    }

    package func eventNavigation(issueID: Int64, rowID: Int64, environment: String?) async throws -> EventNavigation {
        try await read { db in
            let statement = ReadSQL.eventNavigation(issueID: issueID, rowID: rowID, environment: environment, dialect: Self.dialect)
            func id(_ row: SQLiteStatement, _ column: Int32) -> Int64? { row.isNull(column) ? nil : row.int(column) }
            return try db.query(statement) { row in
                EventNavigation(first: id(row, 0), previous: id(row, 1), next: id(row, 2), latest: id(row, 3))
            }.first ?? EventNavigation()
        }
    }

    package func tagFacets(issueID: Int64, environment: String?, topValues: Int) async throws -> [TagFacet] {
        let values = try await tagValueRows(issueID: issueID, key: nil, environment: environment, limit: 100_000)
        return TagFacet.facets(from: values, topValues: topValues)
    }

    package func tagValues(issueID: Int64, key: String, environment: String?, limit: Int) async throws -> [TagValue] {
        try await tagValueRows(issueID: issueID, key: key, environment: environment, limit: limit).map(\.1)
    }

    private func tagValueRows(issueID: Int64, key: String?, environment: String?, limit: Int) async throws -> [(String, TagValue)] {
        try await read { db in
            let statement = ReadSQL.tagValues(issueID: issueID, key: key, environment: environment, limit: limit, dialect: Self.dialect)
            return try db.query(statement) { row in
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
