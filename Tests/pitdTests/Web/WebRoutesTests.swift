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

/// The web UI through the real router: pages render what is stored, sign-out ends the session.
@Suite struct WebRoutesTests {
    @Test func signInPageAndRedirects() async throws {
        let server = try await TestServer()
        try await server.test { client in
            let login = try await client.page("/login?next=%2Forganizations%2Fpit%2Freleases%2F")
            #expect(login.status == .ok)
            #expect(login.headers[.contentType] == "text/html; charset=utf-8")
            #expect(login.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("default-src 'none'") == true)
            #expect(login.text.contains(#"name="token""#))
            #expect(login.text.contains(#"name="next" value="/organizations/pit/releases/""#))
            // An open redirect is not offered.
            #expect(try await client.page("/login?next=%2F%2Fevil.example").text.contains(#"name="next" value="/""#))
            #expect(try await client.page("/").headers[.location] == "/login?next=%2F")

            let session = try await client.signIn(token: server.adminToken)
            // Signed in: the root and the sign-in page go on to the projects.
            let root = try await client.page("/", cookies: session.cookies)
            #expect(root.status == .seeOther)
            #expect(root.headers[.location] == "/organizations/pit/projects/")
            let again = try await client.page("/login", cookies: session.cookies)
            #expect(again.status == .seeOther)
            #expect(again.headers[.location] == "/")
            let css = try await client.page("/static/pit.css")
            #expect(css.status == .ok)
            #expect(css.headers[.contentType] == "text/css; charset=utf-8")
        }
    }

    @Test func issueListAndIssuePageRenderTheStoredData() async throws {
        let server = try await TestServer()
        let events = [
            TestEvent(type: "PaymentDeclined", value: "card <expired>", release: "3.1", environment: "production"),
            TestEvent(type: "PaymentDeclined", value: "card <expired>", release: "3.1", environment: "production"),
            TestEvent(type: "TimeoutError", value: "upstream slow"),
        ]
        try server.seed(events)
        try await server.test { client in
            let issues = try await client.api("/api/0/projects/pit/default/issues/", token: server.adminToken).array()
            let payment = try #require(issues.first { ($0["title"] as? String)?.hasPrefix("PaymentDeclined") == true }?["id"] as? String)
            let session = try await client.signIn(token: server.adminToken)
            let list = try await client.page("/organizations/pit/issues/?project=\(server.project.id)", cookies: session.cookies)
            #expect(list.status == .ok)
            #expect(list.headers[.cacheControl] == "no-store")
            // Titles are escaped: stored text never becomes markup.
            #expect(list.text.contains("PaymentDeclined: card &lt;expired&gt;"))
            #expect(!list.text.contains("card <expired>"))
            #expect(list.text.contains("TimeoutError: upstream slow"))
            #expect(list.text.contains("/organizations/pit/issues/\(payment)/"))

            let filtered = try await client.page(
                "/organizations/pit/issues/?project=\(server.project.id)&query=TimeoutError", cookies: session.cookies)
            #expect(filtered.text.contains("TimeoutError: upstream slow"))
            #expect(!filtered.text.contains("PaymentDeclined"))

            let page = try await client.page("/organizations/pit/issues/\(payment)/", cookies: session.cookies)
            #expect(page.status == .ok)
            #expect(page.text.contains("PaymentDeclined"))
            #expect(page.text.contains("app.views in index"))
            #expect(page.text.contains("3.1"))
            #expect(page.text.contains(#"name="csrf" value="\#(session.csrf)""#))
            #expect(try await client.page("/organizations/pit/issues/987654/", cookies: session.cookies).status == .notFound)

            let event = try await client.page("/organizations/pit/projects/default/events/\(events[2].id.hex)/", cookies: session.cookies)
            #expect(event.status == .ok)
            #expect(event.text.contains("upstream slow"))

            // The status form resolves the issue, as the API then shows.
            let resolve = try await client.form(
                "/organizations/pit/issues/\(payment)/status", [("csrf", session.csrf), ("status", "resolved")],
                cookies: session.cookies)
            #expect(resolve.status == .seeOther)
            #expect(try await client.api("/api/0/issues/\(payment)/", token: server.adminToken).object()["status"] as? String == "resolved")
        }
    }

    @Test func anotherProjectsEventIsNotShownUnderThisProject() async throws {
        let server = try await TestServer()
        let other = try await server.store.createProject(name: "Other", id: nil, platform: nil)
        let event = TestEvent(type: "PrivateError")
        try server.seed([event], projectID: other.id)
        try await server.test { client in
            let session = try await client.signIn(token: server.adminToken)
            #expect(
                try await client.page("/organizations/pit/projects/other/events/\(event.id.hex)/", cookies: session.cookies).status == .ok)
            let wrong = try await client.page("/organizations/pit/projects/default/events/\(event.id.hex)/", cookies: session.cookies)
            #expect(wrong.status == .notFound)
            #expect(!wrong.text.contains("PrivateError"))
        }
    }

    @Test func signOutEndsTheSession() async throws {
        let server = try await TestServer()
        try await server.test { client in
            let session = try await client.signIn(token: server.adminToken)
            // Sign-out is a form like the others: without the CSRF token it is refused.
            #expect(try await client.form("/logout", [], cookies: session.cookies).status == .forbidden)
            let out = try await client.form("/logout", [("csrf", session.csrf)], cookies: session.cookies)
            #expect(out.status == .seeOther)
            #expect(out.headers[.location] == "/login")
            #expect(out.cookie(Authenticator.sessionCookie) == "")
            // The old cookie no longer opens anything.
            let after = try await client.page("/organizations/pit/projects/", cookies: session.cookies)
            #expect(after.status == .seeOther)
            #expect(after.headers[.location] == "/login?next=%2Forganizations%2Fpit%2Fprojects%2F")
        }
    }
}
