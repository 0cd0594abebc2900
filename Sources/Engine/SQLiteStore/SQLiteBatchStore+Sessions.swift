import PitIngest
import PitModel
import PitStorage

/// Release health on the SQLite write path: the batch's session records are counted by
/// `SessionWrites` from the states stored for their sessions, and the result is upserted in the
/// batch's transaction.
extension SQLiteBatchStore {
    /// `units`: the batch's units that carry session records, in queue order.
    func writeSessions(_ units: [WriteUnit]) throws {
        var stored: [SessionWrites.StateKey: SessionWrites.State] = [:]
        let loadState = try connection.statement(
            "SELECT release, environment, started, did, outcome, errors, ended FROM session_states WHERE project_id = ? AND sid = ?")
        for key in SessionWrites.stateKeys(of: units) {
            let rows = try loadState.query([.int(key.projectID), .text(key.sid)]) { row in
                SessionWrites.State(
                    release: row.text(0) ?? "", environment: row.text(1) ?? "", started: row.int(2), did: row.text(3),
                    outcome: SessionOutcome(rawValue: row.int(4)) ?? .healthy, errors: row.int(5), ended: row.int(6) != 0)
            }
            if let state = rows.first { stored[key] = state }
        }
        try write(SessionWrites.collect(units, stored: stored))
    }

    private func write(_ writes: SessionWrites) throws {
        let upsertState = try connection.statement(
            """
            INSERT INTO session_states (project_id, sid, release, environment, started, did, outcome, errors, ended)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (project_id, sid) DO UPDATE SET outcome = excluded.outcome, errors = excluded.errors, ended = excluded.ended
            """)
        for (key, state) in writes.states {
            try upsertState.run([
                .int(key.projectID), .text(key.sid), .text(state.release), .text(state.environment), .int(state.started),
                .optional(state.did), .int(state.outcome.rawValue), .int(state.errors), .int(state.ended ? 1 : 0),
            ])
        }
        let upsertHour = try connection.statement(
            """
            INSERT INTO session_hourly (project_id, release, environment, hour, started, errored, abnormal, crashed)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (project_id, release, environment, hour) DO UPDATE SET started = started + excluded.started,
                errored = errored + excluded.errored, abnormal = abnormal + excluded.abnormal, crashed = crashed + excluded.crashed
            """)
        for (key, tally) in writes.sessions {
            try upsertHour.run(
                Self.bucketValues(key) + [.int(tally.started), .int(tally.errored), .int(tally.abnormal), .int(tally.crashed)])
        }
        let upsertUser = try connection.statement(
            """
            INSERT INTO session_users (project_id, release, environment, hour, did, outcome) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (project_id, release, environment, hour, did) DO UPDATE SET outcome = MAX(outcome, excluded.outcome)
            """)
        for (key, outcome) in writes.users {
            try upsertUser.run(Self.bucketValues(key.bucket) + [.text(key.did), .int(outcome.rawValue)])
        }
        let upsertDuration = try connection.statement(
            """
            INSERT INTO session_durations (project_id, release, environment, hour, bucket, sessions) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (project_id, release, environment, hour, bucket) DO UPDATE SET sessions = sessions + excluded.sessions
            """)
        for (key, count) in writes.durations {
            try upsertDuration.run(Self.bucketValues(key.bucket) + [.int(key.index), .int(count)])
        }
        // Sessions create their release, as in Sentry; a release known from events keeps its
        // first and last event.
        let insertRelease = try connection.statement(
            """
            INSERT INTO releases (project_id, version, first_seen, last_seen, events, new_issues) VALUES (?, ?, ?, ?, 0, 0)
            ON CONFLICT (project_id, version) DO NOTHING
            """)
        for (key, seen) in writes.releases {
            try insertRelease.run([.int(key.projectID), .text(key.version), .int(seen.first), .int(seen.last)])
            if connection.changes > 0 { releaseFirstSeen[ProjectValue(projectID: key.projectID, value: key.version)] = nil }
        }
    }

    private static func bucketValues(_ key: SessionWrites.BucketKey) -> [SQLiteValue] {
        [.int(key.projectID), .text(key.release), .text(key.environment), .int(key.hour)]
    }
}
