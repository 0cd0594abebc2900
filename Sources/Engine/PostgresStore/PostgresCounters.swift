import PitStorage

/// How the read side sees PostgreSQL's counters: the rolled-up rows plus the deltas writers have
/// committed since (see `PostgresSchema.ownMigrations` and `PostgresRollup`). Each fragment is a
/// parenthesised subquery to use where the table's name was. Every statement reads both parts
/// in one snapshot, and a roll-up moves rows from one part to the other in one transaction, so a
/// statement counts every committed event exactly once whether the roll-up has run or not.
///
/// Predicates on the key columns (`issue_id = $1`, `project_id = $1`, `key = … AND value = …`)
/// are pushed by the planner into both arms of the UNION ALL, so each still reads its index.
enum PostgresCounters {
    static let allTagValues = """
        (SELECT issue_id, environment, key, value, times_seen, first_seen, last_seen FROM issue_tag_values
         UNION ALL SELECT issue_id, environment, key, value, times_seen, first_seen, last_seen FROM issue_tag_deltas)
        """

    static let allReleases = """
        (SELECT project_id, version, first_seen, last_seen, events, new_issues FROM releases
         UNION ALL SELECT project_id, version, first_seen, last_seen, events, new_issues FROM release_deltas)
        """

    static let allEnvironments = """
        (SELECT project_id, environment, events FROM project_environments
         UNION ALL SELECT project_id, environment, events FROM project_environment_deltas)
        """

    static let allIssueHourly = """
        (SELECT issue_id, hour, events FROM issue_hourly UNION ALL SELECT issue_id, hour, events FROM issue_hourly_deltas)
        """

    static let allProjectHourly = """
        (SELECT project_id, hour, events, new_issues FROM project_hourly
         UNION ALL SELECT project_id, hour, events, new_issues FROM project_hourly_deltas)
        """

    /// Outcomes per key as they stand: the rolled-up rows and the pending deltas, summed.
    static let allOutcomesHourly = """
        (SELECT project_id, hour, outcome, category, reason, SUM(quantity)::BIGINT AS quantity, SUM(times_seen)::BIGINT AS times_seen
         FROM (SELECT project_id, hour, outcome, category, reason, quantity, times_seen FROM outcomes_hourly
               UNION ALL SELECT project_id, hour, outcome, category, reason, quantity, times_seen FROM outcomes_hourly_deltas) u
         GROUP BY project_id, hour, outcome, category, reason)
        """

    /// Release-health counters as they stand; the readers sum per group anyway, so the pending
    /// deltas are only appended.
    static let allSessionHourly = """
        (SELECT project_id, release, environment, hour, started, errored, abnormal, crashed FROM session_hourly
         UNION ALL SELECT project_id, release, environment, hour, started, errored, abnormal, crashed FROM session_hourly_deltas)
        """

    static let allSessionDurations = """
        (SELECT project_id, release, environment, hour, bucket, sessions FROM session_durations
         UNION ALL SELECT project_id, release, environment, hour, bucket, sessions FROM session_duration_deltas)
        """

    /// Performance aggregates as they stand; the readers sum per group, so the pending deltas are
    /// only appended (as minutes, or folded to their hour).
    static let allTransactionMinutes = transactionAggregates(unit: "minute", fromDeltas: "minute")
    static let allTransactionHours = transactionAggregates(unit: "hour", fromDeltas: "minute / 60")

    private static func transactionAggregates(unit: String, fromDeltas expression: String) -> String {
        let counters = (["total", "failures", "extrapolated", "satisfied", "tolerated", "duration_sum"] + DurationHistogram.columns)
            .joined(separator: ", ")
        return """
            (SELECT project_id, \(unit), name, release, environment, \(counters) FROM transaction_\(unit)s
             UNION ALL SELECT project_id, \(expression) AS \(unit), name, release, environment, \(counters) FROM transaction_minute_deltas)
            """
    }

    /// Per issue, what its pending deltas add; the last release is the newest delta's that had one.
    static let pendingIssues = """
        (SELECT issue_id, SUM(events)::BIGINT AS events, SUM(users)::BIGINT AS users, MIN(first_seen) AS first_seen,
                MAX(last_seen) AS last_seen,
                (array_agg(last_release ORDER BY seq DESC) FILTER (WHERE last_release IS NOT NULL))[1] AS last_release
         FROM issue_deltas GROUP BY issue_id)
        """

    /// `issues` with its counters as they stand, columns named as the table's. `pendingOnly`
    /// keeps just the issues that have deltas, for lists that take the others straight from the
    /// table's sort indexes; they are fetched by primary key (the planner would otherwise scan
    /// every issue of the project to join a few hundred: 10 ms instead of 1 with 10,000 issues).
    static func liveIssues(pendingOnly: Bool = false) -> String {
        """
        (SELECT i.id, i.project_id, i.short_id, i.kind, i.title, i.culprit, i.metadata, i.level, i.status, i.substatus,
                i.resolved_in_release, LEAST(i.first_seen, p.first_seen) AS first_seen, GREATEST(i.last_seen, p.last_seen) AS last_seen,
                i.times_seen + COALESCE(p.events, 0) AS times_seen, i.users_seen + COALESCE(p.users, 0) AS users_seen,
                i.first_release, COALESCE(p.last_release, i.last_release) AS last_release
         FROM issues i \(pendingOnly ? "JOIN" : "LEFT JOIN") \(pendingIssues) p ON p.issue_id = i.id
         \(pendingOnly ? "WHERE i.id = ANY(ARRAY(SELECT issue_id FROM issue_deltas))" : ""))
        """
    }
}
