import Foundation

/// Transaction durations counted in fixed logarithmic buckets, so percentiles of any number of
/// transactions are read from a few dozen sums instead of a scan of their rows. The buckets are
/// the same for every row of every back end (they are columns `h00`…`h47` of the aggregate
/// tables), so histograms add up with SQL's `SUM`.
///
/// Bucket 0 holds durations under 1 ms; bucket k (1…46) holds [2^((k-1)/3), 2^(k/3)) ms, each a
/// factor 2^(1/3) ≈ 1.26 wider than the last; bucket 47 holds everything from 2^(46/3) ms ≈ 41 s
/// on. A percentile interpolates inside its bucket, so it is off by at most the bucket's width
/// (±13 %), and much less where the samples are spread.
package struct DurationHistogram: Sendable, Equatable {
    package static let bucketCount = 48
    /// Buckets per doubling.
    static let stepsPerOctave = 3.0

    package private(set) var counts: [Int64]

    package init() { counts = [Int64](repeating: 0, count: Self.bucketCount) }

    /// Counts as read from the aggregate columns; missing buckets are zero.
    package init(counts: [Int64]) {
        self.counts = Array(counts.prefix(Self.bucketCount))
        if self.counts.count < Self.bucketCount {
            self.counts += [Int64](repeating: 0, count: Self.bucketCount - self.counts.count)
        }
    }

    /// The column names, in bucket order.
    package static let columns: [String] = (0..<bucketCount).map { $0 < 10 ? "h0\($0)" : "h\($0)" }

    package static func bucket(microseconds: Int64) -> Int {
        let milliseconds = Double(microseconds) / 1000
        guard milliseconds >= 1 else { return 0 }
        let index = Int((log2(milliseconds) * stepsPerOctave).rounded(.down)) + 1
        return min(max(index, 1), bucketCount - 1)
    }

    /// Where bucket `index` starts, in milliseconds.
    package static func lowerBound(_ index: Int) -> Double {
        index == 0 ? 0 : pow(2, Double(index - 1) / stepsPerOctave)
    }

    package mutating func add(microseconds: Int64, count: Int64 = 1) {
        counts[Self.bucket(microseconds: microseconds)] += count
    }

    package mutating func add(_ other: DurationHistogram) {
        for index in 0..<Self.bucketCount { counts[index] += other.counts[index] }
    }

    package var total: Int64 { counts.reduce(0, +) }

    /// The duration (milliseconds) below which a fraction `quantile` (0…1) of the counted
    /// durations lie; nil when nothing was counted. Linear inside the bucket holding that rank;
    /// the open last bucket answers its lower bound.
    package func percentile(_ quantile: Double) -> Double? {
        let total = self.total
        guard total > 0 else { return nil }
        let rank = min(max(quantile, 0), 1) * Double(total)
        var below = 0.0
        for index in 0..<Self.bucketCount where counts[index] > 0 {
            let count = Double(counts[index])
            if below + count >= rank || index == Self.bucketCount - 1 {
                let lower = Self.lowerBound(index)
                guard index < Self.bucketCount - 1 else { return lower }
                let upper = Self.lowerBound(index + 1)
                let fraction = count == 0 ? 0 : max(0, rank - below) / count
                return lower + (upper - lower) * fraction
            }
            below += count
        }
        return Self.lowerBound(Self.bucketCount - 1)
    }
}

/// Apdex (Sentry's `apdex()`): satisfied transactions take at most the project's threshold T,
/// tolerated ones at most 4T; the score is (satisfied + tolerated / 2) / all.
package enum Apdex {
    package static let defaultThresholdMilliseconds: Int64 = 300
    /// A threshold from 1 ms to 10 minutes (the histogram's open bucket starts near 41 s).
    package static let thresholdRange: ClosedRange<Int64> = 1...600_000

    package static func validatedThreshold(_ milliseconds: Int64) throws(AdminError) -> Int64 {
        guard thresholdRange.contains(milliseconds) else {
            throw .invalid("the Apdex threshold is a whole number of milliseconds from 1 to 600000")
        }
        return milliseconds
    }

    package enum Verdict: Sendable, Equatable { case satisfied, tolerated, frustrated }

    package static func verdict(durationMicroseconds: Int64, thresholdMilliseconds: Int64) -> Verdict {
        let threshold = thresholdMilliseconds * 1000
        if durationMicroseconds <= threshold { return .satisfied }
        if durationMicroseconds <= threshold * 4 { return .tolerated }
        return .frustrated
    }

    package static func score(satisfied: Int64, tolerated: Int64, count: Int64) -> Double {
        count > 0 ? (Double(satisfied) + Double(tolerated) / 2) / Double(count) : 0
    }
}

/// Sentry's `failure_rate()`: a transaction failed unless its status is `ok`, `cancelled` or
/// `unknown` (span v2's `error` is a failure).
package enum TransactionStatus {
    package static func isFailure(_ status: String) -> Bool {
        !(status == "ok" || status == "cancelled" || status == "unknown")
    }
}
