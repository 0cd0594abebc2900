import PitQuery
import PitStorage

/// The period and environment every performance page is filtered by, carried in their links.
struct PerformanceFilters: Sendable, Equatable {
    var period: PerformancePeriod = .standard
    var environment: String?

    /// The non-default filters as query items.
    var items: [(String, String?)] {
        [("statsPeriod", period == .standard ? nil : period.rawValue), ("environment", environment)]
    }

    /// The window [from, to) ending at `now` (ms).
    func window(now: Int64) -> (from: Int64, to: Int64) { (now - period.milliseconds, now) }
}

/// What the transaction summary list shows.
struct PerformanceModel: Sendable {
    var project: Project
    var filters: PerformanceFilters
    var environments: [String]
    var search: String
    var sort: TransactionListing.Column
    var descending: Bool
    var listing: TransactionListing
    /// The project's Apdex threshold, milliseconds.
    var apdexThreshold: Int64

    /// The `sort` parameter: the column, `-` first when descending (Sentry's form).
    static func sortParameter(_ column: TransactionListing.Column, descending: Bool) -> String {
        (descending ? "-" : "") + column.rawValue
    }
}

/// `/organizations/{org}/projects/{project}/performance/`: every transaction name of the period
/// with its throughput, percentiles, failure rate and Apdex, all read from the aggregates.
enum PerformancePage {
    static let columns: [(TransactionListing.Column, String, String)] = [
        (.perMinute, "TPM", "Transactions per minute, extrapolated by sample rate"),
        (.p50, "p50", "Median duration"), (.p95, "p95", "95th percentile duration"), (.p99, "p99", "99th percentile duration"),
        (.failureRate, "Failure rate", "Share of transactions whose status is not ok, cancelled or unknown"),
        (.apdex, "Apdex", "Satisfied + tolerated / 2, over all"), (.count, "Count", "Transactions in the period, extrapolated"),
    ]

    static func render(_ model: PerformanceModel, chrome: Chrome) -> HTML {
        let org = chrome.organizationSlug
        let project = model.project
        var body = PerformanceParts.head(
            title: "Performance", subtitle: "\(project.name) · transactions of the \(model.filters.period.label.lowercased())",
            tab: .transactions, project: project, filters: model.filters, org: org)
        body += PerformanceParts.filterForm(
            action: Paths.performance(org: org, project: project.slug), filters: model.filters, environments: model.environments,
            hidden: [("sort", PerformanceModel.sortParameter(model.sort, descending: model.descending))], search: model.search)
        guard !model.listing.rows.isEmpty else {
            body += Widgets.empty(
                model.search.isEmpty
                    ? "No transactions in this period. SDKs send them with tracing on (<code>traces_sample_rate</code>)."
                    : "No transaction name contains this text in this period.")
            return Layout.page(title: "Performance · \(project.name)", chrome: chrome, body: body)
        }
        body += "<table class=\"list perf transactions\"><thead><tr>"
        body += header(.name, "Transaction", "Transaction name", model, org: org, numeric: false)
        for (column, label, title) in columns { body += header(column, label, title, model, org: org, numeric: true) }
        body += "<th>Trend</th></tr></thead><tbody>"
        let bars = model.filters.period.sparklineBars
        for row in model.listing.rows.prefix(500) {
            let summary = row.summary
            let href = Paths.transactionSummary(org: org, project: project.slug, transaction: row.name, filters: model.filters)
            body +=
                "<tr class=\"kbd-row\"><td><a class=\"row-link mono\" href=\"\(SafeURL(path: href))\">\(Format.truncated(row.name, limit: 160))</a></td>"
            body += "<td class=\"num\">\(PerformanceFormat.rate(row.perMinute))</td>"
            body += "<td class=\"num\">\(PerformanceFormat.milliseconds(row.p50))</td>"
            body += "<td class=\"num\">\(PerformanceFormat.milliseconds(row.p95))</td>"
            body += "<td class=\"num\">\(PerformanceFormat.milliseconds(row.p99))</td>"
            body += "<td class=\"num\">\(PerformanceFormat.share(summary.failureRate))</td>"
            body += "<td class=\"num\">\(PerformanceFormat.apdex(summary.apdex))</td>"
            body += "<td class=\"num\">\(Format.count(Int64(summary.extrapolated.rounded())))</td>"
            let total = row.sparkline.reduce(0, +)
            body +=
                "<td>\(Charts.sparkline(row.sparkline, label: "\(Format.count(total)) transactions stored, in \(bars) bars over the \(model.filters.period.label.lowercased())"))</td></tr>"
        }
        body += "</tbody></table>"
        body +=
            "<p class=\"small muted\">Read from per-minute and per-hour aggregates; percentiles from a 48-bucket duration histogram (within ±13 %). Apdex threshold: \(model.apdexThreshold) ms. Keys: <kbd>j</kbd>/<kbd>k</kbd> move, <kbd>o</kbd> open.</p>"
        return Layout.page(title: "Performance · \(project.name)", chrome: chrome, body: body)
    }

    /// A sortable column heading: the current column flips its direction, another starts
    /// descending (names ascending).
    private static func header(
        _ column: TransactionListing.Column, _ label: String, _ title: String, _ model: PerformanceModel, org: String, numeric: Bool
    ) -> HTML {
        let current = model.sort == column
        let descending = current ? !model.descending : column != .name
        let href = Paths.performance(
            org: org, project: model.project.slug, filters: model.filters, query: model.search,
            sort: PerformanceModel.sortParameter(column, descending: descending))
        let arrow: HTML = current ? (model.descending ? " ▾" : " ▴") : ""
        return
            "<th\(HTML.when(numeric, " class=\"num\"")) title=\"\(title)\"\(HTML.when(current, model.descending ? " aria-sort=\"descending\"" : " aria-sort=\"ascending\""))><a class=\"sort\(HTML.when(current, " current"))\(HTML.when(column.isPercentile, " nocase"))\" href=\"\(SafeURL(path: href))\">\(label)\(arrow)</a></th>"
    }
}

