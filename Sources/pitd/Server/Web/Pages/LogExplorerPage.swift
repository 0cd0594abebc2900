import Foundation
import PitModel
import PitQuery
import PitStorage

/// `/organizations/{org}/projects/{slug}/logs/`: a project's logs, newest first, filtered by
/// level, message text, an attribute `key:value` and a trace id (a plain GET form). The live
/// tail (`live=1`) reloads the newest page every few seconds with the `Refresh` header, so it
/// needs no script; each log's attributes open in a `<details>`.
enum LogExplorerPage {
    /// Seconds between reloads of the live tail.
    static let liveSeconds = 5

    static func render(_ model: LogExplorerModel, chrome: Chrome) -> HTML {
        let org = chrome.organizationSlug
        let project = model.project
        let filters = model.filters
        var body = HTML()
        body.reserveCapacity(model.rows.count * 600 + 6_000)
        body += "<div class=\"pagehead\"><div><h1>Logs</h1><div class=\"muted\">\(project.name)</div></div><div class=\"toolbar\">"
        if model.isPagedIn {
            body += "<span class=\"muted small\">Live tail shows the newest page.</span>"
        } else if filters.live {
            var off = filters
            off.live = false
            body +=
                "<span class=\"badge live\" role=\"status\"><span class=\"lvl lvl-info\" aria-hidden=\"true\"></span>Live, every \(liveSeconds) s</span>"
            body +=
                "<a class=\"button\" href=\"\(SafeURL(path: Paths.projectLogs(org: org, project: project.slug, filters: off)))\">Pause</a>"
        } else {
            var on = filters
            on.live = true
            body +=
                "<a class=\"button\" href=\"\(SafeURL(path: Paths.projectLogs(org: org, project: project.slug, filters: on)))\">Live tail</a>"
        }
        body += "</div></div>"

        body +=
            "<form method=\"get\" action=\"\(SafeURL(path: Paths.projectLogs(org: org, project: project.slug)))\" class=\"card toolbar\">"
        body += "<select name=\"period\" aria-label=\"Period\">"
        for (value, label) in LogFilters.periods { body += Widgets.option(value, label: label, selected: filters.period == value) }
        body += "</select>"
        body += "<select name=\"level\" aria-label=\"Level\">"
        body += Widgets.option("", label: "Any level", selected: filters.level == nil)
        for severity in LogSeverity.allCases.reversed() {
            body += Widgets.option(severity.description, label: severity.description, selected: filters.level == severity)
        }
        body += "</select>"
        body +=
            "<input type=\"search\" name=\"q\" value=\"\(filters.text)\" placeholder=\"Message contains…\" aria-label=\"Message contains\" size=\"28\">"
        body +=
            "<input type=\"text\" name=\"attr\" value=\"\(filters.attribute)\" placeholder=\"attribute key:value\" aria-label=\"Attribute key:value\" size=\"22\">"
        body +=
            "<input type=\"text\" name=\"trace\" value=\"\(filters.trace)\" placeholder=\"Trace id\" aria-label=\"Trace id\" size=\"20\" class=\"mono\">"
        if filters.live { body += "<input type=\"hidden\" name=\"live\" value=\"1\">" }
        body += "<button type=\"submit\" class=\"primary\">Filter</button>"
        if !filters.isEmpty {
            var cleared = LogFilters()
            cleared.live = filters.live
            body += "<a href=\"\(SafeURL(path: Paths.projectLogs(org: org, project: project.slug, filters: cleared)))\">Clear</a>"
        }
        body += "</form>"
        if let error = model.error {
            body += "<div class=\"flash error\" role=\"alert\">\(error)</div>"
        }

        if model.rows.isEmpty {
            let period = LogFilters.periods.first { $0.0 == filters.period }?.1.lowercased() ?? "the period"
            body += Widgets.empty(
                model.isPagedIn
                    ? "No older logs in the \(period)." : filters.isEmpty ? "No logs in the \(period)." : "No logs match in the \(period).")
        } else {
            body += "<table class=\"list logs\"><thead><tr><th>Time</th><th>Level</th><th>Message</th><th>Trace</th></tr></thead><tbody>"
            for row in model.rows {
                body += "<tr><td class=\"nowrap small mono\"><time datetime=\"\(Timestamp.format(milliseconds: row.timestamp))\""
                body += " title=\"\(Format.relative(row.timestamp, now: chrome.now))\">\(clock(row.timestamp))</time></td>"
                body += "<td>\(level(row.severity))</td><td class=\"log-body\">"
                let attributes = LogsRequest.attributes(row.attributes).sorted { $0.key < $1.key }
                if attributes.isEmpty && row.release == nil && row.environment == nil {
                    body += "<span class=\"log-text\">\(Format.truncated(row.body, limit: 2000))</span>"
                } else {
                    body +=
                        "<details><summary class=\"log-text\">\(Format.truncated(row.body, limit: 2000))</summary><dl class=\"attrs small\">"
                    for (key, attribute) in attributes {
                        var link = LogFilters()
                        link.period = filters.period
                        link.attribute = key + ":" + Self.plain(attribute.json)
                        body +=
                            "<dt class=\"mono\">\(key)</dt><dd class=\"mono\"><a href=\"\(SafeURL(path: Paths.projectLogs(org: org, project: project.slug, filters: link)))\" title=\"Logs with this value\">\(Format.truncated(Self.plain(attribute.json), limit: 500))</a></dd>"
                    }
                    if let sdk = row.sdk, !attributes.contains(where: { $0.key == "sentry.sdk.name" }) {
                        body += "<dt class=\"mono\">sdk</dt><dd class=\"mono\">\(sdk)</dd>"
                    }
                    body += "</dl></details>"
                }
                body += "</td><td class=\"mono small\">"
                if let trace = row.traceID {
                    var link = LogFilters()
                    link.period = filters.period
                    link.trace = trace
                    body +=
                        "<a href=\"\(SafeURL(path: Paths.projectLogs(org: org, project: project.slug, filters: link)))\" title=\"\(trace)\">\(String(trace.prefix(8)))</a>"
                }
                body += "</td></tr>"
            }
            body += "</tbody></table>"
        }
        body += "<div class=\"pager\">"
        if model.isPagedIn {
            body +=
                "<a class=\"button\" href=\"\(SafeURL(path: Paths.projectLogs(org: org, project: project.slug, filters: filters)))\">« Newest</a>"
        }
        if let cursor = model.nextCursor {
            var older = filters
            older.live = false
            body +=
                "<a class=\"button\" rel=\"next\" href=\"\(SafeURL(path: Paths.projectLogs(org: org, project: project.slug, filters: older, cursor: cursor.description)))\">Older »</a>"
        }
        body += "</div>"
        return Layout.page(title: "Logs · \(project.name)", chrome: chrome, body: body)
    }

