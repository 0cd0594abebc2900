import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PitModel
import PitStorage
import Testing

@testable import PitdServer

/// `GET /api/0/organizations/{org}/events/?dataset=logs`, the log explorer page and the log
/// retention setting, fed by envelopes through the live ingest path.
@Suite struct LogRoutesTests {
    static let trace = "5b8efff798038103d269b633813fc60c"

    static func logEnvelope(_ logs: [String]) -> ByteBuffer {
        let payload = #"{"version":2,"items":["# + logs.joined(separator: ",") + "]}"
        return ByteBuffer(
            string: #"{"sent_at":"2026-01-01T00:00:00Z"}"# + "\n"
                + #"{"type":"log","item_count":\#(logs.count),"content_type":"application/vnd.sentry.items.log+json","length":\#(payload.utf8.count)}"#
                + "\n" + payload + "\n")
    }

    @Test func logsAreServedInSentryShapeNewestFirst() async throws {
        let server = try await TestServer()
        let other = try await server.store.createProject(name: "Other", id: nil, platform: nil)
        let readOnly = try await server.token([.read])
        try await server.test(.live) { client in
            let now = Double(ClockTime.nowMilliseconds) / 1000
            let logs = [
                #"{"timestamp":\#(now - 3),"level":"info","body":"user <bob> logged in","trace_id":"\#(Self.trace)","attributes":{"user.name":{"value":"bob","type":"string"},"sentry.release":{"value":"app@1","type":"string"},"attempt":{"value":2,"type":"integer"}}}"#,
                #"{"timestamp":\#(now - 2),"level":"error","body":"payment failed","trace_id":"\#(Self.trace)","attributes":{"amount":{"value":9.5,"type":"double"}}}"#,
                #"{"timestamp":\#(now - 1),"level":"debug","body":"cache miss","attributes":{}}"#,
            ]
            var response = try await client.execute(
                uri: "/api/\(server.project.id)/envelope/", method: .post, headers: IngestRoutesTests.auth(server.key.publicKey),
                body: Self.logEnvelope(logs))
            #expect(response.status == .ok, "\(response.text)")
            let otherKey = try await server.store.keys(projectID: other.id)[0].publicKey
            // The new project's key reaches the ingest key cache within key_refresh_seconds.
            for _ in 0..<50 {
                response = try await client.execute(
                    uri: "/api/\(other.id)/envelope/", method: .post, headers: IngestRoutesTests.auth(otherKey),
                    body: Self.logEnvelope([#"{"timestamp":\#(now),"level":"info","body":"other project"}"#]))
                if response.status == .ok { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(response.status == .ok)
            // A container whose item_count is wrong is refused with the reason.
            let payload = #"{"items":[]}"#
            response = try await client.execute(
                uri: "/api/\(server.project.id)/envelope/", method: .post, headers: IngestRoutesTests.auth(server.key.publicKey),
                body: ByteBuffer(string: "{}\n" + #"{"type":"log","item_count":1,"length":\#(payload.utf8.count)}"# + "\n" + payload + "\n")
            )
            #expect(response.status == .badRequest && response.text.contains("item_count"))

            let base =
                "/api/0/organizations/pit/events/?dataset=logs&field=timestamp&field=message&field=severity&field=trace&field=user.name"
                + "&field=attempt&field=amount&project=\(server.project.id)&statsPeriod=24h"
            let list = try await client.api(base, token: readOnly)
            #expect(list.status == .ok, "\(list.text)")
            let body = try list.object()
            let data = try #require(body["data"] as? [[String: Any]])
            #expect(data.map { $0["message"] as? String } == ["cache miss", "payment failed", "user <bob> logged in"])
            #expect(data.map { $0["severity"] as? String } == ["debug", "error", "info"])
            #expect(data[2]["trace"] as? String == Self.trace && data[0]["trace"] is NSNull)
            #expect(data[2]["user.name"] as? String == "bob" && data[2]["attempt"] as? Int == 2 && data[1]["amount"] as? Double == 9.5)
            #expect(data[0]["user.name"] is NSNull)
            #expect(data.allSatisfy { ($0["id"] as? String)?.count == 32 && $0["project.id"] as? Int == Int(server.project.id) })
            #expect((data[0]["timestamp"] as? String)?.hasSuffix("Z") == true)
            let meta = try #require(body["meta"] as? [String: Any])
            let fields = try #require(meta["fields"] as? [String: String])
            #expect(fields["timestamp"] == "date" && fields["message"] == "string" && fields["severity"] == "string")
            #expect(fields["attempt"] == "integer" && fields["amount"] == "number" && fields["id"] == "string")
            #expect(fields["project.id"] == "integer" && meta["units"] is [String: Any])

            // `ourlogs`, the query syntax, paging in Sentry's Link style.
            for (query, expected) in [
                ("severity:error", ["payment failed"]), ("trace:\(Self.trace) severity:info", ["user <bob> logged in"]),
                ("user.name:bob", ["user <bob> logged in"]), ("attempt:2", ["user <bob> logged in"]), ("FAILED", ["payment failed"]),
                (#"message:"*miss*""#, ["cache miss"]), ("release:app@1", ["user <bob> logged in"]),
            ] {
                let uri =
                    "/api/0/organizations/pit/events/?dataset=ourlogs&field=message&query="
                    + (query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
                let rows = try #require(try await client.api(uri, token: readOnly).object()["data"] as? [[String: Any]])
                #expect(rows.map { $0["message"] as? String } == expected, "\(query)")
            }
            let firstPage = try await client.api(base + "&per_page=2", token: readOnly)
            #expect((try firstPage.object()["data"] as? [[String: Any]])?.count == 2)
            let link = try #require(firstPage.headers[.link])
            #expect(link.contains(#"rel="previous"; results="false""#) && link.contains(#"rel="next"; results="true""#))
            let next = try #require(link.firstMatch(of: /<http:\/\/pit\.test([^>]*)>; rel="next"/)?.1)
            #expect(next.contains("field=user.name") && next.contains("per_page=2"), "the other parameters are kept")
            let secondPage = try await client.api(String(next), token: readOnly)
            #expect((try secondPage.object()["data"] as? [[String: Any]])?.map { $0["message"] as? String } == ["user <bob> logged in"])
            #expect(try #require(secondPage.headers[.link]).contains(#"rel="next"; results="false""#))

            // Every project of the organisation when none is named; none outside it.
            let everything = try await client.api("/api/0/organizations/pit/events/?dataset=logs&field=message", token: readOnly)
            #expect((try everything.object()["data"] as? [[String: Any]])?.count == 4)
            #expect(
                try await client.api(base.replacingOccurrences(of: "project=\(server.project.id)", with: "project=999"), token: readOnly)
                    .status == .forbidden)
            #expect(try await client.api("/api/0/organizations/other-org/events/?dataset=logs", token: readOnly).status == .notFound)
            #expect(try await client.api(base, token: nil).status == .unauthorized)
            #expect(try await client.api("/api/0/organizations/pit/events/?dataset=errors", token: readOnly).status == .badRequest)
            #expect(
                try await client.api("/api/0/organizations/pit/events/?dataset=logs&query=severity:loud", token: readOnly).status
                    == .badRequest)
            #expect(try await client.api("/api/0/organizations/pit/events/?dataset=logs&cursor=x", token: readOnly).status == .badRequest)

            // The explorer page: filters, escaping, the live tail.
            let session = try await client.signIn(token: server.adminToken)
            let page = try await client.page("/organizations/pit/projects/default/logs/", cookies: session.cookies)
            #expect(page.status == .ok)
            #expect(page.text.contains("user &lt;bob&gt; logged in") && !page.text.contains("<bob>"))
            #expect(page.text.contains("payment failed") && !page.text.contains("other project"))
            #expect(page.text.contains(">Logs</a>"), "linked from the project navigation")
            #expect(page.headers[HTTPField.Name("Refresh")!] == nil)
            let errors = try await client.page("/organizations/pit/projects/default/logs/?level=error", cookies: session.cookies)
            #expect(errors.text.contains("payment failed") && !errors.text.contains("cache miss"))
            let byAttribute = try await client.page(
                "/organizations/pit/projects/default/logs/?attr=user.name%3Abob", cookies: session.cookies)
            #expect(byAttribute.text.contains("logged in") && !byAttribute.text.contains("payment failed"))
            let byText = try await client.page("/organizations/pit/projects/default/logs/?q=CACHE", cookies: session.cookies)
            #expect(byText.text.contains("cache miss") && !byText.text.contains("payment failed"))
            let byTrace = try await client.page("/organizations/pit/projects/default/logs/?trace=\(Self.trace)", cookies: session.cookies)
            #expect(byTrace.text.contains("payment failed") && !byTrace.text.contains("cache miss"))
            let live = try await client.page("/organizations/pit/projects/default/logs/?live=1", cookies: session.cookies)
            #expect(live.headers[HTTPField.Name("Refresh")!] == "5" && live.text.contains("Pause"))
            let hour = try await client.page("/organizations/pit/projects/default/logs/?period=1h&level=debug", cookies: session.cookies)
            #expect(hour.text.contains("cache miss") && hour.text.contains(#"<option value="1h" selected>"#))
            #expect(hour.text.contains("period=1h&amp;level=debug") || hour.text.contains("period=1h&level=debug"), "links keep the period")
            let bad = try await client.page("/organizations/pit/projects/default/logs/?attr=nocolon", cookies: session.cookies)
            #expect(bad.status == .ok && bad.text.contains("key:value"))

            // The project's own log retention, beside its events'.
            let admin = try await server.token([.read, .write, .admin])
            let set = try await client.api(
                "/api/0/projects/pit/default/retention/", .put, token: admin, json: #"{"logRetentionDays": 7}"#)
            #expect(set.status == .ok, "\(set.text)")
            let retention = try set.object()
            #expect(retention["logRetentionDays"] as? Int == 7 && retention["effectiveLogRetentionDays"] as? Int == 7)
            #expect(retention["serverLogRetentionDays"] as? Int == 30 && retention["retentionDays"] is NSNull)
            let cleared = try await client.api(
                "/api/0/projects/pit/default/retention/", .put, token: admin, json: #"{"logRetentionDays": null}"#)
            #expect(try cleared.object()["effectiveLogRetentionDays"] as? Int == 30)
            #expect(try await client.api("/api/0/projects/pit/default/retention/", .put, token: admin, json: "{}").status == .badRequest)
        }
    }
}
