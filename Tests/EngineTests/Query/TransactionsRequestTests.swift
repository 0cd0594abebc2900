import Foundation
import PitModel
import PitQuery
import PitStorage
import Testing

@Suite struct TransactionsRequestTests {
    static let now: Int64 = 1_764_000_000_000

    static func row(_ name: String, count: Int64, failures: Int64 = 0, milliseconds: Int64, project: Int64 = 1) -> TransactionSummaryRow {
        var histogram = DurationHistogram()
        histogram.add(microseconds: milliseconds * 1000, count: count)
        return TransactionSummaryRow(
            projectID: project, name: name, count: count, failures: failures, extrapolated: Double(count) * 2, satisfied: count,
            tolerated: 0, durationSum: milliseconds * 1000 * count, histogram: histogram)
    }

    @Test func parametersBecomeTheQuery() throws {
        let request = try TransactionsRequest(
            parameters: [
                ("dataset", "transactions"), ("field", "transaction"), ("field", "count()"), ("field", "p95(transaction.duration)"),
                ("project", "3"), ("statsPeriod", "1h"), ("sort", "-count()"), ("query", "event.type:transaction transaction:*checkout*"),
                ("environment", "prod"), ("per_page", "2"), ("cursor", "0:4:0"),
            ], nowMilliseconds: Self.now)
        #expect(request.fields.map(\.name) == ["transaction", "count()", "p95(transaction.duration)"])
        #expect(request.projectIDs == [3] && request.query.from == Self.now - 3_600_000 && request.query.to == Self.now)
        #expect(request.query.nameContains == "checkout" && request.query.environments == ["prod"])
        #expect(request.sort.name == "count()" && request.sort.descending && request.perPage == 2 && request.offset == 4)
    }

    @Test(arguments: [
        [("field", "bogus()")], [("field", "transaction"), ("sort", "-count()")], [("statsPeriod", "forever")],
        [("query", "user.email:a@b.c")], [("cursor", "x")], [("project", "abc")],
    ])
    func badParametersAreRefused(_ parameters: [(String, String)]) {
        #expect(throws: IngestError.self) { _ = try TransactionsRequest(parameters: parameters, nowMilliseconds: Self.now) }
    }

    @Test func theTableIsSortedPagedAndTyped() throws {
        let request = try TransactionsRequest(
            parameters: [
                ("field", "transaction"), ("field", "project"), ("field", "count()"), ("field", "p50(transaction.duration)"),
                ("field", "failure_rate()"), ("field", "apdex()"), ("field", "epm()"), ("sort", "-p50(transaction.duration)"),
                ("per_page", "2"), ("statsPeriod", "10m"),
            ], nowMilliseconds: Self.now)
        var writer = JSONWriter()
        let more = request.render(
            [
                Self.row("fast", count: 10, milliseconds: 5), Self.row("slow", count: 4, failures: 1, milliseconds: 900),
                Self.row("mid", count: 1, milliseconds: 90),
            ], projects: [1: "shop"], into: &writer)
        #expect(more)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(writer.string.utf8)) as? [String: Any])
        let data = try #require(body["data"] as? [[String: Any]])
        #expect(data.map { $0["transaction"] as? String } == ["slow", "mid"])
        #expect(data[0]["count()"] as? Int == 8 && data[0]["project"] as? String == "shop")
        #expect(data[0]["failure_rate()"] as? Double == 0.25 && data[0]["apdex()"] as? Double == 1)
        #expect(data[0]["epm()"] as? Double == 0.8)
        let p50 = try #require(data[0]["p50(transaction.duration)"] as? Double)
        #expect(abs(p50 - 900) / 900 < 0.13)
        let meta = try #require(body["meta"] as? [String: Any])
        #expect((meta["fields"] as? [String: String])?["p50(transaction.duration)"] == "duration")
        #expect((meta["units"] as? [String: Any])?["epm()"] as? String == "1/minute")
    }
}