    /// `HH:MM:SS.mmm` on the log's day (UTC), the date when it is not today's.
    static func clock(_ milliseconds: Int64) -> String {
        let iso = Timestamp.format(milliseconds: milliseconds)
        return String(iso.prefix(10)) + " " + String(iso.dropFirst(11).prefix(12))
    }

    /// A log level with the colour of the nearest event level.
    static func level(_ severity: LogSeverity) -> HTML {
        let colour =
            switch severity {
            case .trace, .debug: "debug"
            case .info: "info"
            case .warn: "warning"
            case .error: "error"
            case .fatal: "fatal"
            }
        return "<span class=\"nowrap\"><span class=\"lvl lvl-\(colour)\" aria-hidden=\"true\"></span>\(severity.description)</span>"
    }

    /// An attribute's JSON value as text: a string without its quotes, other values as written.
    static func plain(_ json: String) -> String {
        guard json.hasPrefix("\""), json.hasSuffix("\""), json.count >= 2 else { return json }
        let inner = json.dropFirst().dropLast()
        guard inner.contains("\\") else { return String(inner) }
        // Unescape through the search text's own rules: `\"` and `\\` are the only escapes a
        // value typed back into the filter needs.
        return String(inner).replacingOccurrences(of: "\\\"", with: "\"").replacingOccurrences(of: "\\\\", with: "\\")
    }
}

/// The explorer's filters, as they appear in its URL.
struct LogFilters: Sendable, Equatable {
    /// The periods the explorer offers; the first is the default (Sentry's explorer shows 24 h),
    /// so a rare filter never scans more than the period asks.
    static let periods = [("24h", "Last 24 hours"), ("1h", "Last hour"), ("7d", "Last 7 days"), ("30d", "Last 30 days")]

    var period = LogFilters.periods[0].0
    var level: LogSeverity?
    var text = ""
    var attribute = ""
    var trace = ""
    var live = false

    var isEmpty: Bool { level == nil && text.isEmpty && attribute.isEmpty && trace.isEmpty && period == Self.periods[0].0 }

    /// The filters as a `LogQuery` over one project; throws `LogSearch.Invalid` for a bad
    /// attribute filter.
    func query(projectID: Int64, now: Int64) throws(LogSearch.Invalid) -> LogQuery {
        var query = LogQuery(projectIDs: [projectID])
        query.since = now - (IssueQuery.relativeSpan(period) ?? 86_400_000)
        if let level { query.severities = [level] }
        let text = text.trimmingCharacters(in: .whitespaces)
        if !text.isEmpty { query.messagePatterns = [LogSearch.pattern(text, contains: !text.contains("*"))] }
        let attribute = attribute.trimmingCharacters(in: .whitespaces)
        if !attribute.isEmpty {
            guard let colon = attribute.firstIndex(of: ":"), colon != attribute.startIndex else {
                throw LogSearch.Invalid(detail: "the attribute filter takes key:value")
            }
            var value = String(attribute[attribute.index(after: colon)...])
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            query.attributeFragments = [LogSearch.fragments(key: String(attribute[..<colon]), value: value)]
        }
        let trace = trace.trimmingCharacters(in: .whitespaces)
        if !trace.isEmpty { query.traceID = trace.lowercased().filter { $0 != "-" } }
        return query
    }
}
