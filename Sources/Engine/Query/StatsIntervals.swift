package import PitModel
import PitStorage

/// The hour-aligned intervals a stats request asks for (Sentry's `interval`, with `statsPeriod`
/// or `start`/`end`), shared by the sessions and `stats_v2` APIs. A bad parameter is a 400 with
/// Sentry's kind of message.
package struct StatsIntervals: Sendable, Equatable {
    /// The first hour (since the epoch) of the first interval, the interval's length in hours,
    /// and how many intervals there are.
    package var firstHour: Int64
    package var intervalHours: Int64
    package var intervalCount: Int64

    /// Sentry's bound on the points of a series.
    package static let maxIntervals: Int64 = 1000

    package init(interval: String?, statsPeriod: String?, start: String?, end: String?, nowMilliseconds: Int64) throws(IngestError) {
        let intervalText = interval ?? "1h"
        guard let interval = IssueQuery.relativeSpan(intervalText), interval % 3_600_000 == 0 else {
            throw .badRequest("The interval has to be a multiple of one hour (1h, 6h, 1d)")
        }
        intervalHours = interval / 3_600_000
        if start != nil || end != nil {
            // An absolute range: the intervals that overlap [start, end).
            let range = ClientNumber.unixSecondsRange
            guard let start = start.flatMap(Timestamp.parse), let end = end.flatMap(Timestamp.parse), start.isFinite,
                end.isFinite, Double(range.lowerBound) <= start, start < end, end <= Double(range.upperBound)
            else { throw .badRequest("start and end must both be timestamps, start before end") }
            firstHour = Int64(start) / 3600 / intervalHours * intervalHours
            let lastStart = (Int64(end.rounded(.up)) - 1) / 3600 / intervalHours * intervalHours
            intervalCount = (lastStart - firstHour) / intervalHours + 1
        } else {
            let periodText = statsPeriod ?? "24h"
            guard let period = IssueQuery.relativeSpan(periodText) else { throw .badRequest("Invalid statsPeriod: \"\(periodText)\"") }
            let periodHours = max(1, (period + 3_599_999) / 3_600_000)
            intervalCount = (periodHours + intervalHours - 1) / intervalHours
            let lastStart = HourlyCounts.hour(ofMilliseconds: nowMilliseconds) / intervalHours * intervalHours
            firstHour = lastStart - (intervalCount - 1) * intervalHours
        }
        guard intervalCount <= Self.maxIntervals else {
            throw .badRequest("Your interval and date range would create too many results. Use a larger interval, or a smaller date range.")
        }
    }

    /// The last hour of the last interval.
    package var lastHour: Int64 { firstHour + intervalCount * intervalHours - 1 }

    /// The interval an hour falls in, nil outside the range.
    package func index(ofHour hour: Int64) -> Int? {
        guard hour >= firstHour, hour <= lastHour else { return nil }
        return Int((hour - firstHour) / intervalHours)
    }

    /// `start`, `end` and `intervals` as Sentry writes them.
    package func writeRange(into writer: inout JSONWriter) {
        writer.field("start", Timestamp.format(milliseconds: firstHour * 3_600_000))
        writer.field("end", Timestamp.format(milliseconds: (lastHour + 1) * 3_600_000))
        writer.key("intervals")
        writer.beginArray()
        for index in 0..<intervalCount { writer.value(Timestamp.format(milliseconds: (firstHour + index * intervalHours) * 3_600_000)) }
        writer.endArray()
    }
}
