import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PitBackends
import PitIngest
import PitModel
import PitObservability
import PitQuery
import PitStorage
import Testing

@testable import PitdServer

/// The `/api/0/` routes through the real router, over a seeded SQLite data directory: shapes,
/// status codes, isolation between projects and organisations, pagination.
@Suite struct APIRoutesTests {
    @Test func projectsListDetailCreateAndRename() async throws {
        let server = try await TestServer()
        let admin = server.adminToken
        try await server.test { client in
            let list = try await client.api("/api/0/projects/", token: admin)
            #expect(list.status == .ok)
            #expect(list.headers[.contentType] == "application/json")
            let projects = try list.array()
            #expect(projects.count == 1)
            #expect(projects.first?["slug"] as? String == "default")
            #expect((projects.first?["organization"] as? [String: Any])?["slug"] as? String == "pit")

            let detail = try await client.api("/api/0/projects/pit/default/", token: admin)
            #expect(detail.status == .ok)
            #expect(try detail.object()["id"] as? String == String(server.project.id))

            let created = try await client.api(
                "/api/0/teams/pit/pit/projects/", .post, token: admin, json: #"{"name": "Web Shop", "platform": "python"}"#)
            #expect(created.status == .created)
            let project = try created.object()
            #expect(project["slug"] as? String == "web-shop")
            #expect(project["platform"] as? String == "python")
            #expect(
                try await client.api("/api/0/teams/pit/pit/projects/", .post, token: admin, json: #"{"name": " "}"#).status == .badRequest)
            #expect(try await client.api("/api/0/teams/pit/pit/projects/", .post, token: admin, json: "[1]").status == .badRequest)

            let renamed = try await client.api("/api/0/projects/pit/web-shop/", .put, token: admin, json: #"{"name": "Shop"}"#)
            #expect(renamed.status == .ok)
            #expect(try renamed.object()["name"] as? String == "Shop")
            #expect(try await client.api("/api/0/projects/", token: admin).array().count == 2)
            #expect(try await client.api("/api/0/projects/pit/nope/", token: admin).status == .notFound)
        }
    }

    @Test func issuesListSearchDetailAndBulkUpdate() async throws {
        let server = try await TestServer()
        let admin = server.adminToken
        try server.seed([
            TestEvent(type: "ValueError", release: "1.0", environment: "production"),
            TestEvent(type: "ValueError", release: "1.0", environment: "production"),
            TestEvent(type: "KeyError", value: "missing", environment: "staging"),
        ])
        try await server.test { client in
            let list = try await client.api("/api/0/projects/pit/default/issues/", token: admin)
            #expect(list.status == .ok)
            let issues = try list.array()
            #expect(issues.count == 2)
            #expect(list.headers[HTTPField.Name("X-Hits")!] == "2")
            #expect(list.headers[.link] == nil)
            let valueError = try #require(issues.first { ($0["title"] as? String)?.hasPrefix("ValueError") == true })
            #expect(valueError["count"] as? String == "2")
            #expect(valueError["status"] as? String == "unresolved")
            #expect((valueError["shortId"] as? String)?.uppercased().hasPrefix("DEFAULT-") == true)
            let id = try #require(valueError["id"] as? String)

            let search = try await client.api("/api/0/projects/pit/default/issues/?query=KeyError", token: admin).array()
            #expect(search.map { $0["title"] as? String } == ["KeyError: missing"])
            let staging = try await client.api("/api/0/projects/pit/default/issues/?environment=staging", token: admin).array()
            #expect(staging.count == 1)
            #expect(try await client.api("/api/0/projects/pit/default/issues/?sort=sideways", token: admin).status == .badRequest)
            #expect(try await client.api("/api/0/projects/pit/default/issues/?query=is:bogus", token: admin).status == .badRequest)
            let organisation = try await client.api("/api/0/organizations/pit/issues/?project=\(server.project.id)", token: admin)
            #expect(try organisation.array().count == 2)

            let detail = try await client.api("/api/0/issues/\(id)/", token: admin)
            #expect(detail.status == .ok)
            let object = try detail.object()
            #expect(object["id"] as? String == id)
            #expect((object["stats"] as? [String: Any])?["24h"] is [Any])
            #expect(try await client.api("/api/0/issues/987654/", token: admin).status == .notFound)
            #expect(try await client.api("/api/0/issues/abc/", token: admin).status == .notFound)

            let resolved = try await client.api("/api/0/issues/\(id)/", .put, token: admin, json: #"{"status": "resolved"}"#)
            #expect(resolved.status == .ok)
            #expect(try resolved.object()["status"] as? String == "resolved")
            #expect(try await client.api("/api/0/issues/\(id)/", .put, token: admin, json: #"{"status": "gone"}"#).status == .badRequest)

            let bulk = try await client.api(
                "/api/0/projects/pit/default/issues/?query=is:unresolved", .put, token: admin,
                json: #"{"status": "ignored"}"#)
            #expect(bulk.status == .ok)
            let answer = try bulk.object()
            #expect(answer["status"] as? String == "ignored")
            #expect(answer["updated"] as? Int == 1)
            #expect(try await client.api("/api/0/projects/pit/default/issues/", token: admin).array().isEmpty)
            let all = try await client.api("/api/0/projects/pit/default/issues/?query=", token: admin).array()
            #expect(Set(all.compactMap { $0["status"] as? String }) == ["resolved", "ignored"])
            let byID = try await client.api(
                "/api/0/projects/pit/default/issues/?id=\(id)", .put, token: admin, json: #"{"status": "unresolved"}"#)
            #expect(try byID.object()["updated"] as? Int == 1)
        }
    }

    @Test func issuePagesCarryACursorLink() async throws {
        let server = try await TestServer()
        let admin = server.adminToken
        try server.seed((0..<3).map { TestEvent(type: "Error\($0)") })
        try await server.test { client in
            let first = try await client.api("/api/0/projects/pit/default/issues/?limit=2", token: admin)
            #expect(try first.array().count == 2)
            let link = try #require(first.headers[.link])
            #expect(link.hasPrefix("<\(TestServer.publicURL)/api/0/projects/pit/default/issues/?cursor="))
            #expect(link.contains(#"rel="next"; results="true""#))
            let cursor = try #require(link.firstMatch(of: /cursor="([^"]+)"/)?.1)
            let second = try await client.api("/api/0/projects/pit/default/issues/?limit=2&cursor=\(cursor)", token: admin)
            let rest = try second.array()
            #expect(rest.count == 1)
            #expect(second.headers[.link] == nil)
            let ids = Set(try first.array().compactMap { $0["id"] as? String } + rest.compactMap { $0["id"] as? String })
            #expect(ids.count == 3)
            #expect(try await client.api("/api/0/projects/pit/default/issues/?cursor=garbage", token: admin).status == .badRequest)
        }
    }

    @Test func eventsListDetailAndLatest() async throws {
        let server = try await TestServer()
        let admin = server.adminToken
        let events = [TestEvent(release: "2.0"), TestEvent(release: "2.1"), TestEvent(release: "2.2")]
        try server.seed(events)
        try await server.test { client in
            let list = try await client.api("/api/0/projects/pit/default/events/", token: admin)
            #expect(list.status == .ok)
            let rows = try list.array()
            #expect(Set(rows.compactMap { $0["eventID"] as? String }) == Set(events.map(\.id.hex)))

            let page = try await client.api("/api/0/projects/pit/default/events/?limit=2", token: admin)
            #expect(try page.array().count == 2)
            let link = try #require(page.headers[.link])
            let cursor = try #require(link.firstMatch(of: /cursor="([^"]+)"/)?.1)
            let next = try await client.api("/api/0/projects/pit/default/events/?limit=2&cursor=\(cursor)", token: admin)
            #expect(try next.array().count == 1)

            let one = try await client.api("/api/0/projects/pit/default/events/\(events[1].id.hex)/", token: admin)
            #expect(one.status == .ok)
            let event = try one.object()
            #expect(event["eventID"] as? String == events[1].id.hex)
            let issueID = try #require(event["groupID"] as? String)
            #expect(try await client.api("/api/0/projects/pit/default/events/\(EventID.random().hex)/", token: admin).status == .notFound)

            let issueEvents = try await client.api("/api/0/issues/\(issueID)/events/", token: admin).array()
            #expect(issueEvents.count == 3)
            let latest = try await client.api("/api/0/issues/\(issueID)/events/latest/", token: admin)
            #expect(latest.status == .ok)
            #expect(events.map(\.id.hex).contains(try latest.object()["eventID"] as? String ?? ""))
            let oldest = try await client.api("/api/0/issues/\(issueID)/events/oldest/", token: admin)
            #expect(oldest.status == .ok)
            let byID = try await client.api("/api/0/issues/\(issueID)/events/\(events[0].id.hex)/", token: admin)
            #expect(try byID.object()["eventID"] as? String == events[0].id.hex)
            #expect(try await client.api("/api/0/issues/\(issueID)/events/newest/", token: admin).status == .notFound)
            #expect(try await client.api("/api/0/projects/pit/default/events/?level=loud", token: admin).status == .badRequest)
        }
    }

    /// One project's issues and events are never reachable through another project's URL, nor
    /// through another organisation's.
    @Test func crossProjectAndCrossOrganisationReadsAreRefused() async throws {
        let server = try await TestServer()
        let admin = server.adminToken
        let other = try await server.store.createProject(name: "Other", id: nil, platform: nil)
        let event = TestEvent(type: "SecretError")
        try server.seed([event], projectID: other.id)
        try await server.test { client in
            let issues = try await client.api("/api/0/projects/pit/other/issues/", token: admin).array()
            let issueID = try #require(issues.first?["id"] as? String)
            // The event belongs to `other`: not found through `default`.
            #expect(try await client.api("/api/0/projects/pit/default/events/\(event.id.hex)/", token: admin).status == .notFound)
            #expect(try await client.api("/api/0/projects/pit/default/issues/", token: admin).array().isEmpty)
            // A bulk change through `default` does not touch `other`'s issue.
            let bulk = try await client.api(
                "/api/0/projects/pit/default/issues/?id=\(issueID)", .put, token: admin, json: #"{"status": "resolved"}"#)
            #expect(try bulk.object()["updated"] as? Int == 0)
            #expect(try await client.api("/api/0/issues/\(issueID)/", token: admin).object()["status"] as? String == "unresolved")
            // Another organisation's URLs.
            #expect(try await client.api("/api/0/projects/elsewhere/other/", token: admin).status == .notFound)
            #expect(try await client.api("/api/0/projects/elsewhere/other/issues/", token: admin).status == .notFound)
            #expect(try await client.api("/api/0/organizations/elsewhere/issues/?project=\(other.id)", token: admin).status == .notFound)
            #expect(try await client.api("/api/0/organizations/elsewhere/members/", token: admin).status == .notFound)
            let body = try await client.api("/api/0/projects/elsewhere/other/", token: admin).object()
            #expect(body["detail"] as? String == "The requested resource does not exist")
        }
    }

    @Test func keysCreateUpdateDisable() async throws {
        let server = try await TestServer()
        let admin = server.adminToken
        try await server.test { client in
            let list = try await client.api("/api/0/projects/pit/default/keys/", token: admin).array()
            #expect(list.count == 1)
            #expect(
                (list.first?["dsn"] as? [String: Any])?["public"] as? String
                    == "http://\(server.key.publicKey)@pit.test/\(server.project.id)")

            let created = try await client.api(
                "/api/0/projects/pit/default/keys/", .post, token: admin,
                json: #"{"name": "CI", "rateLimit": {"count": 100, "window": 60}}"#)
            #expect(created.status == .created)
            let key = try created.object()
            #expect(key["name"] as? String == "CI")
            #expect((key["rateLimit"] as? [String: Any])?["count"] as? Int == 100)
            let publicKey = try #require(key["public"] as? String)
            #expect(
                try await client.api(
                    "/api/0/projects/pit/default/keys/", .post, token: admin,
                    json: #"{"rateLimit": {"count": -1, "window": 60}}"#
                ).status == .badRequest)

            let updated = try await client.api(
                "/api/0/projects/pit/default/keys/\(publicKey)/", .put, token: admin,
                json: #"{"name": "CI 2", "rateLimit": null}"#)
            #expect(updated.status == .ok)
            #expect(try updated.object()["name"] as? String == "CI 2")
            #expect(try updated.object()["rateLimit"] is NSNull)

            #expect(try await client.api("/api/0/projects/pit/default/keys/\(publicKey)/", .delete, token: admin).status == .noContent)
            let after = try await client.api("/api/0/projects/pit/default/keys/", token: admin).array()
            #expect(after.first { $0["public"] as? String == publicKey }?["isActive"] as? Bool == false)
            #expect(try await client.api("/api/0/projects/pit/default/keys/nope/", .delete, token: admin).status == .notFound)
        }
    }

    @Test func tokensCreateListRevoke() async throws {
        let server = try await TestServer()
        let admin = server.adminToken
        try await server.test { client in
            let created = try await client.api(
                "/api/0/api-tokens/", .post, token: admin, json: #"{"name": "ci", "scopes": ["project:read"]}"#)
            #expect(created.status == .created)
            let token = try created.object()
            let secret = try #require(token["token"] as? String)
            #expect(secret.hasPrefix("pit_tok_"))
            let id = try #require(token["id"] as? String)
            let refused = try await client.api("/api/0/api-tokens/", .post, token: admin, json: #"{"scopes": ["root"]}"#)
            #expect(refused.status == .badRequest)
            #expect(try refused.object()["detail"] as? String == "unknown scope root (read, write, admin)")

            let list = try await client.api("/api/0/api-tokens/", token: admin).array()
            #expect(list.count == 1)
            #expect(list.first?["token"] == nil || list.first?["token"] is NSNull)
            // The new token reads, but may not list tokens (admin only).
            #expect(try await client.api("/api/0/projects/", token: secret).status == .ok)
            #expect(try await client.api("/api/0/api-tokens/", token: secret).status == .forbidden)

            #expect(try await client.api("/api/0/api-tokens/\(id)/", .delete, token: admin).status == .noContent)
            #expect(try await client.api("/api/0/projects/", token: secret).status == .unauthorized)
            #expect(try await client.api("/api/0/api-tokens/", token: admin).array().first?["revoked"] as? Bool == true)
            #expect(try await client.api("/api/0/api-tokens/987654/", .delete, token: admin).status == .notFound)
        }
    }

    @Test func usersAndMembers() async throws {
        let server = try await TestServer()
        let admin = server.adminToken
        let user = try await server.store.createUser(email: "ada@example.com", passwordHash: "unused", isAdmin: false)
        let token = try await server.token([.read, .write], userID: user.id)
        try await server.test { client in
            let detail = try await client.api("/api/0/users/\(user.id)/", token: admin)
            #expect(detail.status == .ok)
            #expect(try detail.object()["email"] as? String == "ada@example.com")
            #expect(try detail.object()["isActive"] as? Bool == true)
            let members = try await client.api("/api/0/organizations/pit/members/", token: admin).array()
            #expect(members.map { $0["email"] as? String } == ["ada@example.com"])
            #expect(members.first?["role"] as? String == "member")
            #expect(try await client.api("/api/0/organizations/pit/members/\(user.id)/", token: admin).status == .ok)
            #expect(try await client.api("/api/0/organizations/pit/members/999/", token: admin).status == .notFound)
            // Accounts are for administrators only.
            #expect(try await client.api("/api/0/users/\(user.id)/", token: token).status == .forbidden)

            // Removing a member disables the account; its token stops working at once.
            #expect(try await client.api("/api/0/projects/", token: token).status == .ok)
            #expect(try await client.api("/api/0/organizations/pit/members/\(user.id)/", .delete, token: admin).status == .noContent)
            #expect(try await client.api("/api/0/users/\(user.id)/", token: admin).object()["isActive"] as? Bool == false)
            #expect(try await client.api("/api/0/projects/", token: token).status == .unauthorized)
            let enabled = try await client.api("/api/0/users/\(user.id)/", .put, token: admin, json: #"{"isActive": true}"#)
            #expect(try enabled.object()["isActive"] as? Bool == true)
            #expect(
                try await client.api("/api/0/users/\(user.id)/", .put, token: admin, json: #"{"isActive": "yes"}"#).status == .badRequest)
        }
    }
}
