import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PitModel
import PitStorage
import Testing

@testable import PitdServer

/// `GET /api/0/organizations/{org}/stats_v2/` and the project stats page, fed by envelopes
/// through the live ingest path.
@Suite struct StatsV2RoutesTests {
    @Test func outcomesAreServedInSentrysShape() async throws {
        let server = try await TestServer()
        let readOnly = try await server.token([.read])
        try await server.test(.live) { client in
            let report =
                #"{"timestamp":\#(Date().timeIntervalSince1970),"discarded_events":[{"reason":"before_send","category":"error","quantity":3}]}"#
            let event = #"{"exception":{"values":[{"type":"KeyError","value":"k"}]}}"#
            let response = try await client.execute(
                uri: "/api/\(server.project.id)/envelope/", method: .post, headers: IngestRoutesTests.auth(server.key.publicKey),
                body: UserFeedbackRoutesTests.envelope(EventID.random(), items: [("event", event), ("client_report", report)]))
            #expect(response.status == .ok, "\(response.text)")

            let base = "/api/0/organizations/pit/stats_v2/?field=sum(quantity)&field=sum(times_seen)&statsPeriod=24h&interval=1h"
            let stats = try await client.api(
                base + "&groupBy=outcome&groupBy=category&groupBy=reason&project=\(server.project.id)", token: readOnly)
            #expect(stats.status == .ok, "\(stats.text)")
            let json = try stats.object()
            #expect((json["intervals"] as? [String])?.count == 24 && json["start"] is String && json["end"] is String)
            let groups = try #require(json["groups"] as? [[String: Any]])
            var totals: [String: Int] = [:]
            for group in groups {
                let by = try #require(group["by"] as? [String: String])
                totals["\(by["outcome"] ?? "")/\(by["category"] ?? "")/\(by["reason"] ?? "")"] =
                    (group["totals"] as? [String: Int])?["sum(quantity)"]
                #expect((group["series"] as? [String: [Int]])?["sum(quantity)"]?.count == 24)
            }
            #expect(totals == ["accepted/error/none": 1, "client_discard/error/before_send": 3])

            let filtered = try await client.api(base + "&groupBy=outcome&category=error&outcome=accepted", token: readOnly)
            #expect(((try filtered.object()["groups"] as? [[String: Any]])?.first?["by"] as? [String: String]) == ["outcome": "accepted"])
            #expect(try await client.api(base + "&project=99999", token: readOnly).status == .forbidden)
            #expect(try await client.api(base + "&groupBy=user", token: readOnly).status == .badRequest)
            #expect(try await client.api("/api/0/organizations/pit/stats_v2/?groupBy=outcome", token: readOnly).status == .badRequest)
            #expect(try await client.api("/api/0/organizations/other/stats_v2/?field=sum(quantity)", token: readOnly).status == .notFound)
            #expect(try await client.api(base, token: nil).status == .unauthorized)

            let session = try await client.signIn(token: server.adminToken)
            let page = try await client.page("/organizations/pit/projects/default/stats/", cookies: session.cookies)
            #expect(page.status == .ok)
            #expect(page.text.contains("Dropped, and why") && page.text.contains("before_send") && page.text.contains("Client discarded"))
            let week = try await client.page("/organizations/pit/projects/default/stats/?statsPeriod=7d", cookies: session.cookies)
            #expect(week.status == .ok && week.text.contains("class=\"current\">7d"))
        }
    }
}
