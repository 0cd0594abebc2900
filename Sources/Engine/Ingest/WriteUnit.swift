/// An error event ready for the writer: normalised, grouped, payload compressed.
package struct EventRecord: Sendable {
    package var projectID: Int64
    package var eventID: EventID
    /// Milliseconds since the epoch.
    package var timestamp: Int64
    package var received: Int64
    package var level: Level
    package var release: String?
    package var environment: String
    package var userKey: String?
    package var facetTags: [(key: String, value: String)]
    /// Processing errors as JSON, nil when there were none.
    package var processingErrors: String?
    package var grouping: GroupingResult
    package var payloadSize: Int
    package var compressedPayload: [UInt8]
    /// The zstd dictionary `compressedPayload` needs, if any.
    package var dictionaryID: Int64? = nil
}

/// Any other envelope item, kept durably per type until its processor exists.
package struct ItemRecord: Sendable {
    package var projectID: Int64
    package var type: String
    package var eventID: EventID?
    package var received: Int64
    package var header: String
    package var payloadSize: Int
    package var compressedPayload: [UInt8]
    package var dictionaryID: Int64? = nil
}

/// Everything one request wants written, acknowledged together after its batch commits.
package struct WriteUnit: Sendable {
    package var event: EventRecord?
    package var items: [ItemRecord]
    /// Called once by the writer with the outcome of the batch that held this unit.
    package var completion: (@Sendable (Result<Void, any Error>) -> Void)?
    /// The event-loop waiter of this unit (the ingest fast path), told once per batch per loop.
    package var ticket: CommitTicket?

    package init(event: EventRecord?, items: [ItemRecord], completion: (@Sendable (Result<Void, any Error>) -> Void)? = nil,
                 ticket: CommitTicket? = nil)
    {
        self.event = event
        self.items = items
        self.completion = completion
        self.ticket = ticket
    }

    /// True when someone waits for the outcome; false once its client has its 200 (ack=queued).
    package var awaitsCommit: Bool { completion != nil || ticket != nil }

    /// What the unit costs the queue's byte budget.
    package var cost: Int {
        (event.map { $0.compressedPayload.count + 1024 } ?? 0)
            + items.reduce(0) { $0 + $1.compressedPayload.count + $1.header.utf8.count + 128 }
    }
}

/// A change to issues requested through the API. It goes through the writer so that the writer's
/// in-memory issue index and the database never disagree.
package enum IssueCommand: Sendable {
    case setStatus(issueIDs: [Int64], status: IssueStatus, resolveInNextRelease: Bool)
    /// Stores a newly trained payload dictionary (see `PayloadDictionaries`).
    case storeDictionary(id: Int64, bytes: [UInt8], sampleCount: Int)
    /// Retention: deletes those issues that have no events left (see `RetentionPurger`).
    case purgeIssues(issueIDs: [Int64])
}

package enum IssueStatus: Int, Sendable, CaseIterable {
    case unresolved = 0, resolved = 1, ignored = 2

    package var name: String {
        switch self {
        case .unresolved: "unresolved"
        case .resolved: "resolved"
        case .ignored: "ignored"
        }
    }

    package init?(name: String) {
        switch name {
        case "unresolved": self = .unresolved
        case "resolved", "resolvedInNextRelease": self = .resolved
        case "ignored", "muted", "archived": self = .ignored
        default: return nil
        }
    }
}

/// Sentry's substatus of unresolved issues.
package enum IssueSubstatus: Int, Sendable {
    case none = 0, new = 1, ongoing = 2, regressed = 3, escalating = 4, archivedForever = 5

    package var name: String? {
        switch self {
        case .none: nil
        case .new: "new"
        case .ongoing: "ongoing"
        case .regressed: "regressed"
        case .escalating: "escalating"
        case .archivedForever: "archived_forever"
        }
    }
}
