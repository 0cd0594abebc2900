package import PitModel

/// Numbers a client puts in a query string, converted without trapping.
///
/// `Int64(Double)` traps on NaN, infinities and values past ±2^63, and Int64 arithmetic traps on
/// overflow; either takes the whole process down (with ack=queued, the queue with it). Every
/// number a client hands the read API goes through here first and comes out bounded, or the
/// request is a 400.
package enum ClientNumber {
    /// Unix seconds Pit accepts from a client: 0 through the end of year 9999, the range
    /// `Timestamp.format` renders. Arithmetic on values in this range cannot overflow Int64.
    package static let unixSecondsRange: ClosedRange<Int64> = 0...253_402_300_799

    /// Unix seconds as Sentry's clients send them (`1700000000` or `1700000000.25`), rounded down.
    package static func unixSeconds(_ text: String, name: String) throws(IngestError) -> Int64 {
        guard let value = Double(text.trimmingSpaces), value.isFinite,
            let seconds = Int64(exactly: value.rounded(.down)), unixSecondsRange.contains(seconds)
        else { throw .badRequest("\(name) must be unix seconds between 0 and \(unixSecondsRange.upperBound)") }
        return seconds
    }
}

/// The hour buckets of `GET /api/0/projects/{org}/{project}/stats/`: `since`/`until` in unix
/// seconds (the last 24 hours by default), at most `maxSpanSeconds` apart, `resolution=1h`.
package struct StatsWindow: Sendable, Equatable {
    package var fromHour: Int64
    package var toHour: Int64

    package static let maxSpanSeconds: Int64 = 90 * 86400

    package init(since: String?, until: String?, resolution: String?, nowSeconds: Int64) throws(IngestError) {
        if let resolution, resolution != "1h" { throw .badRequest("resolution must be 1h") }
        let until = try until.map { (text) throws(IngestError) in try ClientNumber.unixSeconds(text, name: "until") } ?? nowSeconds
        let since =
            try since.map { (text) throws(IngestError) in try ClientNumber.unixSeconds(text, name: "since") }
            ?? max(ClientNumber.unixSecondsRange.lowerBound, until - 23 * 3600)
        // Both are inside `unixSecondsRange`, so neither subtraction can overflow.
        guard since <= until, until - since <= Self.maxSpanSeconds else {
            throw .badRequest("since must precede until by at most 90 days")
        }
        fromHour = since / 3600
        toHour = until / 3600
    }
}
