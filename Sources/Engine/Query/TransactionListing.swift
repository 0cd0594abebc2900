package import PitStorage

/// The performance pages' periods: how far back each looks and how many bars its sparklines get
/// (a whole number of minutes or hours each, so no bar is wider than another).
package enum PerformancePeriod: String, Sendable, CaseIterable {
    case hour = "1h"
    case day = "24h"
    case week = "7d"
    case fortnight = "14d"

    package var label: String {
        switch self {
        case .hour: "Last hour"
        case .day: "Last 24 hours"
        case .week: "Last 7 days"
        case .fortnight: "Last 14 days"
        }
    }

    package var milliseconds: Int64 {
        switch self {
        case .hour: 3_600_000
        case .day: 86_400_000
        case .week: 7 * 86_400_000
        case .fortnight: 14 * 86_400_000
        }
    }

    /// 2 minutes, 1 hour, 6 hours, 12 hours.
    package var sparklineBars: Int {
        switch self {
        case .hour: 30
        case .day: 24
        case .week: 28
        case .fortnight: 28
        }
    }

    package static let standard = PerformancePeriod.day
}

/// The transaction summary list: one row per transaction name with the figures the aggregates
/// give (throughput, percentiles from the histogram, failure rate, Apdex) and a sparkline of its
/// counts over the window; sorted by any column.
package struct TransactionListing: Sendable {
    package enum Column: String, Sendable, CaseIterable {
        case name = "transaction"
        case perMinute = "tpm"
        case p50, p95, p99
        case failureRate = "failure_rate"
        case apdex, count
    }

    package struct Row: Sendable {
        package var summary: TransactionSummaryRow
        /// Transactions per minute, extrapolated by sample rate as `count()` is.
        package var perMinute: Double
        /// Milliseconds.
        package var p50: Double?
        package var p95: Double?
        package var p99: Double?
        package var sparkline: [Int64]

        package var name: String { summary.name }
    }

    package private(set) var rows: [Row]

    /// `series` must come from the same query as `summaries` (`TransactionSQL.series`).
    package init(summaries: [TransactionSummaryRow], series: [TransactionSeriesRow], query: TransactionSummaryQuery, bars: Int) {
        let minutes = max(1, Double(query.to - query.from) / 60_000)
        let scale: Int64 = query.readsHours ? 3_600_000 : 60_000
        let first = query.from / scale
        let units = max(1, (query.to + scale - 1) / scale - first)
        var perName: [String: [Int64: Int64]] = [:]
        for row in series { perName[row.name, default: [:]][row.unit, default: 0] += row.count }
        rows = summaries.map { summary in
            Row(
                summary: summary, perMinute: summary.extrapolated / minutes, p50: summary.histogram.percentile(0.5),
                p95: summary.histogram.percentile(0.95), p99: summary.histogram.percentile(0.99),
                sparkline: Self.fold(perName[summary.name] ?? [:], firstUnit: first, units: units, bars: bars))
        }
        sort(by: .perMinute, descending: true)
    }

    /// Counts per unit folded into `bars` equal bars, oldest first; units outside are dropped.
    package static func fold(_ counts: [Int64: Int64], firstUnit: Int64, units: Int64, bars: Int) -> [Int64] {
        var values = [Int64](repeating: 0, count: max(bars, 1))
        for (unit, count) in counts {
            let offset = unit - firstUnit
            guard offset >= 0, offset < units else { continue }
            values[Int(offset * Int64(values.count) / units)] += count
        }
        return values
    }

    /// Ties (and missing figures, which sort last either way) fall back to the name.
    package mutating func sort(by column: Column, descending: Bool) {
        rows.sort { a, b in
            if column == .name { return descending ? a.name > b.name : a.name < b.name }
            let (x, y) = (Self.value(column, a), Self.value(column, b))
            switch (x, y) {
            case (let x?, let y?) where x != y: return descending ? x > y : x < y
            case (nil, _?): return false
            case (_?, nil): return true
            default: return a.name < b.name
            }
        }
    }

    private static func value(_ column: Column, _ row: Row) -> Double? {
        switch column {
        case .name: nil
        case .perMinute: row.perMinute
        case .p50: row.p50
        case .p95: row.p95
        case .p99: row.p99
        case .failureRate: row.summary.failureRate
        case .apdex: row.summary.apdex
        case .count: row.summary.extrapolated
        }
    }
}
