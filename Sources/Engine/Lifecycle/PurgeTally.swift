/// What a batch of deleted events counted, so the counters that include them can be lowered by
/// exactly that much (an issue's distinct users included). The tags an event row carries in columns (level, environment, release,
/// user) are decremented exactly; other tag values cannot be told without decompressing every
/// payload, so they are dropped once their last sighting is past the cutoff instead.
struct PurgeTally {
    struct Row {
        var projectID: Int64
        var issueID: Int64
        var received: Int64
        var level: Int64
        var environment: String
        var release: String?
        var userKey: String?
    }

    var events = 0
    var issues: [Int64: Int64] = [:]
    var projectOfIssue: [Int64: Int64] = [:]
    var tags: [IssueTagValue: Int64] = [:]
    var environments: [ProjectValue: Int64] = [:]
    var releases: [ProjectValue: Int64] = [:]
    /// Each user of the deleted events with their issue: users the issue may have lost. Which
    /// of them it did lose is told by the issue's `user` tag counts once lowered by this batch
    /// (they count every event of the user; `events` has no index to ask it directly).
    var users: Set<IssueUser> = []
    var newestReceived: Int64?

    struct IssueUser: Hashable, Comparable {
        var issueID: Int64
        var userKey: String

        static func < (a: IssueUser, b: IssueUser) -> Bool { (a.issueID, a.userKey) < (b.issueID, b.userKey) }
    }

    mutating func add(_ row: Row) {
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
