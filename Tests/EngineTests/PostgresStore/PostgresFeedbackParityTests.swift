import Foundation
import NIOCore
import PitIngest
import PitModel
import PitStorage
import PostgresNIO
import PostgresStore
import SQLiteStore
import Testing

/// Feedback and security-report events written through both back ends read the same: the
/// feedback rows with their linked issues (the issue filter and the keyset cursor too), and the
/// issues the reports are grouped into.
@Suite(.enabled(if: PostgresTestDatabase.adminURL != nil, "PIT_TEST_DATABASE_URL is not set"))
struct PostgresFeedbackParityTests {
    @Test func sameFeedbackAndReportsSameAnswers() async throws {
        let fixture = try await PipelineFixture()
        let stores = try await ParityStores()

        func unit(_ body: String, endpoint: IngestPipeline.Endpoint, contentType: String? = nil) throws -> IngestQueue.Entry {
            .write(try fixture.pipeline.prepare(fixture.request(body, contentType: contentType), endpoint: endpoint).unit)
        }
        let first = String(repeating: "a", count: 32)
        let second = String(repeating: "b", count: 32)
        let report = #"{"event_id":"\#(first)","name":"Ann","email":"ann@example.com","comments":"It broke"}"#
        let feedback =
            #"{"event_id":"\#(second)","contexts":{"feedback":{"message":"Still broken","associated_event_id":"\#(first)","url":"https://a.example/"}},"user":{"id":"7"}}"#
        let csp =
            #"{"csp-report":{"document-uri":"https://site.example/","effective-directive":"script-src","blocked-uri":"https://evil.example/a.js"}}"#
        let reportTo = """
            [{"type":"csp-violation","body":{"documentURL":"https://site.example/","blockedURL":"https://evil.example/b.js",
              "effectiveDirective":"script-src"}},
             {"type":"csp-violation","body":{"blockedURL":"https://img.example/","effectiveDirective":"img-src"}}]
            """
        let batches: [[IngestQueue.Entry]] = [
            // The report first, its event later; the same feedback twice in one batch.
            [
                try unit(FeedbackIngestTests.envelope(eventID: first, items: [("user_report", report)]), endpoint: .envelope),
                try unit(FeedbackIngestTests.envelope(eventID: second, items: [("feedback", feedback)]), endpoint: .envelope),
                try unit(FeedbackIngestTests.envelope(eventID: second, items: [("feedback", feedback)]), endpoint: .envelope),
            ],
            [
                try unit(FeedbackIngestTests.envelope(eventID: first, items: [("event", FeedbackIngestTests.event)]), endpoint: .envelope),
                try unit(csp, endpoint: .security, contentType: "application/csp-report"),
                try unit(reportTo, endpoint: .security, contentType: "application/reports+json"),
            ],
        ]
        try stores.write(batches)

        try await stores.read { left, right in
            let issues = try await left.issues(projectID: 1, query: IssueQuery())
            #expect(issues == (try await right.issues(projectID: 1, query: IssueQuery())))
            #expect(issues.filter { $0.kind == "csp" }.map(\.timesSeen).sorted() == [1, 2])
            let rows = try await left.feedback(FeedbackQuery(projectID: 1))
            #expect(rows.count == 2)
            #expect(rows.allSatisfy { $0.issueID != nil })
            #expect(rows == (try await right.feedback(FeedbackQuery(projectID: 1))))
            let issueID = try #require(rows.first?.issueID)
            for query in [
                FeedbackQuery(projectID: 1, issueID: issueID), FeedbackQuery(projectID: 1, limit: 1),
                FeedbackQuery(projectID: 1, before: rows[0].id), FeedbackQuery(projectID: 2),
                FeedbackQuery(projectID: 1, issueID: issueID + 100),
            ] {
                #expect(try await left.feedback(query) == (try await right.feedback(query)), "\(query)")
            }
            // Retention deletes feedback the same way on both, oldest first, in batches.
            let sqlitePurge = try SQLitePurgeStore(path: stores.sqlitePath)
            let postgresPurge = try PostgresPurgeStore(url: stores.database, logger: PostgresTestDatabase.logger)
            defer { postgresPurge.close() }
            for purge in [sqlitePurge, postgresPurge] as [any PurgeStore] {
                #expect(try purge.purgeFeedback(projectID: 1, receivedBefore: 0, limit: 10) == 0)
                #expect(try purge.purgeFeedback(projectID: 1, receivedBefore: .max, limit: 1) == 1)
            }
            sqlitePurge.close()
            #expect(try await left.feedback(FeedbackQuery(projectID: 1)) == [rows[0]])
            #expect(try await right.feedback(FeedbackQuery(projectID: 1)) == [rows[0]])
        }
    }
}
