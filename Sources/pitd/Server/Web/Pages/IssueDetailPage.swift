import PitModel
import PitQuery
import PitStorage

/// `/organizations/{org}/issues/{id}/` and `…/events/{rowID}/`: one issue with one of its events.
enum IssueDetailPage {
    static func render(_ model: IssueDetailModel, chrome: Chrome) -> HTML {
        let org = chrome.organizationSlug
        let issue = model.issue
        var body = HTML()
        body.reserveCapacity(64_000)
        body += header(issue, project: model.project, org: org, chrome: chrome)

        body +=
            "<div class=\"toolbar sorts\"><a class=\"current\" href=\"\(SafeURL(path: Paths.issue(org: org, id: issue.id, environment: model.environment)))\">Details</a>"
        body += "<a href=\"\(SafeURL(path: Paths.issueEvents(org: org, issue: issue.id, environment: model.environment)))\">All events</a>"
        body += "<span class=\"muted\">·</span><span class=\"muted small\">Environment</span>"
        body += environmentLink("All", nil, model: model, org: org)
        for environment in model.environments.prefix(8) { body += environmentLink(environment, environment, model: model, org: org) }
        body += "</div>"

        body += "<div class=\"grid\"><div class=\"primary\">"
        body += chart(model, org: org)
        if !model.feedback.isEmpty {
            body += "<h2 id=\"feedback\">User feedback</h2>"
            body += FeedbackListPage.entries(
                model.feedback, issues: [:], project: model.project, org: org, now: chrome.now, showIssue: false)
        }
        if let event = model.event {
            body += navigation(model, event: event, org: org)
            let view = EventView(payload: event.payload, read: SentryAPIRenderer.readView(of: event))
            body += EventSections.render(
                event, view: view, jsonURL: Paths.issueEventJSON(org: org, issue: issue.id, rowID: event.rowID), now: chrome.now,
                attachments: model.attachments, traceURL: view.traceID.map { Paths.trace(org: org, traceID: $0) })
        } else {
            body += Widgets.empty("No stored event for this issue.")
        }
        body += "<h2>Why are these events grouped</h2><div class=\"card\">\(GroupingView.render(issue.grouping))</div>"
        body += "</div><aside class=\"side\">"
        body += stats(issue, chrome: chrome)
        body += facets(model, org: org)
        body += "</aside></div>"
        return Layout.page(title: issue.title, chrome: chrome, body: body)
    }

    static func header(_ issue: IssueRow, project: Project, org: String, chrome: Chrome) -> HTML {
        var out: HTML =
            "<div class=\"pagehead\"><div><div class=\"small muted\"><a href=\"\(SafeURL(path: Paths.issues(org: org, project: project.id)))\">\(project.name)</a> · <span class=\"mono\">\(Widgets.shortID(issue, project: project))</span></div>"
        out += "<h1>\(Format.truncated(issue.title, limit: 500))</h1>"
        out += "<div class=\"issue-sub\">\(Widgets.level(issue.level))"
        if !issue.culprit.isEmpty { out += " · <span class=\"mono\">\(Format.truncated(issue.culprit, limit: 500))</span>" }
        out += " \(Widgets.status(issue))</div></div>"
        out += "<form method=\"post\" action=\"\(SafeURL(path: Paths.issueStatus(org: org, id: issue.id)))\" class=\"toolbar\">"
        out += Layout.csrfField(chrome.csrfToken)
        if issue.status == .unresolved {
            out += "<button type=\"submit\" name=\"status\" value=\"resolved\" class=\"primary\">Resolve</button>"
            out +=
                "<button type=\"submit\" name=\"status\" value=\"resolvedInNextRelease\" title=\"Resolve, and regress only for events of a newer release\">Resolve in next release</button>"
            out += "<button type=\"submit\" name=\"status\" value=\"ignored\">Ignore</button>"
        } else {
            out += "<button type=\"submit\" name=\"status\" value=\"unresolved\" class=\"primary\">Unresolve</button>"
        }
        out += "</form></div>"
        return out
    }

