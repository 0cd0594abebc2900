import Foundation
import PitModel
import PitQuery
import PitStorage
import Testing

/// Sentry's stats_v2 API: parameters checked, error categories folded as Sentry folds them, the
/// answer's shape (groups with `by`, `totals` and `series`, one point per interval).
@Suite struct StatsV2RequestTests {
    static let now = Int64(receiveTime * 1000)
    static let hour = now / 3_600_000

    func request(_ query: [(String, String)]) throws(IngestError) -> StatsV2Request {
        try StatsV2Request(parameters: query, nowMilliseconds: Self.now)
    }

    func render(_ request: StatsV2Request, _ rows: [OutcomeRow]) throws -> [String: Any] {
        var writer = JSONWriter()
        request.render(rows, into: &writer)
        return try #require(try JSONSerialization.jsonObject(with: Data(writer.bytes)) as? [String: Any])
    }

    static func row(
        _ outcome: OutcomeKind, _ category: String, reason: String = "", _ quantity: Int64, hour: Int64 = hour, project: Int64 = 1
    ) -> OutcomeRow {
        OutcomeRow(
            key: OutcomeKey(projectID: project, hour: hour, outcome: outcome, category: category, reason: reason),
            tally: OutcomeTally(quantity: quantity, timesSeen: 1))
    }

    static let rows = [
        row(.accepted, "error", 5, hour: hour - 2), row(.accepted, "default", 2), row(.accepted, "security", 1),
        row(.accepted, "attachment", 4096), row(.rateLimited, "default", reason: "key_quota", 3),
        row(.clientDiscard, "error", reason: "before_send", 4), row(.invalid, "error", reason: "too_large", 1, project: 2),
        row(.accepted, "error", 100, hour: hour - 30),
    ]

    @Test func parameters() throws {
        let request = try request([
            ("field", "sum(quantity)"), ("field", "sum(times_seen)"), ("groupBy", "outcome"), ("groupBy", "category,reason"),
            ("project", "1"), ("project", "-1"), ("category", "error"), ("outcome", "accepted"), ("statsPeriod", "24h"), ("interval", "1h"),
        ])
        #expect(request.fields == [.quantity, .timesSeen] && request.groupBy == [.outcome, .category, .reason])
        #expect(request.projectIDs == [1] && request.categories == ["error"] && request.outcomes == [.accepted])
        #expect(request.intervals.intervalCount == 24 && request.intervals.lastHour == Self.hour)
        for bad in [
            [("groupBy", "outcome")], [("field", "sum(bytes)")], [("field", "sum(quantity)"), ("groupBy", "key")],
            [("field", "sum(quantity)"), ("outcome", "lost")], [("field", "sum(quantity)"), ("category", "Error!")],
            [("field", "sum(quantity)"), ("project", "x")], [("field", "sum(quantity)"), ("interval", "5m")],
            [("field", "sum(quantity)"), ("statsPeriod", "90d"), ("interval", "1h")],
        ] {
            #expect(throws: IngestError.self, "\(bad)") { try self.request(bad) }
        }
    }

    @Test func rendersSentrysShape() throws {
        let request = try request([
            ("field", "sum(quantity)"), ("groupBy", "outcome"), ("groupBy", "category"), ("groupBy", "reason"), ("project", "1"),
            ("statsPeriod", "24h"), ("interval", "1h"),
        ])
        let json = try render(request, Self.rows.filter { $0.key.projectID == 1 })
        #expect((json["intervals"] as? [String])?.count == 24)
        #expect(json["start"] as? String == Timestamp.format(milliseconds: (Self.hour - 23) * 3_600_000))
        #expect(json["end"] as? String == Timestamp.format(milliseconds: (Self.hour + 1) * 3_600_000))
        let groups = try #require(json["groups"] as? [[String: Any]])
        var totals: [String: Int] = [:]
        for group in groups {
            let by = try #require(group["by"] as? [String: String])
            totals["\(by["outcome"]!)/\(by["category"]!)/\(by["reason"]!)"] = (group["totals"] as? [String: Int])?["sum(quantity)"]
            let series = try #require((group["series"] as? [String: [Int]])?["sum(quantity)"])
            #expect(series.count == 24 && series.reduce(0, +) == totals["\(by["outcome"]!)/\(by["category"]!)/\(by["reason"]!)"])
        }
        // Default and security events are errors in stats_v2; the row outside the period is left out.
        #expect(
            totals == [
                "accepted/error/none": 8, "accepted/attachment/none": 4096, "rate_limited/error/key_quota": 3,
                "client_discard/error/before_send": 4,
            ])
        let accepted = try #require(
            groups.first {
                ($0["by"] as? [String: String])?["outcome"] == "accepted" && ($0["by"] as? [String: String])?["category"] == "error"
            })
        let series = try #require((accepted["series"] as? [String: [Int]])?["sum(quantity)"])
        #expect(series[21] == 5 && series[23] == 3)
    }

    @Test func filtersAndProjects() throws {
        let errors = try render(
            try request([("field", "sum(times_seen)"), ("groupBy", "project"), ("category", "error"), ("outcome", "accepted,invalid")]),
            Self.rows)
        let groups = try #require(errors["groups"] as? [[String: Any]])
        #expect(groups.map { ($0["by"] as? [String: Int])?["project"] } == [1, 2])
        #expect(groups.map { ($0["totals"] as? [String: Int])?["sum(times_seen)"] } == [3, 1])
        // Not grouped: one group, even when nothing matches.
        let none = try render(try request([("field", "sum(quantity)"), ("category", "replay")]), Self.rows)
        let only = try #require((none["groups"] as? [[String: Any]])?.first)
        #expect((only["by"] as? [String: Any])?.isEmpty == true && (only["totals"] as? [String: Int])?["sum(quantity)"] == 0)
    }

    @Test func summaryForThePanel() {
        let summary = OutcomeSummary(rows: Self.rows.filter { $0.key.projectID == 1 })
        #expect(summary.categories.map(\.name) == ["attachment", "error"])
        let errors = summary.categories[1]
        #expect(errors.quantity(.accepted) == 108 && errors.quantity(.rateLimited) == 3 && errors.quantity(.clientDiscard) == 4)
        #expect(errors.lines.first { $0.outcome == .clientDiscard }?.reasons.map { $0.reason } == ["before_send"])
    }
}
