/// Per-hour event counts of one batch, for the charts and sparklines of the web UI. The writer
/// adds them to `issue_hourly` / `project_hourly` with the batch, so a 24-hour chart reads at
/// most 24 rows instead of counting events. Hours are `received` milliseconds / 3,600,000:
/// arrival time, which is monotonic where SDK clocks are not.
package struct HourlyCounts: Sendable {
    package struct Key: Hashable, Sendable {
        package var id: Int64
        package var hour: Int64

        package init(id: Int64, hour: Int64) {
            self.id = id
            self.hour = hour
        }
    }

    package struct ProjectCounts: Sendable {
        package var events: Int64 = 0
        package var newIssues: Int64 = 0

        package init(events: Int64 = 0, newIssues: Int64 = 0) {
            self.events = events
            self.newIssues = newIssues
        }
    }

    package var issues: [Key: Int64] = [:]
    package var projects: [Key: ProjectCounts] = [:]

    package init() {}

    package static func hour(ofMilliseconds milliseconds: Int64) -> Int64 { milliseconds / 3_600_000 }
}

/// How often something (a tag value, a release) was seen in one batch, and when first and
/// last; both writers add these to their tables once per batch instead of once per event.
package struct SeenCount: Sendable {
    package var count: Int64 = 0
    package var firstSeen = Int64.max
    package var lastSeen = Int64.min
    package var newIssues: Int64 = 0

    package init() {}

    package mutating func add(_ timestamp: Int64) {
        count += 1
        firstSeen = min(firstSeen, timestamp)
        lastSeen = max(lastSeen, timestamp)
    }

    package mutating func merge(_ other: SeenCount) {
        count += other.count
        firstSeen = min(firstSeen, other.firstSeen)
        lastSeen = max(lastSeen, other.lastSeen)
        newIssues += other.newIssues
    }
}

/// One issue's tag value in one environment: a row of `issue_tag_values`, counted by the writer
/// and lowered by the retention purge.
package struct IssueTagValue: Hashable, Sendable {
    package var issueID: Int64
    package var environment: String
    package var key: String
    package var value: String

    package init(issueID: Int64, environment: String, key: String, value: String) {
        self.issueID = issueID
        self.environment = environment
        self.key = key
        self.value = value
    }
}

/// A project's release version or environment name: a row of `releases` or
/// `project_environments`.
package struct ProjectValue: Hashable, Sendable {
    package var projectID: Int64
    package var value: String

    package init(projectID: Int64, value: String) {
        self.projectID = projectID
        self.value = value
    }
}
