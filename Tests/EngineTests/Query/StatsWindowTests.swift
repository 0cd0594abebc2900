import PitModel
import PitQuery
import Testing

/// Client numbers of the read API (issue 10): each of these trapped in `Int64(Double)` or in the
/// subtraction after it, taking the process down.
@Suite struct StatsWindowTests {
    static let now: Int64 = 1_700_000_000

    @Test(
        arguments: [
            ("nan", nil), ("NaN", nil), ("inf", nil), ("-inf", nil), ("infinity", nil), ("1e300", nil), ("-1e300", nil),
            ("9.3e18", nil), ("-9.3e18", nil), ("9223372036854775807", nil), ("abc", nil), ("", nil),
            (nil, "nan"), (nil, "-1e300"), (nil, "-9.3e18"), (nil, "-9223372036854775808"), (nil, "1e19"),
            ("1e300", "-1e300"), ("1600000000", "1700000000"), ("0", "1e300"),
        ] as [(String?, String?)])
    func hostileNumbersAreBadRequests(until: String?, since: String?) {
        let error = #expect(throws: IngestError.self) {
            try StatsWindow(since: since, until: until, resolution: nil, nowSeconds: Self.now)
        }
        #expect(error?.status == 400)
    }

    @Test(arguments: ["1d", "nan", "", "1h "])
    func onlyHourlyResolution(resolution: String) {
        #expect(throws: IngestError.self) { try StatsWindow(since: nil, until: nil, resolution: resolution, nowSeconds: Self.now) }
    }

    @Test func defaultsToTheLast24Hours() throws {
        let window = try StatsWindow(since: nil, until: nil, resolution: "1h", nowSeconds: Self.now)
        #expect(window.toHour == Self.now / 3600)
        #expect(window.toHour - window.fromHour == 23)
    }

    @Test func fractionalSecondsAndNinetyDays() throws {
        let window = try StatsWindow(since: "1699992800.75", until: "1700000000.5", resolution: nil, nowSeconds: Self.now)
        #expect(window.fromHour == 1_699_992_800 / 3600 && window.toHour == Self.now / 3600)
        _ = try StatsWindow(
            since: String(Self.now - StatsWindow.maxSpanSeconds), until: String(Self.now), resolution: nil,
            nowSeconds: Self.now)
        #expect(throws: IngestError.self) {
            try StatsWindow(
                since: String(Self.now - StatsWindow.maxSpanSeconds - 1), until: String(Self.now), resolution: nil,
                nowSeconds: Self.now)
        }
        // Near the epoch the default `since` is clamped rather than negative.
        let early = try StatsWindow(since: nil, until: "3600", resolution: nil, nowSeconds: Self.now)
        #expect(early.fromHour == 0 && early.toHour == 1)
    }
}
