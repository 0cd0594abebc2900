import Foundation
import PitStorage
import Testing

@Suite struct CronExpressionTests {
    private let utc = TimeZone(identifier: "UTC")!

    /// Seconds since the epoch of a UTC wall time.
    private func at(_ text: String) -> Int64 {
        let formatter = ISO8601DateFormatter()
        return Int64(formatter.date(from: text)!.timeIntervalSince1970)
    }

    private func next(_ expression: String, after: String, zone: String = "UTC") throws -> String? {
        let cron = try CronExpression(expression)
        guard let seconds = cron.next(after: at(after), timeZone: TimeZone(identifier: zone)!) else { return nil }
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: Double(seconds)))
    }

    @Test func fieldsRangesStepsListsAndNames() throws {
        #expect(try next("* * * * *", after: "2026-03-10T10:15:30Z") == "2026-03-10T10:16:00Z")
        #expect(try next("*/15 * * * *", after: "2026-03-10T10:15:00Z") == "2026-03-10T10:30:00Z")
        #expect(try next("5-10/2 * * * *", after: "2026-03-10T10:06:00Z") == "2026-03-10T10:07:00Z")
        #expect(try next("0 9,17 * * *", after: "2026-03-10T09:00:00Z") == "2026-03-10T17:00:00Z")
        #expect(try next("0 0 * * MON", after: "2026-03-10T00:00:00Z") == "2026-03-16T00:00:00Z")
        #expect(try next("0 0 * * mon-fri", after: "2026-03-13T12:00:00Z") == "2026-03-16T00:00:00Z", "Friday noon to Monday")
        #expect(try next("0 0 1 JAN *", after: "2026-03-10T00:00:00Z") == "2027-01-01T00:00:00Z")
        #expect(try next("0 0 * * 7", after: "2026-03-10T00:00:00Z") == "2026-03-15T00:00:00Z", "7 is Sunday")
        #expect(try next("30 12 29 2 *", after: "2026-03-01T00:00:00Z") == "2028-02-29T12:30:00Z", "the next leap day")
        #expect(try next("0 0 31 * *", after: "2026-04-01T00:00:00Z") == "2026-05-31T00:00:00Z", "April has no 31st")
        #expect(try next("10/20 * * * *", after: "2026-03-10T10:31:00Z") == "2026-03-10T10:50:00Z")
    }

    @Test func dayOfMonthOrDayOfWeekWhenBothAreRestricted() throws {
        // Vixie: the 13th or any Friday; with one field `*`, both must match.
        #expect(try next("0 0 13 * FRI", after: "2026-03-01T00:00:00Z") == "2026-03-06T00:00:00Z")
        #expect(try next("0 0 13 * *", after: "2026-03-01T00:00:00Z") == "2026-03-13T00:00:00Z")
        // `*/10` starts with `*`: not a restriction in Vixie's sense, so both must match (a Friday
        // that is the 1st, 11th, 21st or 31st).
        #expect(try next("0 0 */10 * FRI", after: "2026-03-01T00:00:00Z") == "2026-05-01T00:00:00Z")
    }

    @Test func macros() throws {
        #expect(try next("@hourly", after: "2026-03-10T10:15:00Z") == "2026-03-10T11:00:00Z")
        #expect(try next("@daily", after: "2026-03-10T10:15:00Z") == "2026-03-11T00:00:00Z")
        #expect(try next("@midnight", after: "2026-03-10T10:15:00Z") == "2026-03-11T00:00:00Z")
        #expect(try next("@weekly", after: "2026-03-10T10:15:00Z") == "2026-03-15T00:00:00Z")
        #expect(try next("@monthly", after: "2026-03-10T10:15:00Z") == "2026-04-01T00:00:00Z")
        #expect(try next("@yearly", after: "2026-03-10T10:15:00Z") == "2027-01-01T00:00:00Z")
        #expect(try next("@annually", after: "2026-03-10T10:15:00Z") == "2027-01-01T00:00:00Z")
    }

    @Test func refusesWhatIsNotACrontab() {
        for bad in [
            "", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * 32 * *", "* * * 13 *", "* * * * 8",
            "*/0 * * * *", "5-1 * * * *", "a * * * *", "1,,2 * * * *", "* * * FOO *", "@often",
            String(repeating: "1,", count: 200) + "1 * * * *",
        ] {
            #expect(throws: CronExpression.ParseError.self, "\(bad)") { try CronExpression(bad) }
        }
    }

    @Test func neverIsNil() throws {
        #expect(try next("0 0 30 2 *", after: "2026-01-01T00:00:00Z") == nil)
    }

    @Test func timeZones() throws {
        // 03:00 in Vienna: 02:00 UTC in winter, 01:00 UTC in summer.
        #expect(try next("0 3 * * *", after: "2026-01-10T12:00:00Z", zone: "Europe/Vienna") == "2026-01-11T02:00:00Z")
        #expect(try next("0 3 * * *", after: "2026-07-10T12:00:00Z", zone: "Europe/Vienna") == "2026-07-11T01:00:00Z")
        // Monday 09:00 in New York, asked on a Sunday evening there (already Monday in UTC).
        #expect(try next("0 9 * * MON", after: "2026-03-16T02:00:00Z", zone: "America/New_York") == "2026-03-16T13:00:00Z")
        // A half-hour zone.
        #expect(try next("0 0 * * *", after: "2026-03-10T00:00:00Z", zone: "Asia/Kolkata") == "2026-03-10T18:30:00Z")
    }

    @Test func daylightSavingChanges() throws {
        // Europe/Vienna springs forward on 2026-03-29 at 02:00 to 03:00: 02:30 does not exist and
        // runs when the clocks have moved on, at 03:30 CEST (01:30 UTC); the next day as usual.
        #expect(try next("30 2 * * *", after: "2026-03-28T12:00:00Z", zone: "Europe/Vienna") == "2026-03-29T01:30:00Z")
        #expect(try next("30 2 * * *", after: "2026-03-29T01:30:00Z", zone: "Europe/Vienna") == "2026-03-30T00:30:00Z")
        // Hourly across the gap: 01:00 CET (00:00 UTC), then 03:00 CEST (01:00 UTC).
        #expect(try next("0 * * * *", after: "2026-03-29T00:00:00Z", zone: "Europe/Vienna") == "2026-03-29T01:00:00Z")
        // It falls back on 2026-10-25 at 03:00 to 02:00: 02:30 occurs twice and runs once, the first time.
        #expect(try next("30 2 * * *", after: "2026-10-24T12:00:00Z", zone: "Europe/Vienna") == "2026-10-25T00:30:00Z")
        #expect(try next("30 2 * * *", after: "2026-10-25T00:30:00Z", zone: "Europe/Vienna") == "2026-10-26T01:30:00Z")
        // New York: 2026-03-08 02:00 → 03:00.
        #expect(try next("0 2 * * *", after: "2026-03-07T12:00:00Z", zone: "America/New_York") == "2026-03-08T07:00:00Z")
        #expect(try next("15 1 * * *", after: "2026-11-01T04:00:00Z", zone: "America/New_York") == "2026-11-01T05:15:00Z")
    }

    @Test func intervalsAndScheduleParsing() throws {
        let base = at("2026-01-31T10:20:30Z") * 1000
        func after(_ type: String, _ value: String, _ unit: String?) throws -> Int64? {
            try MonitorConfig.schedule(type: type, value: value, unit: unit).next(afterMilliseconds: base, timeZone: utc)
        }
        #expect(try after("interval", "5", "minute") == base + 300_000)
        #expect(try after("interval", "2", "hour") == base + 7_200_000)
        #expect(try after("interval", "1", "day") == base + 86_400_000)
        #expect(try after("interval", "1", "week") == base + 7 * 86_400_000)
        #expect(try after("interval", "1", "month") == at("2026-02-28T10:20:30Z") * 1000, "clamped to February's end")
        #expect(try after("interval", "1", "year") == at("2027-01-31T10:20:30Z") * 1000)
        // A crontab counts from the start of the check-in's minute.
        #expect(try after("crontab", "*/5 * * * *", nil) == at("2026-01-31T10:25:00Z") * 1000)
        for (type, value, unit) in [
            ("interval", "0", "hour"), ("interval", "x", "hour"), ("interval", "1", "fortnight"), ("weekly", "1", nil),
        ] {
            #expect(throws: CronExpression.ParseError.self) { try MonitorConfig.schedule(type: type, value: value, unit: unit) }
        }
    }
}
