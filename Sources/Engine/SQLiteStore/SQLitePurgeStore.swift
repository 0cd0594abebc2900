import PitModel
package import PitStorage

/// Retention deletes for SQLite, on a connection of their own beside the writer's (WAL lets the
/// readers go on; writes take turns on the one write lock). Each call is one short IMMEDIATE
/// transaction of at most `limit` rows, so the writer's next BEGIN waits one small batch at most.
///
/// Issues are not deleted here: the writer's in-memory index maps fingerprints to issue ids, and
/// only the writer can drop an id from it in the same transaction that deletes the row
/// (`IssueCommand.purgeIssues`).
package final class SQLitePurgeStore: PurgeStore {
    private let connection: SQLiteConnection

    /// `busyTimeoutMilliseconds`: how long a batch waits for the writer to release the write
    /// lock; the writer's batches are short, and a purge that gives up simply retries next pass.
    package init(path: String, busyTimeoutMilliseconds: Int32 = 10_000) throws {
        connection = try SQLiteConnection(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        try SQLiteSchema.prepare(connection)
    }

    package func close() {}

    package private(set) var lastHoldSeconds: Double?

    /// A write transaction timed from the moment BEGIN IMMEDIATE has the write lock.
    private func held<T>(_ body: () throws -> T) throws -> T {
        lastHoldSeconds = nil
        try connection.execute("BEGIN IMMEDIATE")
        let started = ClockTime.monotonicSeconds
        do {
            let result = try body()
            try connection.execute("COMMIT")
            lastHoldSeconds = ClockTime.monotonicSeconds - started
            return result
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }

    package func projectIDs() throws -> [Int64] {
        try connection.statement("SELECT id FROM projects ORDER BY id").query([]) { $0.int(0) }
    }

    private static let rowColumns = "id, project_id, issue_id, received, level, environment, release, user_key"

    package func purgeEvents(_ selection: PurgeSelection, limit: Int) throws -> PurgedEvents {
        try held {
            // Rows come oldest first (ids grow with arrival); an expired batch stops at the first
            // row still inside retention, so kept rows are never scanned twice in one batch.
            var ids: [Int64] = []
            var tally = PurgeTally()
            let candidates: [(Int64, PurgeTally.Row)]
            let boundary: Int64?
            switch selection {
            case .expired(let projectID, let cutoff):
                candidates = try connection.statement(
                    "SELECT \(Self.rowColumns) FROM events WHERE project_id = ? ORDER BY id LIMIT ?"
                ).query([.int(projectID), .int(Int64(limit))], Self.row)
                boundary = cutoff
            case .oldest:
                candidates = try connection.statement("SELECT \(Self.rowColumns) FROM events ORDER BY id LIMIT ?")
                    .query([.int(Int64(limit))], Self.row)
                boundary = nil
            }
            for (id, row) in candidates {
                if let boundary, row.received >= boundary { break }
                ids.append(id)
                tally.add(row)
            }
            guard !ids.isEmpty else { return PurgedEvents() }
            let delete = try connection.statement("DELETE FROM events WHERE id = ?")
            for id in ids { try delete.run([.int(id)]) }
            return try adjust(for: tally, cutoff: boundary ?? (tally.newestReceived ?? 0))
        }
    }

    private static func row(_ r: SQLiteStatement) -> (Int64, PurgeTally.Row) {
        (
            r.int(0),
            PurgeTally.Row(
                projectID: r.int(1), issueID: r.int(2), received: r.int(3), level: r.int(4),
                environment: r.text(5) ?? "", release: r.text(6), userKey: r.text(7))
        )
    }

    /// Lowers the counters that included the deleted events, inside the deleting transaction.
    private func adjust(for tally: PurgeTally, cutoff: Int64) throws -> PurgedEvents {
        let issues = try connection.statement("UPDATE issues SET times_seen = MAX(times_seen - ?, 0) WHERE id = ?")
        for (id, count) in tally.issues { try issues.run([.int(count), .int(id)]) }
        let tags = try connection.statement(
            """
            UPDATE issue_tag_values SET times_seen = times_seen - ?
            WHERE issue_id = ? AND key = ? AND value = ? AND environment = ?
            """)
        for (key, count) in tally.tags {
            try tags.run([.int(count), .int(key.issueID), .text(key.key), .text(key.value), .text(key.environment)])
        }
        let environments = try connection.statement(
            "UPDATE project_environments SET events = MAX(events - ?, 0) WHERE project_id = ? AND environment = ?")
        for (key, count) in tally.environments { try environments.run([.int(count), .int(key.projectID), .text(key.value)]) }
        let releases = try connection.statement(
            "UPDATE releases SET events = MAX(events - ?, 0) WHERE project_id = ? AND version = ?")
        for (key, count) in tally.releases { try releases.run([.int(count), .int(key.projectID), .text(key.value)]) }
        try dropLostUsers(tally.users)

        // Per issue: tag values last seen before the cutoff or counted down to nothing, and hours
        // wholly before it. The hour holding the cutoff stays: its later events are still there.
        let staleTags = try connection.statement(
            "DELETE FROM issue_tag_values WHERE issue_id = ? AND (times_seen <= 0 OR last_seen < ?)")
        let staleHours = try connection.statement("DELETE FROM issue_hourly WHERE issue_id = ? AND hour < ?")
        let anyEvent = try connection.statement("SELECT 1 FROM events WHERE issue_id = ? LIMIT 1")
        let hour = HourlyCounts.hour(ofMilliseconds: cutoff)
        var result = PurgedEvents()
        result.events = tally.events
        result.newestReceived = tally.newestReceived
        for id in tally.issues.keys.sorted() {
            try staleTags.run([.int(id), .int(cutoff)])
            try staleHours.run([.int(id), .int(hour)])
            if try anyEvent.query([.int(id)], { _ in true }).isEmpty { result.emptiedIssues.append(id) }
        }
        return result
    }

    /// An issue's users whose every event is gone leave `issue_users` and its `users_seen`.
    /// Asked of the user tag counts just lowered, before stale tag rows are dropped. A user row
    /// is removed once even when several batches see it go, since only a deleted row counts.
    private func dropLostUsers(_ users: Set<PurgeTally.IssueUser>) throws {
        guard !users.isEmpty else { return }
        let remaining = try connection.statement(
            """
            SELECT COALESCE(SUM(MAX(times_seen, 0)), 0) FROM issue_tag_values WHERE issue_id = ? AND key = 'user' AND value = ?
            """)
        let drop = try connection.statement("DELETE FROM issue_users WHERE issue_id = ? AND user_key = ?")
        var lost: [Int64: Int64] = [:]
        for user in users.sorted() {
            let left = try remaining.query([.int(user.issueID), .text(user.userKey)]) { $0.int(0) }.first ?? 0
            guard left <= 0 else { continue }
            try drop.run([.int(user.issueID), .text(user.userKey)])
            if connection.changes > 0 { lost[user.issueID, default: 0] += 1 }
        }
        let lower = try connection.statement("UPDATE issues SET users_seen = MAX(users_seen - ?, 0) WHERE id = ?")
        for (id, count) in lost { try lower.run([.int(count), .int(id)]) }
    }

    package func purgeItems(after cursor: Int64, limit: Int, newestCutoff: Int64, cutoff: (Int64) -> Int64?) throws -> PurgedItems {
        try held {
            let rows = try connection.statement("SELECT id, project_id, received FROM items WHERE id > ? ORDER BY id LIMIT ?")
                .query([.int(cursor), .int(Int64(limit))]) { ($0.int(0), $0.int(1), $0.int(2)) }
            var next = cursor
            var done = rows.count < limit
            var deleted = 0
            let delete = try connection.statement("DELETE FROM items WHERE id = ?")
            for (id, projectID, received) in rows {
                if received >= newestCutoff {
                    done = true
                    break
                }
                next = id
                if let projectCutoff = cutoff(projectID), received < projectCutoff {
                    try delete.run([.int(id)])
                    deleted += 1
                }
            }
            return PurgedItems(deleted: deleted, cursor: next, done: done)
        }
    }

    package func purgeFeedback(projectID: Int64, receivedBefore cutoff: Int64, limit: Int) throws -> Int {
        try held {
            try connection.statement(
                "DELETE FROM feedback WHERE id IN (SELECT id FROM feedback WHERE project_id = ? AND received < ? ORDER BY id LIMIT ?)"
            ).run([.int(projectID), .int(cutoff), .int(Int64(limit))])
            return connection.changes
        }
    }

    package func purgeLogs(projectID: Int64, timestampBefore cutoff: Int64, limit: Int) throws -> Int {
        try held {
            try connection.statement(
                """
                DELETE FROM logs WHERE id IN
                    (SELECT id FROM logs WHERE project_id = ? AND timestamp < ? ORDER BY timestamp, id LIMIT ?)
                """
            ).run([.int(projectID), .int(cutoff), .int(Int64(limit))])
            return connection.changes
        }
    }

    package func purgeAttachments(projectID: Int64, receivedBefore cutoff: Int64, limit: Int) throws -> Int {
        try held {
            try connection.statement(
                """
                DELETE FROM attachments WHERE id IN
                    (SELECT id FROM attachments WHERE project_id = ? AND received < ? ORDER BY received LIMIT ?)
                """
            ).run([.int(projectID), .int(cutoff), .int(Int64(limit))])
            return connection.changes
        }
    }

    package func purgeTransactions(projectID: Int64, receivedBefore cutoff: Int64, limit: Int) throws -> Int {
        try held {
            try connection.statement(
                """
                DELETE FROM transactions WHERE id IN
                    (SELECT id FROM transactions WHERE project_id = ? AND received < ? ORDER BY received LIMIT ?)
                """
            ).run([.int(projectID), .int(cutoff), .int(Int64(limit))])
            return connection.changes
        }
    }

    package func purgeProfiles(projectID: Int64, receivedBefore cutoff: Int64, limit: Int) throws -> Int {
        try held {
            try connection.statement(
                """
                DELETE FROM profiles WHERE id IN
                    (SELECT id FROM profiles WHERE project_id = ? AND received < ? ORDER BY received LIMIT ?)
                """
            ).run([.int(projectID), .int(cutoff), .int(Int64(limit))])
            return connection.changes
        }
    }

    package func purgeSpans(projectID: Int64, startedBefore cutoff: Int64, limit: Int) throws -> Int {
        try held {
            try connection.statement(
                "DELETE FROM spans WHERE id IN (SELECT id FROM spans WHERE project_id = ? AND start_us < ? ORDER BY start_us LIMIT ?)"
            ).run([.int(projectID), .int(cutoff), .int(Int64(limit))])
            return connection.changes
        }
    }

    package func purgeCounters(projectID: Int64, beforeHour hour: Int64) throws -> Int {
        try held {
            var deleted = 0
            for table in ["project_hourly", "session_hourly", "session_users", "session_durations", "transaction_hours"] {
                try connection.statement("DELETE FROM \(table) WHERE project_id = ? AND hour < ?").run([.int(projectID), .int(hour)])
                deleted += connection.changes
            }
            try connection.statement("DELETE FROM transaction_minutes WHERE project_id = ? AND minute < ?").run([
                .int(projectID), .int(hour * 60),
            ])
            deleted += connection.changes
            return deleted
        }
    }

    package func purgeSessionStates(startedBefore: Int64, limit: Int) throws -> Int {
        try held {
            try connection.statement(
                """
                DELETE FROM session_states WHERE (project_id, sid) IN
                    (SELECT project_id, sid FROM session_states WHERE started < ? LIMIT ?)
                """
            ).run([.int(startedBefore), .int(Int64(max(1, limit)))])
            return connection.changes
        }
    }

    package func purgeOutcomes(beforeHour hour: Int64, limit: Int) throws -> Int {
        try held {
            try connection.statement(
                """
                DELETE FROM outcomes_hourly WHERE (project_id, hour, outcome, category, reason) IN
                    (SELECT project_id, hour, outcome, category, reason FROM outcomes_hourly WHERE hour < ? LIMIT ?)
                """
            ).run([.int(hour), .int(Int64(max(1, limit)))])
            return connection.changes
        }
    }

    package func purgeCheckIns(projectID: Int64, createdBefore: Int64, limit: Int) throws -> Int {
        try held {
            try connection.statement(
                """
                DELETE FROM monitor_checkins WHERE id IN
                    (SELECT id FROM monitor_checkins WHERE project_id = ? AND created < ? LIMIT ?)
                """
            ).run([.int(projectID), .int(createdBefore), .int(Int64(max(1, limit)))])
            return connection.changes
        }
    }

    package func deleteIssuesWithoutEvents(_ issueIDs: [Int64]) throws -> Int? { nil }

    package func usedBytes() throws -> Int64? {
        let pages = try connection.scalarInt("PRAGMA page_count") ?? 0
        let free = try connection.scalarInt("PRAGMA freelist_count") ?? 0
        let size = try connection.scalarInt("PRAGMA page_size") ?? Int64(SQLiteSchema.pageSize)
        return (pages - free) * size
    }

    package func reclaimSpace(maxPages: Int) throws -> Int {
        lastHoldSeconds = nil
        // Only an incremental-vacuum database can hand pages back while it is in use; one created
        // with auto_vacuum=NONE reuses its free pages for new rows and shrinks with `pitd vacuum`.
        guard try connection.scalarInt("PRAGMA auto_vacuum") == 2 else { return 0 }
        let before = try connection.scalarInt("PRAGMA freelist_count") ?? 0
        guard before > 0 else { return 0 }
        let started = ClockTime.monotonicSeconds
        try connection.execute("PRAGMA incremental_vacuum(\(maxPages))")
        lastHoldSeconds = ClockTime.monotonicSeconds - started
        let after = try connection.scalarInt("PRAGMA freelist_count") ?? 0
        return Int(before - after)
    }
}

extension SQLiteBatchStore {
    /// SQL run by the writer for `IssueCommand.purgeIssues`: deletes an issue that still has no
    /// events (checked inside the writer's transaction, so an event for it in this very batch or
    /// an earlier one keeps it) with everything keyed by it. The hashes are deleted by the caller,
    /// which knows them from its index.
    static func deleteIssueIfEmpty(_ id: Int64, connection: SQLiteConnection) throws -> Bool {
        guard try connection.statement("SELECT 1 FROM events WHERE issue_id = ? LIMIT 1").query([.int(id)], { _ in true }).isEmpty else {
            return false
        }
        try connection.statement("DELETE FROM issues WHERE id = ?").run([.int(id)])
        guard connection.changes > 0 else { return false }
        for table in ["issue_groupings", "issue_users", "issue_tag_values", "issue_hourly"] {
            try connection.statement("DELETE FROM \(table) WHERE issue_id = ?").run([.int(id)])
        }
        return true
    }
}
