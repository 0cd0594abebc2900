import Foundation
package import PitModel
package import PitStorage

/// Sentry's discover table for transactions, `GET /api/0/organizations/{org}/events/?dataset=
/// transactions` (also `discover` and `metricsEnhanced` with `event.type:transaction`): the
/// columns Pit reads from the pre-aggregated metrics, never from transaction rows:
/// `transaction`, `project`, `count()`, `failure_count()`, `failure_rate()`, `apdex()`,
/// `epm()`/`tpm()`, `avg(transaction.duration)` and `p50`/`p75`/`p90`/`p95`/`p99`/`p100`
/// `(transaction.duration)`. The answer is `{"data": [{field: value}], "meta": {"fields":
/// {field: type}, "units": {field: unit}}}`, one row per project and transaction name.
///
/// `count()` and `epm()` are extrapolated by each transaction's sample rate (the trace's
/// dynamic sampling context); the rates and percentiles are those of the transactions stored.
/// Percentiles come from the fixed log buckets of `DurationHistogram` (within ±13 %).
package struct TransactionsRequest: Sendable, Equatable {
    package static let datasets: Set<String> = ["transactions", "discover", "metrics", "metricsEnhanced"]
    package static let defaultFields = ["transaction", "project", "count()", "p95(transaction.duration)"]
    package static let defaultPerPage = 50
    package static let maxPerPage = 100

    package enum Field: Sendable, Equatable {
        case transaction, project, projectID, count, failureCount, failureRate, apdex, perMinute, average
        case percentile(Double)

        init?(_ name: String) {
            switch name {
            case "transaction": self = .transaction
            case "project", "project.name": self = .project
            case "project.id": self = .projectID
            case "count()": self = .count
            case "failure_count()": self = .failureCount
            case "failure_rate()": self = .failureRate
            case "apdex()": self = .apdex
            case "epm()", "tpm()": self = .perMinute
            case "avg(transaction.duration)": self = .average
            case "p50(transaction.duration)", "p50()": self = .percentile(0.5)
            case "p75(transaction.duration)", "p75()": self = .percentile(0.75)
            case "p90(transaction.duration)", "p90()": self = .percentile(0.9)
            case "p95(transaction.duration)", "p95()": self = .percentile(0.95)
            case "p99(transaction.duration)", "p99()": self = .percentile(0.99)
            case "p100(transaction.duration)", "p100()", "max(transaction.duration)": self = .percentile(1)
            default: return nil
            }
        }

        /// Sentry's meta type and unit of the column.
        var type: (String, String?) {
            switch self {
            case .transaction, .project: ("string", nil)
            case .projectID, .count, .failureCount: ("integer", nil)
            case .failureRate: ("percentage", nil)
            case .apdex: ("number", nil)
            case .perMinute: ("rate", "1/minute")
            case .average, .percentile: ("duration", "millisecond")
            }
        }
    }

    /// The columns asked, in order, each once, with what each reads.
    package var fields: [(name: String, field: Field)]
    /// Project ids asked for; empty: every project of the organisation.
    package var projectIDs: [Int64]
    /// Everything but the projects, which the route fills in.
    package var query: TransactionSummaryQuery
    /// The column to sort by and whether descending (`sort=-count()`).
    package var sort: (name: String, descending: Bool)
    package var perPage: Int
    /// Rows skipped (Sentry's cursor `0:offset:0`).
    package var offset: Int

    package static func == (a: TransactionsRequest, b: TransactionsRequest) -> Bool {
        a.fields.map(\.name) == b.fields.map(\.name) && a.projectIDs == b.projectIDs && a.query == b.query && a.sort == b.sort
            && a.perPage == b.perPage && a.offset == b.offset
    }

    /// `parameters` as (name, value) pairs in query-string order.
    package init(parameters: [(String, String)], nowMilliseconds: Int64) throws(IngestError) {
        func all(_ name: String) -> [String] { parameters.filter { $0.0 == name }.map(\.1) }
        var fields: [(name: String, field: Field)] = []
        for name in all("field") where !name.isEmpty && !fields.contains(where: { $0.name == name }) {
            guard let field = Field(name) else { throw .badRequest("Invalid field: \"\(name.prefix(64))\" is not a transactions column") }
            fields.append((name, field))
        }
        if fields.isEmpty { fields = Self.defaultFields.map { ($0, Field($0)!) } }
        self.fields = fields
        projectIDs = []
        for text in all("project") where text != "-1" {
            guard let id = Int64(text), id > 0 else { throw .badRequest("Invalid project: \"\(text)\"") }
            if !projectIDs.contains(id) { projectIDs.append(id) }
        }
        let window = try Self.window(all("start").first, all("end").first, all("statsPeriod").first, now: nowMilliseconds)
        query = TransactionSummaryQuery(projectIDs: [], from: window.from, to: window.to)
        query.environments = all("environment").filter { !$0.isEmpty }
        try Self.apply(all("query").first ?? "", to: &query)
        let sortText = all("sort").first ?? ""
        if sortText.isEmpty {
            sort = fields.contains(where: { $0.field == .count }) ? ("count()", true) : (fields[0].name, false)
        } else {
            let descending = sortText.hasPrefix("-")
            let name = descending ? String(sortText.dropFirst()) : sortText
            guard fields.contains(where: { $0.name == name }) else {
                throw .badRequest("Cannot sort by a field that is not selected: \"\(name.prefix(64))\"")
            }
            sort = (name, descending)
        }
        var perPage = Self.defaultPerPage
        if let text = all("per_page").first {
            guard let value = Int(text), value >= 1 else { throw .badRequest("Invalid per_page: \"\(text)\"") }
            perPage = min(value, Self.maxPerPage)
        }
        self.perPage = perPage
        offset = 0
        if let text = all("cursor").first, !text.isEmpty {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 3, let value = Int(parts[1]), value >= 0, value <= 1_000_000 else {
                throw .badRequest("Invalid cursor: \"\(text.prefix(64))\"")
            }
            offset = value
        }
    }

    /// `start`/`end` (both, ISO 8601 or epoch seconds), else `statsPeriod` (default 14d) back
    /// from now.
    static func window(_ start: String?, _ end: String?, _ period: String?, now: Int64) throws(IngestError) -> (from: Int64, to: Int64) {
        if start != nil || end != nil {
            let range = ClientNumber.unixSecondsRange
            guard let first = start.flatMap(Timestamp.parse), let last = end.flatMap(Timestamp.parse), first.isFinite, last.isFinite,
                Double(range.lowerBound) <= first, first < last, last <= Double(range.upperBound)
            else { throw .badRequest("start and end must both be timestamps, start before end") }
            return (Int64(first * 1000), Int64(last * 1000))
        }
        let text = period ?? "14d"
        guard let span = IssueQuery.relativeSpan(text) else { throw .badRequest("Invalid statsPeriod: \"\(text)\"") }
        return (now - span, now)
    }

    /// Sentry's search terms that apply to transactions: `event.type:transaction` (implied),
    /// `transaction:name` (with `*` wildcards: the name contains the rest), `release:`,
    /// `environment:`, and free text (the name contains it).
    static func apply(_ text: String, to query: inout TransactionSummaryQuery) throws(IngestError) {
        var contains: [String] = []
        for token in text.split(separator: " ") where !token.isEmpty {
            guard let colon = token.firstIndex(of: ":") else {
                contains.append(String(token))
                continue
            }
            let key = token[..<colon]
            let value = String(token[token.index(after: colon)...]).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            switch key {
            case "event.type":
                guard value == "transaction" else {
                    throw .badRequest("Invalid query: the transactions dataset holds event.type:transaction")
                }
            case "transaction": contains.append(value.replacingOccurrences(of: "*", with: ""))
            case "release": query.release = value
            case "environment": query.environments.append(value)
            default: throw .badRequest("Invalid query: \"\(key)\" is not a transactions filter")
            }
        }
        let joined = contains.filter { !$0.isEmpty }.joined(separator: " ")
        query.nameContains = joined.isEmpty ? nil : joined
    }

    /// Sorts the rows, keeps the page, and writes the answer. `windowMinutes` is the window's
    /// length for `epm()`. Returns whether another page follows.
    @discardableResult
    package func render(_ rows: [TransactionSummaryRow], projects: [Int64: String], into writer: inout JSONWriter) -> Bool {
        let minutes = max(1, Double(query.to - query.from) / 60_000)
        let sortField = fields.first { $0.name == sort.name }!.field
        let sorted = rows.sorted { a, b in
            let (x, y) = (
                Self.sortKey(sortField, a, projects: projects, minutes: minutes),
                Self.sortKey(sortField, b, projects: projects, minutes: minutes)
            )
            if x != y { return sort.descending ? x > y : x < y }
            return (a.projectID, a.name) < (b.projectID, b.name)
        }
        let page = sorted.dropFirst(offset).prefix(perPage)
        writer.beginObject()
        writer.key("data")
        writer.beginArray()
        for row in page {
            writer.beginObject()
            for (name, field) in fields {
                writer.key(name)
                Self.write(field, row, projects: projects, minutes: minutes, into: &writer)
            }
            writer.endObject()
        }
        writer.endArray()
        writer.key("meta")
        writer.beginObject()
        writer.key("fields")
        writer.beginObject()
        for (name, field) in fields { writer.field(name, field.type.0) }
        writer.endObject()
        writer.key("units")
        writer.beginObject()
        for (name, field) in fields { writer.field(name, field.type.1) }
        writer.endObject()
        writer.field("dataset", "transactions")
        writer.field("isMetricsData", true)
        writer.endObject()
        writer.endObject()
        return sorted.count > offset + page.count
    }

    private enum SortKey: Comparable {
        case number(Double)
        case text(String)
    }

    private static func sortKey(_ field: Field, _ row: TransactionSummaryRow, projects: [Int64: String], minutes: Double) -> SortKey {
        switch field {
        case .transaction: .text(row.name)
        case .project: .text(projects[row.projectID] ?? "")
        default: .number(number(field, row, minutes: minutes) ?? -1)
        }
    }

    private static func number(_ field: Field, _ row: TransactionSummaryRow, minutes: Double) -> Double? {
        switch field {
        case .transaction, .project: nil
        case .projectID: Double(row.projectID)
        case .count: row.extrapolated.rounded()
        case .failureCount: Double(row.failures)
        case .failureRate: row.failureRate
        case .apdex: row.apdex
        case .perMinute: row.extrapolated / minutes
        case .average: row.count > 0 ? Double(row.durationSum) / Double(row.count) / 1000 : nil
        case .percentile(let quantile): row.histogram.percentile(quantile)
        }
    }

    private static func write(
        _ field: Field, _ row: TransactionSummaryRow, projects: [Int64: String], minutes: Double, into writer: inout JSONWriter
    ) {
        switch field {
        case .transaction: writer.value(row.name)
        case .project: writer.value(projects[row.projectID])
        case .projectID: writer.value(row.projectID)
        case .count: writer.value(Int64(row.extrapolated.rounded()))
        case .failureCount: writer.value(row.failures)
        default:
            if let value = number(field, row, minutes: minutes) { writer.value(rounded(value)) } else { writer.null() }
        }
    }

    /// Six significant decimals are more than any chart shows and keep the JSON short.
    static func rounded(_ value: Double) -> Double { (value * 1_000_000).rounded() / 1_000_000 }
}
