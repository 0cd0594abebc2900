import Foundation
import PitModel
import PitQuery
import PitStorage
import Testing

/// Sentry's sessions API: parameters checked, intervals aligned to hours, the answer's shape.
@Suite struct SessionsRequestTests {
    static let now = Int64(receiveTime * 1000)

    func request(_ query: [(String, String)]) throws(IngestError) -> SessionsRequest {
        try SessionsRequest(parameters: query, nowMilliseconds: Self.now)
    }

    @Test func parameters() throws {
        let request = try request([
            ("field", "sum(session)"), ("field", "count_unique(user)"), ("groupBy", "session.status"), ("groupBy", "release"),
            ("project", "1"), ("statsPeriod", "24h"), ("interval", "1h"), ("query", "release:\"app 1\" environment:prod"),
        ])
        #expect(request.fields == [.sessions, .users])
        #expect(request.groupBy == [.status, .release])
        #expect(request.projectIDs == [1])
        #expect(request.releases == ["app 1"] && request.environments == ["prod"])
        #expect(request.intervalCount == 24 && request.intervalHours == 1)
        #expect(request.lastHour == Self.now / 3_600_000)
        let daily = try self.request([("field", "sum(session)"), ("statsPeriod", "14d"), ("interval", "1d")])
        #expect(daily.intervalCount == 14 && daily.firstHour % 24 == 0)
        let absolute = try self.request([
            ("field", "sum(session)"), ("start", "2023-11-14T10:30:00Z"), ("end", "2023-11-14T13:00:00Z"), ("interval", "1h"),
        ])
        #expect(absolute.intervalCount == 3 && absolute.firstHour == Int64(Timestamp.parse("2023-11-14T10:00:00Z")!) / 3600)

        for bad in [
            [("groupBy", "release")], [("field", "sum(transaction)")], [("field", "sum(session)"), ("groupBy", "user")],
            [("field", "sum(session)"), ("interval", "5m")], [("field", "sum(session)"), ("statsPeriod", "forever")],
            [("field", "sum(session)"), ("statsPeriod", "90d"), ("interval", "1h")], [("field", "sum(session)"), ("project", "x")],
            [("field", "crash_free_rate(session)"), ("groupBy", "session.status")], [("field", "sum(session)"), ("query", "user:1")],
            [("field", "sum(session)"), ("start", "2023-11-14T10:00:00Z")],
            [("field", "sum(session)"), ("start", "2023-11-14T10:00:00Z"), ("end", "2023-11-14T09:00:00Z")],
            [("field", "sum(session)"), ("start", "1e300"), ("end", "1e301")],
        ] {
            #expect(throws: IngestError.self, "\(bad)") { try self.request(bad) }
        }
    }

    @Test func rendersGroupsTotalsAndSeries() throws {
        let request = try request([
            ("field", "sum(session)"), ("field", "count_unique(user)"), ("groupBy", "session.status"), ("groupBy", "release"),
            ("statsPeriod", "2h"), ("interval", "1h"),
        ])
        var totals = SessionStats()
        totals.sessions[SessionGroup(release: "1.0")] = SessionTally(started: 10, errored: 2, abnormal: 1, crashed: 3)
        totals.users[SessionGroup(release: "1.0")] = [.healthy: 4, .crashed: 1]
        var series = SessionStats()
        series.sessions[SessionGroup(release: "1.0", interval: 1)] = SessionTally(started: 10, errored: 2, abnormal: 1, crashed: 3)
        var writer = JSONWriter()
        request.render(totals: totals, series: series, into: &writer)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(writer.bytes)) as? [String: Any])
        #expect((json["intervals"] as? [String])?.count == 2)
        #expect(json["start"] as? String != nil && json["end"] as? String != nil && json["query"] as? String == "")
        let groups = try #require(json["groups"] as? [[String: Any]])
        #expect(groups.count == 4)
        func group(_ status: String) -> [String: Any]? {
            groups.first { ($0["by"] as? [String: String])?["session.status"] == status }
        }
        #expect((group("healthy")?["totals"] as? [String: Int])?["sum(session)"] == 4)
        #expect((group("crashed")?["totals"] as? [String: Int])?["sum(session)"] == 3)
        #expect((group("crashed")?["totals"] as? [String: Int])?["count_unique(user)"] == 1)
        #expect((group("errored")?["series"] as? [String: [Int]])?["sum(session)"] == [0, 2])
        #expect((group("abnormal")?["by"] as? [String: String])?["release"] == "1.0")
    }
}
