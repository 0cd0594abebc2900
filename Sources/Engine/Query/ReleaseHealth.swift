import PitModel
package import PitStorage

/// Sentry's `healthData` of a release in one project (`?health=1` on the release routes, and the
/// release pages): rates over the summary period, adoption over the last 24 hours.
package struct ReleaseHealth: Sendable, Equatable {
    package var hasHealthData = false
    package var sessions = SessionTally()
    package var users: Int64 = 0
    package var crashedUsers: Int64 = 0
    package var sessions24h: Int64 = 0
    package var users24h: Int64 = 0
    package var projectSessions24h: Int64 = 0
    package var projectUsers24h: Int64 = 0
    /// Seconds, of cleanly exited sessions.
    package var durationP50: Double?
    package var durationP90: Double?
    /// Sessions per hour over the last 24 hours, oldest first, from `statsFirstHour` (Sentry's
    /// `stats.24h`).
    package var hourlySessions: [Int64] = []
    package var statsFirstHour: Int64 = 0

    package init() {}

    /// Percentages (0-100), nil without sessions (or users), as Sentry renders them.
    package var crashFreeSessions: Double? { Self.percentFree(sessions.crashed, of: sessions.started) }
    package var crashFreeUsers: Double? { Self.percentFree(crashedUsers, of: users) }
    /// The release's share of the project's users in the last 24 hours (Sentry's `adoption`).
    package var adoption: Double? { Self.share(users24h, of: projectUsers24h) }
    package var sessionsAdoption: Double? { Self.share(sessions24h, of: projectSessions24h) }

    static func percentFree(_ bad: Int64, of total: Int64) -> Double? {
        total > 0 ? max(0, 100 - Double(bad) / Double(total) * 100) : nil
    }

    static func share(_ part: Int64, of total: Int64) -> Double? {
        total > 0 ? min(100, Double(part) / Double(total) * 100) : nil
    }

    /// The summary period of the rates (Sentry's default `summaryStatsPeriod`).
    package static let summaryHours: Int64 = 14 * 24
    /// How far back `hasHealthData` looks.
    package static let presenceHours: Int64 = 90 * 24

    package struct Key: Hashable, Sendable {
        package var projectID: Int64
        package var release: String

        package init(projectID: Int64, release: String) {
            self.projectID = projectID
            self.release = release
        }
    }

    /// The health of every (project, release) of `keys`, read with a few grouped statements
    /// whatever their number.
    package static func load(_ keys: [Key], reader: any ReadStore, nowMilliseconds: Int64) async throws -> [Key: ReleaseHealth] {
        guard !keys.isEmpty else { return [:] }
        let hour = HourlyCounts.hour(ofMilliseconds: nowMilliseconds)
        let projects = Array(Set(keys.map(\.projectID))).sorted()
        let releases = Array(Set(keys.map(\.release))).sorted()
        func query(hours: Int64, byRelease: Bool) -> SessionQuery {
            var query = SessionQuery(projectIDs: projects, fromHour: hour - hours + 1, toHour: hour)
            query.byProject = true
            query.byRelease = byRelease
            if byRelease { query.releases = releases }
            return query
        }
        let presence = try await reader.sessionStats(query(hours: presenceHours, byRelease: true))
        let summary = try await reader.sessionStats(query(hours: summaryHours, byRelease: true))
        let day = try await reader.sessionStats(query(hours: 24, byRelease: true))
        let projectDay = try await reader.sessionStats(query(hours: 24, byRelease: false))
        var hourlyQuery = query(hours: 24, byRelease: true)
        hourlyQuery.intervalHours = 1
        let hourly = try await reader.sessionStats(hourlyQuery)
        var result: [Key: ReleaseHealth] = [:]
        for key in keys {
            let group = SessionGroup(projectID: key.projectID, release: key.release)
            let projectGroup = SessionGroup(projectID: key.projectID)
            var health = ReleaseHealth()
            health.hasHealthData = (presence.sessions[group]?.started ?? 0) > 0 || presence.userCount(group) > 0
            health.sessions = summary.sessions[group] ?? SessionTally()
            health.users = summary.userCount(group)
            health.crashedUsers = summary.users[group]?[.crashed] ?? 0
            health.sessions24h = day.sessions[group]?.started ?? 0
            health.users24h = day.userCount(group)
            health.projectSessions24h = projectDay.sessions[projectGroup]?.started ?? 0
            health.projectUsers24h = projectDay.userCount(projectGroup)
            let durations = summary.durations[group] ?? [:]
            health.durationP50 = SessionDurations.percentile(0.5, of: durations)
            health.durationP90 = SessionDurations.percentile(0.9, of: durations)
            health.statsFirstHour = hour - 23
            health.hourlySessions = (0..<24).map { index in
                hourly.sessions[SessionGroup(projectID: key.projectID, release: key.release, interval: index)]?.started ?? 0
            }
            result[key] = health
        }
        return result
    }
}
