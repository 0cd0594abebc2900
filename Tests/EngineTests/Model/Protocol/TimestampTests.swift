import PitModel
import Testing

@Suite struct TimestampTests {
    @Test(arguments: [
        ("2023-11-14T22:13:20Z", 1_700_000_000.0), ("2023-11-14T22:13:20z", 1_700_000_000), ("2023-11-14t22:13:20Z", 1_700_000_000),
        ("2023-11-14 22:13:20Z", 1_700_000_000), ("2023-11-14T22:13:20", 1_700_000_000), ("2023-11-14T22:13:20.5Z", 1_700_000_000.5),
        ("2023-11-14T22:13:20,25Z", 1_700_000_000.25), ("2023-11-14T22:13:20.000000Z", 1_700_000_000),
        ("2023-11-14T23:13:20+01:00", 1_700_000_000), ("2023-11-14T23:13:20+0100", 1_700_000_000),
        ("2023-11-14T21:13:20-01:00", 1_700_000_000), ("2023-11-15T03:43:20+05:30", 1_700_000_000),
        ("2023-11-14T22:13Z", 1_699_999_980), ("2023-11-14", 1_699_920_000), ("1970-01-01T00:00:00Z", 0),
        ("2000-02-29T12:00:00Z", 951_825_600), ("1700000000", 1_700_000_000), ("1700000000.5", 1_700_000_000.5), ("0", 0),
        ("2023-11-15T03:13:20+05", 1_700_000_000), ("2024-02-29T00:00:00Z", 1_709_164_800), ("2023-12-31T00:00:00Z", 1_703_980_800),
    ])
    func parses(text: String, expected: Double) throws {
        let value = try #require(Timestamp.parse(text))
        #expect(abs(value - expected) < 1e-6)
    }

    @Test func fractionPrecision() throws {
        let value = try #require(Timestamp.parse("2023-11-14T22:13:20.123456Z"))
        #expect(abs(value - 1_700_000_000.123456) < 1e-6)
    }

    @Test(arguments: [
        "", "yesterday", "1e400", "nan", "inf", "2023-13-01T00:00:00Z", "2023-00-10T00:00:00Z", "2023-11-32T00:00:00Z",
        "2023-11-14T24:00:00Z", "2023-11-14T22:60:00Z", "2023-11-14T22:13:61Z", "2023-11-14T22:13:20Zjunk",
        "2023-11-14T22:13:20.Z", "2023-11-14T22", "23-11-14T22:13:20Z", "2023/11/14", "2023-11-14T22:13:20+",
        String(repeating: "1", count: 65),
        // Malformed offsets and impossible days.
        "2023-11-14T22:13:20+05:", "2023-11-14T22:13:20+05:3", "2023-11-14T22:13:20+053", "2023-11-14T22:13:20+5",
        "2023-02-29T00:00:00Z", "2023-02-30", "2024-02-30", "2023-04-31T00:00:00Z", "1900-02-29",
    ])
    func rejects(text: String) {
        #expect(Timestamp.parse(text) == nil)
    }

    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"), (1_700_000_000_123, "2023-11-14T22:13:20.123Z"), (-1, "1969-12-31T23:59:59.999Z"),
        (951_825_600_000, "2000-02-29T12:00:00.000Z"), (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
    ])
    func formats(milliseconds: Int64, text: String) {
        #expect(Timestamp.format(milliseconds: milliseconds) == text)
    }

    @Test func formatSecondsTruncatesToMilliseconds() {
        #expect(Timestamp.format(1_700_000_000.5) == "2023-11-14T22:13:20.500Z")
        #expect(Timestamp.format(1_700_000_000.9999) == "2023-11-14T22:13:20.999Z")
    }

    @Test(arguments: [0, 1, 59, 10_957, 19_675, -1, -719_468, 2_932_896])
    func civilConversionsRoundTrip(days: Int) {
        let (y, m, d) = Timestamp.civilFromDays(days)
        #expect(Timestamp.daysFromCivil(year: y, month: m, day: d) == days)
    }

    @Test func civilConversionKnownValues() {
        #expect(Timestamp.daysFromCivil(year: 1970, month: 1, day: 1) == 0)
        #expect(Timestamp.daysFromCivil(year: 2000, month: 3, day: 1) == 11_017)
        #expect(Timestamp.civilFromDays(19_675) == (2023, 11, 14))
    }

    @Test func formatThenParseRoundTrips() throws {
        for millis in [Int64(0), 1_234_567_890_123, 1_700_000_000_001] {
            let parsed = try #require(Timestamp.parse(Timestamp.format(milliseconds: millis)))
            #expect(Int64((parsed * 1000).rounded()) == millis)
        }
    }
}

@Suite struct LevelTests {
    @Test func namesAndOrder() {
        #expect(Level.allCases.map(\.name) == ["debug", "info", "warning", "error", "fatal"])
        #expect(Level.allCases.map(\.rawValue) == [10, 20, 30, 40, 50])
        #expect(Level.debug < .fatal && Level.warning < .error)
        for level in Level.allCases { #expect(Level(name: level.name) == level) }
    }

    @Test(arguments: [
        (14, Level.debug), (15, .info), (24, .info), (25, .warning), (35, .error), (44, .error), (45, .fatal), (-5, .debug), (1000, .fatal),
    ])
    func numericLevels(number: Int, level: Level) {
        #expect(Level(number: number) == level)
    }

    @Test func unknownName() {
        #expect(Level(name: "verbose") == nil)
        #expect(Level(name: "") == nil)
    }
}
