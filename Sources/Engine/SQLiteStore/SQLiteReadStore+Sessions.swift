package import PitStorage

/// Release health reads: `SessionSQL`'s statements, decoded.
extension SQLiteReadStore {
    package func sessionStats(_ query: SessionQuery) async throws -> SessionStats {
        try await read { db in
            var stats = SessionStats()
            func group(_ row: SQLiteStatement) -> SessionGroup {
                SessionGroup(projectID: row.int(0), release: row.text(1) ?? "", environment: row.text(2) ?? "", interval: row.int(3))
            }
            for (key, tally) in try db.query(
                SessionSQL.sessions(query, dialect: Self.dialect),
                {
                    (group($0), SessionTally(started: $0.int(4), errored: $0.int(5), abnormal: $0.int(6), crashed: $0.int(7)))
                }) where tally != SessionTally()
            {
                stats.sessions[key] = tally
            }
            for (key, outcome, users) in try db.query(SessionSQL.users(query, dialect: Self.dialect), { (group($0), $0.int(4), $0.int(5)) })
            {
                stats.users[key, default: [:]][SessionOutcome(rawValue: outcome) ?? .healthy, default: 0] += users
            }
            for (key, bucket, sessions) in try db.query(
                SessionSQL.durations(query, dialect: Self.dialect),
                {
                    (group($0), $0.int(4), $0.int(5))
                })
            {
                stats.durations[key, default: [:]][bucket, default: 0] += sessions
            }
            return stats
        }
    }
}
