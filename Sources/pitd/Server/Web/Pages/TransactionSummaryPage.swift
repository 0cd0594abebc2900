import PitModel
import PitQuery
import PitStorage

/// What one transaction name's page shows.
struct TransactionSummaryModel: Sendable {
    var project: Project
    var name: String
    var filters: PerformanceFilters
    var environments: [String]
    /// Nil when the period holds none of it.
    var summary: TransactionSummaryRow?
    var perMinute: Double
    var slowest: [TransactionRow]
    var spans: SpanSummary
    var apdexThreshold: Int64

    static let slowestShown = 20
    /// Transactions whose spans make the op breakdown: the slowest, since that is where time goes.
    static let breakdownSample = 200
}

/// `/organizations/{org}/projects/{project}/performance/summary/?transaction=…`: one transaction
/// name: its figures and duration distribution (from the aggregates), its slowest samples, and
/// where their time goes by span op.
enum TransactionSummaryPage {
    static func render(_ model: TransactionSummaryModel, chrome: Chrome) -> HTML {
        let org = chrome.organizationSlug
        let project = model.project
        let filters = model.filters
        let crumb: HTML =
            "<a href=\"\(SafeURL(path: Paths.performance(org: org, project: project.slug, filters: filters)))\">Performance</a> › transaction"
        var body = PerformanceParts.head(
            title: Format.truncated(model.name, limit: 200), subtitle: "\(project.name) · \(filters.period.label.lowercased())",
            tab: .transactions, project: project, filters: filters, org: org, crumb: crumb)
        body += PerformanceParts.filterForm(
            action: Paths.transactionSummary(org: org, project: project.slug, transaction: ""),
            filters: filters, environments: model.environments, hidden: [("transaction", model.name)])
        guard let summary = model.summary, summary.count > 0 else {
            body += Widgets.empty("No <span class=\"mono\">\(model.name)</span> transactions in this period.")
            return Layout.page(title: "\(model.name) · Performance", chrome: chrome, body: body)
        }
        let histogram = summary.histogram
        let facts: [(String, String)] = [
            ("Count", Format.count(Int64(summary.extrapolated.rounded()))), ("TPM", PerformanceFormat.rate(model.perMinute)),
            ("p50", PerformanceFormat.milliseconds(histogram.percentile(0.5))),
            ("p75", PerformanceFormat.milliseconds(histogram.percentile(0.75))),
            ("p95", PerformanceFormat.milliseconds(histogram.percentile(0.95))),
            ("p99", PerformanceFormat.milliseconds(histogram.percentile(0.99))),
            ("Average", PerformanceFormat.milliseconds(Double(summary.durationSum) / Double(summary.count) / 1000)),
            ("Failure rate", PerformanceFormat.share(summary.failureRate)), ("Apdex", PerformanceFormat.apdex(summary.apdex)),
        ]
        body += "<section class=\"card\"><dl class=\"facts perf\">"
        for (name, value) in facts { body += "<div><dt class=\"small muted\">\(name)</dt><dd><b>\(value)</b></dd></div>" }
        body += "</dl><h2>Duration distribution</h2>"
        body += distribution(histogram)
        body +=
            "<p class=\"small muted\">\(PerformanceFormat.counted(Int(summary.count), "transaction")) stored, counted in logarithmic buckets (each 26 % wider than the last); Apdex threshold \(model.apdexThreshold) ms.</p></section>"

        body += "<div class=\"grid\"><div>"
        body += "<h2>Slowest samples</h2>"
        body += slowest(model, org: org, now: chrome.now)
        body += "</div><div class=\"side\">"
        body += breakdown(model, org: org)
        body += "</div></div>"
        return Layout.page(title: "\(model.name) · Performance", chrome: chrome, body: body)
    }

