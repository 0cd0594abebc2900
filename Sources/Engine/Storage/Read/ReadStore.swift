package import PitModel

/// The read side that the JSON API and web UI use. Implemented per back end; every method may
/// block, so implementations run their work off the cooperative pool.
package protocol ReadStore: Sendable {
    func issues(projectID: Int64, query: IssueQuery) async throws -> [IssueRow]
    func issue(id: Int64) async throws -> IssueRow?
    func events(issueID: Int64, limit: Int, before: Int64?) async throws -> [EventRow]
    func event(projectID: Int64, eventID: EventID) async throws -> EventRow?
    func latestEvent(issueID: Int64) async throws -> EventRow?
    func counts(projectID: Int64) async throws -> (events: Int64, issues: Int64, items: Int64)

    /// How many issues match (for "select all N matching issues"), counted up to
    /// `IssueQuery.maxHits` + 1: beyond that, "1,000+" is as useful and costs no full scan.
    func issueCount(projectID: Int64, query: IssueQuery) async throws -> Int
    /// A project's or an issue's events, newest first, filtered.
    func events(_ query: EventQuery) async throws -> [EventRow]
    /// One event of an issue by its row id (the UI's stable, ordered handle).
    func event(issueID: Int64, rowID: Int64) async throws -> EventRow?
    /// Row ids of the first, previous, next and latest events of an issue around `rowID`.
    func eventNavigation(issueID: Int64, rowID: Int64, environment: String?) async throws -> EventNavigation
    /// Tag keys of an issue with their most common values; `environment` scopes the counts.
    func tagFacets(issueID: Int64, environment: String?, topValues: Int) async throws -> [TagFacet]
    /// Every value of one tag of an issue, most frequent first.
    func tagValues(issueID: Int64, key: String, environment: String?, limit: Int) async throws -> [TagValue]
    /// Releases of a project (or of all projects), newest first.
    func releases(projectID: Int64?) async throws -> [ReleaseRow]
    /// Per-hour event counts of issues in [fromHour, toHour]: issue id → hour → events.
    func issueHourly(issueIDs: [Int64], fromHour: Int64, toHour: Int64) async throws -> [Int64: [Int64: Int64]]
    /// Per-hour events and new issues of a project in [fromHour, toHour].
    func projectHourly(projectID: Int64, fromHour: Int64, toHour: Int64) async throws -> [Int64: HourlyCounts.ProjectCounts]
    /// Environments seen in a project, most events first.
    func environments(projectID: Int64) async throws -> [String]
    /// Which of `eventIDs` the project has no event for, in the order asked: one lookup in the
    /// (project, event id) index per id (pit-bench checks millions of acknowledged ids with it).
    func missingEvents(projectID: Int64, eventIDs: [EventID]) async throws -> [EventID]
    /// Release health: sessions, users and durations of the hours asked, grouped as asked
    /// (statements from `SessionSQL`).
    func sessionStats(_ query: SessionQuery) async throws -> SessionStats
    /// User feedback of a project or of one issue, newest first.
    func feedback(_ query: FeedbackQuery) async throws -> [FeedbackRow]
    /// An event's attachments (metadata only), in the order they were stored; statements from
    /// `ReadSQL`. Found by (project, event id), so attachments sent apart from their event list too.
    func attachments(projectID: Int64, eventID: EventID) async throws -> [AttachmentRow]
    /// One attachment of the project (nil for another project's id).
    func attachment(projectID: Int64, id: Int64) async throws -> AttachmentRow?
    /// An attachment's bytes as stored (`StoredAttachmentContent.decoded` gives them as sent).
    func attachmentContent(projectID: Int64, id: Int64) async throws -> StoredAttachmentContent?
    /// Outcomes (`outcomes_hourly`) of the projects in the hours asked for (`OutcomeSQL`).
    func outcomes(_ query: OutcomeQuery) async throws -> [OutcomeRow]
    /// Cron monitors of `projectIDs` (every project when nil) with their environments; one slug
    /// when given (statements from `MonitorSQL`).
    func monitors(projectIDs: [Int64]?, slug: String?) async throws -> [MonitorRow]
    /// A monitor's check-ins, newest first.
    func checkIns(monitorID: Int64, environment: String?, limit: Int, before: CheckInCursor?) async throws -> [StoredCheckIn]
    /// `in_progress` check-ins past their monitor's `max_runtime` at `now` (ms), at most 1,000.
    func overdueCheckIns(now: Int64) async throws -> [RunningCheckIn]
    /// Logs of some projects, newest first, filtered (`LogSQL`).
    func logs(_ query: LogQuery) async throws -> [LogRow]
    /// The transaction aggregates of a window per project and name (`TransactionSQL.summaries`).
    func transactionSummaries(_ query: TransactionSummaryQuery) async throws -> [TransactionSummaryRow]
    /// A trace's transactions, spans and error events within `projectIDs`, each list earliest
    /// first and at most `limit` long.
    func trace(_ traceID: TraceID, projectIDs: [Int64], limit: Int) async throws -> TraceContents
    /// One transaction with its JSON.
    func transaction(projectID: Int64, eventID: EventID) async throws -> StoredTransaction?
    /// One profile with its JSON.
    func profile(projectID: Int64, profileID: EventID) async throws -> StoredProfile?
    /// The profiles recorded in one transaction (`ProfileSQL.ofTransaction`).
    func profiles(projectID: Int64, transactionID: EventID) async throws -> [ProfileRow]
    /// The profiles of a trace within `projectIDs`, at most `limit` (`ProfileSQL.ofTrace`).
    func profiles(traceID: TraceID, projectIDs: [Int64], limit: Int) async throws -> [ProfileRow]
    /// The window's counts per project, name and minute or hour (`TransactionSQL.series`).
    func transactionSeries(_ query: TransactionSummaryQuery) async throws -> [TransactionSeriesRow]
    /// Sampled transactions: one name's slowest, else the newest (`TransactionSQL.samples`).
    func transactionSamples(_ query: TransactionSampleQuery) async throws -> [TransactionRow]
    /// The spans of the sampled transactions, at most `TransactionSQL.maxSampleSpans`.
    func spanSample(_ query: TransactionSampleQuery) async throws -> SpanSample
    /// The newest transactions' measurements (`TransactionSQL.measurements`), at most `query.limit`.
    func measurements(_ query: TransactionSampleQuery) async throws -> [MeasurementsRow]
}

