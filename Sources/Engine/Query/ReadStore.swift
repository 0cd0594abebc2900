/// The read side that the JSON API and web UI use. Implemented per back end; every method may
/// block, so implementations run their work off the cooperative pool.
package protocol ReadStore: Sendable {
    func issues(projectID: Int64, query: IssueQuery) async throws -> [IssueRow]
    func issue(id: Int64) async throws -> IssueRow?
    func events(issueID: Int64, limit: Int, before: Int64?) async throws -> [EventRow]
    func event(projectID: Int64, eventID: EventID) async throws -> EventRow?
    func latestEvent(issueID: Int64) async throws -> EventRow?
    func counts(projectID: Int64) async throws -> (events: Int64, issues: Int64, items: Int64)
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
    /// The original payload, decompressed.
    package var payload: [UInt8]
}
