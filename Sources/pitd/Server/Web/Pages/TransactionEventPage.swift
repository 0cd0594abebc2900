import PitModel
import PitQuery
import PitStorage

/// What a transaction event's page shows: the transaction and its own spans.
struct TransactionEventModel: Sendable {
    var project: Project
    var transaction: TransactionRow
    /// Its spans, earliest first.
    var spans: [SpanRow]
    var errors: [TraceErrorRow]

    /// Spans read for one transaction at most.
    static let spanLimit = 2_000
}

/// `/organizations/{org}/projects/{project}/events/{event_id}/` when the id is a transaction's:
/// its figures, Web Vitals, and its spans on a timeline, nested by parent; its trace is linked.
enum TransactionEventPage {
    static func render(_ model: TransactionEventModel, chrome: Chrome) -> HTML {
        let org = chrome.organizationSlug
        let project = model.project
        let row = model.transaction
        let summary = Paths.transactionSummary(org: org, project: project.slug, transaction: row.name)
        var body: HTML =
            "<div class=\"pagehead\"><div><div class=\"small muted\"><a href=\"\(SafeURL(path: Paths.performance(org: org, project: project.slug)))\">Performance</a> › <a class=\"mono\" href=\"\(SafeURL(path: summary))\">\(Format.truncated(row.name, limit: 120))</a> › event</div>"
        body +=
            "<h1>\(Format.truncated(row.name, limit: 200))</h1><div class=\"muted\">Transaction \(row.eventID.hex) · \(PerformanceFormat.microseconds(row.duration))</div></div></div>"
        var side = vitals(row)
        if !model.errors.isEmpty {
            side += "<section class=\"card\"><h3>Errors in this trace</h3><ul class=\"small\">"
            for error in model.errors.prefix(20) {
                side +=
                    "<li><a href=\"\(SafeURL(path: Paths.issue(org: org, id: error.issueID)))\">\(Widgets.level(error.level)) \(Format.truncated(error.title, limit: 120))</a></li>"
            }
            side += "</ul></section>"
        }
        body += side.isEmpty ? "<div>" : "<div class=\"grid\"><div>"
        body += "<table class=\"kv card\"><tbody>"
        body += "<tr><th>Operation</th><td class=\"mono\">\(row.op)</td></tr>"
        body += "<tr><th>Status</th><td>\(TransactionSummaryPage.status(row.status))</td></tr>"
        body += "<tr><th>Duration</th><td>\(PerformanceFormat.microseconds(row.duration))</td></tr>"
        body += "<tr><th>Started</th><td>\(Format.exact(row.start / 1000)) (\(Format.time(row.start / 1000, now: chrome.now)))</td></tr>"
        body +=
            "<tr><th>Trace</th><td><a class=\"mono\" href=\"\(SafeURL(path: Paths.trace(org: org, traceID: row.traceID.hex)))\">\(row.traceID.hex)</a></td></tr>"
        body +=
            "<tr><th>Release</th><td class=\"mono\">\(row.release ?? "–")</td></tr><tr><th>Environment</th><td>\(row.environment)</td></tr>"
        if let platform = row.platform { body += "<tr><th>Platform</th><td>\(platform)</td></tr>" }
        if let rate = row.sampleRate { body += "<tr><th>Sample rate</th><td>\(PerformanceFormat.share(rate))</td></tr>" }
        body += "</tbody></table></div>"
        if !side.isEmpty { body += "<div class=\"side\">\(side)</div></div>" }
        body += "<h2>Spans</h2>"
        body += spans(model)
        return Layout.page(title: "\(row.name) · transaction", chrome: chrome, body: body)
    }

    /// Each span on the transaction's timeline, indented under its parent.
    static func spans(_ model: TransactionEventModel) -> HTML {
        let row = model.transaction
        guard !model.spans.isEmpty else { return Widgets.empty("This transaction has no spans.") }
        var depth: [SpanID: Int] = [row.spanID: 0]
        for span in model.spans {
            depth[span.spanID] = (span.parentSpanID.flatMap { depth[$0] } ?? 0) + 1
        }
        let total = Double(max(row.duration, 1))
        var out: HTML =
            "<table class=\"list perf waterfall\"><thead><tr><th>Span</th><th class=\"num\">Duration</th><th>Timeline</th></tr></thead><tbody>"
        for span in model.spans {
            let level = min(depth[span.spanID] ?? 1, 12)
            let indent = String(repeating: "· ", count: max(level - 1, 0))
            out +=
                "<tr><td class=\"desc small\"><span class=\"muted\">\(indent)</span><b class=\"mono\">\(span.op)</b> <span class=\"mono\">\(Format.truncated(span.description, limit: 200))</span></td>"
            out += "<td class=\"num nowrap\">\(PerformanceFormat.microseconds(span.duration))</td>"
            out +=
                "<td class=\"timeline\">\(Charts.offsetBar(start: Double(span.start - row.start) / total, length: Double(span.duration) / total))</td></tr>"
        }
        return out + "</tbody></table>"
    }

    static func vitals(_ row: TransactionRow) -> HTML {
        guard let json = row.measurements else { return "" }
        let measured = WebVitals.parse(json)
        guard !measured.isEmpty else { return "" }
        var out: HTML = "<section class=\"card\"><h3>Web Vitals</h3>"
        for (vital, value) in measured {
            let rating = vital.rating(value)
            out +=
                "<div class=\"stat\"><span title=\"\(vital.title)\">\(vital.label)</span><span class=\"badge \(WebVitalsPage.ratingClass(rating))\">\(WebVitalsPage.value(vital, value))</span></div>"
        }
        return out + "</section>"
    }
}
