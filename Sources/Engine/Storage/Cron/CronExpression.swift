package import Foundation

/// A five-field crontab expression (minute, hour, day of month, month, day of week) as Vixie cron
/// and Sentry read it: `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n` (and `a/n`, from `a` to
/// the field's end), lists, month and weekday names (`JAN`, `MON`), 7 for Sunday, and the macros
/// `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`.
package struct CronExpression: Sendable, Equatable {
    package struct ParseError: Error, Equatable, CustomStringConvertible {
        package var description: String
    }

    /// Bit sets of the allowed values: minutes 0-59, hours 0-23, days 1-31, months 1-12,
    /// weekdays 0-6 (Sunday 0).
    let minutes: UInt64
    let hours: UInt64
    let days: UInt64
    let months: UInt64
    let weekdays: UInt64
    /// Vixie's rule: when both day fields are restricted a day matching either runs; a field that
    /// starts with `*` is not a restriction.
    let daysStar: Bool
    let weekdaysStar: Bool

    /// Longer than any crontab line anyone writes; keeps a hostile one from costing anything.
    static let maxLength = 256

    private static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]
    private static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    private static let weekdayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    package init(_ text: String) throws(ParseError) {
        guard text.utf8.count <= Self.maxLength else { throw ParseError(description: "crontab expression is too long") }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let expanded = Self.macros[trimmed.lowercased()] ?? trimmed
        let fields = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard fields.count == 5 else {
            throw ParseError(description: "crontab expression must have 5 fields, got \(fields.count): \(trimmed)")
        }
        minutes = try Self.field(fields[0], 0, 59, names: [], nameBase: 0, what: "minute")
        hours = try Self.field(fields[1], 0, 23, names: [], nameBase: 0, what: "hour")
        days = try Self.field(fields[2], 1, 31, names: [], nameBase: 0, what: "day of month")
        months = try Self.field(fields[3], 1, 12, names: Self.monthNames, nameBase: 1, what: "month")
        var weekdays = try Self.field(fields[4], 0, 7, names: Self.weekdayNames, nameBase: 0, what: "day of week")
        if weekdays & (1 << 7) != 0 { weekdays = (weekdays | 1) & ~(1 << 7) }
        self.weekdays = weekdays
        daysStar = fields[2].hasPrefix("*")
        weekdaysStar = fields[4].hasPrefix("*")
    }

    private static func field(
        _ text: Substring, _ low: Int, _ high: Int, names: [String], nameBase: Int, what: String
    ) throws(ParseError) -> UInt64 {
        func fail() -> ParseError { ParseError(description: "invalid \(what) field: \(text)") }
        func value(_ token: Substring) throws(ParseError) -> Int {
            if let number = Int(token), number >= low, number <= high { return number }
            if let index = names.firstIndex(of: token.uppercased()) { return index + nameBase }
            throw fail()
        }
        var bits: UInt64 = 0
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count == 1 || pieces.count == 2 else { throw fail() }
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed > 0, parsed <= high + 1 else { throw fail() }
                step = parsed
            }
            let range = pieces[0]
            var start: Int
            var end: Int
            if range == "*" {
                start = low
                end = high
            } else if let dash = range.firstIndex(of: "-") {
                start = try value(range[..<dash])
                end = try value(range[range.index(after: dash)...])
                guard start <= end else { throw fail() }
            } else {
                start = try value(range)
                end = pieces.count == 2 ? high : start
            }
            if what == "day of week", range == "*" { end = 6 }
            var current = start
            while current <= end {
                bits |= 1 << UInt64(current)
                current += step
            }
        }
        guard bits != 0 else { throw fail() }
        return bits
    }

    /// Whether the crontab runs on this local day (`weekday` 0 = Sunday).
    func runs(month: Int, day: Int, weekday: Int) -> Bool {
        guard months & (1 << UInt64(month)) != 0 else { return false }
        let dayMatch = days & (1 << UInt64(day)) != 0
        let weekdayMatch = weekdays & (1 << UInt64(weekday)) != 0
        if daysStar || weekdaysStar { return dayMatch && weekdayMatch }
        return dayMatch || weekdayMatch
    }

    /// The first run strictly after `after` (seconds since the epoch) in `timeZone`, nil when
    /// none comes within eight years (`0 0 30 2 *`). Runs are whole minutes of local time.
    /// A local time that a daylight-saving change skips runs when the clocks have moved on (the
    /// 02:30 of a spring-forward night runs at 03:30); one that occurs twice runs the first time.
    package func next(after: Int64, timeZone: TimeZone) -> Int64? {
        let offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(after))))
        var dayNumber = CivilDate.floorDiv(after + offset, 86400)
        // From the day before: a run that local time places on the previous day may still be
        // after `after` around a daylight-saving change.
        dayNumber -= 1
        for _ in 0..<(366 * 8 + 2) {
            defer { dayNumber += 1 }
            let date = CivilDate(days: dayNumber)
            guard runs(month: date.month, day: date.day, weekday: date.weekday) else { continue }
            var best: Int64?
            hourLoop: for hour in 0..<24 where hours & (1 << UInt64(hour)) != 0 {
                for minute in 0..<60 where minutes & (1 << UInt64(minute)) != 0 {
                    let naive = dayNumber * 86400 + Int64(hour * 3600 + minute * 60)
                    let (instant, shifted) = Self.instant(localSeconds: naive, timeZone: timeZone)
                    guard instant > after else { continue }
                    best = min(best ?? instant, instant)
                    // Later times of the day come later unless a daylight-saving gap moved one.
                    if !shifted { break hourLoop }
                }
            }
            if let best { return best }
        }
        return nil
    }

    /// The instant of a local wall time: the earlier of two when it occurs twice, and when it does
    /// not occur at all, the time the same distance past the change (`shifted`).
    static func instant(localSeconds naive: Int64, timeZone: TimeZone) -> (Int64, shifted: Bool) {
        let before = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(naive - 86400))))
        let after = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(naive + 86400))))
        var valid: [Int64] = []
        for offset in [before, after] {
            let candidate = naive - offset
            if Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(candidate)))) == offset { valid.append(candidate) }
        }
        if let first = valid.min() { return (first, false) }
        return (naive - before, true)
    }
}

/// A proleptic Gregorian date from a day count since 1970-01-01 (Howard Hinnant's algorithm), so
/// day arithmetic needs no calendar object.
struct CivilDate: Equatable {
    var year: Int
    var month: Int
    var day: Int
    /// 0 = Sunday.
    var weekday: Int

    init(days: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        day = Int(doy - (153 * mp + 2) / 5 + 1)
        month = Int(mp < 10 ? mp + 3 : mp - 9)
        year = Int(yoe + era * 400) + (month <= 2 ? 1 : 0)
        weekday = Int(Self.floorMod(days + 4, 7))
    }

    static func days(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }
    static func floorMod(_ a: Int64, _ b: Int64) -> Int64 { a - floorDiv(a, b) * b }
}
