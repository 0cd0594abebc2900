import PitModel
import PitStorage

/// The issue filter form's fields and Sentry's single `query` string, in both directions.
///
/// The form has selects for status, level and release next to the search box. With the script,
/// submitting composes them into `query` (Sentry's syntax); without it the browser sends
/// `status`, `level`, `release` and `query` separately, and the route handler calls `compose` to
/// get the same `query`. Rendering calls `split` so the selects show what `query` says.
enum IssueFilter {
    struct Fields: Equatable {
        var status: String?
        var level: String?
        var release: String?
        /// Everything else in the query, as typed.
        var text: String
    }

    static func split(_ query: String) -> Fields {
        var fields = Fields(text: "")
        var rest: [String] = []
        for term in tokenize(query) {
            if let value = value(of: term, key: "is"), fields.status == nil {
                fields.status = value
            } else if let value = value(of: term, key: "level"), fields.level == nil {
                fields.level = value
            } else if let value = value(of: term, key: "release"), fields.release == nil {
                fields.release = value
            } else {
                rest.append(term)
            }
        }
        fields.text = rest.joined(separator: " ")
        return fields
    }

    /// `is:unresolved level:error release:"1.2 beta" free text`.
    static func compose(status: String?, level: String?, release: String?, text: String?) -> String {
        var terms: [String] = []
        if let status, !status.isEmpty { terms.append("is:" + quoted(status)) }
        if let level, !level.isEmpty { terms.append("level:" + quoted(level)) }
        if let release, !release.isEmpty { terms.append("release:" + quoted(release)) }
        if let text = text?.trimmingSpaces, !text.isEmpty { terms.append(text) }
        return terms.joined(separator: " ")
    }

    private static func quoted(_ value: String) -> String {
        guard value.contains(where: { $0 == " " || $0 == "\"" }) else { return value }
        return "\"" + value.filter { $0 != "\"" } + "\""
    }

    private static func value(of term: String, key: String) -> String? {
        guard term.hasPrefix(key + ":") else { return nil }
        var value = term.dropFirst(key.count + 1)
        if value.count >= 2 && value.hasPrefix("\"") && value.hasSuffix("\"") { value = value.dropFirst().dropLast() }
        return value.isEmpty ? nil : String(value)
    }