extension TransactionListing.Column {
    /// p50, p95, p99 keep their lower case in the upper-case headings.
    var isPercentile: Bool { self == .p50 || self == .p95 || self == .p99 }
}

/// What the performance pages share: their heading with tabs, and the filter form.
enum PerformanceParts {
    enum Tab { case transactions, spans, vitals }

    static func head(
        title: String, subtitle: HTML, tab: Tab, project: Project, filters: PerformanceFilters, org: String, crumb: HTML? = nil
    ) -> HTML {
        var out: HTML = "<div class=\"pagehead\"><div>"
        if let crumb { out += "<div class=\"small muted\">\(crumb)</div>" }
        out += "<h1>\(title)</h1><div class=\"muted\">\(subtitle)</div></div></div><nav class=\"ptabs\" aria-label=\"Performance\">"
        let tabs: [(Tab, String, String)] = [
            (.transactions, "Transactions", Paths.performance(org: org, project: project.slug, filters: filters)),
            (.spans, "Spans", Paths.spans(org: org, project: project.slug, filters: filters)),
            (.vitals, "Web Vitals", Paths.webVitals(org: org, project: project.slug, filters: filters)),
        ]
        for (each, label, href) in tabs {
            out +=
                "<a href=\"\(SafeURL(path: href))\"\(HTML.when(each == tab, " class=\"current\" aria-current=\"page\""))>\(label)</a>"
        }
        return out + "</nav>"
    }

    /// A GET form (so each view is a link): search when `search` is given, the period, the
    /// environment; `hidden` carries the rest of the view (sort, transaction). `action` is a
    /// path without a query: the form's fields make the query.
    static func filterForm(
        action: String, filters: PerformanceFilters, environments: [String], hidden: [(String, String)], search: String? = nil
    ) -> HTML {
        var out: HTML =
            "<form method=\"get\" action=\"\(SafeURL(path: action))\" class=\"card autosubmit perf-filter\"><div class=\"toolbar\">"
        for (name, value) in hidden { out += "<input type=\"hidden\" name=\"\(name)\" value=\"\(value)\">" }
        if let search {
            out +=
                "<input type=\"search\" name=\"query\" value=\"\(search)\" placeholder=\"Search transaction names\" aria-label=\"Search transaction names\">"
        }
        out += "<select name=\"statsPeriod\" aria-label=\"Time range\" title=\"Time range\">"
        for period in PerformancePeriod.allCases {
            out += Widgets.option(period.rawValue, label: period.label, selected: period == filters.period)
        }
        out += "</select><select name=\"environment\" aria-label=\"Environment\" title=\"Environment\">"
        out += Widgets.option("", label: "All environments", selected: filters.environment == nil)
        var listed = environments
        if let current = filters.environment, !listed.contains(current) { listed.append(current) }
        for environment in listed { out += Widgets.option(environment, label: environment, selected: environment == filters.environment) }
        out += "</select><button type=\"submit\" class=\"primary\">Apply</button></div></form>"
        return out
    }
}

/// How the performance pages write durations, rates and scores.
enum PerformanceFormat {
    /// `0.42 ms`, `12.3 ms`, `245 ms`, `1.24 s`, `2 min 5 s`; `–` for none.
    static func milliseconds(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "–" }
        if value < 10 { return decimals(value, 2) + " ms" }
        if value < 100 { return decimals(value, 1) + " ms" }
        if value < 1000 { return "\(Int(value.rounded())) ms" }
        if value < 60_000 { return decimals(value / 1000, 2) + " s" }
        let seconds = Int((value / 1000).rounded())
        return "\(seconds / 60) min \(seconds % 60) s"
    }

    static func microseconds(_ value: Int64) -> String { milliseconds(Double(value) / 1000) }

    static func microseconds(_ value: Double) -> String { milliseconds(value / 1000) }

    /// Per minute: `1,234`, `12.5`, `0.42`, `<0.01`.
    static func rate(_ value: Double) -> String {
        if value >= 1000 { return Format.count(Int64(value.rounded())) }
        if value >= 10 { return decimals(value, 1) }
        if value > 0 && value < 0.01 { return "<0.01" }
        return decimals(value, 2)
    }

    /// A fraction 0…1 as `12.5%`.
    static func share(_ value: Double) -> String {
        let tenths = (value * 1000).rounded()
        return tenths.truncatingRemainder(dividingBy: 10) == 0 ? "\(Int(tenths / 10))%" : decimals(value * 100, 1) + "%"
    }

    static func apdex(_ value: Double) -> String { decimals(value, 2) }

    /// `1 span`, `1,204 spans`: `noun` ends with the word that takes the plural's s.
    static func counted(_ count: Int, _ noun: String) -> String { "\(Format.count(count)) \(noun)\(count == 1 ? "" : "s")" }

    /// `value` with at most `places` decimals, trailing zeros kept (aligned columns).
    static func decimals(_ value: Double, _ places: Int) -> String {
        var scale = 1.0
        for _ in 0..<places { scale *= 10 }
        let scaled = Int64((value * scale).rounded())
        let whole = scaled / Int64(scale)
        let fraction = String(abs(scaled % Int64(scale)))
        guard places > 0 else { return String(whole) }
        return "\(scaled < 0 && whole == 0 ? "-" : "")\(whole)." + String(repeating: "0", count: places - fraction.count) + fraction
    }
}
