import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PitModel
import PitStorage
import Testing

@testable import PitdServer

/// `POST /api/{project_id}/security/?sentry_key=` through pitd's own HTTP channel, as browsers
/// send CSP reports: stored as events once answered, grouped by directive and blocked host.
@Suite struct SecurityRoutesTests {
    static let report =
        #"{"csp-report":{"document-uri":"https://site.example/page","violated-directive":"script-src 'self'","effective-directive":"script-src","blocked-uri":"https://evil.example/x.js"}}"#

    @Test func cspReportIsStoredAsAnEventOfACSPIssue() async throws {
        let server = try await TestServer()
        try await server.test(.live) { client in
            let uri =
                "/api/\(server.project.id)/security/?sentry_key=\(server.key.publicKey)&sentry_environment=prod&sentry_release=web%401"
            for path in [uri, uri.replacingOccurrences(of: "/security/", with: "/csp-report/")] {
                let response = try await client.execute(
                    uri: path, method: .post,
                    headers: [.contentType: "application/csp-report", .userAgent: "Mozilla/5.0 test"],
                    body: ByteBuffer(string: Self.report))
                #expect(response.status == .ok, "\(response.text)")
            }
            let issues = try await client.api("/api/0/projects/pit/default/issues/", token: server.adminToken).array()
            #expect(issues.count == 1)
            #expect(issues.first?["title"] as? String == "Blocked 'script' from 'evil.example'")
            #expect(issues.first?["type"] as? String == "csp" && issues.first?["count"] as? String == "2")
            #expect(issues.first?["culprit"] as? String == "script-src 'self'")
            let events = try await client.api("/api/0/projects/pit/default/events/", token: server.adminToken).array()
            #expect(events.first?["environment"] as? String == "prod")
            #expect((events.first?["csp"] as? [String: Any])?["blocked_uri"] as? String == "https://evil.example/x.js")
        }
    }

    @Test func refusalsCarryRelaysStatusAndAReason() async throws {
        let server = try await TestServer()
        try await server.test(.live) { client in
            let base = "/api/\(server.project.id)/security/"
            func post(_ uri: String, _ type: String?, _ body: String) async throws -> TestResponse {
                var headers: HTTPFields = [:]
                if let type { headers[.contentType] = type }
                return try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
            }
            let withKey = base + "?sentry_key=\(server.key.publicKey)"
            #expect(try await post(base, "application/csp-report", Self.report).status == .unauthorized)
            #expect(
                try await post(base + "?sentry_key=0123456789abcdef0123456789abcdef", "application/json", Self.report).status == .forbidden)
            let unsupported = try await post(withKey, "text/plain", Self.report)
            #expect(unsupported.status == .unsupportedMediaType)
            #expect((try unsupported.object()["detail"] as? String)?.contains("content type") == true)
            let bad = try await post(withKey, "application/json", #"{"nothing":"here"}"#)
            #expect(bad.status == .badRequest)
            #expect((try bad.object()["detail"] as? String)?.hasPrefix("invalid security report") == true)
            #expect(try await post(withKey, "application/json", "").status == .badRequest)
        }
    }
}
