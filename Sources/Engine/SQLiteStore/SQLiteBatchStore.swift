package import PitIngest
import PitModel
package import PitStorage

/// The SQLite write path: one connection, one transaction per batch, and in-memory indexes that
/// spare a SELECT per event (fingerprint → issue, issue status, release first-seen, short ids).
///
/// The indexes are caches of the database, not copies of it: a miss reads the row (on the
/// writer's connection, so it sees this batch's own writes), and an index that outgrew
/// `indexLimit` is emptied between batches. Memory stays bounded however many issues and
/// releases accumulate, and the hot fingerprints are back after one batch.
package final class SQLiteBatchStore: BatchStore {
    let connection: SQLiteConnection
    private var checkpointer: SQLiteCheckpointer?

    /// Keyed by the hash itself (two words), not its bytes: an array per lookup was a malloc
    /// per event on the writer thread.
    private struct IssueKey: Hashable {
        var projectID: Int64
        var hash: GroupHash
    }

    private struct IssueState {
        var projectID: Int64
        var status: IssueStatus
        var substatus: IssueSubstatus
        var resolvedInRelease: String?
    }

    private var issueByHash: [IssueKey: Int64] = [:]
    private var issues: [Int64: IssueState] = [:]
    var releaseFirstSeen: [ProjectValue: Int64] = [:]
    private var nextShortID: [Int64: Int64] = [:]
    private let indexLimit: Int

    /// Counters of committed events not written yet, and when they last were.
    private var pending = SQLitePendingCounts()
    /// Issues whose `users_seen` a crash recount could not yet set (the disk was full at start);
    /// set with the next counters write.
    private var usersToRecount: Set<Int64> = []
    private var lastCountsWrite = ClockTime.monotonicSeconds
    /// The longest counters wait under load: how stale an issue's count can look while the queue
    /// never runs dry.
    private let countsInterval: Double
    private static let maximumPendingRows = 200_000
    /// Events per second (smoothed over batches) below which counters are written with every
    /// batch that empties the queue.
    private let lightLoadRate: Double
    private var arrivalRate = 0.0
    private var lastBatchTime = ClockTime.monotonicSeconds

    package init(
        path: String, durability: StorageDurability, indexLimit: Int = 100_000, countsInterval: Double = 0.5,
        lightLoadRate: Double = 1000
    ) throws {
        self.indexLimit = max(1, indexLimit)
        self.countsInterval = countsInterval
        self.lightLoadRate = lightLoadRate
        connection = try SQLiteConnection(path: path)
        // WAL lets readers run beside the writer; synchronous NORMAL survives a process crash
        // (kill -9), FULL also survives power loss. Group commit makes FULL cheap (DESIGN.md).
        try SQLiteSchema.prepare(connection, journalMode: durability.journalMode)
        try connection.execute("PRAGMA synchronous=\(durability.synchronous.rawValue)")
        // A bigger page cache and WAL auto-checkpoint keep the batch in memory until commit.
        try connection.execute("PRAGMA cache_size=-65536")
        // SQLiteCheckpointer backfills the WAL from its own thread; the writer's own automatic
        // checkpoint (every 4,096 pages: 16 MB of WAL at 4 KiB pages, 32 MB in a file made with
        // 8 KiB pages) then finds almost nothing left to copy,
        // completes, and lets the next transaction restart the WAL from its beginning. Without
        // it a background checkpoint never catches up with a busy writer and the WAL grows
        // without bound (measured: 1.1 GB in 10 s at 3,000 events/s).
        try connection.execute("PRAGMA wal_autocheckpoint=4096")
        try connection.execute("PRAGMA journal_size_limit=67108864")
        try connection.execute("PRAGMA foreign_keys=OFF")
        try loadIndexes()
        try recountUncountedEvents()
        if durability.journalMode == .wal { checkpointer = try SQLiteCheckpointer(path: path) }
    }

    package func close() {
        if !pending.isEmpty {
            if (try? connection.transaction({ try writeCounts([pending]) })) != nil {
                pending.removeAll()
                usersToRecount = []
            }
        }
        checkpointer?.stop()
        checkpointer = nil
        // Everything committed is in the WAL already; this folds it into the database file so a
        // stopped server leaves one self-contained file.
        try? connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    }

    /// Short ids must continue from the database's; the other indexes fill as batches need them.
    private func loadIndexes() throws {
        nextShortID.removeAll()
        for (projectID, maxShortID) in try connection.statement("SELECT project_id, MAX(short_id) FROM issues GROUP BY project_id")
            .query([], { ($0.int(0), $0.int(1)) })
        {
            nextShortID[projectID] = maxShortID + 1
        }
    }

    /// Entries in the in-memory indexes (for tests: they stay near `indexLimit`).
    package var indexedCount: Int { issueByHash.count + issues.count + releaseFirstSeen.count }

    private func trimIndexes() {
        if issueByHash.count > indexLimit { issueByHash.removeAll(keepingCapacity: true) }
        if issues.count > indexLimit { issues.removeAll(keepingCapacity: true) }
        if releaseFirstSeen.count > indexLimit { releaseFirstSeen.removeAll(keepingCapacity: true) }
    }

    private func issueID(for key: IssueKey) throws -> Int64? {
        if let id = issueByHash[key] { return id }
        guard
            let id = try connection.statement("SELECT issue_id FROM issue_hashes WHERE project_id = ? AND hash = ?")
                .query([.int(key.projectID), .blob(key.hash.bytes)], { $0.int(0) }).first
        else { return nil }
        issueByHash[key] = id
        return id
    }

    private func issueState(_ id: Int64) throws -> IssueState? {
        if let state = issues[id] { return state }
        guard
            let state = try connection.statement("SELECT project_id, status, substatus, resolved_in_release FROM issues WHERE id = ?")
                .query(
                    [.int(id)],
                    { row in
                        IssueState(
                            projectID: row.int(0), status: IssueStatus(rawValue: Int(row.int(1))) ?? .unresolved,
                            substatus: IssueSubstatus(rawValue: Int(row.int(2))) ?? .none, resolvedInRelease: row.text(3))
                    }
                ).first
        else { return nil }
        issues[id] = state
        return state
    }

    private func releaseFirstSeen(_ key: ProjectValue) throws -> Int64? {
        if let firstSeen = releaseFirstSeen[key] { return firstSeen }
        let stored = try connection.statement("SELECT first_seen FROM releases WHERE project_id = ? AND version = ?")
            .query([.int(key.projectID), .text(key.value)], { $0.int(0) }).first
        // Counters not written yet may hold an earlier sighting than the database's row.
        let waiting = pending.releases[key]?.firstSeen
        guard let firstSeen = [stored, waiting].compactMap({ $0 }).min() else { return nil }
        releaseFirstSeen[key] = firstSeen
        return firstSeen
    }

    // MARK: Batch

    package func write(_ batch: [IngestQueue.Entry]) throws -> BatchOutcome {
        try write(batch, queueEmpty: true)
    }

    /// Writes the batch's rows; the counters derived from them join `pending`. They are written
    /// with this batch at light load (the queue has run dry and fewer than `lightLoadRate` events
    /// arrive per second: every acknowledged event is counted when its 200 goes out), else once
    /// `countsInterval` has passed (with a batch, or alone when none comes), or when `pending`
    /// has grown large.
    package func write(_ batch: [IngestQueue.Entry], queueEmpty: Bool) throws -> BatchOutcome {
        let now = ClockTime.monotonicSeconds
        let sinceLastBatch = max(now - lastBatchTime, 0.001)
        lastBatchTime = now
        arrivalRate += (Double(batch.count) / sinceLastBatch - arrivalRate) * 0.2
        let lightLoad = queueEmpty && arrivalRate < lightLoadRate
        var counted: [CountedEvent] = []
        counted.reserveCapacity(batch.count)
        trimIndexes()
        do {
            let (outcome, countsWritten) = try connection.transaction { () throws -> (BatchOutcome, Bool) in
                let outcome = try writeInTransaction(batch, counted: &counted)
                let due =
                    lightLoad || pending.size + counted.count > Self.maximumPendingRows
                    || now - lastCountsWrite >= countsInterval
                guard due, !(pending.isEmpty && counted.isEmpty) else { return (outcome, false) }
                // `pending` stays untouched until the commit: a rollback must not leave this
                // batch's counts in it. The rows both touch are upserted twice, once an interval.
                var batchCounts = SQLitePendingCounts()
                for event in counted { batchCounts.add(event) }
                try writeCounts([pending, batchCounts])
                return (outcome, true)
            }
            if countsWritten {
                pending.removeAll()
                usersToRecount = []
                lastCountsWrite = now
            } else {
                if pending.isEmpty { lastCountsWrite = now }
                for event in counted { pending.add(event) }
            }
            return outcome
        } catch {
            // The batch cached rows it wrote (new issues, misses, status changes), which the
            // rollback took back: start the indexes afresh from what is committed.
            issueByHash.removeAll()
            issues.removeAll()
            releaseFirstSeen.removeAll()
            try? loadIndexes()
            throw error
        }
    }

    package var deferredWorkDeadline: Double? { pending.isEmpty ? nil : lastCountsWrite + countsInterval }

    package func writeDeferredWork() throws {
        guard !pending.isEmpty else { return }
        // A failing write waits another interval instead of being retried at once, in a loop.
        lastCountsWrite = ClockTime.monotonicSeconds
        try connection.transaction { try writeCounts([pending]) }
        pending.removeAll()
        usersToRecount = []
    }

    private func writeInTransaction(_ batch: [IngestQueue.Entry], counted: inout [CountedEvent]) throws -> BatchOutcome {
        var outcome = BatchOutcome()
        var statusChanged: Set<Int64> = []
        var sessionUnits: [WriteUnit] = []
        var checkInUnits: [WriteUnit] = []
        var transactionUnits: [WriteUnit] = []
        var userTags: [IssueTagValue: SeenCount] = [:]
        var outcomes = OutcomeBatch()
        let insertUser = try connection.statement("INSERT OR IGNORE INTO issue_users (issue_id, user_key) VALUES (?, ?)")
        let insertEvent = try connection.statement(
            """
            INSERT OR IGNORE INTO events (project_id, issue_id, event_id, timestamp, received, level, release,
                environment, user_key, processing_errors, payload_size, payload, dictionary_id, trace_id, span_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let insertItem = try connection.statement(
            """
            INSERT INTO items (project_id, type, event_id, received, header, payload_size, payload, dictionary_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)

        // Entries are read in place (`pointee` is an addressor), as in `BatchWriter.complete`:
        // `for entry in batch` copied each whole unit first (perf).
        try batch.withUnsafeBufferPointer { entries in
            guard let base = entries.baseAddress else { return }
            for index in entries.indices {
                switch (base + index).pointee {
                case .command(let command, _):
                    try apply(command, counted: counted, statusChanged: &statusChanged)
                case .write(let unit):
                    if !unit.sessions.isEmpty { sessionUnits.append(unit) }
                    if !unit.checkIns.isEmpty { checkInUnits.append(unit) }
                    if !unit.transactions.isEmpty || !unit.spans.isEmpty { transactionUnits.append(unit) }
                    for item in unit.items {
                        try insertItem.run([
                            .int(item.projectID), .text(item.type), item.eventID.map { .blob($0.bytes) } ?? .null,
                            .int(item.received), .text(item.header), .int(Int64(item.payloadSize)), .blob(item.compressedPayload),
                            .optional(item.dictionaryID),
                        ])
                        outcome.items += 1
                    }
                    try insertFeedback(unit.feedback)
                    try insertLogs(unit.logs)
                    try insertAttachments(unit.attachments)
                    try insertProfiles(unit.profiles)
                    outcomes.add(unit.outcomes)
                    if let held = unit.heldEvent { try holdEvent(held) }
                    if let event = unit.event {
                        if unit.releasesHeldEvent { try releaseHeldEvent(event) }
                        let stored = try writeEvent(
                            event, insertEvent: insertEvent, insertUser: insertUser, outcome: &outcome, statusChanged: &statusChanged,
                            counted: &counted, userTags: &userTags)
                        if stored || !unit.releasesHeldEvent { outcomes.addEvent(event, stored: stored) }
                    }
                    for event in unit.extraEvents {
                        let stored = try writeEvent(
                            event, insertEvent: insertEvent, insertUser: insertUser, outcome: &outcome, statusChanged: &statusChanged,
                            counted: &counted, userTags: &userTags)
                        outcomes.addEvent(event, stored: stored)
                    }
                }
            }
        }
        try writeTags(userTags)
        try writeStatus(of: statusChanged)
        // Regressions compare releases by first-seen; later batches see this one's releases even
        // before their counters are written.
        var batchReleases: [ProjectValue: Int64] = [:]
        for event in counted {
            guard let release = event.release else { continue }
            let key = ProjectValue(projectID: event.projectID, value: release)
            batchReleases[key] = min(batchReleases[key] ?? Int64.max, event.timestamp)
        }
        for (key, firstSeen) in batchReleases {
            releaseFirstSeen[key] = min(try releaseFirstSeen(key) ?? Int64.max, firstSeen)
        }
        if !sessionUnits.isEmpty { try writeSessions(sessionUnits) }
        if !checkInUnits.isEmpty { try MonitorWrites.apply(checkInUnits, to: SQLiteMonitorWrites(connection: connection)) }
        if !transactionUnits.isEmpty { try writeTransactions(transactionUnits) }
        try writeOutcomes(outcomes)
        return outcome
    }

    /// The batch's outcomes: one upsert per (project, hour, outcome, category, reason).
    private func writeOutcomes(_ outcomes: OutcomeBatch) throws {
        guard !outcomes.isEmpty else { return }
        let upsert = try connection.statement(
            """
            INSERT INTO outcomes_hourly (project_id, hour, outcome, category, reason, quantity, times_seen) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (project_id, hour, outcome, category, reason) DO UPDATE SET quantity = quantity + excluded.quantity,
                times_seen = times_seen + excluded.times_seen
            """)
        for (key, tally) in outcomes.sorted {
            try upsert.run([
                .int(key.projectID), .int(key.hour), .text(key.outcome.rawValue), .text(key.category), .text(key.reason),
                .int(tally.quantity), .int(tally.timesSeen),
            ])
        }
    }

    /// One event of a unit: its issue, its row, and what it adds to the batch's counters; false
    /// when its id was stored already (a duplicate).
    private func writeEvent(
        _ event: EventRecord, insertEvent: SQLiteStatement, insertUser: SQLiteStatement, outcome: inout BatchOutcome,
        statusChanged: inout Set<Int64>, counted: inout [CountedEvent], userTags: inout [IssueTagValue: SeenCount]
    ) throws -> Bool {
        let (issueID, created) = try resolveIssue(for: event)
        try insertEvent.run([
            .int(event.projectID), .int(issueID), .blob(event.eventID.bytes), .int(event.timestamp),
            .int(event.received), .int(Int64(event.level.rawValue)), .optional(event.release),
            .text(event.environment), .optional(event.userKey), .optional(event.processingErrors),
            .int(Int64(event.payloadSize)), .blob(event.compressedPayload), .optional(event.dictionaryID),
            event.traceID.map { .blob($0.bytes) } ?? .null, .optional(event.traceSpanID?.storage),
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
                // None of its fingerprints had an issue before (else it was not created).
                for hash in event.grouping.hashes { issueByHash[IssueKey(projectID: event.projectID, hash: hash)] = nil }
                issues[issueID] = nil
                nextShortID[event.projectID]? -= 1
            }
            return false
        }
        let rowID = connection.lastInsertRowID
        outcome.events += 1
        var change = CommittedEvent.IssueChange.none
        if created {
            outcome.newIssues += 1
            change = .created
            try countNewIssue(event)
        } else if try regressIfResolved(issueID: issueID, release: event.release, projectID: event.projectID) {
            statusChanged.insert(issueID)
            outcome.regressions += 1
            change = .regressed
        }
        outcome.committedEvents.append(CommittedEvent(event, issueID: issueID, change: change))
        var isNewUser = false
        if let user = event.userKey {
            try insertUser.run([.int(issueID), .text(user)])
            isNewUser = connection.changes > 0
        }
        counted.append(
            CountedEvent(
                rowID: rowID, issueID: issueID, projectID: event.projectID, timestamp: event.timestamp,
                received: event.received, release: event.release, environment: event.environment,
                facetTags: event.facetTags, isNewUser: isNewUser))
        for (key, value) in event.facetTags where SQLitePendingCounts.perUserTagKeys.contains(key) {
            userTags[
                IssueTagValue(issueID: issueID, environment: event.environment, key: key, value: value),
                default: SeenCount()
            ].add(event.timestamp)
        }
        return true
    }

    /// Attachment rows; the same file resent for the same event (an SDK retry) is stored once.
    private func insertAttachments(_ records: [AttachmentRecord]) throws {
        guard !records.isEmpty else { return }
        let statement = try connection.statement(
            """
            INSERT OR IGNORE INTO attachments (project_id, event_id, name, attachment_type, content_type, size, sha1, received,
                compressed, content)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for record in records {
            try statement.run([
                .int(record.projectID), .blob(record.eventID.bytes), .text(record.name), .text(record.attachmentType),
                .optional(record.contentType), .int(Int64(record.size)), .text(record.sha1), .int(record.received),
                .int(record.compressed ? 1 : 0), .blob(record.content),
            ])
        }
    }

    /// Feedback rows; a resend of the same feedback (same id) replaces the first, as Sentry keeps
    /// the latest report for an event.
    private func insertFeedback(_ records: [FeedbackRecord]) throws {
        guard !records.isEmpty else { return }
        let statement = try connection.statement(
            """
            INSERT INTO feedback (project_id, feedback_id, event_id, kind, name, email, comments, url, user_json, timestamp, received,
                payload_size, payload)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (project_id, feedback_id) DO UPDATE SET event_id = excluded.event_id, name = excluded.name,
                email = excluded.email, comments = excluded.comments, url = excluded.url, user_json = excluded.user_json,
                timestamp = excluded.timestamp, received = excluded.received, payload_size = excluded.payload_size,
                payload = excluded.payload
            """)
        for record in records {
            try statement.run([
                .int(record.projectID), .blob(record.feedbackID.bytes), record.eventID.map { .blob($0.bytes) } ?? .null,
                .text(record.kind.rawValue), .text(record.name), .text(record.email), .text(record.comments), .optional(record.url),
                .optional(record.user), .int(record.timestamp), .int(record.received), .int(Int64(record.payloadSize)),
                .blob(record.compressedPayload),
            ])
        }
    }

    /// One row per log, through one cached prepared statement: no round trip to amortise here.
    private func insertLogs(_ records: [LogRecord]) throws {
        guard !records.isEmpty else { return }
        let statement = try connection.statement(
            """
            INSERT INTO logs (project_id, timestamp, received, level, severity_number, trace_id, span_id, body, release, environment,
                sdk, attributes)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for record in records {
            try statement.run([
                .int(record.projectID), .int(record.timestamp), .int(record.received), .int(Int64(record.severity.rawValue)),
                .int(Int64(record.severityNumber)), .optional(record.traceID), .optional(record.spanID), .text(record.body),
                .optional(record.release), .optional(record.environment), .optional(record.sdk), .text(record.attributes),
            ])
        }
    }

    /// Counters of a new issue, written at once: creations are rare, and a restart's recount
    /// (which reads only events) could not tell which event created an issue.
    private func countNewIssue(_ event: EventRecord) throws {
        try connection.statement(
            """
            INSERT INTO project_hourly (project_id, hour, events, new_issues) VALUES (?, ?, 0, 1)
            ON CONFLICT (project_id, hour) DO UPDATE SET new_issues = new_issues + 1
            """
        ).run([.int(event.projectID), .int(HourlyCounts.hour(ofMilliseconds: event.received))])
        guard let release = event.release else { return }
        try connection.statement(
            """
            INSERT INTO releases (project_id, version, first_seen, last_seen, events, new_issues) VALUES (?, ?, ?, ?, 0, 1)
            ON CONFLICT (project_id, version) DO UPDATE SET new_issues = new_issues + 1,
                first_seen = MIN(first_seen, excluded.first_seen), last_seen = MAX(last_seen, excluded.last_seen)
            """
        ).run([.int(event.projectID), .text(release), .int(event.timestamp), .int(event.timestamp)])
    }

    private func resolveIssue(for event: EventRecord) throws -> (Int64, Bool) {
        for hash in event.grouping.hashes {
            if let id = try issueID(for: IssueKey(projectID: event.projectID, hash: hash)) {
                // Register hashes this issue did not have yet (an app hash gained later, say).
                for other in event.grouping.hashes {
                    guard try issueID(for: IssueKey(projectID: event.projectID, hash: other)) == nil else { continue }
                    try connection.statement("INSERT OR IGNORE INTO issue_hashes (project_id, hash, issue_id) VALUES (?, ?, ?)")
                        .run([.int(event.projectID), .blob(other.bytes), .int(id)])
                    issueByHash[IssueKey(projectID: event.projectID, hash: other)] = id
                }
                return (id, false)
            }
        }
        let shortID = nextShortID[event.projectID] ?? 1
        nextShortID[event.projectID] = shortID + 1
        try connection.statement(
            """
            INSERT INTO issues (project_id, short_id, kind, title, culprit, metadata, level, status, substatus,
                first_seen, last_seen, times_seen, users_seen, first_release, last_release)
            VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, 0, 0, ?, ?)
            """
        ).run([
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
            issueByHash[IssueKey(projectID: event.projectID, hash: hash)] = id
        }
        issues[id] = IssueState(projectID: event.projectID, status: .unresolved, substatus: .new, resolvedInRelease: nil)
        return (id, true)
    }

    /// Sentry's `_handle_regression`: a new event reopens a resolved issue, unless the issue was
    /// resolved in a release that is the same as or newer than the event's. Ignored issues stay.
    private func regressIfResolved(issueID: Int64, release: String?, projectID: Int64) throws -> Bool {
        guard var state = try issueState(issueID), state.status == .resolved else { return false }
        if let resolvedIn = state.resolvedInRelease {
            guard let release, release != resolvedIn else { return false }
            let eventFirstSeen = try releaseFirstSeen(ProjectValue(projectID: projectID, value: release)) ?? Int64.max
            let resolvedFirstSeen = try releaseFirstSeen(ProjectValue(projectID: projectID, value: resolvedIn)) ?? Int64.min
            guard eventFirstSeen > resolvedFirstSeen else { return false }
        }
        state.status = .unresolved
        state.substatus = .regressed
        state.resolvedInRelease = nil
        issues[issueID] = state
        return true
    }

    private func apply(_ command: IssueCommand, counted: [CountedEvent], statusChanged: inout Set<Int64>) throws {
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
                guard var state = try issueState(id) else { continue }
                state.status = status
                state.substatus = status == .unresolved ? .ongoing : (status == .ignored ? .archivedForever : .none)
                if status == .resolved && inNextRelease {
                    // A release seen since the last counters write is newer than the stored one.
                    let pendingRelease =
                        counted.last(where: { $0.issueID == id && $0.release != nil })?.release ?? pending.issues[id]?.lastRelease
                    state.resolvedInRelease = try pendingRelease ?? (lastRelease.query([.int(id)]) { $0.text(0) }.first ?? nil)
                } else {
                    state.resolvedInRelease = nil
                }
                issues[id] = state
                statusChanged.insert(id)
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
        // By issue: the index is a cache and may not hold every fingerprint of these issues.
        let deleteHashes = try connection.statement("DELETE FROM issue_hashes WHERE issue_id = ?")
        for id in deleted { try deleteHashes.run([.int(id)]) }
        for key in issueByHash.compactMap({ deleted.contains($0.value) ? $0.key : nil }) { issueByHash[key] = nil }
        for id in deleted { issues[id] = nil }
    }

    private func writeStatus(of ids: Set<Int64>) throws {
        guard !ids.isEmpty else { return }
        let updateStatus = try connection.statement(
            """
            UPDATE issues SET status = ?, substatus = ?, resolved_in_release = ?,
                resolved_at = CASE WHEN ? = 1 THEN COALESCE(resolved_at, ?) ELSE NULL END
            WHERE id = ?
            """)
        let now = Int64(ClockTime.nowSeconds * 1000)
        for id in ids {
            guard let state = try issueState(id) else { continue }
            try updateStatus.run([
                .int(Int64(state.status.rawValue)), .int(Int64(state.substatus.rawValue)), .optional(state.resolvedInRelease),
                .int(Int64(state.status.rawValue)), .int(now), .int(id),
            ])
        }
    }

    // MARK: Derived counters

    /// Writes counters, oldest first, and moves the watermark past the events they cover, in the
    /// caller's transaction.
    private func writeCounts(_ countsInOrder: [SQLitePendingCounts]) throws {
        let updateCounts = try connection.statement(
            """
            UPDATE issues SET times_seen = times_seen + ?, users_seen = users_seen + ?,
                first_seen = MIN(first_seen, ?), last_seen = MAX(last_seen, ?), last_release = COALESCE(?, last_release)
            WHERE id = ?
            """)
        let upsertEnvironment = try connection.statement(
            """
            INSERT INTO project_environments (project_id, environment, events) VALUES (?, ?, ?)
            ON CONFLICT (project_id, environment) DO UPDATE SET events = events + excluded.events
            """)
        let upsertRelease = try connection.statement(
            """
            INSERT INTO releases (project_id, version, first_seen, last_seen, events, new_issues) VALUES (?, ?, ?, ?, ?, 0)
            ON CONFLICT (project_id, version) DO UPDATE SET events = events + excluded.events,
                first_seen = MIN(first_seen, excluded.first_seen), last_seen = MAX(last_seen, excluded.last_seen)
            """)
        let upsertIssueHour = try connection.statement(
            """
            INSERT INTO issue_hourly (issue_id, hour, events) VALUES (?, ?, ?)
            ON CONFLICT (issue_id, hour) DO UPDATE SET events = events + excluded.events
            """)
        let upsertProjectHour = try connection.statement(
            """
            INSERT INTO project_hourly (project_id, hour, events, new_issues) VALUES (?, ?, ?, 0)
            ON CONFLICT (project_id, hour) DO UPDATE SET events = events + excluded.events
            """)
        var throughEventRowID: Int64 = 0
        for counts in countsInOrder {
            for (id, issue) in counts.issues {
                try updateCounts.run([
                    .int(issue.count), .int(issue.newUsers), .int(issue.firstSeen), .int(issue.lastSeen),
                    .optional(issue.lastRelease), .int(id),
                ])
            }
            try writeTags(counts.tags)
            for (key, count) in counts.environments {
                try upsertEnvironment.run([.int(key.projectID), .text(key.value), .int(count)])
            }
            for (key, counted) in counts.releases {
                try upsertRelease.run([
                    .int(key.projectID), .text(key.value), .int(counted.firstSeen), .int(counted.lastSeen),
                    .int(counted.count),
                ])
            }
            for (key, count) in counts.hourly.issues {
                try upsertIssueHour.run([.int(key.id), .int(key.hour), .int(count)])
            }
            for (key, counted) in counts.hourly.projects {
                try upsertProjectHour.run([.int(key.id), .int(key.hour), .int(counted.events)])
            }
            throughEventRowID = max(throughEventRowID, counts.throughEventRowID)
        }
        if !usersToRecount.isEmpty {
            // After every increment above: the count of an issue's rows is then exact.
            let recountUsers = try connection.statement(
                "UPDATE issues SET users_seen = (SELECT COUNT(*) FROM issue_users WHERE issue_id = issues.id) WHERE id = ?")
            for id in usersToRecount { try recountUsers.run([.int(id)]) }
        }
        if throughEventRowID > 0 { try setCountedThrough(throughEventRowID) }
    }

    private func writeTags(_ tags: [IssueTagValue: SeenCount]) throws {
        guard !tags.isEmpty else { return }
        let upsertTag = try connection.statement(
            """
            INSERT INTO issue_tag_values (issue_id, environment, key, value, times_seen, first_seen, last_seen)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (issue_id, key, value, environment) DO UPDATE SET times_seen = times_seen + excluded.times_seen,
                first_seen = MIN(first_seen, excluded.first_seen), last_seen = MAX(last_seen, excluded.last_seen)
            """)
        for (key, counted) in tags {
            try upsertTag.run([
                .int(key.issueID), .text(key.environment), .text(key.key), .text(key.value), .int(counted.count),
                .int(counted.firstSeen), .int(counted.lastSeen),
            ])
        }
    }

    private static let watermarkKey = "counts_through_event_id"

    private func setCountedThrough(_ rowID: Int64) throws {
        try connection.statement(
            """
            INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value
            """
        ).run([.text(Self.watermarkKey), .text(String(rowID))])
    }

    /// After a crash, events committed after the last counters write are stored but not counted:
    /// count them again from their rows (tag values from their payloads). A database from before
    /// the watermark existed counted every batch as it committed.
    private func recountUncountedEvents() throws {
        let watermark =
            try connection.statement("SELECT value FROM settings WHERE key = ?")
            .query([.text(Self.watermarkKey)]) { $0.text(0).flatMap { Int64($0) } }.first ?? nil
        let lastRowID = try connection.scalarInt("SELECT MAX(id) FROM events") ?? 0
        guard let watermark else {
            try setCountedThrough(lastRowID)
            return
        }
        guard lastRowID > watermark else { return }
        var dictionaries: [Int64: PayloadDictionary] = [:]
        for (id, bytes) in try connection.statement("SELECT id, dictionary FROM payload_dictionaries").query(
            [], { ($0.int(0), $0.blob(1)) })
        {
            dictionaries[id] = PayloadDictionary(id: id, bytes: bytes)
        }
        var counts = SQLitePendingCounts()
        let rows = try connection.statement(
            """
            SELECT id, project_id, issue_id, timestamp, received, release, environment, user_key, payload, dictionary_id,
                payload_size
            FROM events WHERE id > ? ORDER BY id
            """)
        _ = try rows.query([.int(watermark)]) { row in
            let dictionaryID: Int64? = row.isNull(9) ? nil : row.int(9)
            counts.add(
                CountedEvent(
                    rowID: row.int(0), issueID: row.int(2), projectID: row.int(1), timestamp: row.int(3), received: row.int(4),
                    release: row.text(5), environment: row.text(6) ?? "",
                    facetTags: Self.facetTags(
                        ofStoredPayload: row.blob(8), payloadSize: Int(row.int(10)),
                        dictionary: dictionaryID.flatMap { dictionaries[$0] }, needsDictionary: dictionaryID != nil)))
        }
        // The users of these events were stored with them; which of them were new when they
        // came is lost with the process, but an issue's users are its rows in issue_users.
        usersToRecount = Set(counts.issues.keys)
        do {
            try connection.transaction { try writeCounts([counts]) }
            usersToRecount = []
        } catch {
            // A full disk (the crash may have come from it) must not keep the server from
            // starting and answering 503: the counts wait with the first batch's, as any
            // deferred counts do, and are written once there is room.
            pending = counts
        }
    }

    /// The tag values an event was counted under, derived again from its stored payload as the
    /// ingest path derived them; none when the payload cannot be read.
    private static func facetTags(
        ofStoredPayload stored: [UInt8], payloadSize: Int, dictionary: PayloadDictionary?, needsDictionary: Bool
    ) -> [(key: String, value: String)] {
        let limit = 1 << 30
        guard
            var payload = try?
                (needsDictionary ? dictionary?.decompress(stored, limit: limit) : PayloadCodec.decompress(stored, limit: limit))
        else { return [] }
        _ = StoredEventPayload.splitReadView(&payload, payloadSize: payloadSize)
        guard let extracted = payload.withUnsafeBytes({ try? EventExtractor.extract(payload: $0) }) else { return [] }
        return EventNormalizer.facetTags(EventNormalizer.normalize(extracted, headerEventID: nil, sentAt: nil, received: 0))
    }
}
