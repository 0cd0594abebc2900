package import PitModel

/// Which feedback to list: a project's, or only that about one issue's events; newest first.
package struct FeedbackQuery: Sendable, Equatable {
    package var projectID: Int64
    package var issueID: Int64?
    package var limit = 50
    /// Keyset cursor: the row id of the last feedback of the previous page.
    package var before: Int64?

    package init(projectID: Int64, issueID: Int64? = nil, limit: Int = 50, before: Int64? = nil) {
        self.projectID = projectID
        self.issueID = issueID
        self.limit = limit
        self.before = before
    }
}

/// One stored feedback, with the issue of its event when that event is stored.
package struct FeedbackRow: Sendable, Equatable {
    package var id: Int64
    package var projectID: Int64
    package var feedbackID: EventID
    package var eventID: EventID?
    /// `feedback` or `user_report`.
    package var kind: String
    package var name: String
    package var email: String
    package var comments: String
    package var url: String?
    /// Sentry's user object as JSON, when the feedback named one.
    package var user: String?
    package var timestamp: Int64
    package var received: Int64
    /// The issue of the event the feedback is about; nil while that event is not stored.
    package var issueID: Int64?

    package init(
        id: Int64, projectID: Int64, feedbackID: EventID, eventID: EventID?, kind: String, name: String, email: String,
        comments: String, url: String?, user: String?, timestamp: Int64, received: Int64, issueID: Int64?
    ) {
        self.id = id
        self.projectID = projectID
        self.feedbackID = feedbackID
        self.eventID = eventID
        self.kind = kind
        self.name = name
        self.email = email
        self.comments = comments
        self.url = url
        self.user = user
        self.timestamp = timestamp
        self.received = received
        self.issueID = issueID
    }
}
