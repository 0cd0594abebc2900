import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PitModel
import PitStorage
import Testing

@testable import PitdServer

/// The performance pages through the real router and the live ingest path: stored names, span
/// descriptions and measurements stay text, and one project's pages show only its transactions.
@Suite struct PerformancePagesRouteTests {
    static let hostile = "GET /<script>alert(1)</script>"

    static func transactionEnvelope(eventID: String, now: Double) -> ByteBuffer {
        let trace = "4bf92f3577b34da6a3ce929d0e0e4736"
        let payload =
            #"{"type":"transaction","event_id":"\#(eventID)","transaction":"GET /<script>alert(1)</script>","platform":"javascript","#
            + #""start_timestamp":\#(now - 1),"timestamp":\#(now - 0.5),"environment":"production","#
            + #""contexts":{"trace":{"trace_id":"\#(trace)","span_id":"00f067aa0ba902b7","op":"pageload","status":"ok"}},"#
            + #""measurements":{"lcp":{"value":3100,"unit":"millisecond"},"cls":{"value":0.02,"unit":"none"}},"#
            + #""spans":[{"span_id":"b7ad6b7169203331","parent_span_id":"00f067aa0ba902b7","trace_id":"\#(trace)","op":"db","#
            + #""description":"SELECT '<img src=x onerror=alert(2)>' FROM t","start_timestamp":\#(now - 0.9),"timestamp":\#(now - 0.8)}]}"#
        return ByteBuffer(
            string: #"{"event_id":"\#(eventID)"}"# + "\n" + #"{"type":"transaction","length":\#(payload.utf8.count)}"# + "\n" + payload
                + "\n")
    }

    @Test func pagesShowStoredTextEscapedAndKeepProjectsApart() async throws {
        let server = try await TestServer()
        let other = try await server.store.createProject(name: "Other", id: nil, platform: nil)
        let eventID = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
        try await server.test(.live) { client in
            let sent = try await client.execute(
                uri: "/api/\(server.project.id)/envelope/", method: .post, headers: IngestRoutesTests.auth(server.key.publicKey),
                body: Self.transactionEnvelope(eventID: eventID, now: Double(ClockTime.nowMilliseconds) / 1000))
            #expect(sent.status == .ok, "\(sent.text)")
            let session = try await client.signIn(token: server.adminToken)
            let base = "/organizations/pit/projects/\(server.project.slug)/performance/"
            let name = PercentEncoding.component(Self.hostile)
            for path in [
                base, base + "?sort=-p95&statsPeriod=1h", base + "summary/?transaction=\(name)", base + "spans/",
                base + "spans/?transaction=\(name)&sort=count", base + "vitals/",
            ] {
                let page = try await client.page(path, cookies: session.cookies)
                #expect(page.status == .ok, "\(path): \(page.status)")
                #expect(!page.text.contains("<script>alert") && !page.text.contains("<img src=x"), "\(path) lets markup through")
                #expect(
                    path.hasSuffix("spans/") || page.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
                    "\(path) does not show the name")
            }
            let spans = try await client.page(base + "spans/", cookies: session.cookies)
            #expect(spans.text.contains("SELECT %s FROM t"), "the literal is masked at ingest: \(spans.text)")
            let vitals = try await client.page(base + "vitals/", cookies: session.cookies)
            #expect(vitals.text.contains("3.10 s") && vitals.text.contains("0.020"))
            // Another project's pages do not show this project's transactions.
            let otherList = try await client.page("/organizations/pit/projects/\(other.slug)/performance/", cookies: session.cookies)
            #expect(otherList.status == .ok && !otherList.text.contains("alert(1)"))
            #expect(try await client.page(base + "summary/", cookies: session.cookies).status == .notFound)
        }
    }
}
