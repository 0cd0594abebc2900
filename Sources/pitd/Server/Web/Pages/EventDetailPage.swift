import PitModel
import PitQuery
import PitStorage

/// `/organizations/{org}/projects/{slug}/events/{eventID}/`: one event found by its id.
enum EventDetailPage {
    static func render(_ model: EventDetailModel, chrome: Chrome) -> HTML {
        let org = chrome.organizationSlug
        let event = model.event
        let view = EventView(payload: event.payload, read: SentryAPIRenderer.readView(of: event))
        let summary =
            model.issue?.title ?? view.exceptions.last.map { [$0.type, $0.value].compactMap { $0 }.joined(separator: ": ") } ?? view.message
            ?? "Event"
        var body: HTML =
            "<div class=\"pagehead\"><div><div class=\"small muted\"><a href=\"\(SafeURL(path: Paths.projectEvents(org: org, project: model.project.slug)))\">\(model.project.name) events</a></div>"
        body += "<h1>\(Format.truncated(summary, limit: 500))</h1>"
        if let issue = model.issue {
            body +=
                "<div class=\"issue-sub\">Issue <a class=\"mono\" href=\"\(SafeURL(path: Paths.issueEvent(org: org, issue: issue.id, rowID: event.rowID)))\">\(Widgets.shortID(issue, project: model.project))</a> \(Widgets.status(issue)) · \(Format.count(issue.timesSeen)) events</div>"
        }
        body += "</div></div>"
        let jsonURL = model.issue.map { Paths.issueEventJSON(org: org, issue: $0.id, rowID: event.rowID) }
        body += EventSections.render(
            event, view: view, jsonURL: jsonURL, now: chrome.now, attachments: model.attachments,
            traceURL: view.traceID.map { Paths.trace(org: org, traceID: $0) })
        return Layout.page(title: "Event \(event.eventID.hex)", chrome: chrome, body: body)
    }
}
