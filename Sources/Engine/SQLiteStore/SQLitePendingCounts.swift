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
    mutating func add(
        rowID: Int64, issueID: Int64, projectID: Int64, timestamp: Int64, received: Int64, release: String?,
        environment: String, facetTags: [(key: String, value: String)]
    ) {
        var counts = issues[issueID] ?? IssueCounts()
        counts.count += 1
        counts.firstSeen = min(counts.firstSeen, timestamp)
        counts.lastSeen = max(counts.lastSeen, timestamp)
        if let release {
            counts.lastRelease = release
            counts.lastReleaseRowID = rowID
        }
        issues[issueID] = counts
        for (key, value) in facetTags where !Self.perUserTagKeys.contains(key) {
            tags[IssueTagValue(issueID: issueID, environment: environment, key: key, value: value), default: SeenCount()].add(timestamp)
            if key == "environment" { environments[ProjectValue(projectID: projectID, value: value), default: 0] += 1 }
        }
        if let release { releases[ProjectValue(projectID: projectID, value: release), default: SeenCount()].add(timestamp) }
        let hour = HourlyCounts.hour(ofMilliseconds: received)
        hourly.issues[HourlyCounts.Key(id: issueID, hour: hour), default: 0] += 1
        hourly.projects[HourlyCounts.Key(id: projectID, hour: hour), default: HourlyCounts.ProjectCounts()].events += 1
        throughEventRowID = max(throughEventRowID, rowID)
    }

    /// Adds counters of later events (`newer`) to these.
    mutating func merge(_ newer: SQLitePendingCounts) {
        for (id, counts) in newer.issues {
            var merged = issues[id] ?? IssueCounts()
            merged.count += counts.count
            merged.firstSeen = min(merged.firstSeen, counts.firstSeen)
            merged.lastSeen = max(merged.lastSeen, counts.lastSeen)
            merged.newUsers += counts.newUsers
            if counts.lastRelease != nil, counts.lastReleaseRowID >= merged.lastReleaseRowID {
                merged.lastRelease = counts.lastRelease
                merged.lastReleaseRowID = counts.lastReleaseRowID
            }
            issues[id] = merged
        }
        for (key, seen) in newer.tags { tags[key, default: SeenCount()].merge(seen) }
        for (key, seen) in newer.releases { releases[key, default: SeenCount()].merge(seen) }
        for (key, count) in newer.environments { environments[key, default: 0] += count }
        for (key, count) in newer.hourly.issues { hourly.issues[key, default: 0] += count }
        for (key, counts) in newer.hourly.projects {
            hourly.projects[key, default: HourlyCounts.ProjectCounts()].events += counts.events
            hourly.projects[key, default: HourlyCounts.ProjectCounts()].newIssues += counts.newIssues
        }
        throughEventRowID = max(throughEventRowID, newer.throughEventRowID)
    }
}