/// A filtered slice of events: of a project, or of one issue when `issueID` is set.
package struct EventQuery: Sendable, Equatable {
    package var projectID: Int64
    package var issueID: Int64?
    package var environment: String?
    package var release: String?
    package var level: Level?
    /// `id:…`/`email:…` as stored in `user_key`.
    package var userKey: String?
    /// Received at or after (ms).
    package var since: Int64?
    package var limit = 50
    /// Keyset cursor: the row id of the last event of the previous page.
    package var before: Int64?

    package init(projectID: Int64, issueID: Int64? = nil) {
        self.projectID = projectID
        self.issueID = issueID
    }
}

package struct EventNavigation: Sendable, Equatable {
    package var first: Int64?
    package var previous: Int64?
    package var next: Int64?
    package var latest: Int64?

    package init(first: Int64? = nil, previous: Int64? = nil, next: Int64? = nil, latest: Int64? = nil) {
        self.first = first
        self.previous = previous
        self.next = next
        self.latest = latest
    }
}

package struct TagValue: Sendable, Equatable {
    package var value: String
    package var count: Int64
    package var firstSeen: Int64
    package var lastSeen: Int64

    package init(value: String, count: Int64, firstSeen: Int64, lastSeen: Int64) {
        self.value = value
        self.count = count
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
    }
}

package struct TagFacet: Sendable, Equatable {
    package var key: String
    /// Events carrying the tag, and how many distinct values it has.
    package var total: Int64
    package var distinctValues: Int64
    package var topValues: [TagValue]

    package init(key: String, total: Int64, distinctValues: Int64, topValues: [TagValue]) {
        self.key = key
        self.total = total
        self.distinctValues = distinctValues
        self.topValues = topValues
    }
}

