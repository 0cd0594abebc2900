package import PitModel

/// One event as the writer committed it, with what it did to its issue: what alert rules are
/// evaluated on, after the commit and off the writer thread (`CommitObserver`), so that no rule
/// ever runs in a request handler or inside a transaction.
package struct CommittedEvent: Sendable {
    package enum IssueChange: Sendable, Equatable {
        /// The event created its issue.
        case created
        /// The event reopened a resolved issue.
        case regressed
        case none
    }

    package var projectID: Int64
    package var issueID: Int64
    package var eventID: EventID
    package var change: IssueChange
    package var level: Level
    package var environment: String
    package var release: String?
    package var userKey: String?
    package var title: String
    package var tags: [(key: String, value: String)]

    package init(_ event: EventRecord, issueID: Int64, change: IssueChange) {
        projectID = event.projectID
        self.issueID = issueID
        eventID = event.eventID
        self.change = change
        level = event.level
        environment = event.environment
        release = event.release
        userKey = event.userKey
        title = event.grouping.title
        tags = event.facetTags
    }

    package init(
        projectID: Int64, issueID: Int64, eventID: EventID, change: IssueChange, level: Level, environment: String,
        release: String? = nil, userKey: String? = nil, title: String, tags: [(key: String, value: String)] = []
    ) {
        self.projectID = projectID
        self.issueID = issueID
        self.eventID = eventID
        self.change = change
        self.level = level
        self.environment = environment
        self.release = release
        self.userKey = userKey
        self.title = title
        self.tags = tags
    }
}

extension CommittedEvent: Equatable {
    package static func == (a: CommittedEvent, b: CommittedEvent) -> Bool {
        a.projectID == b.projectID && a.issueID == b.issueID && a.eventID == b.eventID && a.change == b.change && a.level == b.level
            && a.environment == b.environment && a.release == b.release && a.userKey == b.userKey && a.title == b.title
            && a.tags.elementsEqual(b.tags) { $0.key == $1.key && $0.value == $1.value }
    }
}

/// Told what each batch committed, on the writer thread right after the commit: it must return at
/// once (hand the events to another thread, or drop them), since the writer waits for it.
package protocol CommitObserver: Sendable {
    func committed(_ events: [CommittedEvent])
}
