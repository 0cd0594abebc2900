import PitModel
import PitStorage

/// `/organizations/{org}/issues/{id}/events/` and `/organizations/{org}/projects/{slug}/events/`.
enum EventListPage {
    static func render(_ model: EventListModel, chrome: Chrome) -> HTML {
        let org = chrome.organizationSlug
        let project = model.project
        var body = HTML()
        body.reserveCapacity(model.events.count * 900 + 6_000)
        let listURL: (String?, String?, String?, Int64?) -> String = { environment, release, level, cursor in
            if let issue = model.issue {
                return Paths.issueEvents(
                    org: org, issue: issue.id, environment: environment, release: release, level: level, cursor: cursor)
            }
            return Paths.projectEvents(
                org: org, project: project.slug, environment: environment, release: release, level: level, cursor: cursor)
        }
        if let issue = model.issue {
            body += IssueDetailPage.header(issue, project: project, org: org, chrome: chrome)
            body +=
                "<div class=\"toolbar sorts\"><a href=\"\(SafeURL(path: Paths.issue(org: org, id: issue.id, environment: model.environment)))\">Details</a>"
            body += "<a class=\"current\" href=\"\(SafeURL(path: listURL(model.environment, nil, nil, nil)))\">All events</a></div>"
        } else {
            body += "<div class=\"pagehead\"><div><h1>Events</h1><div class=\"muted\">\(project.name)</div></div></div>"
        }

        body += "<form method=\"get\" action=\"\(SafeURL(path: listURL(nil, nil, nil, nil)))\" class=\"card toolbar\">"
        body += select("environment", "Environment", model.environment, [("", "All environments")] + model.environments.map { ($0, $0) })
        body += select("release", "Release", model.release, [("", "Any release")] + model.releases.map { ($0, $0) })
        body += select("level", "Level", model.level?.name, [("", "Any level")] + Level.allCases.reversed().map { ($0.name, $0.name) })
        body += "<button type=\"submit\" class=\"primary\">Filter</button></form>"

        if model.events.isEmpty {
            body += Widgets.empty(model.isPagedIn ? "No more events." : "No events match.")
        } else {
            body +=
                "<table class=\"list\"><thead><tr><th>Event</th><th>Time</th><th>Level</th><th>Environment</th><th>Release</th><th>User</th><th>Message</th></tr></thead><tbody>"
            for event in model.events {
                let summary = EventSummary(payload: event.payload)
                let href =
                    model.issue != nil
                    ? Paths.issueEvent(org: org, issue: event.issueID, rowID: event.rowID, environment: model.environment)
                    : Paths.projectEvent(org: org, project: project.slug, eventID: event.eventID.hex)
                body +=
                    "<tr class=\"kbd-row\"><td><a class=\"mono row-link\" href=\"\(SafeURL(path: href))\">\(String(event.eventID.hex.prefix(8)))</a></td>"
                body += "<td class=\"nowrap small\">\(Format.time(event.timestamp, now: chrome.now))</td>"
                body += "<td>\(Widgets.level(event.level))</td><td>\(event.environment)</td>"
                body += "<td class=\"mono small\">\(event.release.map { Format.truncated($0, limit: 40) })</td>"
                body += "<td class=\"small\">\(summary.user)</td><td>\(summary.title)</td></tr>"
            }
            body += "</tbody></table>"
        }
        body += "<div class=\"pager\">"
        if model.isPagedIn {
            body +=
                "<a class=\"button\" href=\"\(SafeURL(path: listURL(model.environment, model.release, model.level?.name, nil)))\">« Newest</a>"
        }
        if let cursor = model.nextCursor {
            body +=
                "<a class=\"button\" rel=\"next\" href=\"\(SafeURL(path: listURL(model.environment, model.release, model.level?.name, cursor)))\">Older »</a>"
        }
        body += "</div>"
        return Layout.page(title: model.issue.map { "Events · \($0.title)" } ?? "Events · \(project.name)", chrome: chrome, body: body)
    }

    private static func select(_ name: String, _ label: String, _ current: String?, _ options: [(String, String)]) -> HTML {
        var out: HTML = "<select name=\"\(name)\" aria-label=\"\(label)\">"
        var found = false
        for (value, text) in options {
            let selected = value == (current ?? "")
            found = found || selected
            out += Widgets.option(value, label: text, selected: selected)
        }
        if let current, !current.isEmpty, !found { out += Widgets.option(current, label: current, selected: true) }
        return out + "</select>"
    }
}
