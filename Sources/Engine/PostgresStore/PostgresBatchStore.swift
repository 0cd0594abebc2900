import Foundation
package import Logging
import NIOCore
package import PitIngest
import PitModel
import PitStorage
import PostgresNIO

/// The PostgreSQL write path. Several instances, each with several of these (one per writer
/// thread), write into one database at once, so nothing about issues may be trusted from memory:
/// every count is a delta row that `PostgresRollup` later adds to its counter (readers add the
/// pending ones), a fingerprint belongs to the issue whose hash row committed first
/// (`INSERT … ON CONFLICT DO NOTHING`), and a regression is a conditional
/// `UPDATE … WHERE status = resolved RETURNING`, which exactly one writer wins.
///
/// A batch is a handful of statements whatever its size: whole columns are bound as arrays and
/// inserted with `unnest`. It inserts and never updates a counter row, so concurrent batches do
/// not queue on each other's row locks; the few rows it does lock (hashes, users, resolved issues)
/// are taken in key order so batches rarely deadlock; when they do, or a serialization failure
/// occurs, the batch is retried from the start.
package final class PostgresBatchStore: BatchStore {
    package let session: PostgresSession
    private let logger: Logger

    private struct HashKey: Hashable, Comparable {
        var projectID: Int64
        var hash: [UInt8]

        static func < (a: HashKey, b: HashKey) -> Bool {
            a.projectID != b.projectID ? a.projectID < b.projectID : a.hash.lexicographicallyPrecedes(b.hash)
        }
    }

    /// Fingerprint hash → issue id, filled only from committed rows. Issue ids never change, so
    /// this is an optimisation (it spares the lookup), never a source of truth.
    private var issueByHash: [HashKey: Int64] = [:]
    // About 100 bytes an entry: ~10 MB at the default. A miss costs one indexed SELECT, batched
    // per write.
    private let cacheLimit: Int
    /// The retention purge (any instance's) deletes issues last seen more than a retention (at
    /// least a day) ago, so an entry learned within the hour names an issue it keeps; older
    /// entries could name a deleted one and events would be written to an issue that is gone.
    private var cacheExpiresAt = ClockTime.monotonicSeconds + 3600

    package init(url: PostgresDatabaseURL, logger: Logger, cacheLimit: Int = 100_000) throws {
        session = try PostgresSession(url: url, logger: logger, parameters: PostgresDatabaseURL.writerSessionParameters)
        self.logger = logger
        self.cacheLimit = max(1, cacheLimit)
    }

    /// Entries in the fingerprint cache (for tests: it stays near `cacheLimit`).
    package var indexedCount: Int { issueByHash.count }

    package func close() { session.close() }

    package func write(_ batch: [IngestQueue.Entry]) throws -> BatchOutcome {
        var attempt = 0
        while true {
            attempt += 1
            var learned: [HashKey: Int64] = [:]
            let regressed = RegressionCount()
            do {
                var outcome = try session.transaction { try writeInTransaction(batch, learned: &learned, regressed: regressed) }
                outcome.regressions = regressed.ids.count
                // The reopened ids come back with the pipelined results, after the events were
                // listed: each issue's first event of the batch is the one that reopened it.
                var reopened = regressed.ids
                for index in outcome.committedEvents.indices where reopened.remove(outcome.committedEvents[index].issueID) != nil {
                    outcome.committedEvents[index].change = .regressed
                }
                if issueByHash.count + learned.count > cacheLimit || ClockTime.monotonicSeconds > cacheExpiresAt {
                    issueByHash.removeAll(keepingCapacity: true)
                    cacheExpiresAt = ClockTime.monotonicSeconds + 3600
                }
                issueByHash.merge(learned) { _, new in new }
                return outcome
            } catch let error where attempt < 8 && PostgresServerReply(error)?.isTransient == true {
                logger.debug(
                    "retrying batch",
                    metadata: ["pit.attempt": "\(attempt)", "pit.sqlstate": "\(PostgresServerReply(error)?.sqlState ?? "")"])
                Thread.sleep(forTimeInterval: Double.random(in: 0.001...0.01) * Double(attempt))
            } catch let error where error is PSQLError || error is PostgresError {
                throw PostgresStoreError(error)
            }
        }
    }

    /// Writes run in the order they were queued: a status change between two events of a batch
    /// applies between them, as with SQLite.
    private func writeInTransaction(
        _ batch: [IngestQueue.Entry], learned: inout [HashKey: Int64],
        regressed: RegressionCount
    ) throws -> BatchOutcome {
        var outcome = BatchOutcome()
        var units: [WriteUnit] = []
        var sessionUnits: [WriteUnit] = []
        var checkInUnits: [WriteUnit] = []
        var outcomes = OutcomeBatch()
        for entry in batch {
            switch entry {
            case .write(let unit):
                units.append(unit)
                outcomes.add(unit.outcomes)
                if !unit.sessions.isEmpty { sessionUnits.append(unit) }
                if !unit.checkIns.isEmpty { checkInUnits.append(unit) }
            case .command(let command, _):
                if !units.isEmpty {
                    try writeSegment(units, outcome: &outcome, outcomes: &outcomes, learned: &learned, regressed: regressed)
                }
                units.removeAll()
                try apply(command)
            }
        }
        if !units.isEmpty { try writeSegment(units, outcome: &outcome, outcomes: &outcomes, learned: &learned, regressed: regressed) }
        if !sessionUnits.isEmpty { try writeSessions(sessionUnits) }
        if !checkInUnits.isEmpty { try MonitorWrites.apply(checkInUnits, to: PostgresMonitorWrites(session: session)) }
        writeOutcomes(outcomes)
        return outcome
    }

    /// The batch's outcomes: one statement, one delta row per (project, hour, outcome, category,
    /// reason), each key once (`OutcomeBatch` sums them). Deltas, not an upsert of
    /// `outcomes_hourly`: every batch counts under the hour's accepted-errors key, and that row's
    /// lock would queue every writer of every instance (`PostgresRollup` adds them up).
    private func writeOutcomes(_ outcomes: OutcomeBatch) {
        guard !outcomes.isEmpty else { return }
        let rows = outcomes.sorted
        session.enqueue(
            prepared:
                """
                INSERT INTO outcomes_hourly_deltas (project_id, hour, outcome, category, reason, quantity, times_seen)
                SELECT * FROM unnest(\(rows.map { $0.key.projectID }), \(rows.map { $0.key.hour }), \(rows.map { $0.key.outcome.rawValue }),
                                     \(rows.map { $0.key.category }), \(rows.map { $0.key.reason }), \(rows.map { $0.tally.quantity }),
                                     \(rows.map { $0.tally.timesSeen }))
                """)
    }

    /// Regressions found by a pipelined statement, known once the batch has committed.
    private final class RegressionCount {
        var ids = Set<Int64>()
    }

    // MARK: Commands

    private func apply(_ command: IssueCommand) throws {
        switch command {
        case .storeDictionary(let id, let bytes, let sampleCount):
            session.enqueue(
                prepared:
                    """
                    INSERT INTO payload_dictionaries (id, created_at, sample_count, dictionary)
                    VALUES (\(id), \(ClockTime.nowMilliseconds), \(Int64(sampleCount)), \(ByteBuffer(bytes: bytes))) ON CONFLICT DO NOTHING
                    """)
        case .purgeIssues:
            // PostgresPurgeStore deletes emptied issues itself: nothing here is held in memory.
            break
        case .setStatus(let ids, let status, let inNextRelease):
            let substatus: IssueSubstatus = status == .unresolved ? .ongoing : (status == .ignored ? .archivedForever : .none)
            let keepRelease = status == .resolved && inNextRelease
            session.enqueue(
                """
                UPDATE issues SET status = \(Int64(status.rawValue)), substatus = \(Int64(substatus.rawValue)),
                    resolved_in_release = CASE WHEN \(keepRelease) THEN COALESCE((SELECT d.last_release FROM issue_deltas d
                        WHERE d.issue_id = issues.id AND d.last_release IS NOT NULL ORDER BY d.seq DESC LIMIT 1), last_release) ELSE NULL END,
                    resolved_at = CASE WHEN \(status == .resolved) THEN COALESCE(resolved_at, \(ClockTime.nowMilliseconds)) ELSE NULL END
                WHERE id = ANY(\(ids.sorted()))
                """)
        }
    }

    // MARK: Events

    /// A new issue this segment wants to create; whether it does depends on who claims its
    /// first hash.
    private struct NewIssue {
        var id: Int64 = 0
        var shortID: Int64 = 0
        var event: EventRecord
        var keys: [HashKey]
    }

    private struct Aggregate {
        var count: Int64 = 0
        var firstSeen = Int64.max
        var lastSeen = Int64.min
        var lastRelease: String?
    }

    private struct TagKey: Hashable, Comparable {
        var issueID: Int64
        var key: String
        var value: String

        static func < (a: TagKey, b: TagKey) -> Bool { (a.issueID, a.key, a.value) < (b.issueID, b.key, b.value) }
    }

    private struct TagValueKey: Hashable, Comparable {
        var issueID: Int64
        var environment: String
        var key: String
        var value: String

        static func < (a: TagValueKey, b: TagValueKey) -> Bool {
            (a.issueID, a.key, a.value, a.environment) < (b.issueID, b.key, b.value, b.environment)
        }
    }

    private struct ReleaseKey: Hashable, Comparable {
        var projectID: Int64
        var version: String

        static func < (a: ReleaseKey, b: ReleaseKey) -> Bool { (a.projectID, a.version) < (b.projectID, b.version) }
    }

    /// Writes one segment of a batch (the units between two commands), in four steps below.
    private func writeSegment(
        _ units: [WriteUnit], outcome: inout BatchOutcome, outcomes: inout OutcomeBatch, learned: inout [HashKey: Int64],
        regressed: RegressionCount
    ) throws {
        insertItems(units.flatMap(\.items))
        outcome.items += units.reduce(0) { $0 + $1.items.count }
        insertFeedback(units.flatMap(\.feedback))
        insertLogs(units.flatMap(\.logs))
        insertAttachments(units.flatMap(\.attachments))
        insertProfiles(units.flatMap(\.profiles))
        if units.contains(where: { !$0.transactions.isEmpty || !$0.spans.isEmpty }) { try writeTransactions(units) }
        holdEvents(units.compactMap(\.heldEvent))
        var events: [EventRecord] = []
        events.reserveCapacity(units.count)
        // Indices in `events` of held events' resolutions.
        var releasing: Set<Int> = []
        for unit in units {
            if let event = unit.event {
                if unit.releasesHeldEvent { releasing.insert(events.count) }
                events.append(event)
            }
            events.append(contentsOf: unit.extraEvents)
        }
        guard !events.isEmpty else { return }
        if !releasing.isEmpty { releaseHeldEvents(releasing.map { events[$0] }) }

        let found = try lookUpUnknownHashes(of: events, learned: learned)
        var grouping = try assignIssues(events, learned: learned, found: found)

        // 3. The events; (project, event_id) already stored means an SDK retry: a duplicate.
        let inserted = try insertEvents(events, issueOf: grouping.issueOf)
        var stored = [Bool](repeating: false, count: events.count)
        for index in inserted { stored[index] = true }
        for (index, event) in events.enumerated() where stored[index] || !releasing.contains(index) {
            outcomes.addEvent(event, stored: stored[index])
        }
        outcome.duplicates += events.count - inserted.count
        outcome.events += inserted.count
        dropIssuesWithoutEvents(&grouping, inserted: inserted)
        outcome.newIssues += grouping.created.count
        var announced = Set<Int64>()
        for index in inserted {
            let issueID = grouping.issueOf[index]
            let created = grouping.created.contains(issueID) && announced.insert(issueID).inserted
            outcome.committedEvents.append(CommittedEvent(events[index], issueID: issueID, change: created ? .created : .none))
        }
        learn(grouping, events: events, found: found, into: &learned)

        let counts = SegmentCounts(events, inserted: inserted, grouping: grouping)
        guard !counts.aggregates.isEmpty else { return }
        if !counts.regressionCandidates.isEmpty {
            try regress(counts.regressionCandidates.sorted(), regressed: regressed)
        }
        enqueue(counts)
    }

    /// 1. Which issue each event belongs to: what this batch learned, the cache, then one lookup
    ///    for the hashes neither knows. Returns what the lookup found.
    private func lookUpUnknownHashes(of events: [EventRecord], learned: [HashKey: Int64]) throws -> [HashKey: Int64] {
        let cache = issueByHash
        var unknown = Set<HashKey>()
        for event in events {
            for hash in event.grouping.hashes {
                let key = HashKey(projectID: event.projectID, hash: hash.bytes)
                if learned[key] == nil && cache[key] == nil { unknown.insert(key) }
            }
        }
        var found: [HashKey: Int64] = [:]
        guard !unknown.isEmpty else { return found }
        let keys = unknown.sorted()
        let rows = try session.query(
            """
            SELECT h.project_id, h.hash, h.issue_id FROM issue_hashes h
            JOIN unnest(\(keys.map(\.projectID)), \(keys.map { ByteBuffer(bytes: $0.hash) })) AS k(project_id, hash)
              ON h.project_id = k.project_id AND h.hash = k.hash
            """)
        for row in rows {
            let (projectID, hash, issueID) = try row.decode((Int64, ByteBuffer, Int64).self)
            found[HashKey(projectID: projectID, hash: Array(hash.readableBytesView))] = issueID
        }
        return found
    }

    /// Where a segment's events went: their issues, the issues the segment created, and the
    /// hashes it registered.
    private struct SegmentGrouping {
        /// Per event: index into `fresh` (>= 0) or ~issueID.
        var assignment: [Int] = []
        var fresh: [NewIssue] = []
        /// New issues whose first hash another writer claimed first (they joined its issue).
        var lost = Set<Int>()
        var created = Set<Int64>()
        var extraHashes: [HashKey: Int64] = [:]
        var issueOf: [Int64] = []
        /// Created, then deleted: every event of theirs was a duplicate.
        var droppedIssues = Set<Int64>()
    }

    /// 2. Events whose hashes are all unknown start new issues (one per group within the
    ///    segment); others register the hashes their issue did not have yet.
    private func assignIssues(_ events: [EventRecord], learned: [HashKey: Int64], found: [HashKey: Int64]) throws
        -> SegmentGrouping
    {
        let cache = issueByHash
        func known(_ key: HashKey) -> Int64? { learned[key] ?? found[key] ?? cache[key] }
        var grouping = SegmentGrouping()
        var freshByKey: [HashKey: Int] = [:]
        for event in events {
            let keys = event.grouping.hashes.map { HashKey(projectID: event.projectID, hash: $0.bytes) }
            if let issueID = keys.first(where: { known($0) != nil }).flatMap({ known($0) }) {
                for key in keys where known(key) == nil && grouping.extraHashes[key] == nil { grouping.extraHashes[key] = issueID }
                grouping.assignment.append(~Int(issueID))
            } else if let index = keys.first(where: { freshByKey[$0] != nil }).flatMap({ freshByKey[$0] }) {
                for key in keys where freshByKey[key] == nil {
                    freshByKey[key] = index
                    grouping.fresh[index].keys.append(key)
                }
                grouping.assignment.append(index)
            } else {
                for key in keys { freshByKey[key] = grouping.fresh.count }
                grouping.assignment.append(grouping.fresh.count)
                grouping.fresh.append(NewIssue(event: event, keys: keys))
            }
        }
        if !grouping.fresh.isEmpty {
            let winners = try createIssues(&grouping.fresh)
            for (index, issue) in grouping.fresh.enumerated() {
                if let winner = winners[index] {
                    grouping.fresh[index].id = winner
                    grouping.lost.insert(index)
                } else {
                    grouping.created.insert(issue.id)
                }
            }
        }
        grouping.issueOf = grouping.assignment.map { slot in slot >= 0 ? grouping.fresh[slot].id : Int64(~slot) }
        if !grouping.extraHashes.isEmpty {
            let extraHashes = grouping.extraHashes
            let keys = extraHashes.keys.sorted()
            session.enqueue(
                prepared:
                    """
                    INSERT INTO issue_hashes (project_id, hash, issue_id)
                    SELECT * FROM unnest(\(keys.map(\.projectID)), \(keys.map { ByteBuffer(bytes: $0.hash) }), \(keys.map { extraHashes[$0]! }))
                    ON CONFLICT DO NOTHING
                    """)
        }
        return grouping
    }

    /// An issue created for events that all turned out to be duplicates must not stay behind
    /// owning its fingerprint with no events.
    private func dropIssuesWithoutEvents(_ grouping: inout SegmentGrouping, inserted: [Int]) {
        var withEvents = Set<Int64>()
        for index in inserted { withEvents.insert(grouping.issueOf[index]) }
        let empty = grouping.created.subtracting(withEvents)
        guard !empty.isEmpty else { return }
        session.enqueue("DELETE FROM issue_hashes WHERE issue_id = ANY(\(empty.sorted()))")
        session.enqueue("DELETE FROM issues WHERE id = ANY(\(empty.sorted()))")
        session.enqueue("DELETE FROM issue_groupings WHERE issue_id = ANY(\(empty.sorted()))")
        grouping.created.subtract(empty)
        // Their slots stay in `fresh`; `learn` skips them by id.
        grouping.droppedIssues = empty
    }

    /// What later segments of this batch may take as known: the hashes of the issues this one
    /// created or joined.
    private func learn(
        _ grouping: SegmentGrouping, events: [EventRecord], found: [HashKey: Int64], into learned: inout [HashKey: Int64]
    ) {
        for (index, issue) in grouping.fresh.enumerated() where !grouping.droppedIssues.contains(issue.id) {
            // A lost claim's other hashes were withdrawn; only its first hash is known to map.
            for key in grouping.lost.contains(index) ? [issue.keys[0]] : issue.keys { learned[key] = issue.id }
        }
        for (index, slot) in grouping.assignment.enumerated() where slot < 0 {
            for hash in events[index].grouping.hashes {
                let key = HashKey(projectID: events[index].projectID, hash: hash.bytes)
                if let id = found[key] ?? grouping.extraHashes[key] { learned[key] = id }
            }
        }
    }

    /// 4. Aggregates of what a segment stored.
    private struct SegmentCounts {
        var aggregates: [Int64: Aggregate] = [:]
        var users: Set<TagKey> = []
        var tags: [TagValueKey: SeenCount] = [:]
        var releases: [ReleaseKey: SeenCount] = [:]
        var hourly = HourlyCounts()
        var environments: [ReleaseKey: Int64] = [:]
        var regressionCandidates: Set<TagKey> = []

        init(_ events: [EventRecord], inserted: [Int], grouping: SegmentGrouping) {
            var createdCounted = Set<Int64>()
            for index in inserted {
                let event = events[index]
                let issueID = grouping.issueOf[index]
                var aggregate = aggregates[issueID] ?? Aggregate()
                aggregate.count += 1
                aggregate.firstSeen = min(aggregate.firstSeen, event.timestamp)
                aggregate.lastSeen = max(aggregate.lastSeen, event.timestamp)
                if let release = event.release { aggregate.lastRelease = release }
                aggregates[issueID] = aggregate
                if let user = event.userKey { users.insert(TagKey(issueID: issueID, key: user, value: "")) }
                for (key, value) in event.facetTags {
                    tags[TagValueKey(issueID: issueID, environment: event.environment, key: key, value: value), default: SeenCount()]
                        .add(event.timestamp)
                    if key == "environment" { environments[ReleaseKey(projectID: event.projectID, version: value), default: 0] += 1 }
                }
                let isNew = grouping.created.contains(issueID) && createdCounted.insert(issueID).inserted
                hourly.add(event, issueID: issueID, created: isNew)
                if let release = event.release {
                    let key = ReleaseKey(projectID: event.projectID, version: release)
                    releases[key, default: SeenCount()].add(event.timestamp)
                    if isNew { releases[key]!.newIssues += 1 }
                }
                if !grouping.created.contains(issueID) {
                    // The release is kept with a marker so that "no release" is a candidate too.
                    regressionCandidates.insert(
                        TagKey(issueID: issueID, key: event.release == nil ? "0" : "1", value: event.release ?? ""))
                }
            }
        }
    }

    /// Nothing here updates a row another batch could be updating: each counter is a new delta
    /// row (see `PostgresSchema.ownMigrations`). The one shared write left is a user's first event
    /// on an issue, which waits only for a concurrent batch inserting the same new pair (inserted
    /// in key order, so two batches cannot wait on each other); the users it did insert are
    /// counted in the same statement, so `users_seen` stays exact.
    private func enqueue(_ counts: SegmentCounts) {
        let aggregates = counts.aggregates
        let ids = aggregates.keys.sorted()
        let sortedUsers = counts.users.sorted()
        session.enqueue(
            prepared:
                """
                WITH new_users AS (
                    INSERT INTO issue_users (issue_id, user_key) SELECT * FROM unnest(\(sortedUsers.map(\.issueID)), \(sortedUsers.map(\.key)))
                    ON CONFLICT DO NOTHING RETURNING issue_id
                ), user_counts AS (SELECT issue_id, COUNT(*) AS added FROM new_users GROUP BY issue_id)
                INSERT INTO issue_deltas (issue_id, events, users, first_seen, last_seen, last_release)
                SELECT c.id, c.count, COALESCE(u.added, 0), c.first_seen, c.last_seen, c.last_release
                FROM unnest(\(ids), \(ids.map { aggregates[$0]!.count }), \(ids.map { aggregates[$0]!.firstSeen }),
                            \(ids.map { aggregates[$0]!.lastSeen }), \(PostgresNullableArray(ids.map { aggregates[$0]!.lastRelease })))
                    AS c(id, count, first_seen, last_seen, last_release)
                LEFT JOIN user_counts u ON u.issue_id = c.id
                """)
        let tags = counts.tags
        if !tags.isEmpty {
            let keys = tags.keys.sorted()
            session.enqueue(
                prepared:
                    """
                    INSERT INTO issue_tag_deltas (issue_id, environment, key, value, times_seen, first_seen, last_seen)
                    SELECT * FROM unnest(\(keys.map(\.issueID)), \(keys.map(\.environment)), \(keys.map(\.key)), \(keys.map(\.value)),
                                         \(keys.map { tags[$0]!.count }), \(keys.map { tags[$0]!.firstSeen }), \(keys.map { tags[$0]!.lastSeen }))
                    """)
        }
        let releases = counts.releases
        if !releases.isEmpty {
            let keys = releases.keys.sorted()
            session.enqueue(
                prepared:
                    """
                    INSERT INTO release_deltas (project_id, version, first_seen, last_seen, events, new_issues)
                    SELECT * FROM unnest(\(keys.map(\.projectID)), \(keys.map(\.version)), \(keys.map { releases[$0]!.firstSeen }),
                                         \(keys.map { releases[$0]!.lastSeen }), \(keys.map { releases[$0]!.count }),
                                         \(keys.map { releases[$0]!.newIssues }))
                    """)
        }
        let environments = counts.environments
        if !environments.isEmpty {
            let keys = environments.keys.sorted()
            session.enqueue(
                prepared:
                    """
                    INSERT INTO project_environment_deltas (project_id, environment, events)
                    SELECT * FROM unnest(\(keys.map(\.projectID)), \(keys.map(\.version)), \(keys.map { environments[$0]! }))
                    """)
        }
        flush(counts.hourly)
    }

    /// Per-hour counters for the UI's charts (see `HourlyCounts`), appended like every other counter.
    private func flush(_ hourly: HourlyCounts) {
        if !hourly.issues.isEmpty {
            let keys = hourly.issues.keys.sorted { ($0.id, $0.hour) < ($1.id, $1.hour) }
            session.enqueue(
                prepared:
                    """
                    INSERT INTO issue_hourly_deltas (issue_id, hour, events)
                    SELECT * FROM unnest(\(keys.map(\.id)), \(keys.map(\.hour)), \(keys.map { hourly.issues[$0]! }))
                    """)
        }
        if !hourly.projects.isEmpty {
            let keys = hourly.projects.keys.sorted { ($0.id, $0.hour) < ($1.id, $1.hour) }
            session.enqueue(
                prepared:
                    """
                    INSERT INTO project_hourly_deltas (project_id, hour, events, new_issues)
                    SELECT * FROM unnest(\(keys.map(\.id)), \(keys.map(\.hour)), \(keys.map { hourly.projects[$0]!.events }),
                                         \(keys.map { hourly.projects[$0]!.newIssues }))
                    """)
        }
    }

    /// Creates the segment's new issues. Ids and short ids are drawn in event order (so a single
    /// writer numbers issues exactly as SQLite does); the hash rows are then claimed in hash
    /// order. Returns, per new issue, the id of the issue that another writer committed first for
    /// its fingerprint (nil when this one won).
    private func createIssues(_ fresh: inout [NewIssue]) throws -> [Int64?] {
        let ids = try session.query(
            prepared: "SELECT nextval(pg_get_serial_sequence('issues', 'id')) FROM generate_series(1, \(Int64(fresh.count)))"
        )
        .map { try $0.decode(Int64.self) }
        for index in fresh.indices { fresh[index].id = ids[index] }
        var perProject: [Int64: [Int]] = [:]
        for (index, issue) in fresh.enumerated() { perProject[issue.event.projectID, default: []].append(index) }
        for (projectID, indices) in perProject {
            let sequence = PostgresSchema.shortIDSequence(projectID)
            let shortIDs = try session.query(
                prepared: "SELECT nextval(\(sequence)::regclass) FROM generate_series(1, \(Int64(indices.count)))"
            )
            .map { try $0.decode(Int64.self) }
            for (index, shortID) in zip(indices, shortIDs) { fresh[index].shortID = shortID }
        }

        var claims: [(key: HashKey, id: Int64)] = []
        for issue in fresh { for key in issue.keys { claims.append((key, issue.id)) } }
        claims.sort { $0.key < $1.key }
        var claimed = Set<HashKey>()
        for row in try session.query(
            prepared:
                """
                INSERT INTO issue_hashes (project_id, hash, issue_id)
                SELECT * FROM unnest(\(claims.map(\.key.projectID)), \(claims.map { ByteBuffer(bytes: $0.key.hash) }), \(claims.map(\.id)))
                ON CONFLICT DO NOTHING RETURNING project_id, hash
                """)
        {
            let (projectID, hash) = try row.decode((Int64, ByteBuffer).self)
            claimed.insert(HashKey(projectID: projectID, hash: Array(hash.readableBytesView)))
        }

        var winners = [Int64?](repeating: nil, count: fresh.count)
        var lost: [Int] = []
        for (index, issue) in fresh.enumerated() where !claimed.contains(issue.keys[0]) { lost.append(index) }
        if !lost.isEmpty {
            // Another writer committed this fingerprint while we waited on its row: use its issue.
            let keys = lost.map { fresh[$0].keys[0] }
            var owner: [HashKey: Int64] = [:]
            for row in try session.query(
                """
                SELECT h.project_id, h.hash, h.issue_id FROM issue_hashes h
                JOIN unnest(\(keys.map(\.projectID)), \(keys.map { ByteBuffer(bytes: $0.hash) })) AS k(project_id, hash)
                  ON h.project_id = k.project_id AND h.hash = k.hash
                """)
            {
                let (projectID, hash, issueID) = try row.decode((Int64, ByteBuffer, Int64).self)
                owner[HashKey(projectID: projectID, hash: Array(hash.readableBytesView))] = issueID
            }
            for index in lost {
                guard let id = owner[fresh[index].keys[0]] else { throw AdminError("issue hash claimed but not visible") }
                winners[index] = id
            }
            try session.query("DELETE FROM issue_hashes WHERE issue_id = ANY(\(lost.map { fresh[$0].id }))")
        }

        let won = fresh.indices.filter { winners[$0] == nil }.map { fresh[$0] }
        if !won.isEmpty {
            try session.query(
                prepared:
                    """
                    WITH n AS (SELECT * FROM unnest(\(won.map(\.id)), \(won.map(\.event.projectID)), \(won.map(\.shortID)), \(won.map(\.event.grouping.kind)),
                                \(won.map(\.event.grouping.title)), \(won.map(\.event.grouping.culprit)),
                                \(won.map { String(decoding: $0.event.grouping.metadata, as: UTF8.self) }),
                                \(won.map { Int64($0.event.level.rawValue) }), \(won.map(\.event.timestamp)),
                                \(PostgresNullableArray(won.map(\.event.release))),
                                \(won.map { String(decoding: $0.event.grouping.explanation, as: UTF8.self) }))
                        AS n(id, project_id, short_id, kind, title, culprit, metadata, level, seen, release, grouping)),
                    groupings AS (INSERT INTO issue_groupings (issue_id, grouping) SELECT id, grouping FROM n)
                    INSERT INTO issues (id, project_id, short_id, kind, title, culprit, metadata, level, status, substatus,
                        first_seen, last_seen, times_seen, users_seen, first_release, last_release)
                    SELECT id, project_id, short_id, kind, title, culprit, metadata, level, 0, \(Int64(IssueSubstatus.new.rawValue)),
                        seen, seen, 0, 0, release, release
                    FROM n
                    """)
        }
        return winners
    }

    /// Sentry's `_handle_regression`, as one conditional UPDATE: a resolved issue reopens unless
    /// it was resolved in a release that is the same as or newer (first seen later) than the
    /// event's. The row lock and the `status = resolved` re-check make exactly one writer see it.
    ///
    /// The lock is waited for, and the UPDATE sent only when it found a resolved issue. Nearly
    /// every batch has candidates (any event of an existing issue) and almost never a resolved
    /// one, and planning the UPDATE (its release subqueries read counters and deltas) was the
    /// writer's dearest statement: 19 % of its server time, more than inserting the events
    /// (`results/2026-12-03T0800Z-postgres-writer-statements`). The round trip this adds costs the
    /// server nothing; on this 2-core machine the server's CPU is what PostgreSQL ingest waits on.
    private func regress(_ candidates: [TagKey], regressed: RegressionCount) throws {
        // Only resolved issues are locked, in id order, so that two writers reopening the same
        // issues (or one and the roll-up, which locks in id order too) do not deadlock. Planned
        // on each call: which of two indexes serves it (the id, the status) depends on how many
        // issues are resolved, which a generic plan would fix once.
        let locked = try session.query(
            """
            SELECT id FROM issues WHERE id = ANY(\(Array(Set(candidates.map(\.issueID))).sorted()))
                AND status = \(Int64(IssueStatus.resolved.rawValue)) ORDER BY id FOR UPDATE
            """
        ).map { try $0.decode(Int64.self) }
        guard !locked.isEmpty else { return }
        let resolved = Set(locked)
        let candidates = candidates.filter { resolved.contains($0.issueID) }
        session.enqueue(
            """
            UPDATE issues i SET status = \(Int64(IssueStatus.unresolved.rawValue)), substatus = \(Int64(IssueSubstatus.regressed.rawValue)),
                resolved_in_release = NULL, resolved_at = NULL
            FROM unnest(\(candidates.map(\.issueID)), \(candidates.map { $0.key == "1" }), \(candidates.map(\.value))) AS c(issue_id, has_release, release)
            WHERE i.id = c.issue_id AND i.status = \(Int64(IssueStatus.resolved.rawValue)) AND (
                i.resolved_in_release IS NULL OR (
                    c.has_release AND c.release <> i.resolved_in_release
                    AND COALESCE((SELECT MIN(r.first_seen) FROM \(unescaped: PostgresCounters.allReleases) r
                                   WHERE r.project_id = i.project_id AND r.version = c.release), 9223372036854775807)
                      > COALESCE((SELECT MIN(r.first_seen) FROM \(unescaped: PostgresCounters.allReleases) r
                                  WHERE r.project_id = i.project_id AND r.version = i.resolved_in_release), -9223372036854775808)))
            RETURNING i.id
            """
        ) { rows in
            regressed.ids.formUnion(try rows.map { try $0.decode(Int64.self) })
        }
    }

    private func insertItems(_ items: [ItemRecord]) {
        guard !items.isEmpty else { return }
        session.enqueue(
            prepared:
                """
                INSERT INTO items (project_id, type, event_id, received, header, payload_size, payload, dictionary_id)
                SELECT * FROM unnest(\(items.map(\.projectID)), \(items.map(\.type)),
                                     \(PostgresNullableArray(items.map { $0.eventID.map { ByteBuffer(bytes: $0.bytes) } })),
                                     \(items.map(\.received)), \(items.map(\.header)), \(items.map { Int64($0.payloadSize) }),
                                     \(items.map { ByteBuffer(bytes: $0.compressedPayload) }), \(PostgresNullableArray(items.map(\.dictionaryID))))
                """)
    }

    /// Attachment rows; the same file resent for the same event (an SDK retry) is stored once.
    /// Copies within the segment are dropped here and stored ones skipped by the statement, so a
    /// resend neither ships its bytes twice nor uses up a row id (as SQLite's `OR IGNORE` does not).
    private func insertAttachments(_ records: [AttachmentRecord]) {
        guard !records.isEmpty else { return }
        struct Key: Hashable {
            var projectID: Int64
            var eventID: EventID
            var name: String
            var sha1: String
        }
        var seen: Set<Key> = []
        let rows = records.filter { seen.insert(Key(projectID: $0.projectID, eventID: $0.eventID, name: $0.name, sha1: $0.sha1)).inserted }
        session.enqueue(
            """
            INSERT INTO attachments (project_id, event_id, name, attachment_type, content_type, size, sha1, received, compressed, content)
            SELECT * FROM unnest(\(rows.map(\.projectID)), \(rows.map { ByteBuffer(bytes: $0.eventID.bytes) }),
                                 \(rows.map(\.name)), \(rows.map(\.attachmentType)),
                                 \(PostgresNullableArray(rows.map(\.contentType))), \(rows.map { Int64($0.size) }),
                                 \(rows.map(\.sha1)), \(rows.map(\.received)), \(rows.map(\.compressed)),
                                 \(rows.map { ByteBuffer(bytes: $0.content) }))
                AS n (project_id, event_id, name, attachment_type, content_type, size, sha1, received, compressed, content)
            WHERE NOT EXISTS (SELECT 1 FROM attachments a WHERE a.project_id = n.project_id AND a.event_id = n.event_id
                AND a.name = n.name AND a.sha1 = n.sha1)
            ON CONFLICT (project_id, event_id, name, sha1) DO NOTHING
            """)
    }

    /// Feedback rows; a resend of the same feedback (same id) replaces the first, as Sentry keeps
    /// the latest report for an event. One statement may not update a row twice, so only the last
    /// copy of an id in the segment is offered.
    private func insertFeedback(_ records: [FeedbackRecord]) {
        guard !records.isEmpty else { return }
        var last: [HashKey: Int] = [:]
        for (index, record) in records.enumerated() { last[HashKey(projectID: record.projectID, hash: record.feedbackID.bytes)] = index }
        let rows = records.indices.filter { last[HashKey(projectID: records[$0].projectID, hash: records[$0].feedbackID.bytes)] == $0 }
            .map { records[$0] }
        session.enqueue(
            prepared:
                """
                INSERT INTO feedback (project_id, feedback_id, event_id, kind, name, email, comments, url, user_json, timestamp, received,
                    payload_size, payload)
                SELECT * FROM unnest(\(rows.map(\.projectID)), \(rows.map { ByteBuffer(bytes: $0.feedbackID.bytes) }),
                                     \(PostgresNullableArray(rows.map { $0.eventID.map { ByteBuffer(bytes: $0.bytes) } })),
                                     \(rows.map(\.kind.rawValue)), \(rows.map(\.name)), \(rows.map(\.email)), \(rows.map(\.comments)),
                                     \(PostgresNullableArray(rows.map(\.url))), \(PostgresNullableArray(rows.map(\.user))),
                                     \(rows.map(\.timestamp)), \(rows.map(\.received)), \(rows.map { Int64($0.payloadSize) }),
                                     \(rows.map { ByteBuffer(bytes: $0.compressedPayload) }))
                ON CONFLICT (project_id, feedback_id) DO UPDATE SET event_id = excluded.event_id, name = excluded.name,
                    email = excluded.email, comments = excluded.comments, url = excluded.url, user_json = excluded.user_json,
                    timestamp = excluded.timestamp, received = excluded.received, payload_size = excluded.payload_size,
                    payload = excluded.payload
                """)
    }

    /// Every log of the segment in one pipelined statement (one array per column), so a batch of
    /// thousands of logs costs no round trip of its own.
    private func insertLogs(_ records: [LogRecord]) {
        guard !records.isEmpty else { return }
        session.enqueue(
            prepared:
                """
                INSERT INTO logs (project_id, timestamp, received, level, severity_number, trace_id, span_id, body, release, environment,
                    sdk, attributes)
                SELECT * FROM unnest(\(records.map(\.projectID)), \(records.map(\.timestamp)), \(records.map(\.received)),
                                     \(records.map { Int64($0.severity.rawValue) }), \(records.map { Int64($0.severityNumber) }),
                                     \(PostgresNullableArray(records.map(\.traceID))), \(PostgresNullableArray(records.map(\.spanID))),
                                     \(records.map(\.body)), \(PostgresNullableArray(records.map(\.release))),
                                     \(PostgresNullableArray(records.map(\.environment))), \(PostgresNullableArray(records.map(\.sdk))),
                                     \(records.map(\.attributes)))
                """)
    }

    /// Inserts the events in queue order and returns the indices of those stored (the rest were
    /// already there). Only the first copy of an id in the batch is offered, and ids already
    /// stored are filtered out before the insert, so that a duplicate does not use up a row id
    /// (SQLite's `INSERT OR IGNORE` does not either); ON CONFLICT covers a concurrent writer.
    private func insertEvents(_ events: [EventRecord], issueOf: [Int64]) throws -> [Int] {
        var seen = Set<HashKey>()
        let offered = events.indices.filter {
            seen.insert(HashKey(projectID: events[$0].projectID, hash: events[$0].eventID.bytes)).inserted
        }
        let rows = try session.query(
            """
            INSERT INTO events (project_id, issue_id, event_id, timestamp, received, level, release, environment, user_key,
                processing_errors, payload_size, payload, dictionary_id, trace_id, span_id)
            SELECT * FROM unnest(\(offered.map { events[$0].projectID }), \(offered.map { issueOf[$0] }),
                                 \(offered.map { ByteBuffer(bytes: events[$0].eventID.bytes) }),
                                 \(offered.map { events[$0].timestamp }), \(offered.map { events[$0].received }),
                                 \(offered.map { Int64(events[$0].level.rawValue) }), \(PostgresNullableArray(offered.map { events[$0].release })),
                                 \(offered.map { events[$0].environment }), \(PostgresNullableArray(offered.map { events[$0].userKey })),
                                 \(PostgresNullableArray(offered.map { events[$0].processingErrors })),
                                 \(offered.map { Int64(events[$0].payloadSize) }), \(offered.map { ByteBuffer(bytes: events[$0].compressedPayload) }),
                                 \(PostgresNullableArray(offered.map { events[$0].dictionaryID })),
                                 \(PostgresNullableArray(offered.map { events[$0].traceID.map { ByteBuffer(bytes: $0.bytes) } })),
                                 \(PostgresNullableArray(offered.map { events[$0].traceSpanID?.storage })))
                AS n(project_id, issue_id, event_id, timestamp, received, level, release, environment, user_key,
                     processing_errors, payload_size, payload, dictionary_id, trace_id, span_id)
            WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.project_id = n.project_id AND e.event_id = n.event_id)
            ON CONFLICT (project_id, event_id) DO NOTHING
            RETURNING project_id, event_id
            """)
        var stored = Set<HashKey>()
        for row in rows {
            let (projectID, eventID) = try row.decode((Int64, ByteBuffer).self)
            stored.insert(HashKey(projectID: projectID, hash: Array(eventID.readableBytesView)))
        }
        return offered.filter { stored.contains(HashKey(projectID: events[$0].projectID, hash: events[$0].eventID.bytes)) }
    }
}
