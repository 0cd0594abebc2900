package import PitStorage
import PostgresNIO

/// Release health reads: `SessionSQL`'s statements, decoded.
extension PostgresReadStore {
    package func sessionStats(_ query: SessionQuery) async throws -> SessionStats {
        var stats = SessionStats()
        for try await row in try await client.query(PostgresQuery(SessionSQL.sessions(query, dialect: Self.dialect)), logger: logger) {
            let (project, release, environment, interval, started, errored, abnormal, crashed) = try row.decode(
                (Int64, String, String, Int64, Int64, Int64, Int64, Int64).self)
            let tally = SessionTally(started: started, errored: errored, abnormal: abnormal, crashed: crashed)
            guard tally != SessionTally() else { continue }
            stats.sessions[SessionGroup(projectID: project, release: release, environment: environment, interval: interval)] = tally
        }
        for try await row in try await client.query(PostgresQuery(SessionSQL.users(query, dialect: Self.dialect)), logger: logger) {
            let (project, release, environment, interval, outcome, users) = try row.decode(
                (Int64, String, String, Int64, Int64, Int64).self)
            let key = SessionGroup(projectID: project, release: release, environment: environment, interval: interval)
            stats.users[key, default: [:]][SessionOutcome(rawValue: outcome) ?? .healthy, default: 0] += users
        }
        for try await row in try await client.query(PostgresQuery(SessionSQL.durations(query, dialect: Self.dialect)), logger: logger) {
            let (project, release, environment, interval, bucket, sessions) = try row.decode(
                (Int64, String, String, Int64, Int64, Int64).self)
            let key = SessionGroup(projectID: project, release: release, environment: environment, interval: interval)
            stats.durations[key, default: [:]][bucket, default: 0] += sessions
        }
        return stats
    }
}