extension TagFacet {
    /// Groups (key, value) rows, each key's values most frequent first, into facets sorted by key.
    package static func facets(from rows: [(String, TagValue)], topValues: Int) -> [TagFacet] {
        var byKey: [String: [TagValue]] = [:]
        for (key, value) in rows { byKey[key, default: []].append(value) }
        return byKey.keys.sorted().map { key in
            let all = byKey[key] ?? []
            return TagFacet(
                key: key, total: all.reduce(0) { $0 + $1.count }, distinctValues: Int64(all.count),
                topValues: Array(all.prefix(max(0, topValues))))
        }
    }
}

package struct ReleaseRow: Sendable, Equatable {
    package var projectID: Int64
    package var version: String
    package var firstSeen: Int64
    package var lastSeen: Int64
    package var events: Int64
    package var newIssues: Int64

    package init(projectID: Int64, version: String, firstSeen: Int64, lastSeen: Int64, events: Int64, newIssues: Int64) {
        self.projectID = projectID
        self.version = version
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.events = events
        self.newIssues = newIssues
    }
}

package struct IssueRow: Sendable, Equatable {
    package var id: Int64
    package var projectID: Int64
    package var shortID: Int64
    package var kind: String
    package var title: String
    package var culprit: String
    /// JSON object.
    package var metadata: String
    package var level: Level
    package var status: IssueStatus
    package var substatus: IssueSubstatus
    package var resolvedInRelease: String?
    package var firstSeen: Int64
    package var lastSeen: Int64
    package var timesSeen: Int64
    package var usersSeen: Int64
    package var firstRelease: String?
    package var lastRelease: String?
    /// JSON array of grouping variants (see `GroupingResult.explanation`).
    package var grouping: String

    package init(
        id: Int64, projectID: Int64, shortID: Int64, kind: String, title: String, culprit: String, metadata: String,
        level: Level, status: IssueStatus, substatus: IssueSubstatus, resolvedInRelease: String? = nil, firstSeen: Int64,
        lastSeen: Int64, timesSeen: Int64, usersSeen: Int64, firstRelease: String? = nil, lastRelease: String? = nil,
        grouping: String
    ) {
        self.id = id
        self.projectID = projectID
        self.shortID = shortID
        self.kind = kind
        self.title = title
        self.culprit = culprit
        self.metadata = metadata
        self.level = level
        self.status = status
        self.substatus = substatus
        self.resolvedInRelease = resolvedInRelease
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.timesSeen = timesSeen
        self.usersSeen = usersSeen
        self.firstRelease = firstRelease
        self.lastRelease = lastRelease
        self.grouping = grouping
    }
}

package struct EventRow: Sendable {
    package var rowID: Int64
    package var projectID: Int64
    package var issueID: Int64
    package var eventID: EventID
    package var timestamp: Int64
    package var received: Int64
    package var level: Level
    package var release: String?
    package var environment: String
    package var processingErrors: String?
    /// The original payload, decompressed; `{}` when it could not be (see `payloadError`).
    package var payload: [UInt8]
    /// Why the stored payload could not be decoded (a corrupt blob, a missing dictionary).
    package var payloadError: String? = nil
    /// What ingest derived for reading; nil for events stored before it was kept (migration 8).
    package var view: EventReadView? = nil

    /// Decodes a stored payload for reading. One undecodable payload must not fail every list
    /// that holds its event: the event is read from its columns, with an empty payload and the
    /// reason, which the API and the web UI show.
    package static func readPayload(_ decode: () throws -> [UInt8]) -> (payload: [UInt8], error: String?) {
        do {
            return (try decode(), nil)
        } catch {
            return (Array("{}".utf8), "stored payload cannot be decoded: \(error)")
        }
    }

    package init(
        rowID: Int64, projectID: Int64, issueID: Int64, eventID: EventID, timestamp: Int64, received: Int64,
        level: Level, release: String? = nil, environment: String, processingErrors: String? = nil, payload: [UInt8],
        payloadError: String? = nil, view: EventReadView? = nil
    ) {
        self.rowID = rowID
        self.projectID = projectID
        self.issueID = issueID
        self.eventID = eventID
        self.timestamp = timestamp
        self.received = received
        self.level = level
        self.release = release
        self.environment = environment
        self.processingErrors = processingErrors
        self.payload = payload
        self.payloadError = payloadError
        self.view = view
    }
}
