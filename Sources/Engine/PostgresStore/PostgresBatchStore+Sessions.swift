import PitIngest
import PitModel
import PitStorage
import PostgresNIO

/// Release health on the PostgreSQL write path. Several writers may get updates of one session
/// at once, so its stored state is claimed before it is read: a placeholder row is inserted for
/// every session of the batch (a writer inserting the same key waits on it until this batch
/// commits), then all are read `FOR UPDATE`, in key order. `SessionWrites` counts from them. The
/// hourly and duration counters are appended as deltas (`PostgresRollup` folds them), so
/// concurrent batches of one release never queue on a counter row; the per-user rows are
/// upserted in key order, so two batches rarely deadlock (when they do, the batch is retried
/// like any other).
extension PostgresBatchStore {
    /// `outcome` of a claimed row that holds no session yet.
    private static let unclaimed: Int64 = -1

    /// `units`: the batch's units that carry session records, in queue order.
    func writeSessions(_ units: [WriteUnit]) throws {
        let keys = SessionWrites.stateKeys(of: units)
        var stored: [SessionWrites.StateKey: SessionWrites.State] = [:]
        if !keys.isEmpty {
            session.enqueue(
                prepared:
                    """
                    INSERT INTO session_states (project_id, sid, release, environment, started, did, outcome, errors, ended)
                    SELECT k.project_id, k.sid, '', '', 0, NULL, \(Self.unclaimed), 0, 0
                    FROM unnest(\(keys.map(\.projectID)), \(keys.map(\.sid))) AS k(project_id, sid)
                    ON CONFLICT DO NOTHING
                    """)
            for row in try session.query(
                """
                SELECT s.project_id, s.sid, s.release, s.environment, s.started, s.did, s.outcome, s.errors, s.ended
                FROM session_states s JOIN unnest(\(keys.map(\.projectID)), \(keys.map(\.sid))) AS k(project_id, sid)
                  ON s.project_id = k.project_id AND s.sid = k.sid
                ORDER BY s.project_id, s.sid COLLATE "C" FOR UPDATE OF s
                """)
            {
                let (projectID, sid, release, environment, started, did, outcome, errors, ended) = try row.decode(
                    (Int64, String, String, String, Int64, String?, Int64, Int64, Int64).self)
                guard outcome != Self.unclaimed else { continue }
                stored[SessionWrites.StateKey(projectID: projectID, sid: sid)] = SessionWrites.State(
                    release: release, environment: environment, started: started, did: did,
                    outcome: SessionOutcome(rawValue: outcome) ?? .healthy, errors: errors, ended: ended != 0)
            }
        }
        write(SessionWrites.collect(units, stored: stored))
    }

    private func write(_ writes: SessionWrites) {
        let states = writes.states.keys.sorted()
        if !states.isEmpty {
            let values = states.map { writes.states[$0]! }
            session.enqueue(
                prepared:
                    """
                    INSERT INTO session_states (project_id, sid, release, environment, started, did, outcome, errors, ended)
                    SELECT * FROM unnest(\(states.map(\.projectID)), \(states.map(\.sid)), \(values.map(\.release)),
                                         \(values.map(\.environment)), \(values.map(\.started)), \(PostgresNullableArray(values.map(\.did))),
                                         \(values.map(\.outcome.rawValue)), \(values.map(\.errors)), \(values.map { Int64($0.ended ? 1 : 0) }))
                    ON CONFLICT (project_id, sid) DO UPDATE SET release = excluded.release, environment = excluded.environment,
                        started = excluded.started, did = excluded.did, outcome = excluded.outcome, errors = excluded.errors,
                        ended = excluded.ended
                    """)
        }
        let buckets = writes.sessions.keys.sorted()
        if !buckets.isEmpty {
            let tallies = buckets.map { writes.sessions[$0]! }
            session.enqueue(
                prepared:
                    """
                    INSERT INTO session_hourly_deltas (project_id, release, environment, hour, started, errored, abnormal, crashed)
                    SELECT * FROM unnest(\(buckets.map(\.projectID)), \(buckets.map(\.release)), \(buckets.map(\.environment)),
                                         \(buckets.map(\.hour)), \(tallies.map(\.started)), \(tallies.map(\.errored)),
                                         \(tallies.map(\.abnormal)), \(tallies.map(\.crashed)))
                    """)
        }
        let users = writes.users.keys.sorted()
        if !users.isEmpty {
            session.enqueue(
                prepared:
                    """
                    INSERT INTO session_users (project_id, release, environment, hour, did, outcome)
                    SELECT * FROM unnest(\(users.map(\.bucket.projectID)), \(users.map(\.bucket.release)), \(users.map(\.bucket.environment)),
                                         \(users.map(\.bucket.hour)), \(users.map(\.did)), \(users.map { writes.users[$0]!.rawValue }))
                    ON CONFLICT (project_id, release, environment, hour, did) DO UPDATE SET
                        outcome = GREATEST(session_users.outcome, excluded.outcome)
                    """)
        }
        let durations = writes.durations.keys.sorted()
        if !durations.isEmpty {
            session.enqueue(
                prepared:
                    """
                    INSERT INTO session_duration_deltas (project_id, release, environment, hour, bucket, sessions)
                    SELECT * FROM unnest(\(durations.map(\.bucket.projectID)), \(durations.map(\.bucket.release)),
                                         \(durations.map(\.bucket.environment)), \(durations.map(\.bucket.hour)), \(durations.map(\.index)),
                                         \(durations.map { writes.durations[$0]! }))
                    """)
        }
        // Sessions create their release, as in Sentry; a release known from events keeps its
        // first and last event. A delta like any other sighting, rolled up by `PostgresRollup`.
        let releases = writes.releases.keys.sorted()
        if !releases.isEmpty {
            session.enqueue(
                """
                INSERT INTO release_deltas (project_id, version, first_seen, last_seen, events, new_issues)
                SELECT k.project_id, k.version, k.first_seen, k.last_seen, 0, 0
                FROM unnest(\(releases.map(\.projectID)), \(releases.map(\.version)), \(releases.map { writes.releases[$0]!.first }),
                            \(releases.map { writes.releases[$0]!.last })) AS k(project_id, version, first_seen, last_seen)
                WHERE NOT EXISTS (SELECT 1 FROM \(unescaped: PostgresCounters.allReleases) r
                                  WHERE r.project_id = k.project_id AND r.version = k.version)
                """)
        }
    }
}
