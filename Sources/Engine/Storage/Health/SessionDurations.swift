import Foundation

/// Session durations kept as counts in fixed logarithmic buckets, so p50 and p90 are read from a
/// few rows per release and hour instead of a row per session. Four buckets per doubling: a
/// percentile is off by at most 9 % of its value (half a bucket, 2^(1/8)), and 128 buckets
/// cover up to 2^32 seconds, far past any session.
package enum SessionDurations {
    package static let bucketsPerDoubling = 4.0
    package static let bucketCount: Int64 = 128

    /// The bucket of a duration in seconds (negative or not finite: nil, not counted).
    package static func bucket(seconds: Double) -> Int64? {
        guard seconds.isFinite, seconds >= 0 else { return nil }
        let index = log2(seconds + 1) * bucketsPerDoubling
        return min(Int64(index.rounded(.down)), bucketCount - 1)
    }

    /// The value that stands for a bucket: its geometric middle, in seconds.
    package static func representative(_ bucket: Int64) -> Double {
        max(0, exp2((Double(bucket) + 0.5) / bucketsPerDoubling) - 1)
    }

    /// The `quantile` (0...1) of the durations counted in `counts` (bucket → sessions); nil
    /// when there are none.
    package static func percentile(_ quantile: Double, of counts: [Int64: Int64]) -> Double? {
        let total = counts.values.reduce(0, +)
        guard total > 0 else { return nil }
        // Nearest rank: the smallest bucket with at least `quantile` of the sessions at or below it.
        let rank = max(1, Int64((quantile * Double(total)).rounded(.up)))
        var seen: Int64 = 0
        for bucket in counts.keys.sorted() {
            seen += counts[bucket] ?? 0
            if seen >= rank { return representative(bucket) }
        }
        return counts.keys.max().map(representative)
    }
}
