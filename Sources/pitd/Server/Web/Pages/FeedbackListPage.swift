import PitModel
import PitStorage

/// `/organizations/{org}/projects/{slug}/feedback/`: a project's user feedback, newest first; and
/// the feedback section of the issue page, which shows the same entries.
enum FeedbackListPage {
    static func render(_ model: FeedbackListModel, chrome: Chrome) -> HTML {
        let org = chrome.organizationSlug
        let project = model.project
        var body = HTML()
        body.reserveCapacity(model.rows.count * 700 + 4_000)
        body += "<div class=\"pagehead\"><div><h1>User feedback</h1><div class=\"muted\">\(project.name)</div></div></div>"
        if model.rows.isEmpty {
            body += Widgets.empty(model.isPagedIn ? "No more feedback." : "No user feedback yet.")
        } else {
            body += entries(model.rows, issues: model.issues, project: project, org: org, now: chrome.now, showIssue: true)
        }
        body += "<div class=\"pager\">"
        if model.isPagedIn {
            body += "<a class=\"button\" href=\"\(SafeURL(path: Paths.projectFeedback(org: org, project: project.slug)))\">« Newest</a>"
        }
        if let cursor = model.nextCursor {
            body +=
                "<a class=\"button\" rel=\"next\" href=\"\(SafeURL(path: Paths.projectFeedback(org: org, project: project.slug, cursor: cursor)))\">Older »</a>"
        }
        body += "</div>"
        return Layout.page(title: "User feedback · \(project.name)", chrome: chrome, body: body)
    }

    /// One card per feedback: who wrote it, when, what, and the event (and issue) it is about.
    static func entries(
        _ rows: [FeedbackRow], issues: [Int64: IssueRow], project: Project, org: String, now: Int64, showIssue: Bool
    ) -> HTML {
        var out = HTML()
        for row in rows {
            out += "<div class=\"card feedback\"><div class=\"toolbar small\">"
            let who = row.name.isEmpty ? (row.email.isEmpty ? "Anonymous" : row.email) : row.name
            out += "<b>\(who)</b>"
            if !row.email.isEmpty && !row.name.isEmpty { out += "<span class=\"muted\">\(row.email)</span>" }
            out += "<span class=\"muted nowrap\">\(Format.time(row.received, now: now))</span>"
            if row.kind == "user_report" { out += "<span class=\"badge\">user report</span>" }
            out += "</div><p class=\"feedback-text\">\(row.comments)</p><div class=\"small muted\">"
            if let url = row.url { out += "on <span class=\"mono\">\(Format.truncated(url, limit: 120))</span> · " }
            if let eventID = row.eventID {
                if row.issueID != nil {
                    out +=
                        "event <a class=\"mono\" href=\"\(SafeURL(path: Paths.projectEvent(org: org, project: project.slug, eventID: eventID.hex)))\">\(String(eventID.hex.prefix(8)))</a>"
                } else {
                    out += "event <span class=\"mono\">\(String(eventID.hex.prefix(8)))</span> (not received)"
                }
            } else {
                out += "no linked event"
            }
            if showIssue, let issueID = row.issueID, let issue = issues[issueID] {
                out +=
                    " · issue <a href=\"\(SafeURL(path: Paths.issue(org: org, id: issue.id)))\">\(Widgets.shortID(issue, project: project))</a> \(Format.truncated(issue.title, limit: 100))"
            }
            out += "</div></div>"
        }
        return out
    }
}
