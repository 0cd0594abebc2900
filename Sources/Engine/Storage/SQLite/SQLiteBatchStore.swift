/// The SQLite write path: one connection, one transaction per batch, and in-memory indexes that
/// spare a SELECT per event (fingerprint → issue, issue status, release first-seen, short ids).
package final class SQLiteBatchStore: BatchStore {
    private let connection: SQLiteConnection
    private var checkpointer: SQLiteCheckpointer?

    private struct IssueKey: Hashable {
        var projectID: Int64
        var hash: [UInt8]
    }

    private struct IssueState {
        var projectID: Int64
        var status: IssueStatus
        var substatus: IssueSubstatus
        var resolvedInRelease: String?
    }

    private struct ReleaseKey: Hashable {
        var projectID: Int64
        var version: String
    }

    private var issueByHash: [IssueKey: Int64] = [:]
    private var issues: [Int64: IssueState] = [:]
    private var releaseFirstSeen: [ReleaseKey: Int64] = [:]
    private var nextShortID: [Int64: Int64] = [:]
    /// Inverse operations for the in-memory indexes, replayed when a batch's transaction fails so
    /// the indexes keep matching the database.
    private var undo: [() -> Void] = []

    package init(path: String, durability: StorageDurability) throws {
        connection = try SQLiteConnection(path: path)
        // WAL lets readers run beside the writer; synchronous NORMAL survives a process crash
        // (kill -9), FULL also survives power loss. Group commit makes FULL cheap (DESIGN.md).
        try SQLiteSchema.prepare(connection, journalMode: durability.journalMode)
        try connection.execute("PRAGMA synchronous=\(durability.synchronous.rawValue)")
        // A bigger page cache and WAL auto-checkpoint keep the batch in memory until commit.
        try connection.execute("PRAGMA cache_size=-65536")
        // SQLiteCheckpointer backfills the WAL from its own thread; the writer's own automatic
        // checkpoint (every 32 MB of WAL at 8 KiB pages) then finds almost nothing left to copy,
        // completes, and lets the next transaction restart the WAL from its beginning. Without
        // it a background checkpoint never catches up with a busy writer and the WAL grows
        // without bound (measured: 1.1 GB in 10 s at 3,000 events/s).
        try connection.execute("PRAGMA wal_autocheckpoint=4096")
        try connection.execute("PRAGMA journal_size_limit=67108864")
        try connection.execute("PRAGMA foreign_keys=OFF")
        try loadIndexes()
        if durability.journalMode == .wal { checkpointer = try SQLiteCheckpointer(path: path) }
    }

    package func close() {
        checkpointer?.stop()
        checkpointer = nil
        // Everything committed is in the WAL already; this folds it into the database file so a
        // stopped server leaves one self-contained file.
        try? connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }

    private func loadIndexes() throws {
        for (projectID, hash, issueID) in try connection.statement("SELECT project_id, hash, issue_id FROM issue_hashes")
            .query([], { ($0.int(0), $0.blob(1), $0.int(2)) })
        {
            issueByHash[IssueKey(projectID: projectID, hash: hash)] = issueID
        }
        let rows = try connection.statement(
            "SELECT id, project_id, status, substatus, resolved_in_release FROM issues"
        ).query([]) { row in
            (row.int(0), IssueState(projectID: row.int(1), status: IssueStatus(rawValue: Int(row.int(2))) ?? .unresolved,
                                    substatus: IssueSubstatus(rawValue: Int(row.int(3))) ?? .none,
                                    resolvedInRelease: row.text(4)))
        }
        for (id, state) in rows { issues[id] = state }
        for (projectID, version, firstSeen) in try connection.statement("SELECT project_id, version, first_seen FROM releases")
            .query([], { ($0.int(0), $0.text(1) ?? "", $0.int(2)) })
        {
            releaseFirstSeen[ReleaseKey(projectID: projectID, version: version)] = firstSeen
        }
        for (projectID, maxShortID) in try connection.statement("SELECT project_id, MAX(short_id) FROM issues GROUP BY project_id")
            .query([], { ($0.int(0), $0.int(1)) })
        {
            nextShortID[projectID] = maxShortID + 1
        }
    }

    // MARK: Batch

    private struct IssueAggregate {
        var count: Int64 = 0
        var newUsers: Int64 = 0
        var firstSeen = Int64.max
        var lastSeen = Int64.min
        var lastRelease: String?
        var statusChanged = false
    }

    private struct TagKey: Hashable {
        var issueID: Int64
        var environment: String
        var key: String
        var value: String
    }


    package func write(_ batch: [IngestQueue.Entry]) throws -> BatchOutcome {
        undo.removeAll(keepingCapacity: true)
        do {
            return try connection.transaction { try writeInTransaction(batch) }
        } catch {
            for inverse in undo.reversed() { inverse() }
            undo.removeAll()
            throw error
        }
    }

    private func writeInTransaction(_ batch: [IngestQueue.Entry]) throws -> BatchOutcome {
        var outcome = BatchOutcome()
        var aggregates: [Int64: IssueAggregate] = [:]
        var tags: [TagKey: SeenCount] = [:]
        var releases: [ReleaseKey: SeenCount] = [:]
        var hourly = HourlyCounts()
        let insertEvent = try connection.statement("""
            INSERT OR IGNORE INTO events (project_id, issue_id, event_id, timestamp, received, level, release,
                environment, user_key, processing_errors, payload_size, payload, dictionary_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let insertUser = try connection.statement("INSERT OR IGNORE INTO issue_users (issue_id, user_key) VALUES (?, ?)")
        let insertItem = try connection.statement("""
            INSERT INTO items (project_id, type, event_id, received, header, payload_size, payload, dictionary_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)

        for entry in batch {
            switch entry {
            case .command(let command, _):
                try apply(command, aggregates: &aggregates)
            case .write(let unit):
                for item in unit.items {
                    try insertItem.run([
                        .int(item.projectID), .text(item.type), item.eventID.map { .blob($0.bytes) } ?? .null,
                        .int(item.received), .text(item.header), .int(Int64(item.payloadSize)), .blob(item.compressedPayload),
                        .optional(item.dictionaryID),
                    ])
                    outcome.items += 1
                }
                guard let event = unit.event else { continue }
                let undoMark = undo.count
                let (issueID, created) = try resolveIssue(for: event)
                try insertEvent.run([
                    .int(event.projectID), .int(issueID), .blob(event.eventID.bytes), .int(event.timestamp),
                    .int(event.received), .int(Int64(event.level.rawValue)), .optional(event.release),
                    .text(event.environment), .optional(event.userKey), .optional(event.processingErrors),
                    .int(Int64(event.payloadSize)), .blob(event.compressedPayload), .optional(event.dictionaryID),
                ])
                guard connection.changes > 0 else {
                    // (project, event_id) already stored: an SDK retry, normally grouped the same
                    // way as the first copy.
                    outcome.duplicates += 1
                    if created {
                        // It can happen: a client may reuse an id for a different error. Without
                        // this, the issue just created for the copy stayed behind with no events
                        // (and owned its fingerprint). Drop its rows and its index entries.
                        for hash in event.grouping.hashes {
                            try connection.statement("DELETE FROM issue_hashes WHERE project_id = ? AND hash = ? AND issue_id = ?")
                                .run([.int(event.projectID), .blob(hash.bytes), .int(issueID)])
                        }
                        try connection.statement("DELETE FROM issues WHERE id = ?").run([.int(issueID)])
                        try connection.statement("DELETE FROM issue_groupings WHERE issue_id = ?").run([.int(issueID)])
                        for inverse in undo[undoMark...].reversed() { inverse() }
                        undo.removeSubrange(undoMark...)
                    }
                    continue
                }
                outcome.events += 1
                if created { outcome.newIssues += 1 }
                hourly.add(event, issueID: issueID, created: created)
                var aggregate = aggregates[issueID] ?? IssueAggregate()
                aggregate.count += 1
                aggregate.firstSeen = min(aggregate.firstSeen, event.timestamp)
                aggregate.lastSeen = max(aggregate.lastSeen, event.timestamp)
                if let release = event.release { aggregate.lastRelease = release }
                if !created, try regressIfResolved(issueID: issueID, release: event.release, projectID: event.projectID) {
                    aggregate.statusChanged = true
                    outcome.regressions += 1
                }
                if let user = event.userKey {
                    try insertUser.run([.int(issueID), .text(user)])
                    aggregate.newUsers += Int64(connection.changes)
                }
                aggregates[issueID] = aggregate
                for (key, value) in event.facetTags {
                    tags[TagKey(issueID: issueID, environment: event.environment, key: key, value: value), default: SeenCount()].add(event.timestamp)
                }
                if let release = event.release {
                    let key = ReleaseKey(projectID: event.projectID, version: release)
                    releases[key, default: SeenCount()].add(event.timestamp)
                    if created { releases[key]!.newIssues += 1 }
                }
            }
        }
        try flush(aggregates: aggregates, tags: tags, releases: releases)
        try flush(hourly)
        return outcome
    }

    private func resolveIssue(for event: EventRecord) throws -> (Int64, Bool) {
        for hash in event.grouping.hashes {
            if let id = issueByHash[IssueKey(projectID: event.projectID, hash: hash.bytes)] {
                // Register hashes this issue did not have yet (an app hash gained later, say).
                for other in event.grouping.hashes where issueByHash[IssueKey(projectID: event.projectID, hash: other.bytes)] == nil {
                    try connection.statement("INSERT OR IGNORE INTO issue_hashes (project_id, hash, issue_id) VALUES (?, ?, ?)")
                        .run([.int(event.projectID), .blob(other.bytes), .int(id)])
                    setIssue(id, for: IssueKey(projectID: event.projectID, hash: other.bytes))
                }
                return (id, false)
            }
        }
        let shortID = nextShortID[event.projectID] ?? 1
        nextShortID[event.projectID] = shortID + 1
        undo.append { [unowned self] in self.nextShortID[event.projectID] = shortID }
        try connection.statement("""
            INSERT INTO issues (project_id, short_id, kind, title, culprit, metadata, level, status, substatus,
                first_seen, last_seen, times_seen, users_seen, first_release, last_release)
            VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, 0, 0, ?, ?)
            """).run([
                .int(event.projectID), .int(shortID), .text(event.grouping.kind), .text(event.grouping.title),
                .text(event.grouping.culprit), .text(String(decoding: event.grouping.metadata, as: UTF8.self)),
                .int(Int64(event.level.rawValue)), .int(Int64(IssueSubstatus.new.rawValue)), .int(event.timestamp),
                .int(event.timestamp), .optional(event.release), .optional(event.release),
            ])
        let id = connection.lastInsertRowID
        try connection.statement("INSERT INTO issue_groupings (issue_id, grouping) VALUES (?, ?)")
            .run([.int(id), .text(String(decoding: event.grouping.explanation, as: UTF8.self))])
        for hash in event.grouping.hashes {
            try connection.statement("INSERT OR IGNORE INTO issue_hashes (project_id, hash, issue_id) VALUES (?, ?, ?)")
                .run([.int(event.projectID), .blob(hash.bytes), .int(id)])
            setIssue(id, for: IssueKey(projectID: event.projectID, hash: hash.bytes))
        }
        setState(IssueState(projectID: event.projectID, status: .unresolved, substatus: .new, resolvedInRelease: nil), of: id)
        return (id, true)
    }

    private func setIssue(_ id: Int64, for key: IssueKey) {
        let previous = issueByHash[key]
        issueByHash[key] = id
        undo.append { [unowned self] in self.issueByHash[key] = previous }
    }

    private func setState(_ state: IssueState, of id: Int64) {
        let previous = issues[id]
        issues[id] = state
        undo.append { [unowned self] in self.issues[id] = previous }
    }

    /// Sentry's `_handle_regression`: a new event reopens a resolved issue, unless the issue was
    /// resolved in a release that is the same as or newer than the event's. Ignored issues stay.
    private func regressIfResolved(issueID: Int64, release: String?, projectID: Int64) throws -> Bool {
        guard var state = issues[issueID], state.status == .resolved else { return false }
        if let resolvedIn = state.resolvedInRelease {
            guard let release, release != resolvedIn else { return false }
            let eventFirstSeen = releaseFirstSeen[ReleaseKey(projectID: projectID, version: release)] ?? Int64.max
            let resolvedFirstSeen = releaseFirstSeen[ReleaseKey(projectID: projectID, version: resolvedIn)] ?? Int64.min
            guard eventFirstSeen > resolvedFirstSeen else { return false }
        }
        state.status = .unresolved
        state.substatus = .regressed
        state.resolvedInRelease = nil
        setState(state, of: issueID)
        return true
    }

    private func apply(_ command: IssueCommand, aggregates: inout [Int64: IssueAggregate]) throws {
        switch command {
        case .storeDictionary(let id, let bytes, let sampleCount):
            try connection.statement(
                "INSERT INTO payload_dictionaries (id, created_at, sample_count, dictionary) VALUES (?, ?, ?, ?)"
            ).run([.int(id), .int(ClockTime.nowMilliseconds), .int(Int64(sampleCount)), .blob(bytes)])
        case .purgeIssues(let ids):
            try purgeIssues(ids)
        case .setStatus(let ids, let status, let inNextRelease):
            let lastRelease = try connection.statement("SELECT last_release FROM issues WHERE id = ?")
            for id in ids {
                guard var state = issues[id] else { continue }
                state.status = status
                state.substatus = status == .unresolved ? .ongoing : (status == .ignored ? .archivedForever : .none)
                if status == .resolved && inNextRelease {
                    state.resolvedInRelease = try lastRelease.query([.int(id)]) { $0.text(0) }.first ?? nil
                } else {
                    state.resolvedInRelease = nil
                }
                setState(state, of: id)
                aggregates[id, default: IssueAggregate()].statusChanged = true
            }
        }
    }

    /// Retention: issues whose events have all been purged go, and with them their fingerprints
    /// from the index, so a later event with such a fingerprint starts a new issue.
    private func purgeIssues(_ ids: [Int64]) throws {
        var deleted = Set<Int64>()
        for id in ids {
            if try Self.deleteIssueIfEmpty(id, connection: connection) { deleted.insert(id) }
        }
        guard !deleted.isEmpty else { return }
        let deleteHash = try connection.statement("DELETE FROM issue_hashes WHERE project_id = ? AND hash = ?")
        for key in issueByHash.compactMap({ deleted.contains($0.value) ? $0.key : nil }) {
            try deleteHash.run([.int(key.projectID), .blob(key.hash)])
            let previous = issueByHash.removeValue(forKey: key)
            undo.append { [unowned self] in self.issueByHash[key] = previous }
        }
        for id in deleted {
            let previous = issues.removeValue(forKey: id)
            undo.append { [unowned self] in self.issues[id] = previous }
        }
    }

    private func flush(_ hourly: HourlyCounts) throws {
        let upsertIssue = try connection.statement("""
            INSERT INTO issue_hourly (issue_id, hour, events) VALUES (?, ?, ?)
            ON CONFLICT (issue_id, hour) DO UPDATE SET events = events + excluded.events
            """)
        for (key, count) in hourly.issues {
            try upsertIssue.run([.int(key.id), .int(key.hour), .int(count)])
        }
        let upsertProject = try connection.statement("""
            INSERT INTO project_hourly (project_id, hour, events, new_issues) VALUES (?, ?, ?, ?)
            ON CONFLICT (project_id, hour) DO UPDATE SET events = events + excluded.events,
                new_issues = new_issues + excluded.new_issues
            """)
        for (key, counts) in hourly.projects {
            try upsertProject.run([.int(key.id), .int(key.hour), .int(counts.events), .int(counts.newIssues)])
        }
    }

    private func flush(aggregates: [Int64: IssueAggregate], tags: [TagKey: SeenCount], releases: [ReleaseKey: SeenCount]) throws {
        let updateCounts = try connection.statement("""
            UPDATE issues SET times_seen = times_seen + ?, users_seen = users_seen + ?,
                first_seen = MIN(first_seen, ?), last_seen = MAX(last_seen, ?), last_release = COALESCE(?, last_release)
            WHERE id = ?
            """)
        let updateStatus = try connection.statement("""
            UPDATE issues SET status = ?, substatus = ?, resolved_in_release = ?,
                resolved_at = CASE WHEN ? = 1 THEN COALESCE(resolved_at, ?) ELSE NULL END
            WHERE id = ?
            """)
        let now = Int64(ClockTime.nowSeconds * 1000)
        for (id, aggregate) in aggregates {
            if aggregate.count > 0 {
                try updateCounts.run([
                    .int(aggregate.count), .int(aggregate.newUsers), .int(aggregate.firstSeen), .int(aggregate.lastSeen),
                    .optional(aggregate.lastRelease), .int(id),
                ])
            }
            if aggregate.statusChanged, let state = issues[id] {
                try updateStatus.run([
                    .int(Int64(state.status.rawValue)), .int(Int64(state.substatus.rawValue)), .optional(state.resolvedInRelease),
                    .int(Int64(state.status.rawValue)), .int(now), .int(id),
                ])
            }
        }
        let upsertTag = try connection.statement("""
            INSERT INTO issue_tag_values (issue_id, environment, key, value, times_seen, first_seen, last_seen)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (issue_id, key, value, environment) DO UPDATE SET times_seen = times_seen + excluded.times_seen,
                first_seen = MIN(first_seen, excluded.first_seen), last_seen = MAX(last_seen, excluded.last_seen)
            """)
        for (key, counted) in tags {
            try upsertTag.run([.int(key.issueID), .text(key.environment), .text(key.key), .text(key.value), .int(counted.count),
                               .int(counted.firstSeen), .int(counted.lastSeen)])
        }
        let upsertEnvironment = try connection.statement("""
            INSERT INTO project_environments (project_id, environment, events) VALUES (?, ?, ?)
            ON CONFLICT (project_id, environment) DO UPDATE SET events = events + excluded.events
            """)
        var environments: [ReleaseKey: Int64] = [:]
        for (key, counted) in tags where key.key == "environment" {
            if let projectID = issues[key.issueID]?.projectID {
                environments[ReleaseKey(projectID: projectID, version: key.value), default: 0] += counted.count
            }
        }
        for (key, count) in environments {
            try upsertEnvironment.run([.int(key.projectID), .text(key.version), .int(count)])
        }
        let upsertRelease = try connection.statement("""
            INSERT INTO releases (project_id, version, first_seen, last_seen, events, new_issues) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (project_id, version) DO UPDATE SET events = events + excluded.events,
                new_issues = new_issues + excluded.new_issues,
                first_seen = MIN(first_seen, excluded.first_seen), last_seen = MAX(last_seen, excluded.last_seen)
            """)
        for (key, counted) in releases {
            try upsertRelease.run([.int(key.projectID), .text(key.version), .int(counted.firstSeen), .int(counted.lastSeen),
                                   .int(counted.count), .int(counted.newIssues)])
            let known = releaseFirstSeen[key]
            releaseFirstSeen[key] = min(known ?? Int64.max, counted.firstSeen)
            undo.append { [unowned self] in self.releaseFirstSeen[key] = known }
        }
    }
}
