package import Logging
import PitStorage
package import PostgresNIO
import ServiceLifecycle

/// Moves the counter deltas that writers append (`PostgresSchema.ownMigrations`) into the
/// counters themselves, so the delta tables stay small and readers add few rows. Every instance
/// runs one; a transaction-level advisory lock lets one roll up at a time while the others skip
/// their turn. Each table's deltas leave through `DELETE … RETURNING` and land in the counters in
/// the same transaction, so a delta is counted in one place or the other and never in both, even
/// without the lock (a second DELETE waits for the first and then finds the rows gone).
///
/// Readers never wait for it: they add the pending deltas themselves (`PostgresCounters`). How
/// often it runs only bounds how many deltas they add.
package struct PostgresRollup: Service {
    private let client: PostgresClient
    private let interval: Duration
    private let logger: Logger

    /// Any constant key, distinct from `PostgresSchema.migrationLock`.
    static let lock: Int64 = 0x5069_745F_526F_6C6C

    package init(client: PostgresClient, interval: Duration = .seconds(1), logger: Logger) {
        self.client = client
        self.interval = interval
        self.logger = logger
    }

    package func run() async throws {
        var failing = false
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await cancelWhenGracefulShutdown { [interval] in try await Task.sleep(for: interval) }
            } catch {
                return
            }
            do {
                try await rollUp()
                if failing { logger.info("counter roll-up succeeds again") }
                failing = false
            } catch {
                // A deadlock with a writer reopening issues, or a database that is away: the
                // deltas stay where they are, still counted by readers, until the next turn.
                // Logged once per outage, not once a second.
                logger.log(
                    level: failing ? .debug : .warning, "counter roll-up failed", metadata: ["error": "\(String(reflecting: error))"])
                failing = true
            }
        }
    }

    /// Rolls up every delta committed so far; false when another instance was rolling up.
    @discardableResult
    package func rollUp() async throws -> Bool {
        let ran = try await client.withTransaction(logger: logger) { connection in
            var locked = false
            for try await row in try await connection.query("SELECT pg_try_advisory_xact_lock(\(Self.lock))", logger: logger) {
                locked = try row.decode(Bool.self)
            }
            guard locked else { return false }
            for statement in Self.statements { try await connection.query(statement, logger: logger) }
            return true
        }
        // The rows just deleted are dead until a vacuum frees their space, and autovacuum visits
        // a database about once a minute: under load the delta tables grew by a minute of writes
        // (measured: 1 KB per event, doubling the database of a short run). Vacuumed after every
        // roll-up they stay at a second's worth; without indexes that costs a few milliseconds.
        if ran { try await client.query(Self.vacuum, logger: logger) }
        return ran
    }

    private static let vacuum: PostgresQuery = """
        VACUUM (SKIP_LOCKED) issue_deltas, issue_tag_deltas, release_deltas, project_environment_deltas, issue_hourly_deltas,
            project_hourly_deltas, outcomes_hourly_deltas, session_hourly_deltas, session_duration_deltas, transaction_minute_deltas
        """

    /// Issues are locked in id order first, as writers lock the resolved ones they reopen, so the
    /// two do not deadlock; the UPSERTs insert in key order for the same reason.
    private static let statements: [PostgresQuery] = [
        "SELECT id FROM issues WHERE id IN (SELECT issue_id FROM issue_deltas) ORDER BY id FOR UPDATE",
        """
        WITH d AS (DELETE FROM issue_deltas RETURNING *),
        a AS (SELECT issue_id, SUM(events) AS events, SUM(users) AS users, MIN(first_seen) AS first_seen, MAX(last_seen) AS last_seen,
                     (array_agg(last_release ORDER BY seq DESC) FILTER (WHERE last_release IS NOT NULL))[1] AS last_release
              FROM d GROUP BY issue_id)
        UPDATE issues i SET times_seen = i.times_seen + a.events, users_seen = i.users_seen + a.users,
            first_seen = LEAST(i.first_seen, a.first_seen), last_seen = GREATEST(i.last_seen, a.last_seen),
            last_release = COALESCE(a.last_release, i.last_release)
        FROM a WHERE i.id = a.issue_id
        """,
        """
        WITH d AS (DELETE FROM issue_tag_deltas RETURNING *)
        INSERT INTO issue_tag_values (issue_id, environment, key, value, times_seen, first_seen, last_seen)
        SELECT issue_id, environment, key, value, SUM(times_seen), MIN(first_seen), MAX(last_seen) FROM d
        GROUP BY issue_id, key, value, environment ORDER BY issue_id, key, value, environment
        ON CONFLICT (issue_id, key, value, environment) DO UPDATE SET times_seen = issue_tag_values.times_seen + excluded.times_seen,
            first_seen = LEAST(issue_tag_values.first_seen, excluded.first_seen),
            last_seen = GREATEST(issue_tag_values.last_seen, excluded.last_seen)
        """,
        """
        WITH d AS (DELETE FROM release_deltas RETURNING *)
        INSERT INTO releases (project_id, version, first_seen, last_seen, events, new_issues)
        SELECT project_id, version, MIN(first_seen), MAX(last_seen), SUM(events), SUM(new_issues) FROM d
        GROUP BY project_id, version ORDER BY project_id, version
        ON CONFLICT (project_id, version) DO UPDATE SET events = releases.events + excluded.events,
            new_issues = releases.new_issues + excluded.new_issues,
            first_seen = LEAST(releases.first_seen, excluded.first_seen),
            last_seen = GREATEST(releases.last_seen, excluded.last_seen)
        """,
        """
        WITH d AS (DELETE FROM project_environment_deltas RETURNING *)
        INSERT INTO project_environments (project_id, environment, events)
        SELECT project_id, environment, SUM(events) FROM d GROUP BY project_id, environment ORDER BY project_id, environment
        ON CONFLICT (project_id, environment) DO UPDATE SET events = project_environments.events + excluded.events
        """,
        """
        WITH d AS (DELETE FROM issue_hourly_deltas RETURNING *)
        INSERT INTO issue_hourly (issue_id, hour, events)
        SELECT issue_id, hour, SUM(events) FROM d GROUP BY issue_id, hour ORDER BY issue_id, hour
        ON CONFLICT (issue_id, hour) DO UPDATE SET events = issue_hourly.events + excluded.events
        """,
        """
        WITH d AS (DELETE FROM project_hourly_deltas RETURNING *)
        INSERT INTO project_hourly (project_id, hour, events, new_issues)
        SELECT project_id, hour, SUM(events), SUM(new_issues) FROM d GROUP BY project_id, hour ORDER BY project_id, hour
        ON CONFLICT (project_id, hour) DO UPDATE SET events = project_hourly.events + excluded.events,
            new_issues = project_hourly.new_issues + excluded.new_issues
        """,
        """
        WITH d AS (DELETE FROM outcomes_hourly_deltas RETURNING *)
        INSERT INTO outcomes_hourly (project_id, hour, outcome, category, reason, quantity, times_seen)
        SELECT project_id, hour, outcome, category, reason, SUM(quantity), SUM(times_seen) FROM d
        GROUP BY project_id, hour, outcome, category, reason ORDER BY project_id, hour, outcome, category, reason
        ON CONFLICT (project_id, hour, outcome, category, reason) DO UPDATE SET
            quantity = outcomes_hourly.quantity + excluded.quantity, times_seen = outcomes_hourly.times_seen + excluded.times_seen
        """,
        """
        WITH d AS (DELETE FROM session_hourly_deltas RETURNING *)
        INSERT INTO session_hourly (project_id, release, environment, hour, started, errored, abnormal, crashed)
        SELECT project_id, release, environment, hour, SUM(started), SUM(errored), SUM(abnormal), SUM(crashed) FROM d
        GROUP BY project_id, release, environment, hour ORDER BY project_id, release, environment, hour
        ON CONFLICT (project_id, release, environment, hour) DO UPDATE SET
            started = session_hourly.started + excluded.started, errored = session_hourly.errored + excluded.errored,
            abnormal = session_hourly.abnormal + excluded.abnormal, crashed = session_hourly.crashed + excluded.crashed
        """,
        """
        WITH d AS (DELETE FROM session_duration_deltas RETURNING *)
        INSERT INTO session_durations (project_id, release, environment, hour, bucket, sessions)
        SELECT project_id, release, environment, hour, bucket, SUM(sessions) FROM d
        GROUP BY project_id, release, environment, hour, bucket ORDER BY project_id, release, environment, hour, bucket
        ON CONFLICT (project_id, release, environment, hour, bucket) DO UPDATE SET
            sessions = session_durations.sessions + excluded.sessions
        """,
        PostgresQuery(unsafeSQL: transactionRollup),
    ]

    /// The performance deltas into both granularities at once: the minutes as they came, and the
    /// same sums an hour wide.
    private static let transactionRollup: String = {
        let counters = ["total", "failures", "extrapolated", "satisfied", "tolerated", "duration_sum"] + DurationHistogram.columns
        let keys = "project_id, name, release, environment"
        func upsert(_ table: String, unit: String, from expression: String) -> String {
            """
            INSERT INTO \(table) (project_id, \(unit), name, release, environment, \(counters.joined(separator: ", ")))
            SELECT project_id, \(expression), name, release, environment, \(counters.map { "SUM(\($0))" }.joined(separator: ", "))
            FROM d GROUP BY project_id, \(expression), name, release, environment ORDER BY project_id, \(expression), name, release, environment
            ON CONFLICT (project_id, \(unit), \(keys.dropFirst("project_id, ".count))) DO UPDATE SET
                \(counters.map { "\($0) = \(table).\($0) + excluded.\($0)" }.joined(separator: ", "))
            """
        }
        return """
            WITH d AS (DELETE FROM transaction_minute_deltas RETURNING *),
            m AS (\(upsert("transaction_minutes", unit: "minute", from: "minute")))
            \(upsert("transaction_hours", unit: "hour", from: "minute / 60"))
            """
    }()
}
