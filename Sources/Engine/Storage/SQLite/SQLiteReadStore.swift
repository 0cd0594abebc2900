import Dispatch
import NIOConcurrencyHelpers

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

    package init(path: String, maxReaders: Int = 4, maximumPayloadBytes: Int = 256 * 1024 * 1024,
                 dictionaries: PayloadDictionaries? = nil)
    {
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
                    let connection = try idle.withLockedValue { $0.popLast() } ?? SQLiteConnection(path: path, readOnly: true)
                    defer { idle.withLockedValue { $0.append(connection) } }
                    continuation.resume(returning: try body(connection))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    private static let issueColumns = """
        SELECT id, project_id, short_id, kind, title, culprit, metadata, level, status, substatus, resolved_in_release,
            first_seen, last_seen, times_seen, users_seen, first_release, last_release, grouping FROM issues
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
        EventRow(
            rowID: row.int(0), projectID: row.int(1), issueID: row.int(2),
            eventID: EventID(bytes: row.blob(3)) ?? EventID(high: 0, low: 0), timestamp: row.int(4), received: row.int(5),
            level: Level(rawValue: Int(row.int(6))) ?? .error, release: row.text(7), environment: row.text(8) ?? "production",
            processingErrors: row.text(9), payload: try decompress(row.blob(10), dictionaryID: row.isNull(11) ? nil : row.int(11))
        )
    }

    private func decompress(_ bytes: [UInt8], dictionaryID: Int64?) throws -> [UInt8] {
        guard let dictionaryID else { return try PayloadCodec.decompress(bytes, limit: maximumPayloadBytes) }
        guard let dictionaries else { throw BodyDecodingError.corrupt("payload needs dictionary \(dictionaryID)") }
        return try dictionaries.decompress(bytes, dictionaryID: dictionaryID, limit: maximumPayloadBytes)
    }

    package func issues(projectID: Int64, query: IssueQuery) async throws -> [IssueRow] {
        try await read { db in
            var sql = Self.issueColumns + " WHERE project_id = ?"
            var bindings: [SQLiteValue] = [.int(projectID)]
            func anyOf(_ column: String, _ values: [SQLiteValue]) {
                guard !values.isEmpty else { return }
                sql += " AND \(column) IN (" + Array(repeating: "?", count: values.count).joined(separator: ",") + ")"
                bindings += values
            }
            anyOf("status", query.statuses.map { .int(Int64($0.rawValue)) })
            anyOf("level", query.levels.map { .int(Int64($0.rawValue)) })
            for text in query.text {
                sql += " AND (title LIKE ? ESCAPE '\\' OR culprit LIKE ? ESCAPE '\\')"
                let pattern = "%" + Self.escapeLike(text) + "%"
                bindings += [.text(pattern), .text(pattern)]
            }
            var facets = query.tags
            facets += query.environments.map { ("environment", $0) }
            facets += query.releases.map { ("release", $0) }
            for (key, value) in facets {
                sql += " AND EXISTS (SELECT 1 FROM issue_tags t WHERE t.issue_id = issues.id AND t.key = ? AND t.value = ?)"
                bindings += [.text(key), .text(value)]
            }
            let column: String
            switch query.sort {
            case .date: column = "last_seen"
            case .new: column = "first_seen"
            case .freq: column = "times_seen"
            case .user: column = "users_seen"
            }
            if let cursor = query.cursor {
                sql += " AND (\(column) < ? OR (\(column) = ? AND id < ?))"
                bindings += [.int(cursor.value), .int(cursor.value), .int(cursor.id)]
            }
            sql += " ORDER BY \(column) DESC, id DESC LIMIT ?"
            bindings.append(.int(Int64(max(1, min(query.limit, 1000)))))
            return try db.statement(sql).query(bindings, Self.issue)
        }
    }

    static func escapeLike(_ text: String) -> String {
        var out = ""
        for c in text {
            if c == "%" || c == "_" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out
    }

    package func issue(id: Int64) async throws -> IssueRow? {
        try await read { db in try db.statement(Self.issueColumns + " WHERE id = ?").query([.int(id)], Self.issue).first }
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
}
