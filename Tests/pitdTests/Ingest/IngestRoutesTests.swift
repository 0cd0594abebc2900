import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PitBackends
import PitIngest
import PitModel
import PitObservability
import PitQuery
import PitStorage
import Testing

@testable import PitdServer

/// Ingest through the application. POSTs are answered by pitd's own HTTP channel (the event-loop
/// fast path), which only a live server has, so those tests run `.live`; the legacy GET store
/// goes through the responder and runs against the router.
@Suite struct IngestRoutesTests {
    static func envelope(_ id: EventID, message: String = "hello from the test") -> ByteBuffer {
        let payload =
            #"{"event_id":"\#(id.hex)","level":"error","platform":"python","message":"\#(message)","timestamp":\#(ClockTime.nowSeconds)}"#
        return ByteBuffer(
            string: #"{"event_id":"\#(id.hex)"}"# + "\n" + #"{"type":"event","length":\#(payload.utf8.count)}"# + "\n" + payload + "\n")
    }

    static func auth(_ key: String) -> HTTPFields {
        [
            HTTPField.Name("X-Sentry-Auth")!: "Sentry sentry_version=7, sentry_client=pitd-tests/1.0, sentry_key=\(key)",
            .contentType: "application/x-sentry-envelope",
        ]
    }

    @Test func validEnvelopeIsStoredAndAnsweredWithItsID() async throws {
        let server = try await TestServer()
        let id = EventID.random()
        try await server.test(.live) { client in
            let response = try await client.execute(
                uri: "/api/\(server.project.id)/envelope/", method: .post,
                headers: Self.auth(server.key.publicKey), body: Self.envelope(id))
            #expect(response.status == .ok)
            #expect(try response.object()["id"] as? String == id.hex)
            #expect(response.headers[HTTPField.Name("Access-Control-Allow-Origin")!] == "*")
            // `ack=committed`: answered once stored, so the API finds it at once.
            let event = try await client.api("/api/0/projects/pit/default/events/\(id.hex)/", token: server.adminToken)
            #expect(event.status == .ok)
            #expect(try event.object()["eventID"] as? String == id.hex)
        }
    }

    @Test func wrongKeyOrProjectIsRefusedWithASentryBody() async throws {
        let server = try await TestServer()
        let other = try await server.store.createProject(name: "Other", id: nil, platform: nil)
        try await server.test(.live) { client in
            let unknown = try await client.execute(
                uri: "/api/\(server.project.id)/envelope/", method: .post,
                headers: Self.auth("0123456789abcdef0123456789abcdef"), body: Self.envelope(.random()))
            #expect(unknown.status == .forbidden)
            #expect(try unknown.object()["detail"] as? String == "unknown public key")
            // The default project's key does not open another project.
            let mismatch = try await client.execute(
                uri: "/api/\(other.id)/envelope/", method: .post,
                headers: Self.auth(server.key.publicKey), body: Self.envelope(.random()))
            #expect(mismatch.status == .forbidden)
            #expect(try mismatch.object()["detail"] as? String == "project id does not match the key's project")
            var headers = Self.auth(server.key.publicKey)
            headers[HTTPField.Name("X-Sentry-Auth")!] = nil
            let missing = try await client.execute(
                uri: "/api/\(server.project.id)/envelope/", method: .post, headers: headers,
                body: Self.envelope(.random()))
            #expect(missing.status == .unauthorized)
            #expect(try missing.object()["detail"] is String)
        }
    }

    @Test func oversizeBodyIs413() async throws {
        let server = try await TestServer(["max_request_bytes": "4096"])
        try await server.test(.live) { client in
            let big = Self.envelope(.random(), message: String(repeating: "x", count: 8192))
            let response = try await client.execute(
                uri: "/api/\(server.project.id)/envelope/", method: .post,
                headers: Self.auth(server.key.publicKey), body: big)
            #expect(response.status == .contentTooLarge)
            #expect(try response.object()["detail"] is String)
        }
    }

    /// `GET /api/{pid}/store/?sentry_data=…`, which very old browser clients send: through the
    /// responder, so the router reaches it.
    @Test func legacyGetStoreThroughTheResponder() async throws {
        let server = try await TestServer(["ack": "queued"])
        let id = EventID.random()
        let data = #"{"event_id":"\#(id.hex)","message":"legacy","timestamp":\#(ClockTime.nowSeconds)}"#
        try await server.test { client in
            let uri =
                "/api/\(server.project.id)/store/?sentry_version=7&sentry_key=\(server.key.publicKey)&sentry_data=\(WebResponses.queryEscape(data))"
            let response = try await client.execute(uri: uri, method: .get, headers: [:], body: nil)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "image/gif")
            let refused = try await client.execute(
                uri: "/api/\(server.project.id)/store/?sentry_key=nope&sentry_data=%7B%7D", method: .get,
                headers: [:], body: nil)
            #expect(refused.status == .forbidden)
            #expect(try refused.object()["detail"] as? String == "unknown public key")
            #expect(
                try await client.execute(uri: "/api/\(server.project.id)/envelope/", method: .delete, headers: [:], body: nil).status
                    == .methodNotAllowed)
        }
    }
}
