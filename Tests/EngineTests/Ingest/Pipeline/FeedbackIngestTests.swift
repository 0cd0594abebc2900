import Foundation
import NIOCore
import PitIngest
import PitModel
import PitStorage
import SQLiteStore
import Testing

/// Feedback and security reports through the pipeline and the writer into SQLite: committed
/// means readable, feedback links to its event's issue whichever arrives first, and a report-to
/// batch stores one event per CSP violation.
@Suite struct FeedbackIngestTests {
    static func envelope(eventID: String, items: [(type: String, payload: String)]) -> String {
        var text = "{\"event_id\":\"\(eventID)\"}\n"
        for item in items { text += "{\"type\":\"\(item.type)\",\"length\":\(item.payload.utf8.count)}\n\(item.payload)\n" }
        return text
    }

    static let eventID = String(repeating: "a", count: 32)
    static let event = #"{"exception":{"values":[{"type":"CheckoutError","value":"card declined"}]}}"#

    @Test func feedbackBeforeItsEventIsLinkedOnceTheEventArrives() async throws {
        let fixture = try await PipelineFixture()
        try await fixture.withWriter {
            let report = #"{"event_id":"\#(Self.eventID)","name":"Ann","email":"ann@example.com","comments":"It broke"}"#
            _ = try await fixture.pipeline.envelope(
                fixture.request(Self.envelope(eventID: Self.eventID, items: [("user_report", report)])))
            var rows = try await fixture.reader.feedback(FeedbackQuery(projectID: 1))
            #expect(rows.count == 1 && rows.first?.issueID == nil && rows.first?.comments == "It broke")

            _ = try await fixture.pipeline.envelope(fixture.request(Self.envelope(eventID: Self.eventID, items: [("event", Self.event)])))
            let issue = try #require(try await fixture.reader.issues(projectID: 1, query: IssueQuery()).first)
            rows = try await fixture.reader.feedback(FeedbackQuery(projectID: 1))
            #expect(rows.first?.issueID == issue.id)
            #expect(try await fixture.reader.feedback(FeedbackQuery(projectID: 1, issueID: issue.id)).count == 1)
            #expect(try await fixture.reader.feedback(FeedbackQuery(projectID: 2)).isEmpty, "no cross-project reads")

            // New-format feedback in the same envelope as its event; a resend replaces, not adds.
            let otherID = String(repeating: "b", count: 32)
            let feedback =
                #"{"event_id":"\#(otherID)","contexts":{"feedback":{"message":"Still broken","associated_event_id":"\#(Self.eventID)"}}}"#
            for _ in 0..<2 {
                _ = try await fixture.pipeline.envelope(fixture.request(Self.envelope(eventID: otherID, items: [("feedback", feedback)])))
            }
            rows = try await fixture.reader.feedback(FeedbackQuery(projectID: 1, issueID: issue.id))
            #expect(rows.map(\.comments) == ["Still broken", "It broke"], "newest first")
            #expect(rows.first?.kind == "feedback" && rows.first?.feedbackID == EventID(otherID))
            #expect(try await fixture.reader.counts(projectID: 1).items == 0, "feedback is not kept as a raw item")

            var page = FeedbackQuery(projectID: 1, limit: 1)
            #expect(try await fixture.reader.feedback(page).map(\.comments) == ["Still broken"])
            page.before = rows.first?.id
            #expect(try await fixture.reader.feedback(page).map(\.comments) == ["It broke"])
        }
    }

    @Test func invalidFeedbackIsA400() async throws {
        let fixture = try await PipelineFixture()
        // A user report names its event in its payload, or else in the envelope header; here neither does.
        let report = #"{"name":"x"}"#
        let body = "{}\n{\"type\":\"user_report\",\"length\":\(report.utf8.count)}\n\(report)\n"
        #expect(await fixture.envelopeStatus(fixture.request(body)) == 400)
    }

    @Test func securityReportsAreStoredAsGroupedEvents() async throws {
        let fixture = try await PipelineFixture()
        func report(_ blocked: String) -> String {
            #"{"csp-report":{"document-uri":"https://site.example/","effective-directive":"script-src","blocked-uri":"\#(blocked)"}}"#
        }
        try await fixture.withWriter {
            for blocked in ["https://evil.example/a.js", "https://evil.example/b.js", "https://other.example/c.js"] {
                var request = fixture.request(report(blocked), contentType: "application/csp-report")
                request.security = SecurityReport.Context(release: "r1", environment: "prod", userAgent: "Chromium")
                try await fixture.pipeline.security(request)
            }
            let batch =
                #"[{"type":"csp-violation","body":{"documentURL":"https://site.example/","blockedURL":"https://evil.example/d.js","effectiveDirective":"script-src-elem"}},"#
                + #"{"type":"csp-violation","body":{"documentURL":"https://site.example/","blockedURL":"https://img.example/x.png","effectiveDirective":"img-src"}}]"#
            try await fixture.pipeline.security(fixture.request(batch, contentType: "application/reports+json"))
        }
        let issues = try await fixture.reader.issues(projectID: 1, query: IssueQuery())
        #expect(
            issues.map(\.title).sorted() == [
                "Blocked 'image' from 'img.example'", "Blocked 'script' from 'evil.example'", "Blocked 'script' from 'evil.example'",
                "Blocked 'script' from 'other.example'",
            ])
        let grouped = try #require(issues.first { $0.timesSeen == 2 })
        #expect(grouped.kind == "csp" && grouped.culprit == "" && grouped.metadata.contains(#""directive":"script-src""#))
        let event = try #require(try await fixture.reader.latestEvent(issueID: grouped.id))
        #expect(event.release == "r1" && event.environment == "prod" && event.view?.kind == "csp")
        #expect(String(decoding: event.payload, as: UTF8.self).contains(#""csp":{"effective_directive":"script-src""#))
    }

    @Test func securityRefusalsAreRelays() async throws {
        let fixture = try await PipelineFixture()
        func status(_ body: String, contentType: String?, key: String? = PipelineFixture.key) async -> Int? {
            do {
                try await fixture.pipeline.security(fixture.request(body, key: key, contentType: contentType))
                return nil
            } catch {
                return error.status
            }
        }
        let valid = #"{"csp-report":{"effective-directive":"img-src","blocked-uri":"https://x.example/"}}"#
        #expect(await status(valid, contentType: "text/plain") == 415)
        #expect(await status(valid, contentType: "application/json", key: nil) == 401)
        #expect(await status(valid, contentType: "application/json", key: "unknown") == 403)
        #expect(await status("", contentType: "application/json") == 400)
        #expect(await status(#"{"hello":1}"#, contentType: "application/json") == 400)
        let huge = #"{"csp-report":{"effective-directive":"img-src","blocked-uri":""# + String(repeating: "x", count: 2 << 20) + #""}}"#
        #expect(await status(huge, contentType: "application/json") == 413)
    }
}
