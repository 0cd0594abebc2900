/// The deleting side of a storage back end, driven by `RetentionPurger` on its own thread and
/// connection. Every call is one short transaction, so the writer waits at most one batch for
/// the write lock (SQLite) or a handful of row locks (PostgreSQL).
package protocol PurgeStore: AnyObject {
    /// Projects that may hold events or items.
    func projectIDs() throws -> [Int64]
    /// Deletes up to `limit` events picked by `selection` and adjusts what counted them: issue
    /// event counts, tag value counts, environment and release counts, hourly counters.
    func purgeEvents(_ selection: PurgeSelection, limit: Int) throws -> PurgedEvents
    /// Deletes up to `limit` other raw items (of types Pit keeps unprocessed) past their project's
    /// cutoff, scanning from `cursor` (an item id) in id order. `cutoff` gives a project's
    /// cutoff (nil: keep forever); `newestCutoff` is the largest of them: once items are newer
    /// than it nothing further can be expired.
    func purgeItems(after cursor: Int64, limit: Int, newestCutoff: Int64, cutoff: (Int64) -> Int64?) throws -> PurgedItems
    /// Deletes up to `limit` of the project's user feedback received before `receivedBefore`
    /// (ms), oldest first; returns how many.
    func purgeFeedback(projectID: Int64, receivedBefore: Int64, limit: Int) throws -> Int
    /// Deletes up to `limit` of the project's logs stamped before `timestampBefore` (ms), oldest
    /// first; returns how many.
    func purgeLogs(projectID: Int64, timestampBefore: Int64, limit: Int) throws -> Int
    /// Deletes up to `limit` of the project's attachments received before `receivedBefore` (ms),
    /// oldest first, with the retention of the events they belong to; returns how many.
    func purgeAttachments(projectID: Int64, receivedBefore: Int64, limit: Int) throws -> Int
    /// Deletes up to `limit` of the project's transactions received before `receivedBefore`
    /// (ms), oldest first, with the retention of events; returns how many.
    func purgeTransactions(projectID: Int64, receivedBefore: Int64, limit: Int) throws -> Int
    /// Deletes up to `limit` of the project's spans that started before `startedBefore`
    /// (microseconds), oldest first; returns how many.
    func purgeSpans(projectID: Int64, startedBefore: Int64, limit: Int) throws -> Int
    /// Deletes up to `limit` of the project's profiles received before `receivedBefore` (ms),
    /// oldest first, with the retention of events; returns how many.
    func purgeProfiles(projectID: Int64, receivedBefore: Int64, limit: Int) throws -> Int
    /// Drops the project's hourly counters (events, release health, transaction aggregates) of
    /// hours before `hour`;
    /// returns the rows deleted.
    func purgeCounters(projectID: Int64, beforeHour hour: Int64) throws -> Int
    /// Deletes up to `limit` stored session states of sessions started before `startedBefore`
    /// (ms): no update of theirs is accepted any more (`SessionParser.maxAgeSeconds`). Returns
    /// how many it deleted.
    func purgeSessionStates(startedBefore: Int64, limit: Int) throws -> Int
    /// Deletes up to `limit` outcome rows (`outcomes_hourly`) of hours before `hour`, every
    /// project's; returns how many.
    func purgeOutcomes(beforeHour hour: Int64, limit: Int) throws -> Int
    /// Deletes up to `limit` of the project's cron check-ins created before `createdBefore` (ms),
    /// with its events' retention; returns how many. Monitors and their state stay.
    func purgeCheckIns(projectID: Int64, createdBefore: Int64, limit: Int) throws -> Int
    /// Deletes those of `issueIDs` that have no events left, with their hashes, tags, users and
    /// counters, and returns how many; nil when this store must leave it to the writer (SQLite:
    /// the writer's in-memory fingerprint index owns issue ids, see `IssueCommand.purgeIssues`).
    func deleteIssuesWithoutEvents(_ issueIDs: [Int64]) throws -> Int?
    /// Bytes the live data takes (SQLite: pages in use); nil where it cannot be told cheaply.
    func usedBytes() throws -> Int64?
    /// Gives up to `maxPages` free pages back to the file system; returns how many it freed
    /// (0 when there is nothing to free or the database cannot shrink in place).
    func reclaimSpace(maxPages: Int) throws -> Int
    /// How long the last call held its transaction open, from the moment it had its locks:
    /// the pacing must not count the time it waited for the writer as its own. Nil when the
    /// store cannot tell (then the call's whole duration counts).
    var lastHoldSeconds: Double? { get }
    func close()
}

/// Which events a purge batch deletes.
package enum PurgeSelection: Sendable, Equatable {
    /// A project's events received before `receivedBefore` (ms since the epoch), oldest first.
    case expired(projectID: Int64, receivedBefore: Int64)
    /// The oldest events of any project: the database is over `max_database_bytes`.
    case oldest
}

package struct PurgedEvents: Sendable, Equatable {
    package var events = 0
    /// Issues that lost events in this batch and have none left: candidates for deletion.
    package var emptiedIssues: [Int64] = []
    /// The newest `received` among the deleted events.
    package var newestReceived: Int64?

    package init() {}
}

package struct PurgedItems: Sendable, Equatable {
    package var deleted = 0
    package var cursor: Int64
    /// True when nothing past `cursor` can be expired.
    package var done: Bool

    package init(deleted: Int, cursor: Int64, done: Bool) {
        self.deleted = deleted
        self.cursor = cursor
        self.done = done
    }
}
