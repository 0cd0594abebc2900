package import Logging
package import PitStorage
import PostgresNIO

/// Retention deletes for PostgreSQL, on a session of their own. A batch is one transaction of a
/// few statements: delete the oldest expired events (`RETURNING` what the counters need), then
/// lower those counters with `unnest` updates, locking issue rows in id order as the writers do.
///
/// Unlike SQLite, emptied issues are deleted here: no writer holds issue state in memory that
/// only it may change. An issue goes only when it has no events left *and* was last seen before
/// the cutoff, so an issue that took an event inside retention is never taken.
///
/// Space comes back through autovacuum (deleted rows become reusable); the files shrink only with
/// `VACUUM FULL` or pg_repack, which the README describes.
package final class PostgresPurgeStore: PurgeStore {
    private let session: PostgresSession
    /// The cutoff of the latest `expired` batch, for the issue deletion that follows it.
    private var lastCutoff: Int64 = 0

    package init(url: PostgresDatabaseURL, logger: Logger) throws {
        session = try PostgresSession(url: url, logger: logger)
    }

    package func close() { session.close() }

    package func projectIDs() throws -> [Int64] {
        try session.query("SELECT id FROM projects ORDER BY id").map { try $0.decode(Int64.self) }
    }

    package func purgeEvents(_ selection: PurgeSelection, limit: Int) throws -> PurgedEvents {
        // max_database_bytes is SQLite's (see RetentionPolicy): `.oldest` never comes here.
        guard case .expired(let projectID, let cutoff) = selection else { return PurgedEvents() }
        lastCutoff = cutoff
        return try session.transaction {
            var tally = PurgeTally()
            let rows = try session.query(
                """
                DELETE FROM events WHERE id IN (
                    SELECT id FROM events WHERE project_id = \(projectID) AND received < \(cutoff)
                    ORDER BY id LIMIT \(Int64(limit)) FOR UPDATE SKIP LOCKED)
                RETURNING project_id, issue_id, received, level, environment, release, user_key
                """)
            for row in rows {
                let c = try row.decode((Int64, Int64, Int64, Int64, String, String?, String?).self)
                tally.add(
                    PurgeTally.Row(
                        projectID: c.0, issueID: c.1, received: c.2, level: c.3, environment: c.4,
                        release: c.5, userKey: c.6))
            }
            guard tally.events > 0 else { return PurgedEvents() }
            let issueIDs = tally.issues.keys.sorted()
            session.enqueue(
                """
                UPDATE issues i SET times_seen = GREATEST(i.times_seen - d.n, 0)
                FROM unnest(\(issueIDs), \(issueIDs.map { tally.issues[$0]! })) AS d(id, n) WHERE i.id = d.id
                """)
            let tags = tally.tags.keys.sorted {
                ($0.issueID, $0.key, $0.value, $0.environment) < ($1.issueID, $1.key, $1.value, $1.environment)
            }
            session.enqueue(
                """
                UPDATE issue_tag_values t SET times_seen = t.times_seen - d.n
                FROM unnest(\(tags.map(\.issueID)), \(tags.map(\.key)), \(tags.map(\.value)), \(tags.map(\.environment)),
                            \(tags.map { tally.tags[$0]! })) AS d(issue_id, key, value, environment, n)
                WHERE t.issue_id = d.issue_id AND t.key = d.key AND t.value = d.value AND t.environment = d.environment
                """)
            let environments = tally.environments.keys.sorted { ($0.projectID, $0.value) < ($1.projectID, $1.value) }
            session.enqueue(
                """
                UPDATE project_environments p SET events = GREATEST(p.events - d.n, 0)
                FROM unnest(\(environments.map(\.projectID)), \(environments.map(\.value)), \(environments.map { tally.environments[$0]! }))
                    AS d(project_id, environment, n)
                WHERE p.project_id = d.project_id AND p.environment = d.environment
                """)
            let releases = tally.releases.keys.sorted { ($0.projectID, $0.value) < ($1.projectID, $1.value) }
            session.enqueue(
                """
                UPDATE releases r SET events = GREATEST(r.events - d.n, 0)
                FROM unnest(\(releases.map(\.projectID)), \(releases.map(\.value)), \(releases.map { tally.releases[$0]! }))
                    AS d(project_id, version, n)
                WHERE r.project_id = d.project_id AND r.version = d.version
                """)
            if !tally.users.isEmpty {
                // A user leaves an issue when the issue's `user` tag counts (rows and pending
                // deltas), just lowered, hold no event of them any more. Asked before stale tag
                // rows go; only a user row actually deleted lowers `users_seen`, so a user seen
                // going by several batches is taken off once.
                let users = tally.users.sorted()
                session.enqueue(
                    """
                    WITH asked AS (
                        SELECT * FROM unnest(\(users.map(\.issueID)), \(users.map(\.userKey))) AS d(issue_id, user_key)
                    ), counted AS (
                        SELECT t.issue_id, t.value AS user_key, SUM(GREATEST(t.times_seen, 0)) AS n FROM issue_tag_values t
                        JOIN asked a ON t.issue_id = a.issue_id AND t.key = 'user' AND t.value = a.user_key GROUP BY 1, 2
                        UNION ALL
                        SELECT t.issue_id, t.value, SUM(t.times_seen) FROM issue_tag_deltas t
                        JOIN asked a ON t.issue_id = a.issue_id AND t.key = 'user' AND t.value = a.user_key GROUP BY 1, 2
                    ), lost AS (
                        DELETE FROM issue_users u USING asked a
                        WHERE u.issue_id = a.issue_id AND u.user_key = a.user_key
                            AND COALESCE((SELECT SUM(c.n) FROM counted c WHERE c.issue_id = a.issue_id AND c.user_key = a.user_key), 0) <= 0
                        RETURNING u.issue_id
                    )
                    UPDATE issues i SET users_seen = GREATEST(i.users_seen - l.n, 0)
                    FROM (SELECT issue_id, COUNT(*) AS n FROM lost GROUP BY issue_id) l WHERE i.id = l.issue_id
                    """)
            }
            session.enqueue(
                """
                DELETE FROM issue_tag_values WHERE issue_id = ANY(\(issueIDs)) AND (times_seen <= 0 OR last_seen < \(cutoff))
                """)
            session.enqueue(
                "DELETE FROM issue_hourly WHERE issue_id = ANY(\(issueIDs)) AND hour < \(HourlyCounts.hour(ofMilliseconds: cutoff))")
            var result = PurgedEvents()
            result.events = tally.events
            result.newestReceived = tally.newestReceived
            for row in try session.query(
                """
                SELECT d.id FROM unnest(\(issueIDs)) AS d(id) WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.issue_id = d.id)
                """)
            {
                result.emptiedIssues.append(try row.decode(Int64.self))
            }
            return result
        }
    }

    package func purgeItems(after cursor: Int64, limit: Int, newestCutoff: Int64, cutoff: (Int64) -> Int64?) throws -> PurgedItems {
        try session.transaction {
            var rows: [(Int64, Int64, Int64)] = []
            for row in try session.query(
                "SELECT id, project_id, received FROM items WHERE id > \(cursor) ORDER BY id LIMIT \(Int64(limit))")
            {
                rows.append(try row.decode((Int64, Int64, Int64).self))
            }
            var next = cursor
            var done = rows.count < limit
            var doomed: [Int64] = []
            for (id, projectID, received) in rows {
                if received >= newestCutoff {
                    done = true
                    break
                }
                next = id
                if let projectCutoff = cutoff(projectID), received < projectCutoff { doomed.append(id) }
            }
            if !doomed.isEmpty { try session.query("DELETE FROM items WHERE id = ANY(\(doomed))") }
            return PurgedItems(deleted: doomed.count, cursor: next, done: done)
        }
    }

    package func purgeFeedback(projectID: Int64, receivedBefore cutoff: Int64, limit: Int) throws -> Int {
        let result = try session.query(
            """
            DELETE FROM feedback WHERE id IN
                (SELECT id FROM feedback WHERE project_id = \(projectID) AND received < \(cutoff) ORDER BY id LIMIT \(Int64(limit)))
            """)
        return result.metadata.rows ?? 0
    }

    package func purgeLogs(projectID: Int64, timestampBefore cutoff: Int64, limit: Int) throws -> Int {
        let result = try session.query(
            """
            DELETE FROM logs WHERE id IN
                (SELECT id FROM logs WHERE project_id = \(projectID) AND timestamp < \(cutoff) ORDER BY timestamp, id LIMIT \(Int64(limit)))
            """)
        return result.metadata.rows ?? 0
    }

    package func purgeAttachments(projectID: Int64, receivedBefore cutoff: Int64, limit: Int) throws -> Int {
        let result = try session.query(
            """
            DELETE FROM attachments WHERE id IN
                (SELECT id FROM attachments WHERE project_id = \(projectID) AND received < \(cutoff) ORDER BY received LIMIT \(Int64(limit)))
            """)
        return result.metadata.rows ?? 0
    }

    package func purgeTransactions(projectID: Int64, receivedBefore cutoff: Int64, limit: Int) throws -> Int {
        let result = try session.query(
            """
            DELETE FROM transactions WHERE id IN
                (SELECT id FROM transactions WHERE project_id = \(projectID) AND received < \(cutoff) ORDER BY received LIMIT \(Int64(limit)))
            """)
        return result.metadata.rows ?? 0
    }

    package func purgeProfiles(projectID: Int64, receivedBefore cutoff: Int64, limit: Int) throws -> Int {
        let result = try session.query(
            """
            DELETE FROM profiles WHERE id IN
                (SELECT id FROM profiles WHERE project_id = \(projectID) AND received < \(cutoff) ORDER BY received LIMIT \(Int64(limit)))
            """)
        return result.metadata.rows ?? 0
    }

    package func purgeSpans(projectID: Int64, startedBefore cutoff: Int64, limit: Int) throws -> Int {
        let result = try session.query(
            """
            DELETE FROM spans WHERE id IN
                (SELECT id FROM spans WHERE project_id = \(projectID) AND start_us < \(cutoff) ORDER BY start_us LIMIT \(Int64(limit)))
            """)
        return result.metadata.rows ?? 0
    }

    package func purgeCounters(projectID: Int64, beforeHour hour: Int64) throws -> Int {
        try session.transaction {
            var deleted = 0
            for query: PostgresQuery in [
                "DELETE FROM project_hourly WHERE project_id = \(projectID) AND hour < \(hour)",
                "DELETE FROM session_hourly WHERE project_id = \(projectID) AND hour < \(hour)",
                "DELETE FROM session_users WHERE project_id = \(projectID) AND hour < \(hour)",
                "DELETE FROM session_durations WHERE project_id = \(projectID) AND hour < \(hour)",
                "DELETE FROM transaction_hours WHERE project_id = \(projectID) AND hour < \(hour)",
                "DELETE FROM transaction_minutes WHERE project_id = \(projectID) AND minute < \(hour * 60)",
            ] {
                deleted += try session.query(query).metadata.rows ?? 0
            }
            return deleted
        }
    }

    package func purgeSessionStates(startedBefore: Int64, limit: Int) throws -> Int {
        let result = try session.query(
            """
            DELETE FROM session_states WHERE (project_id, sid) IN
                (SELECT project_id, sid FROM session_states WHERE started < \(startedBefore) LIMIT \(Int64(max(1, limit))))
            """)
        return result.metadata.rows ?? 0
    }

    package func purgeOutcomes(beforeHour hour: Int64, limit: Int) throws -> Int {
        let result = try session.query(
            """
            DELETE FROM outcomes_hourly WHERE (project_id, hour, outcome, category, reason) IN
                (SELECT project_id, hour, outcome, category, reason FROM outcomes_hourly WHERE hour < \(hour) LIMIT \(Int64(max(1, limit))))
            """)
        return result.metadata.rows ?? 0
    }

    package func purgeCheckIns(projectID: Int64, createdBefore: Int64, limit: Int) throws -> Int {
        let result = try session.query(
            """
            DELETE FROM monitor_checkins WHERE id IN
                (SELECT id FROM monitor_checkins WHERE project_id = \(projectID) AND created < \(createdBefore) LIMIT \(Int64(max(1, limit))))
            """)
        return result.metadata.rows ?? 0
    }

    package func deleteIssuesWithoutEvents(_ issueIDs: [Int64]) throws -> Int? {
        guard !issueIDs.isEmpty else { return 0 }
        let ids = issueIDs.sorted()
        return try session.transaction {
            var deleted: [Int64] = []
            for row in try session.query(
                """
                DELETE FROM issues i WHERE i.id = ANY(\(ids)) AND i.last_seen < \(lastCutoff)
                    AND NOT EXISTS (SELECT 1 FROM events e WHERE e.issue_id = i.id)
                RETURNING i.id
                """)
            {
                deleted.append(try row.decode(Int64.self))
            }
            guard !deleted.isEmpty else { return 0 }
            // issue_hashes has no index on issue_id (its key is the fingerprint): one scan per
            // pass, for the issues of the whole pass at once.
            session.enqueue("DELETE FROM issue_hashes WHERE issue_id = ANY(\(deleted))")
            session.enqueue("DELETE FROM issue_groupings WHERE issue_id = ANY(\(deleted))")
            session.enqueue("DELETE FROM issue_users WHERE issue_id = ANY(\(deleted))")
            session.enqueue("DELETE FROM issue_tag_values WHERE issue_id = ANY(\(deleted))")
            session.enqueue("DELETE FROM issue_hourly WHERE issue_id = ANY(\(deleted))")
            return deleted.count
        }
    }

    package func usedBytes() throws -> Int64? { nil }

    /// Row locks are taken as the statements run; the round trips are the cost to pace.
    package var lastHoldSeconds: Double? { nil }

    package func reclaimSpace(maxPages: Int) throws -> Int { 0 }
}
