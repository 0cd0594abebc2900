package import PitModel
package import PitStorage

/// Sentry's `GET /api/0/organizations/{org}/sessions/`: the parameters checked (a bad one is a
/// 400 with Sentry's kind of message), the hour-aligned intervals they ask for, and the answer
/// rendered from `ReadStore.sessionStats`.
package struct SessionsRequest: Sendable, Equatable {
    package enum Field: String, Sendable, CaseIterable {
        case sessions = "sum(session)"
        case users = "count_unique(user)"
        case crashFreeSessions = "crash_free_rate(session)"
        case crashFreeUsers = "crash_free_rate(user)"
        case crashSessions = "crash_rate(session)"
        case crashUsers = "crash_rate(user)"
        case p50 = "p50(session.duration)"
        case p75 = "p75(session.duration)"
        case p90 = "p90(session.duration)"
        case p95 = "p95(session.duration)"
        case p99 = "p99(session.duration)"

        var quantile: Double? {
            switch self {
            case .p50: 0.5
            case .p75: 0.75
            case .p90: 0.9
            case .p95: 0.95
            case .p99: 0.99
            default: nil
            }
        }

        var isRate: Bool { self == .crashFreeSessions || self == .crashFreeUsers || self == .crashSessions || self == .crashUsers }
    }

    package enum GroupBy: String, Sendable, CaseIterable {
        case project, release, environment
        case status = "session.status"
    }

    package var fields: [Field]
    package var groupBy: [GroupBy]
    /// Project ids asked for; empty: every project.
    package var projectIDs: [Int64]
    package var environments: [String]
    package var releases: [String]?
    package var query: String
    /// The first hour of the first interval, and the interval's length in hours.
    package var firstHour: Int64
    package var intervalHours: Int64
    package var intervalCount: Int64

    /// `parameters` as (name, value) pairs in query-string order.
    package init(parameters: [(String, String)], nowMilliseconds: Int64) throws(IngestError) {
        func all(_ name: String) -> [String] { parameters.filter { $0.0 == name }.map(\.1) }
        fields = []
        for name in all("field") {
            guard let field = Field(rawValue: name) else { throw .badRequest("Invalid field: \"\(name)\"") }
            if !fields.contains(field) { fields.append(field) }
        }
        guard !fields.isEmpty else { throw .badRequest("Request is missing a \"field\"") }
        groupBy = []
        for name in all("groupBy") {
            guard let group = GroupBy(rawValue: name) else { throw .badRequest("Invalid groupBy: \"\(name)\"") }
            if !groupBy.contains(group) { groupBy.append(group) }
        }
        if groupBy.contains(.status), let rate = fields.first(where: \.isRate) {
            throw .badRequest("Cannot group field \(rate.rawValue) by session.status")
        }
        projectIDs = []
        for text in all("project") where text != "-1" {
            guard let id = Int64(text), id > 0 else { throw .badRequest("Invalid project: \"\(text)\"") }
            if !projectIDs.contains(id) { projectIDs.append(id) }
        }
        environments = all("environment").filter { !$0.isEmpty }
        query = all("query").first ?? ""
        releases = nil
        for term in IssueQuery.tokenize(query) {
            let parts = term.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw .badRequest("Invalid query: \"\(term)\" (release:… and environment:… are supported)") }
            let value =
                parts[1].count >= 2 && parts[1].hasPrefix("\"") && parts[1].hasSuffix("\"")
                ? String(parts[1].dropFirst().dropLast()) : parts[1]
            switch parts[0] {
            case "release": releases = (releases ?? []) + [value]
            case "environment": environments.append(value)
            default: throw .badRequest("Invalid query: \"\(term)\" (release:… and environment:… are supported)")
            }
        }
        let intervals = try StatsIntervals(
            interval: all("interval").first, statsPeriod: all("statsPeriod").first, start: all("start").first, end: all("end").first,
            nowMilliseconds: nowMilliseconds)
        firstHour = intervals.firstHour
        intervalHours = intervals.intervalHours
        intervalCount = intervals.intervalCount
    }

    package var lastHour: Int64 { firstHour + intervalCount * intervalHours - 1 }

    /// The statement's query; `projectIDs` are the projects the caller may read.
    package func sessionQuery(projectIDs: [Int64], byInterval: Bool) -> SessionQuery {
        var query = SessionQuery(projectIDs: projectIDs, fromHour: firstHour, toHour: lastHour)
        query.byProject = groupBy.contains(.project)
        query.byRelease = groupBy.contains(.release)
        query.byEnvironment = groupBy.contains(.environment)
        query.environments = environments
        query.releases = releases
        query.intervalHours = byInterval ? intervalHours : nil
        return query
    }

    /// The answer, from the totals and per-interval stats of `sessionQuery`.
    package func render(totals: SessionStats, series: SessionStats, into writer: inout JSONWriter) {
        let outcomes: [SessionOutcome?] = groupBy.contains(.status) ? [.healthy, .errored, .abnormal, .crashed] : [nil]
        var groups = Set(totals.sessions.keys).union(totals.users.keys)
        for key in series.sessions.keys {
            groups.insert(SessionGroup(projectID: key.projectID, release: key.release, environment: key.environment))
        }
        // Not grouped (or by status only): one group, as Sentry answers, even without sessions.
        if !groupBy.contains(where: { $0 != .status }) { groups = [SessionGroup()] }
        let ordered = groups.sorted { ($0.projectID, $0.release, $0.environment) < ($1.projectID, $1.release, $1.environment) }
        writer.beginObject()
        writer.field("start", Timestamp.format(milliseconds: firstHour * 3_600_000))
        writer.field("end", Timestamp.format(milliseconds: (lastHour + 1) * 3_600_000))
        writer.field("query", query)
        writer.key("intervals")
        writer.beginArray()
        for index in 0..<intervalCount { writer.value(Timestamp.format(milliseconds: (firstHour + index * intervalHours) * 3_600_000)) }
        writer.endArray()
        writer.key("groups")
        writer.beginArray()
        for group in ordered {
            for outcome in outcomes {
                writer.beginObject()
                writer.key("by")
                writer.beginObject()
                for by in groupBy {
                    switch by {
                    case .project: writer.field("project", group.projectID)
                    case .release: writer.field("release", group.release)
                    case .environment: writer.field("environment", group.environment)
                    case .status: writer.field("session.status", outcome?.name)
                    }
                }
                writer.endObject()
                writer.key("totals")
                writer.beginObject()
                for field in fields {
                    writer.key(field.rawValue)
                    value(field, of: group, outcome: outcome, in: totals, into: &writer)
                }
                writer.endObject()
                writer.key("series")
                writer.beginObject()
                for field in fields {
                    writer.key(field.rawValue)
                    writer.beginArray()
                    for index in 0..<intervalCount {
                        var key = group
                        key.interval = index
                        value(field, of: key, outcome: outcome, in: series, into: &writer)
                    }
                    writer.endArray()
                }
                writer.endObject()
                writer.endObject()
            }
        }
        writer.endArray()
        writer.endObject()
    }

    /// One number of a group (for one status when grouped by it); null where it has no meaning.
    private func value(
        _ field: Field, of group: SessionGroup, outcome: SessionOutcome?, in stats: SessionStats, into writer: inout JSONWriter
    ) {
        let tally = stats.sessions[group] ?? SessionTally()
        let users = stats.users[group] ?? [:]
        let userTotal = users.values.reduce(0, +)
        func rate(_ part: Int64, _ total: Int64, free: Bool) {
            guard total > 0 else { return writer.null() }
            let crashed = Double(part) / Double(total)
            writer.value(free ? 1 - crashed : crashed)
        }
        switch field {
        case .sessions: writer.value(outcome.map { tally.count($0) } ?? tally.started)
        case .users: writer.value(outcome.map { users[$0] ?? 0 } ?? userTotal)
        case .crashFreeSessions: rate(tally.crashed, tally.started, free: true)
        case .crashFreeUsers: rate(users[.crashed] ?? 0, userTotal, free: true)
        case .crashSessions: rate(tally.crashed, tally.started, free: false)
        case .crashUsers: rate(users[.crashed] ?? 0, userTotal, free: false)
        case .p50, .p75, .p90, .p95, .p99:
            // Durations are of cleanly exited sessions: healthy ones.
            guard outcome == nil || outcome == .healthy, let quantile = field.quantile,
                let seconds = SessionDurations.percentile(quantile, of: stats.durations[group] ?? [:])
            else { return writer.null() }
            writer.value(seconds * 1000)
        }
    }
}
