import PitStorage

/// The counters derived from stored events (per-issue counts and seen times, tag values,
/// releases, environments, the hourly series), summed in memory over several batches before they
/// are written. Under load one write of these counters covers half a second of events instead of
/// one batch (Sentry buffers the same increments in Redis). Measured with perf at ~9,000
/// events/s, the per-batch counter upserts took 60 % of the writer's insert work, ~10 upserts
/// per event against two indexes each.
///
/// What summing cannot shrink stays with each batch: an issue's users and its `user` /
/// `user.email` tag values are distinct per event, so deferring them only moved their cost into
/// one long write every interval, which every ack waiting behind it felt (p90 124 ms at
/// 12,000 events/s with one write a second). Only the count of new users waits here.
///
/// `throughEventRowID` is the highest `events.id` whose counters are in here; once written it
/// becomes the watermark kept in `settings`, from which a restart after a crash recounts.
struct SQLitePendingCounts {
    struct IssueCounts {
        var count: Int64 = 0
        var firstSeen = Int64.max
        var lastSeen = Int64.min
        var lastRelease: String?
        var lastReleaseRowID: Int64 = 0
        var newUsers: Int64 = 0
    }

    /// Tag keys with a value per user: written with each batch, like the users themselves.
    static let perUserTagKeys: Set<String> = ["user", "user.email"]

    var issues: [Int64: IssueCounts] = [:]
    var tags: [IssueTagValue: SeenCount] = [:]
    var releases: [ProjectValue: SeenCount] = [:]
    var environments: [ProjectValue: Int64] = [:]
    var hourly = HourlyCounts()
    var throughEventRowID: Int64 = 0

    var isEmpty: Bool { issues.isEmpty && throughEventRowID == 0 }

    /// Rows these counters will touch when written; bounds the memory held between writes.
    var size: Int { issues.count + tags.count + releases.count + hourly.issues.count }

    /// Counts one stored event; its per-user tags are left to the caller.
    mutating func add(_ event: CountedEvent) {
        let issueID = event.issueID
        var counts = issues[issueID] ?? IssueCounts()
        counts.count += 1
        counts.firstSeen = min(counts.firstSeen, event.timestamp)
        counts.lastSeen = max(counts.lastSeen, event.timestamp)
        if event.isNewUser { counts.newUsers += 1 }
        if let release = event.release {
            counts.lastRelease = release
            counts.lastReleaseRowID = event.rowID
        }
        issues[issueID] = counts
        for (key, value) in event.facetTags where !Self.perUserTagKeys.contains(key) {
            tags[IssueTagValue(issueID: issueID, environment: event.environment, key: key, value: value), default: SeenCount()]
                .add(event.timestamp)
            if key == "environment" { environments[ProjectValue(projectID: event.projectID, value: value), default: 0] += 1 }
        }
        if let release = event.release {
            releases[ProjectValue(projectID: event.projectID, value: release), default: SeenCount()].add(event.timestamp)
        }
        let hour = HourlyCounts.hour(ofMilliseconds: event.received)
        hourly.issues[HourlyCounts.Key(id: issueID, hour: hour), default: 0] += 1
        hourly.projects[HourlyCounts.Key(id: event.projectID, hour: hour), default: HourlyCounts.ProjectCounts()].events += 1
        throughEventRowID = max(throughEventRowID, event.rowID)
    }

    /// Empties the counters once written, keeping the tables' capacity: under load they refill
    /// to the same size every interval, and growing them again rehashed every key each time.
    mutating func removeAll() {
        issues.removeAll(keepingCapacity: true)
        tags.removeAll(keepingCapacity: true)
        releases.removeAll(keepingCapacity: true)
        environments.removeAll(keepingCapacity: true)
        hourly.issues.removeAll(keepingCapacity: true)
        hourly.projects.removeAll(keepingCapacity: true)
        throughEventRowID = 0
    }
}

/// One stored event's share of the counters, as its batch logged it. A batch appends these
/// without hashing anything and they are added to the pending counters once the batch has
/// committed: counting into a per-batch table and merging it into the pending one hashed every
/// tag value twice, and copied the whole pending table whenever it was written (together 15 %
/// of the writer thread at 8,000 events/s, perf).
struct CountedEvent {
    var rowID: Int64
    var issueID: Int64
    var projectID: Int64
    var timestamp: Int64
    var received: Int64
    var release: String?
    var environment: String
    var facetTags: [(key: String, value: String)]
    /// The event's user was new to its issue (its `issue_users` row was inserted).
    var isNewUser = false
}