    /// Splits on spaces outside double quotes, as `IssueQuery` does.
    static func tokenize(_ query: String) -> [String] {
        var terms: [String] = []
        var current = ""
        var quoted = false
        for character in query {
            if character == "\"" { quoted.toggle() }
            if character == " " && !quoted {
                if !current.isEmpty { terms.append(current) }
                current = ""
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { terms.append(current) }
        return terms
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}

/// `/organizations/{org}/issues/`: the issue stream of one project.
enum IssueListPage {
    static let periods: [(value: String, label: String)] = [
        ("1h", "Last hour"), ("24h", "Last 24 hours"), ("7d", "Last 7 days"), ("14d", "Last 14 days"), ("30d", "Last 30 days"),
        ("90d", "Last 90 days"),
    ]

    static func render(_ model: IssueListModel, chrome: Chrome) -> HTML {
        let org = chrome.organizationSlug
        let project = model.project
        let fields = IssueFilter.split(model.query)
        var body = HTML()
        body.reserveCapacity(model.rows.count * 2_400 + 8_000)
        let matches = model.totalMatches > IssueQuery.maxHits ? Format.count(IssueQuery.maxHits) + "+" : Format.count(model.totalMatches)
        body += "<div class=\"pagehead\"><div><h1>Issues</h1><div class=\"muted\">\(project.name) · \(matches) matching</div></div></div>"

        // Filters: a GET form, so every filtered view is a URL that can be shared.
        body += "<form method=\"get\" action=\"\(SafeURL(path: Paths.issues(org: org, project: nil)))\" id=\"issue-filter\" class=\"card\">"
        body +=
            "<input type=\"hidden\" name=\"project\" value=\"\(project.id)\"><input type=\"hidden\" name=\"sort\" value=\"\(model.sort.rawValue)\">"
        body +=
            "<div class=\"toolbar\"><input type=\"search\" name=\"query\" value=\"\(fields.text)\" placeholder=\"Search: free text, user.email:a@b.c, tag:value …\" aria-label=\"Search issues\">"
        body += "<button type=\"submit\" class=\"primary\">Search</button></div><div class=\"toolbar\">"
        body += select(
            "status", label: "Status", current: fields.status,
            options: [("", "Any status"), ("unresolved", "Unresolved"), ("resolved", "Resolved"), ("ignored", "Ignored")])
        body += select(
            "level", label: "Level", current: fields.level,
            options: [("", "Any level")] + Level.allCases.reversed().map { ($0.name, $0.name.prefix(1).uppercased() + $0.name.dropFirst()) }
        )
        body += select(
            "environment", label: "Environment", current: model.environment,
            options: [("", "All environments")] + model.environments.map { ($0, $0) })
        body += select(
            "release", label: "Release", current: fields.release, options: [("", "Any release")] + model.releases.map { ($0, $0) })
        body += select("statsPeriod", label: "Time range", current: model.statsPeriod, options: [("", "Any time")] + periods)
        body += "</div></form>"

        if let error = model.queryError { body += "<div class=\"flash error\">\(error)</div>" }

        body += "<div class=\"toolbar sorts small\"><span class=\"muted\">Sort by</span>"
        for (sort, label) in [(IssueQuery.Sort.date, "Last seen"), (.new, "First seen"), (.freq, "Events"), (.user, "Users")] {
            let href = Paths.issues(
                org: org, project: project.id, query: model.query, sort: sort.rawValue, environment: model.environment,
                statsPeriod: model.statsPeriod)
            body +=
                "<a href=\"\(SafeURL(path: href))\"\(HTML.when(sort == model.sort, " class=\"current\" aria-current=\"true\""))>\(label)</a>"
        }
        body += "</div>"

        // Bulk actions: the row checkboxes belong to this form.
        body += "<form method=\"post\" action=\"\(SafeURL(path: Paths.bulk(org: org)))\" id=\"bulk\">"
        body += Layout.csrfField(chrome.csrfToken)
        body +=
            "<input type=\"hidden\" name=\"project\" value=\"\(project.id)\"><input type=\"hidden\" name=\"query\" value=\"\(model.query)\">"
        if let environment = model.environment { body += "<input type=\"hidden\" name=\"environment\" value=\"\(environment)\">" }
        body +=
            "<div class=\"bulkbar\"><input type=\"checkbox\" class=\"select-all\" aria-label=\"Select all issues on this page\" title=\"Select all on this page\">"
        body += "<button type=\"submit\" name=\"action\" value=\"resolve\" class=\"small\">Resolve</button>"
        body += "<button type=\"submit\" name=\"action\" value=\"ignore\" class=\"small\">Ignore</button>"
        body += "<button type=\"submit\" name=\"action\" value=\"unresolve\" class=\"small\">Unresolve</button>"
        body +=
            "<label class=\"small\"><input type=\"checkbox\" name=\"all\" value=\"1\"> Apply to all \(matches) issues matching this search</label>"
        body += "</div>"

        if model.rows.isEmpty {
            body += Widgets.empty(model.isPagedIn ? "No more issues." : "No issues match this search.")
        } else {
            body +=
                "<table class=\"list issues\"><thead><tr><th></th><th>Issue</th><th class=\"nowrap\">Last seen</th><th>Age</th><th>24 h</th><th class=\"num\">Events</th><th class=\"num\">Users</th></tr></thead><tbody>"
            for row in model.rows { body += self.row(row, project: project, org: org, environment: model.environment, now: chrome.now) }
            body += "</tbody></table>"
        }
        body += "</form>"

        body += "<div class=\"pager\">"
        if model.isPagedIn {
            let first = Paths.issues(
                org: org, project: project.id, query: model.query, sort: model.sort.rawValue, environment: model.environment,
                statsPeriod: model.statsPeriod)
            body += "<a class=\"button\" href=\"\(SafeURL(path: first))\">« First page</a>"
        }
        if let cursor = model.nextCursor {
            let next = Paths.issues(
                org: org, project: project.id, query: model.query, sort: model.sort.rawValue, environment: model.environment,
                statsPeriod: model.statsPeriod, cursor: cursor)
            body += "<a class=\"button\" rel=\"next\" href=\"\(SafeURL(path: next))\">Next »</a>"
        }
        body += "</div><p class=\"muted small\">Keys: <kbd>j</kbd>/<kbd>k</kbd> move, <kbd>o</kbd> open, <kbd>x</kbd> select.</p>"
        return Layout.page(title: "Issues · \(project.name)", chrome: chrome, body: body)
    }

    private static func row(_ row: IssueListModel.Row, project: Project, org: String, environment: String?, now: Int64) -> HTML {
        let issue = row.issue
        let href = Paths.issue(org: org, id: issue.id, environment: environment)
        var out: HTML =
            "<tr class=\"kbd-row\"><td><input type=\"checkbox\" name=\"id\" value=\"\(issue.id)\" aria-label=\"Select issue\"></td><td>"
        out += "<a class=\"issue-title row-link\" href=\"\(SafeURL(path: href))\">\(Format.truncated(issue.title, limit: 300))</a>"
        out +=
            "<div class=\"issue-sub\">\(Widgets.level(issue.level)) · <span class=\"mono\">\(Widgets.shortID(issue, project: project))</span>"
        if !issue.culprit.isEmpty { out += " · \(Format.truncated(issue.culprit, limit: 200))" }
        out += " \(Widgets.status(issue))</div></td>"
        out += "<td class=\"nowrap small\">\(Format.time(issue.lastSeen, now: now))</td>"
        out += "<td class=\"nowrap small\">\(Format.time(issue.firstSeen, now: now))</td>"
        out += "<td>\(Charts.sparkline(row.hourly))</td>"
        out += "<td class=\"num\" title=\"\(Format.count(issue.timesSeen))\">\(Format.compact(issue.timesSeen))</td>"
        out += "<td class=\"num\" title=\"\(Format.count(issue.usersSeen))\">\(Format.compact(issue.usersSeen))</td></tr>"
        return out
    }

    private static func select(_ name: String, label: String, current: String?, options: [(value: String, label: String)]) -> HTML {
        var out: HTML = "<select name=\"\(name)\" aria-label=\"\(label)\" title=\"\(label)\">"
        var found = false
        for option in options {
            let selected = option.value == (current ?? "")
            found = found || selected
            out += Widgets.option(option.value, label: option.label, selected: selected)
        }
        // A value from the URL that the list does not offer (an old release) still shows.
        if let current, !current.isEmpty, !found { out += Widgets.option(current, label: current, selected: true) }
        return out + "</select>"
    }
}
