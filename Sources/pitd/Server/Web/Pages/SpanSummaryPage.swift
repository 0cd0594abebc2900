import PitQuery
import PitStorage

/// What the span summary shows: a project's, or one transaction name's.
struct SpanSummaryModel: Sendable {
    var project: Project
    var transaction: String?
    var filters: PerformanceFilters
    var environments: [String]
    var sort: SpanSummary.Sort
    var summary: SpanSummary

    /// Transactions sampled: a name's slowest, or the project's newest.
    static let transactionSample = 200
    static let projectSample = 500
    static let groupsShown = 200
    /// Runs per transaction from which a span is flagged as repeated (an N+1 suspect).
    static let repeatedFrom = 5.0
}

/// `/organizations/{org}/projects/{project}/performance/spans/`: the spans of a sample of
/// transactions grouped by op and normalised description, slowest or most frequent first, with
/// how often each runs per transaction so that N+1 queries stand out.
enum SpanSummaryPage {
    static let columns: [(SpanSummary.Sort, String, String)] = [
        (.count, "Count", "Runs in the sampled transactions"),
        (.perTransaction, "Per transaction", "Runs per transaction that ran it (the most in one)"),
        (.total, "Total time", "Time spent in it, summed"), (.average, "Avg", "Average duration"),
        (.p95, "p95", "95th percentile duration"),
    ]

    static func render(_ model: SpanSummaryModel, chrome: Chrome) -> HTML {
        let org = chrome.organizationSlug
        let project = model.project
        let summary = model.summary
        var crumb: HTML?
        if let name = model.transaction {
            let href = Paths.transactionSummary(org: org, project: project.slug, transaction: name, filters: model.filters)
            crumb =
                "<a href=\"\(SafeURL(path: Paths.performance(org: org, project: project.slug, filters: model.filters)))\">Performance</a> › <a class=\"mono\" href=\"\(SafeURL(path: href))\">\(Format.truncated(name, limit: 120))</a>"
        }
        let subtitle: HTML =
            model.transaction == nil
            ? "\(project.name) · spans of the \(PerformanceFormat.counted(summary.transactions, "newest transaction")) of the \(model.filters.period.label.lowercased())"
            : "\(project.name) · spans of the \(summary.transactions == 1 ? "slowest" : "\(summary.transactions) slowest") <span class=\"mono\">\(model.transaction ?? "")</span> \(summary.transactions == 1 ? "transaction" : "transactions") of the \(model.filters.period.label.lowercased())"
        var body = PerformanceParts.head(
            title: model.transaction == nil ? "Spans" : "Spans of a transaction", subtitle: subtitle, tab: .spans, project: project,
            filters: model.filters, org: org, crumb: crumb)
        var hidden: [(String, String)] = [("sort", model.sort.rawValue)]
        if let name = model.transaction { hidden.append(("transaction", name)) }
        body += PerformanceParts.filterForm(
            action: Paths.spans(org: org, project: project.slug), filters: model.filters, environments: model.environments, hidden: hidden)
        guard !summary.groups.isEmpty else {
            body += Widgets.empty("No spans in the sampled transactions of this period.")
            return Layout.page(title: "Spans · \(project.name)", chrome: chrome, body: body)
        }
        body += "<table class=\"list perf spans\"><thead><tr><th>Op</th><th>Description</th>"
        for (sort, label, title) in columns {
            let href = Paths.spans(
                org: org, project: project.slug, transaction: model.transaction, filters: model.filters, sort: sort.rawValue)
            let current = sort == model.sort
            body +=
                "<th class=\"num\" title=\"\(title)\"\(HTML.when(current, " aria-sort=\"descending\""))><a class=\"sort\(HTML.when(current, " current"))\(HTML.when(sort == .p95, " nocase"))\" href=\"\(SafeURL(path: href))\">\(label)\(HTML.when(current, " ▾"))</a></th>"
        }
        body += "<th class=\"num\" title=\"Share of the time spent in spans\">Share</th></tr></thead><tbody>"
        for group in summary.groups.prefix(SpanSummaryModel.groupsShown) {
            let repeated = group.perTransaction >= SpanSummaryModel.repeatedFrom
            body += "<tr><td class=\"mono small nowrap\">\(group.op)</td><td class=\"desc mono small\">"
            body +=
                group.description.isEmpty
                ? "<span class=\"muted\">(no description)</span>" : "\(Format.truncated(group.description, limit: 300))"
            if repeated {
                body +=
                    " <span class=\"badge r-meh\" title=\"Runs \(PerformanceFormat.decimals(group.perTransaction, 1)) times per transaction on average: an N+1 suspect\">repeated</span>"
            }
            body += "</td><td class=\"num\">\(Format.count(group.count))</td>"
            body +=
                "<td class=\"num\(HTML.when(repeated, " r-meh"))\">\(PerformanceFormat.decimals(group.perTransaction, 1)) <span class=\"muted small\">(max \(group.maxPerTransaction))</span></td>"
            body += "<td class=\"num\">\(PerformanceFormat.microseconds(group.total))</td>"
            body += "<td class=\"num\">\(PerformanceFormat.microseconds(group.average))</td>"
            body += "<td class=\"num\">\(PerformanceFormat.microseconds(group.p95))</td>"
            body +=
                "<td class=\"num\">\(PerformanceFormat.share(summary.spanTime > 0 ? Double(group.total) / Double(summary.spanTime) : 0))</td></tr>"
        }
        body += "</tbody></table>"
        var note =
            "\(PerformanceFormat.counted(summary.spanCount, "span")) of \(PerformanceFormat.counted(summary.transactions, "transaction")), grouped by op and description (SQL literals and URL ids masked at ingest)."
        if summary.truncated { note += " Only the first \(Format.count(TransactionSQL.maxSampleSpans)) spans were read." }
        if summary.groups.count > SpanSummaryModel.groupsShown { note += " The first \(SpanSummaryModel.groupsShown) groups are shown." }
        body += "<p class=\"small muted\">\(note)</p>"
        return Layout.page(title: "Spans · \(project.name)", chrome: chrome, body: body)
    }
}
