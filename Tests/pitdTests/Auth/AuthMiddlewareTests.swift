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

/// The API's Bearer middleware and the web UI's session middleware, through the real router.
@Suite struct AuthMiddlewareTests {
    @Test func apiRefusesMissingAndWrongTokensWithSentryBodies() async throws {
        let server = try await TestServer()
        let admin = server.adminToken
        try await server.test { client in
            let missing = try await client.api("/api/0/projects/", token: nil)
            #expect(missing.status == .unauthorized)
            #expect(try missing.object()["detail"] as? String == "Authentication credentials were not provided.")
            let wrong = try await client.api("/api/0/projects/", token: "pit_tok_not-a-token")
            #expect(wrong.status == .unauthorized)
            #expect(try wrong.object()["detail"] as? String == "Invalid token.")
            // The admin token with its last character changed: same length, compared in full.
            let near = String(admin.dropLast()) + (admin.last == "0" ? "1" : "0")
            #expect(try await client.api("/api/0/projects/", token: near).status == .unauthorized)
            // A DSN key is not an API credential.
            #expect(try await client.api("/api/0/projects/", token: server.key.publicKey).status == .unauthorized)
            var basic: HTTPFields = [.authorization: "Basic Zm9vOmJhcg=="]
            #expect(try await client.execute(uri: "/api/0/projects/", method: .get, headers: basic, body: nil).status == .unauthorized)
            basic[.authorization] = "Bearer " + admin
            #expect(try await client.execute(uri: "/api/0/projects/", method: .get, headers: basic, body: nil).status == .ok)
        }
    }

