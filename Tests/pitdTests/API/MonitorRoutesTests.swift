import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PitModel
import PitStorage
import Testing

@testable import PitdServer

/// Cron monitors through the application's router: Sentry's HTTP check-in endpoint (key checks,
/// query and JSON forms, 202), the monitor API (shapes, scoping, pages of check-ins) and the pages.
@Suite struct MonitorRoutesTests {
    private func checkIn(
        _ client: any TestClientProtocol, _ server: TestServer, slug: String, query: String = "", json: String? = nil,
        key: String? = nil, project: String? = nil, dsnPrefix: String = ""
    ) async throws -> TestResponse {
        let uri =
            dsnPrefix + "/api/\(project ?? String(server.project.id))/cron/\(slug)/\(key ?? server.key.publicKey)/"
            + (query.isEmpty ? "" : "?\(query)")
        var headers: HTTPFields = [:]
        if json != nil { headers[.contentType] = "application/json" }
        return try await client.execute(
            uri: uri, method: json == nil ? .get : .post, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }

    @Test func httpCheckInsAndTheMonitorAPI() async throws {
        let server = try await TestServer()
        let other = try await server.store.createProject(name: "Other", id: nil, platform: nil)
        let otherKey = try #require(try await server.store.keys(projectID: other.id).first)
        try await server.test { client in
            let config = #"{"schedule":{"type":"crontab","value":"*/10 * * * *"},"checkin_margin":2,"timezone":"Europe/Vienna"}"#
            let created = try await checkIn(
                client, server, slug: "Backup Job",
                json: #"{"status":"in_progress","check_in_id":"\#(String(repeating: "a", count: 32))","monitor_config":\#(config)}"#)
            #expect(created.status == .accepted)
            #expect(created.headers[HTTPField.Name("Access-Control-Allow-Origin")!] == "*")
            let done = try await checkIn(
                client, server, slug: "backup-job", query: "status=ok&check_in_id=\(String(repeating: "a", count: 32))&duration=3")
            #expect(done.status == .accepted)
            #expect(try await checkIn(client, server, slug: "backup-job", query: "status=error&environment=staging").status == .accepted)

            // Refusals, with Sentry's error body.
            let badStatus = try await checkIn(client, server, slug: "backup-job", query: "status=finished")
            #expect(badStatus.status == .badRequest)
            #expect(try badStatus.object()["detail"] as? String != nil)
            #expect(
                try await checkIn(client, server, slug: "backup-job", query: "status=ok", key: "0123456789abcdef0123456789abcdef").status
                    == .forbidden)
            #expect(try await checkIn(client, server, slug: "backup-job", query: "status=ok", key: otherKey.publicKey).status == .forbidden)
            #expect(try await checkIn(client, server, slug: "backup-job", query: "status=ok", project: "x").status == .badRequest)
            #expect(try await checkIn(client, server, slug: "backup-job", json: "{nope").status == .badRequest)

            let list = try await client.api("/api/0/organizations/pit/monitors/?project=\(server.project.id)", token: server.adminToken)
            #expect(list.status == .ok)
            let monitors = try list.array()
            #expect(monitors.count == 1)
            let monitor = try #require(monitors.first)
            #expect(monitor["slug"] as? String == "backup-job" && monitor["status"] as? String == "active")
            let monitorConfig = try #require(monitor["config"] as? [String: Any])
            #expect(monitorConfig["schedule_type"] as? String == "crontab" && monitorConfig["schedule"] as? String == "*/10 * * * *")
            #expect(monitorConfig["checkin_margin"] as? Int == 2 && monitorConfig["timezone"] as? String == "Europe/Vienna")
            #expect(monitorConfig["failure_issue_threshold"] as? Int == 1 && monitorConfig["recovery_threshold"] as? Int == 1)
            let environments = try #require(monitor["environments"] as? [[String: Any]])
            #expect(
                Dictionary(uniqueKeysWithValues: environments.map { ($0["name"] as! String, $0["status"] as! String) })
                    == ["production": "ok", "staging": "error"])
            #expect(environments.allSatisfy { $0["lastCheckIn"] is String && $0["nextCheckIn"] is String })
            #expect((monitor["project"] as? [String: Any])?["slug"] as? String == "default")
            #expect(
                try await client.api("/api/0/organizations/pit/monitors/?project=\(other.id)", token: server.adminToken).array().isEmpty)

            let checkIns = try await client.api(
                "/api/0/organizations/pit/monitors/backup-job/checkins/?project=\(server.project.id)", token: server.adminToken
            ).array()
            #expect(checkIns.map { $0["status"] as? String } == ["error", "ok"])
            #expect(checkIns.last?["duration"] as? Int == 3000 && checkIns.last?["id"] as? String == String(repeating: "a", count: 32))
            #expect(checkIns.allSatisfy { $0["dateCreated"] is String && $0["environment"] is String && $0.keys.contains("expectedTime") })
            let page = try await client.api(
                "/api/0/organizations/pit/monitors/backup-job/checkins/?project=\(server.project.id)&limit=1", token: server.adminToken)
            #expect(try page.array().count == 1)
            let link = try #require(page.headers[.link])
            #expect(link.contains("rel=\"next\""))
            let cursor = try #require(link.split(separator: "cursor=\"").last?.split(separator: "\"").first)
            let next = try await client.api(
                "/api/0/organizations/pit/monitors/backup-job/checkins/?project=\(server.project.id)&limit=1&cursor=\(cursor)",
                token: server.adminToken)
            #expect(try next.array().map { $0["status"] as? String } == ["ok"])
            #expect(next.headers[.link] == nil)

            #expect(try await client.api("/api/0/organizations/pit/monitors/", token: nil).status == .unauthorized)
            #expect(try await client.api("/api/0/organizations/elsewhere/monitors/", token: server.adminToken).status == .notFound)
            #expect(try await client.api("/api/0/organizations/pit/monitors/?project=999", token: server.adminToken).status == .forbidden)
            #expect(try await client.api("/api/0/organizations/pit/monitors/none/checkins/", token: server.adminToken).status == .notFound)
            #expect(
                try await client.api("/api/0/organizations/pit/monitors/backup-job/checkins/?cursor=zz", token: server.adminToken).status
                    == .badRequest)

            let session = try await client.signIn(token: server.adminToken)
            let listPage = try await client.page("/organizations/pit/monitors/", cookies: session.cookies)
            #expect(listPage.status == .ok)
            #expect(
                listPage.text.contains("backup-job") && listPage.text.contains("*/10 * * * *")
                    && listPage.text.contains(#"class="tick ok""#))
            let detail = try await client.page(
                "/organizations/pit/monitors/backup-job/?project=\(server.project.id)", cookies: session.cookies)
            #expect(detail.status == .ok)
            #expect(detail.text.contains("Europe/Vienna") && detail.text.contains("staging") && detail.text.contains("3.0 s"))
            #expect(try await client.page("/organizations/pit/monitors/none/", cookies: session.cookies).status == .notFound)

            // A DSN with a path prefix (`http://key@host/sentry/relay/1`): SDKs put the prefix
            // before `/api/`, for check-ins as for envelopes.
            let prefixed = try await checkIn(
                client, server, slug: "prefixed-job", json: #"{"status":"ok","monitor_config":\#(config)}"#, dsnPrefix: "/sentry/relay")
            #expect(prefixed.status == .accepted)
            let prefixedCheckIns = try await client.api(
                "/api/0/organizations/pit/monitors/prefixed-job/checkins/?project=\(server.project.id)", token: server.adminToken)
            #expect(try prefixedCheckIns.array().map { $0["status"] as? String } == ["ok"])
        }
    }
}
