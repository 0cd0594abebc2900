import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PitModel
import PitStorage
import Testing

@testable import PitdServer

/// `GET /api/0/projects/{org}/{project}/user-feedback/` and the feedback pages, fed by envelopes
/// through the live ingest path.
@Suite struct UserFeedbackRoutesTests {
    static func envelope(_ id: EventID, items: [(String, String)]) -> ByteBuffer {
        var text = #"{"event_id":"\#(id.hex)"}"# + "\n"
        for (type, payload) in items { text += #"{"type":"\#(type)","length":\#(payload.utf8.count)}"# + "\n" + payload + "\n" }
        return ByteBuffer(string: text)
    }

    @Test func feedbackIsListedNewestFirstWithItsIssue() async throws {
        let server = try await TestServer()
        let other = try await server.store.createProject(name: "Other", id: nil, platform: nil)
        let readOnly = try await server.token([.read])
        try await server.test(.live) { client in
            let event = EventID.random()
            let payload = #"{"event_id":"\#(event.hex)","message":"checkout failed","level":"error"}"#
            let report = #"{"event_id":"\#(event.hex)","name":"Ann <b>","email":"ann@example.com","comments":"It <broke>"}"#
            let feedbackID = EventID.random()
            let feedback =
                #"{"event_id":"\#(feedbackID.hex)","contexts":{"feedback":{"message":"No link here","contact_email":"bo@example.com","name":"Bo"}},"user":{"id":"9"}}"#
            for (id, items) in [(event, [("user_report", report)]), (event, [("event", payload)]), (feedbackID, [("feedback", feedback)])] {
                let response = try await client.execute(
                    uri: "/api/\(server.project.id)/envelope/", method: .post, headers: IngestRoutesTests.auth(server.key.publicKey),
                    body: Self.envelope(id, items: items))
                #expect(response.status == .ok, "\(response.text)")
            }
            let list = try await client.api("/api/0/projects/pit/default/user-feedback/", token: readOnly)
            #expect(list.status == .ok)
            let rows = try list.array()
            #expect(rows.map { $0["comments"] as? String } == ["No link here", "It <broke>"])
            #expect(rows[0]["eventID"] as? String == feedbackID.hex && rows[0]["issue"] is NSNull)
            #expect((rows[0]["user"] as? [String: Any])?["id"] as? String == "9")
            #expect(rows[1]["eventID"] as? String == event.hex && rows[1]["name"] as? String == "Ann <b>")
            #expect((rows[1]["issue"] as? [String: Any])?["title"] as? String == "checkout failed")
            #expect(rows[1]["dateCreated"] is String && rows[1]["user"] is NSNull)

            let page = try await client.api("/api/0/projects/pit/default/user-feedback/?limit=1", token: readOnly)
            #expect(try page.array().count == 1)
            let link = try #require(page.headers[.link])
            let cursor = try #require(link.firstMatch(of: /cursor=(\d+)>/)?.1)
            let next = try await client.api("/api/0/projects/pit/default/user-feedback/?limit=1&cursor=\(cursor)", token: readOnly)
            #expect(try next.array().first?["comments"] as? String == "It <broke>")

            #expect(try await client.api("/api/0/projects/pit/\(other.slug)/user-feedback/", token: readOnly).array().isEmpty)
            #expect(try await client.api("/api/0/projects/pit/default/user-feedback/", token: nil).status == .unauthorized)

            let session = try await client.signIn(token: server.adminToken)
            let html = try await client.page("/organizations/pit/projects/default/feedback/", cookies: session.cookies)
            #expect(html.status == .ok)
            #expect(html.text.contains("It &lt;broke&gt;") && html.text.contains("Ann &lt;b&gt;") && !html.text.contains("<broke>"))
            let issueID = try #require((rows[1]["issue"] as? [String: Any])?["id"] as? String)
            let issuePage = try await client.page("/organizations/pit/issues/\(issueID)/", cookies: session.cookies)
            #expect(issuePage.text.contains("User feedback") && issuePage.text.contains("It &lt;broke&gt;"))
            #expect(!issuePage.text.contains("No link here"))
        }
    }
}
