package import PitModel
package import PitStorage

extension SentryAPIRenderer {
    /// One feedback in the shape of Sentry's `UserReport` (`/projects/{org}/{project}/user-feedback/`):
    /// `eventID` is the event it is about, or the feedback's own id when it names none (as
    /// Sentry's shim for the new feedback does); `issue` is that event's issue, null until the
    /// event is stored.
    package static func userReport(
        _ row: FeedbackRow, issue: IssueRow?, project: Project, baseURL: String, into writer: inout JSONWriter
    ) {
        writer.beginObject()
        writer.field("id", String(row.id))
        writer.field("eventID", (row.eventID ?? row.feedbackID).hex)
        writer.field("name", row.name)
        writer.field("email", row.email)
        writer.field("comments", row.comments)
        writer.field("dateCreated", Timestamp.format(milliseconds: row.received))
        writer.key("user")
        if let user = row.user { writer.raw(user) } else { writer.null() }
        writer.key("event")
        writer.beginObject()
        writer.field("id", (row.eventID ?? row.feedbackID).hex)
        writer.field("eventID", (row.eventID ?? row.feedbackID).hex)
        writer.endObject()
        writer.key("issue")
        if let issue { self.issue(issue, project: project, baseURL: baseURL, into: &writer) } else { writer.null() }
        writer.endObject()
    }
}
