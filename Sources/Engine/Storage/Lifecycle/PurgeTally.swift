import PitModel

/// What a batch of deleted events counted, so the counters that include them can be lowered by
/// exactly that much (an issue's distinct users included). The tags an event row carries in columns (level, environment, release,
/// user) are decremented exactly; other tag values cannot be told without decompressing every
/// payload, so they are dropped once their last sighting is past the cutoff instead.
package struct PurgeTally {
    package struct Row {
        package var projectID: Int64
        package var issueID: Int64
        package var received: Int64
        package var level: Int64
        package var environment: String
        package var release: String?
        package var userKey: String?

        package init(
            projectID: Int64, issueID: Int64, received: Int64, level: Int64, environment: String, release: String?,
            userKey: String?
        ) {
            self.projectID = projectID
            self.issueID = issueID
            self.received = received
            self.level = level
            self.environment = environment
            self.release = release
            self.userKey = userKey
        }
    }

    package var events = 0
    package var issues: [Int64: Int64] = [:]
    package var projectOfIssue: [Int64: Int64] = [:]
    package var tags: [IssueTagValue: Int64] = [:]
    package var environments: [ProjectValue: Int64] = [:]
    package var releases: [ProjectValue: Int64] = [:]
    /// Each user of the deleted events with their issue: users the issue may have lost. Which
    /// of them it did lose is told by the issue's `user` tag counts once lowered by this batch
    /// (they count every event of the user; `events` has no index to ask it directly).
    package var users: Set<IssueUser> = []
    package var newestReceived: Int64?

    package init() {}

    package struct IssueUser: Hashable, Comparable {
        package var issueID: Int64
        package var userKey: String

        package static func < (a: IssueUser, b: IssueUser) -> Bool { (a.issueID, a.userKey) < (b.issueID, b.userKey) }
    }

    package mutating func add(_ row: Row) {
        events += 1
        issues[row.issueID, default: 0] += 1
        projectOfIssue[row.issueID] = row.projectID
        newestReceived = max(newestReceived ?? row.received, row.received)
        func tag(_ key: String, _ value: String) {
            tags[IssueTagValue(issueID: row.issueID, environment: row.environment, key: key, value: value), default: 0] += 1
        }
        tag("environment", row.environment)
        tag("level", Level(rawValue: Int(row.level))?.name ?? "error")
        if let release = row.release {
            tag("release", release)
            releases[ProjectValue(projectID: row.projectID, value: release), default: 0] += 1
        }
        if let user = row.userKey {
            tag("user", user)
            users.insert(IssueUser(issueID: row.issueID, userKey: user))
        }
        environments[ProjectValue(projectID: row.projectID, value: row.environment), default: 0] += 1
    }
}