    @Test func tokenScopesLimitWhatATokenMayDo() async throws {
        let server = try await TestServer()
        let read = try await server.token([.read])
        let write = try await server.token([.read, .write])
        try server.seed([TestEvent()])
        try await server.test { client in
            let issues = try await client.api("/api/0/projects/pit/default/issues/", token: read).array()
            let id = try #require(issues.first?["id"] as? String)
            // A read-only token reads, but cannot change anything.
            let refused = try await client.api("/api/0/issues/\(id)/", .put, token: read, json: #"{"status": "resolved"}"#)
            #expect(refused.status == .forbidden)
            #expect(try refused.object()["detail"] as? String == "You do not have permission to perform this action (needs write scope).")
            #expect(try await client.api("/api/0/issues/\(id)/", token: read).object()["status"] as? String == "unresolved")
            // Write may change issues, but keys, tokens and projects need admin.
            #expect(try await client.api("/api/0/issues/\(id)/", .put, token: write, json: #"{"status": "resolved"}"#).status == .ok)
            #expect(try await client.api("/api/0/projects/pit/default/keys/", .post, token: write, json: "{}").status == .forbidden)
            #expect(
                try await client.api("/api/0/api-tokens/", .post, token: write, json: #"{"scopes": ["org:admin"]}"#).status == .forbidden)
            #expect(
                try await client.api("/api/0/teams/pit/pit/projects/", .post, token: write, json: #"{"name": "x"}"#).status == .forbidden)
        }
    }

    @Test func disabledUsersTokensAndSessionsAreRefused() async throws {
        let server = try await TestServer()
        let user = try await server.store.createUser(email: "grace@example.com", passwordHash: "unused", isAdmin: true)
        let token = try await server.token([.read], userID: user.id)
        try await server.test { client in
            #expect(try await client.api("/api/0/projects/", token: token).status == .ok)
            _ = try await server.store.setUserActive(id: user.id, active: false, now: ClockTime.nowMilliseconds)
            #expect(try await client.api("/api/0/projects/", token: token).status == .unauthorized)
        }
    }

    @Test func invalidTokensAreThrottledPerClient() async throws {
        let server = try await TestServer(["login_failures_per_ip": "2"])
        let admin = server.adminToken
        try await server.test { client in
            for _ in 0..<2 { #expect(try await client.api("/api/0/projects/", token: "wrong").status == .unauthorized) }
            let throttled = try await client.api("/api/0/projects/", token: "wrong")
            #expect(throttled.status == .tooManyRequests)
            // Ten seconds per failure past the burst, less what the requests took.
            let retryAfter = try #require(throttled.headers[HTTPField.Name("Retry-After")!].flatMap { Int($0) })
            #expect((5...10).contains(retryAfter))
            // The client address is out of attempts, whatever the token.
            #expect(try await client.api("/api/0/projects/", token: admin).status == .tooManyRequests)
            server.clock.advance(seconds: 10)
            #expect(try await client.api("/api/0/projects/", token: admin).status == .ok)
        }
    }

    @Test func webPagesNeedASessionAndFormsTheSessionsCSRFToken() async throws {
        let server = try await TestServer()
        let admin = server.adminToken
        try await server.test { client in
            // Signed out: pages redirect to the sign-in page, forms are refused.
            let page = try await client.page("/organizations/pit/issues/?query=is:unresolved")
            #expect(page.status == .seeOther)
            #expect(page.headers[.location] == "/login?next=%2Forganizations%2Fpit%2Fissues%2F%3Fquery%3Dis%3Aunresolved")
            #expect(try await client.form("/logout", []).status == .unauthorized)
            #expect(
                try await client.page("/organizations/pit/projects/", cookies: [Authenticator.sessionCookie: "forged"]).status == .seeOther)

            let session = try await client.signIn(token: admin)
            #expect(try await client.page("/organizations/pit/projects/", cookies: session.cookies).status == .ok)
            // A form without the session's CSRF token, or with another one, is refused.
            let rename = "/settings/projects/default"
            #expect(try await client.form(rename, [("name", "Renamed")], cookies: session.cookies).status == .forbidden)
            let forged = String(session.csrf.dropLast()) + (session.csrf.last == "a" ? "b" : "a")
            #expect(try await client.form(rename, [("csrf", forged), ("name", "Renamed")], cookies: session.cookies).status == .forbidden)
            #expect(try await server.store.project(id: server.project.id)?.name == "default")
            let accepted = try await client.form(rename, [("csrf", session.csrf), ("name", "Renamed")], cookies: session.cookies)
            #expect(accepted.status == .seeOther)
            #expect(try await server.store.project(id: server.project.id)?.name == "Renamed")
        }
    }

    @Test func signInChecksTheLoginFormsDoubleSubmitCookie() async throws {
        let server = try await TestServer()
        let admin = server.adminToken
        try await server.test { client in
            let form = try await client.page("/login")
            #expect(form.status == .ok)
            let cookie = try #require(form.cookie(Authenticator.loginCSRFCookie))
            #expect(form.text.contains(#"name="csrf" value="\#(cookie)""#))
            let noCookie = try await client.form("/login", [("csrf", cookie), ("token", admin)])
            #expect(noCookie.status == .forbidden)
            #expect(noCookie.cookie(Authenticator.sessionCookie) == nil)
            let mismatch = try await client.form(
                "/login", [("csrf", "other"), ("token", admin)], cookies: [Authenticator.loginCSRFCookie: cookie])
            #expect(mismatch.status == .forbidden)
            let signedIn = try await client.form(
                "/login", [("csrf", cookie), ("token", admin), ("next", "/organizations/pit/releases/")],
                cookies: [Authenticator.loginCSRFCookie: cookie])
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.headers[.location] == "/organizations/pit/releases/")
            #expect(signedIn.cookie(Authenticator.sessionCookie)?.isEmpty == false)
            let wrong = try await client.form(
                "/login", [("csrf", cookie), ("token", "pit_wrong")], cookies: [Authenticator.loginCSRFCookie: cookie])
            #expect(wrong.status == .unauthorized)
            #expect(wrong.text.contains("That token is not valid."))
            // An API token is for the API only.
            let apiToken = try await server.token([.admin])
            let refused = try await client.form(
                "/login", [("csrf", cookie), ("token", apiToken)], cookies: [Authenticator.loginCSRFCookie: cookie])
            #expect(refused.status == .unauthorized)
            #expect(refused.cookie(Authenticator.sessionCookie) == nil)
        }
    }

    /// Sessions end when the clock passes their lifetime (`session_days`), with no sleeping.
    @Test func sessionsExpire() async throws {
        let server = try await TestServer(["session_days": "1"])
        try await server.test { client in
            let session = try await client.signIn(token: server.adminToken)
            server.clock.advance(seconds: 86_400 - 60)
            #expect(try await client.page("/organizations/pit/projects/", cookies: session.cookies).status == .ok)
            server.clock.advance(seconds: 120)
            let expired = try await client.page("/organizations/pit/projects/", cookies: session.cookies)
            #expect(expired.status == .seeOther)
            #expect(expired.headers[.location]?.hasPrefix("/login?next=") == true)
        }
    }

    /// Email and password sign-in; a wrong password and a disabled account get the same answer,
    /// and failures are throttled per account until the clock moves on.
    @Test func passwordSignInThrottlingAndDisabledAccounts() async throws {
        let server = try await TestServer(["login_failures_per_account": "2"])
        let hash = try await PasswordHasher(threads: 1, queueLimit: 2).make("correct horse")
        let user = try await server.store.createUser(email: "lin@example.com", passwordHash: hash, isAdmin: false)
        try await server.test { client in
            let csrf = [Authenticator.loginCSRFCookie: "c"]
            func attempt(_ password: String) async throws -> TestResponse {
                try await client.form("/login", [("csrf", "c"), ("email", "lin@example.com"), ("password", password)], cookies: csrf)
            }
            let session = try await client.signIn(email: "lin@example.com", password: "correct horse")
            #expect(try await client.page("/organizations/pit/projects/", cookies: session.cookies).text.contains("lin@example.com"))

            for _ in 0..<2 { #expect(try await attempt("wrong").status == .unauthorized) }
            let throttled = try await attempt("correct horse")
            #expect(throttled.status == .tooManyRequests)
            // A minute per failure past the burst, less the time the hashes took.
            let retryAfter = try #require(throttled.headers[HTTPField.Name("Retry-After")!].flatMap { Int($0) })
            #expect((50...60).contains(retryAfter))
            server.clock.advance(seconds: 61)
            #expect(try await attempt("correct horse").status == .seeOther)

            // Disabling closes the account's sessions and refuses its password like a wrong one.
            _ = try await server.store.setUserActive(id: user.id, active: false, now: ClockTime.nowMilliseconds)
            #expect(try await client.page("/organizations/pit/projects/", cookies: session.cookies).status == .seeOther)
            let disabled = try await attempt("correct horse")
            #expect(disabled.status == .unauthorized)
            #expect(disabled.text.contains("Wrong email or password."))
        }
    }

    /// The admin token is compared by its hash in constant time: only the exact token matches,
    /// whatever prefix or length another string shares with it.
    @Test func adminTokenComparison() async {
        let token = AdminToken.generate()
        let stored = AdminToken.hash(token)
        #expect(AdminToken.matches(token, storedHash: stored))
        #expect(!AdminToken.matches(String(token.dropLast()), storedHash: stored))
        #expect(!AdminToken.matches(token + "0", storedHash: stored))
        #expect(!AdminToken.matches("", storedHash: stored))
        #expect(!AdminToken.matches(token, storedHash: String(stored.dropLast())))
        #expect(!AdminToken.matches(token, storedHash: stored.uppercased()))
        #expect(Secret.constantTimeEqual(Array("abc".utf8), Array("abc".utf8)))
        #expect(!Secret.constantTimeEqual(Array("abc".utf8), Array("abd".utf8)))
        #expect(!Secret.constantTimeEqual(Array("abc".utf8), Array("abcd".utf8)))
    }
}