    private static func environmentLink(_ label: String, _ environment: String?, model: IssueDetailModel, org: String) -> HTML {
        let href = Paths.issue(
            org: org, id: model.issue.id, environment: environment, statsPeriod: model.statsPeriod == "24h" ? nil : model.statsPeriod)
        let current = environment == model.environment
        return "<a href=\"\(SafeURL(path: href))\"\(HTML.when(current, " class=\"current\""))>\(label)</a>"
    }

    private static func chart(_ model: IssueDetailModel, org: String) -> HTML {
        let daily = model.chart.bucketMillis >= 86_400_000
        var out: HTML =
            "<div class=\"card\"><div class=\"toolbar small\"><b>Events</b><span class=\"muted\">\(Format.count(model.chart.values.reduce(0, +))) in the last \(daily ? "\(model.chart.values.count) days" : "\(model.chart.values.count) hours")</span><span class=\"sorts\">"
        for period in ["24h", "14d"] {
            let href = Paths.issue(
                org: org, id: model.issue.id, environment: model.environment, statsPeriod: period == "24h" ? nil : period)
            out += "<a href=\"\(SafeURL(path: href))\"\(HTML.when(model.statsPeriod == period, " class=\"current\""))>\(period)</a>"
        }
        out += "</span></div>"
        out += Charts.bars(model.chart, noun: "events", width: 840, height: 72, label: "Events of this issue over time")
        out += "</div>"
        return out
    }

    private static func navigation(_ model: IssueDetailModel, event: EventRow, org: String) -> HTML {
        let nav = model.navigation
        func button(_ label: String, _ rowID: Int64?, rel: String? = nil) -> HTML {
            guard let rowID, rowID != event.rowID || label == "Latest" || label == "First" else {
                return "<a class=\"button small disabled\" aria-disabled=\"true\">\(label)</a>"
            }
            let href = Paths.issueEvent(org: org, issue: model.issue.id, rowID: rowID, environment: model.environment)
            let relAttribute: HTML = rel.map { " rel=\"\(HTML(text: $0))\"" } ?? ""
            return "<a class=\"button small\" href=\"\(SafeURL(path: href))\"\(relAttribute)>\(label)</a>"
        }
        var out: HTML = "<div class=\"toolbar\"><h2 class=\"inline\">Event</h2><span class=\"navbtns\">"
        out += button("First", nav.first)
        out += button("Previous", nav.previous, rel: "prev")
        out += button("Next", nav.next, rel: "next")
        out += button("Latest", nav.latest)
        out +=
            "</span><a class=\"small\" href=\"\(SafeURL(path: Paths.issueEvents(org: org, issue: model.issue.id, environment: model.environment)))\">All events of this issue</a></div>"
        return out
    }

    private static func stats(_ issue: IssueRow, chrome: Chrome) -> HTML {
        var out: HTML = "<div class=\"card\"><h3>Overview</h3>"
        out += "<div class=\"stat\"><span class=\"muted\">Events</span><b>\(Format.count(issue.timesSeen))</b></div>"
        out += "<div class=\"stat\"><span class=\"muted\">Users</span><b>\(Format.count(issue.usersSeen))</b></div>"
        out +=
            "<div class=\"stat\"><span class=\"muted\">First seen</span><span>\(Format.time(issue.firstSeen, now: chrome.now))</span></div>"
        if let release = issue.firstRelease {
            out += "<div class=\"stat small\"><span class=\"muted\">in release</span>\(releaseLink(release, chrome: chrome))</div>"
        }
        out +=
            "<div class=\"stat\"><span class=\"muted\">Last seen</span><span>\(Format.time(issue.lastSeen, now: chrome.now))</span></div>"
        if let release = issue.lastRelease {
            out += "<div class=\"stat small\"><span class=\"muted\">in release</span>\(releaseLink(release, chrome: chrome))</div>"
        }
        if let release = issue.resolvedInRelease {
            out += "<div class=\"stat small\"><span class=\"muted\">Resolved in</span>\(releaseLink(release, chrome: chrome))</div>"
        }
        out += "<div class=\"stat small\"><span class=\"muted\">Type</span><code>\(issue.kind)</code></div>"
        return out + "</div>"
    }

    private static func releaseLink(_ version: String, chrome: Chrome) -> HTML {
        "<a class=\"mono\" href=\"\(SafeURL(path: Paths.release(org: chrome.organizationSlug, version: version)))\">\(Format.truncated(version, limit: 40))</a>"
    }

    /// Each tag's top values as a share bar plus a list with percentages of the events carrying
    /// the tag; values link to the issue list searching for them.
    private static func facets(_ model: IssueDetailModel, org: String) -> HTML {
        guard !model.tagFacets.isEmpty else { return "" }
        let scope = model.environment.map { environment -> HTML in " <span class=\"muted small\">in \(environment)</span>" }
        var out: HTML = "<div class=\"card\"><h3>Tags\(scope)</h3>"
        for facet in model.tagFacets {
            let values = facet.topValues
            out +=
                "<div class=\"facet\"><div class=\"top\"><b class=\"mono\">\(facet.key)</b><span class=\"muted\">\(Format.count(facet.distinctValues)) value\(facet.distinctValues == 1 ? "" : "s")</span></div>"
            out += Charts.shareBar(values.map(\.count), total: facet.total, width: 268)
            out += "<ol>"
            for (index, value) in values.enumerated() {
                let query = "\(facet.key):\"\(value.value.filter { $0 != "\"" })\""
                let href = Paths.issues(org: org, project: model.project.id, query: query, environment: model.environment)
                out +=
                    "<li><span class=\"v\"><svg width=\"8\" height=\"8\" aria-hidden=\"true\" class=\"share\"><rect class=\"seg s\(index % 5)\" width=\"8\" height=\"8\"/></svg> <a href=\"\(SafeURL(path: href))\" title=\"\(value.value)\">\(Format.truncated(value.value, limit: 60))</a></span><span class=\"muted nowrap\">\(Format.percent(value.count, of: facet.total))</span></li>"
            }
            out += "</ol></div>"
        }
        return out + "</div>"
    }
}