    /// The histogram's buckets from the first to the last that holds anything.
    static func distribution(_ histogram: DurationHistogram) -> HTML {
        let counts = histogram.counts
        guard let first = counts.firstIndex(where: { $0 > 0 }), let last = counts.lastIndex(where: { $0 > 0 }) else { return "" }
        // At least `minimumBars` buckets around the ones counted, so a narrow distribution keeps
        // its shape instead of two or three slabs.
        let minimumBars = 16
        let spare = max(minimumBars - (last - first + 1), 2)
        var lower = max(first - spare / 2, 0)
        let upper = min(lower + max(last - lower + 1, minimumBars) - 1, DurationHistogram.bucketCount - 1)
        lower = max(min(lower, upper - minimumBars + 1), 0)
        let shown = Array(counts[lower...upper])
        var bounds = (lower...upper).map { PerformanceFormat.milliseconds(DurationHistogram.lowerBound($0)) }
        bounds.append(
            upper + 1 < DurationHistogram.bucketCount ? PerformanceFormat.milliseconds(DurationHistogram.lowerBound(upper + 1)) : "∞")
        return Charts.histogram(shown, bounds: bounds, noun: "transactions", label: "Duration distribution")
    }

    static func slowest(_ model: TransactionSummaryModel, org: String, now: Int64) -> HTML {
        guard !model.slowest.isEmpty else { return Widgets.empty("No stored samples in this period.") }
        var out: HTML =
            "<table class=\"list perf samples\"><thead><tr><th>Event</th><th class=\"num\">Duration</th><th>Status</th><th>When</th><th>Release</th><th>Environment</th><th>Trace</th></tr></thead><tbody>"
        for row in model.slowest.prefix(TransactionSummaryModel.slowestShown) {
            let event = Paths.projectEvent(org: org, project: model.project.slug, eventID: row.eventID.hex)
            out +=
                "<tr><td><a class=\"mono\" href=\"\(SafeURL(path: event))\">\(String(row.eventID.hex.prefix(8)))</a></td><td class=\"num\">\(PerformanceFormat.microseconds(row.duration))</td>"
            out += "<td>\(status(row.status))</td><td class=\"nowrap small\">\(Format.time(row.start / 1000, now: now))</td>"
            out +=
                "<td class=\"small mono\">\(row.release.map { Format.truncated($0, limit: 40) } ?? "–")</td><td class=\"small\">\(row.environment)</td>"
            out +=
                "<td><a class=\"mono small\" href=\"\(SafeURL(path: Paths.trace(org: org, traceID: row.traceID)))\">\(String(row.traceID.hex.prefix(8)))</a></td></tr>"
        }
        return out + "</tbody></table>"
    }

    static func status(_ status: String) -> HTML {
        TransactionStatus.isFailure(status) ? "<span class=\"badge r-poor\">\(status)</span>" : "<span class=\"small\">\(status)</span>"
    }

    /// Each op's share of the time spent in spans of the slowest transactions, and the top span
    /// groups, linked to the full span summary.
    static func breakdown(_ model: TransactionSummaryModel, org: String) -> HTML {
        let spans = model.spans
        let all = Paths.spans(org: org, project: model.project.slug, transaction: model.name, filters: model.filters)
        var out: HTML = "<section class=\"card\"><h3>Span operations</h3>"
        guard !spans.ops.isEmpty else {
            return out + "<p class=\"muted small\">The sampled transactions have no spans.</p></section>"
        }
        out +=
            "<p class=\"small muted\">Share of the time spent in spans of the \(spans.transactions == 1 ? "slowest transaction" : "\(spans.transactions) slowest transactions") (nested spans each count).</p>"
        out += "<table class=\"perf ops\"><tbody>"
        for op in spans.ops.prefix(12) {
            let perTransaction = spans.transactions > 0 ? Double(op.total) / Double(spans.transactions) : 0
            out +=
                "<tr><td class=\"mono small\">\(op.op)<br>\(Charts.shareBar([Int64((op.share * 1000).rounded())], total: 1000, width: 150, height: 6))</td>"
            out +=
                "<td class=\"num small\"><b>\(PerformanceFormat.share(op.share))</b><br><span class=\"muted\" title=\"Average time per transaction\">\(PerformanceFormat.microseconds(perTransaction))</span></td></tr>"
        }
        out += "</tbody></table><p class=\"small\"><a href=\"\(SafeURL(path: all))\">All spans of this transaction »</a></p></section>"
        return out
    }
}
