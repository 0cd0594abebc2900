import PitModel
package import PitStorage

/// The span pages' figures from a sample of transactions' spans (`ReadStore.spanSample`): per op
/// and normalised description, how often it ran, how long in total, on average and at p95, and
/// how many times per transaction. The description was normalised at ingest (`SpanDescription`
/// masks SQL literals and URL ids), so the same query with other ids is one group, and a query
/// run once per item of a list (N+1) shows as many runs per transaction.
package struct SpanSummary: Sendable {
    package struct Group: Sendable, Equatable {
        package var op: String
        package var description: String
        package var count: Int
        /// Microseconds, summed.
        package var total: Int64
        /// Microseconds, nearest rank.
        package var p95: Int64
        /// Transactions of the sample it ran in.
        package var transactions: Int
        /// The most runs in one transaction.
        package var maxPerTransaction: Int

        /// Microseconds.
        package var average: Double { count > 0 ? Double(total) / Double(count) : 0 }
        /// Runs per transaction that ran it.
        package var perTransaction: Double { transactions > 0 ? Double(count) / Double(transactions) : 0 }
    }

    /// One op's share of the time spent in spans.
    package struct OpShare: Sendable, Equatable {
        package var op: String
        package var count: Int
        /// Microseconds.
        package var total: Int64
        /// Of all the sample's span time, 0…1.
        package var share: Double
    }

    package enum Sort: String, Sendable, CaseIterable {
        case total, count
        case average = "avg"
        case p95
        case perTransaction = "per_transaction"
    }

    package private(set) var groups: [Group]
    /// Most time first.
    package private(set) var ops: [OpShare]
    package var transactions: Int
    /// Microseconds.
    package var transactionTime: Int64
    package var spanCount: Int
    /// Microseconds.
    package var spanTime: Int64
    package var truncated: Bool

    private struct Key: Hashable {
        var op: String
        var description: String
    }

    private struct Segment: Hashable {
        var trace: TraceID
        var span: SpanID
    }

    package init(_ sample: SpanSample) {
        var durations: [Key: [Int64]] = [:]
        var runs: [Key: [Segment: Int]] = [:]
        var opTotals: [String: (count: Int, total: Int64)] = [:]
        var spanTime: Int64 = 0
        for span in sample.spans {
            let key = Key(op: span.op, description: span.description)
            durations[key, default: []].append(span.duration)
            runs[key, default: [:]][Segment(trace: span.traceID, span: span.segmentID), default: 0] += 1
            opTotals[span.op, default: (0, 0)].count += 1
            opTotals[span.op, default: (0, 0)].total += span.duration
            spanTime += span.duration
        }
        groups = durations.map { key, values in
            let sorted = values.sorted()
            let perSegment = runs[key] ?? [:]
            return Group(
                op: key.op, description: key.description, count: sorted.count, total: sorted.reduce(0, +),
                p95: Self.nearestRank(sorted, 0.95), transactions: perSegment.count, maxPerTransaction: perSegment.values.max() ?? 0)
        }
        ops = opTotals.map { op, totals in
            OpShare(op: op, count: totals.count, total: totals.total, share: spanTime > 0 ? Double(totals.total) / Double(spanTime) : 0)
        }.sorted { ($0.total, $1.op) > ($1.total, $0.op) }
        transactions = sample.transactions
        transactionTime = sample.transactionTime
        spanCount = sample.spans.count
        self.spanTime = spanTime
        truncated = sample.truncated
        sort(by: .total)
    }

    /// Highest first; ties by op and description, so the order is stable.
    package mutating func sort(by column: Sort) {
        groups.sort { a, b in
            let (x, y) = (Self.value(column, a), Self.value(column, b))
            if x != y { return x > y }
            return (a.op, a.description) < (b.op, b.description)
        }
    }

    private static func value(_ column: Sort, _ group: Group) -> Double {
        switch column {
        case .total: Double(group.total)
        case .count: Double(group.count)
        case .average: group.average
        case .p95: Double(group.p95)
        case .perTransaction: group.perTransaction
        }
    }

    /// The value at rank ⌈q·n⌉ of ascending `values` (0 when empty).
    package static func nearestRank(_ sorted: [Int64], _ quantile: Double) -> Int64 {
        guard !sorted.isEmpty else { return 0 }
        let rank = Int((quantile * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}
