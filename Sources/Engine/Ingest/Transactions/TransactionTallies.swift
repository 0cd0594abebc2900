package import PitStorage

/// What a batch's stored transactions add to the pre-aggregated metrics: per project,
/// transaction name, release, environment and minute (of the transaction's end, Sentry's
/// timestamp), counted once for both back ends. SQLite upserts them into `transaction_minutes`
/// and `transaction_hours`; PostgreSQL appends them as deltas (`PostgresRollup` folds them).
package struct TransactionTallies: Sendable {
    package struct Key: Hashable, Comparable, Sendable {
        package var projectID: Int64
        package var minute: Int64
        package var name: String
        /// "" when the transaction named none.
        package var release: String
        package var environment: String

        package static func < (a: Key, b: Key) -> Bool {
            (a.projectID, a.minute, a.name, a.release, a.environment) < (b.projectID, b.minute, b.name, b.release, b.environment)
        }

        /// The same key an hour wide.
        package var hourKey: Key {
            var key = self
            key.minute = minute / 60
            return key
        }
    }

    package struct Tally: Sendable, Equatable {
        package var count: Int64 = 0
        package var failures: Int64 = 0
        /// The count extrapolated by each transaction's sample rate.
        package var extrapolated: Double = 0
        package var satisfied: Int64 = 0
        package var tolerated: Int64 = 0
        /// Microseconds.
        package var durationSum: Int64 = 0
        package var histogram = DurationHistogram()

        package init() {}

        package mutating func add(_ other: Tally) {
            count += other.count
            failures += other.failures
            extrapolated += other.extrapolated
            satisfied += other.satisfied
            tolerated += other.tolerated
            durationSum += other.durationSum
            histogram.add(other.histogram)
        }
    }

    package private(set) var minutes: [Key: Tally] = [:]

    package init() {}

    package var isEmpty: Bool { minutes.isEmpty }

    /// Counts one stored transaction against its project's Apdex threshold (milliseconds).
    package mutating func add(_ record: TransactionRecord, apdexThreshold: Int64) {
        let key = Key(
            projectID: record.projectID, minute: (record.start + record.duration) / 60_000_000, name: record.name,
            release: record.release ?? "", environment: record.environment)
        var tally = minutes[key] ?? Tally()
        tally.count += 1
        if TransactionStatus.isFailure(record.status) { tally.failures += 1 }
        tally.extrapolated += record.extrapolatedCount
        switch Apdex.verdict(durationMicroseconds: record.duration, thresholdMilliseconds: apdexThreshold) {
        case .satisfied: tally.satisfied += 1
        case .tolerated: tally.tolerated += 1
        case .frustrated: break
        }
        tally.durationSum += record.duration
        tally.histogram.add(microseconds: record.duration)
        minutes[key] = tally
    }

    /// The minute rows in key order (so concurrent writers lock rows in one order).
    package var sortedMinutes: [(key: Key, tally: Tally)] {
        minutes.keys.sorted().map { ($0, minutes[$0]!) }
    }

    /// The same counts an hour wide, in key order.
    package var sortedHours: [(key: Key, tally: Tally)] {
        var hours: [Key: Tally] = [:]
        for (key, tally) in minutes { hours[key.hourKey, default: Tally()].add(tally) }
        return hours.keys.sorted().map { ($0, hours[$0]!) }
    }
}
