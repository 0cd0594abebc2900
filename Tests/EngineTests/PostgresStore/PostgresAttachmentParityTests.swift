import Foundation
import NIOCore
import PitIngest
import PitModel
import PitStorage
import PostgresNIO
import PostgresStore
import SQLiteStore
import Testing

/// Attachments written through both back ends read the same: metadata rows, bytes (compressed
/// and not), a resend stored once, the project scope, and retention's batches.
@Suite(.enabled(if: PostgresTestDatabase.adminURL != nil, "PIT_TEST_DATABASE_URL is not set"))
struct PostgresAttachmentParityTests {
    @Test func sameAttachmentsSameAnswers() async throws {
        let fixture = try await PipelineFixture()
        let stores = try await ParityStores()

        let first = AttachmentIngestTests.eventID
        let second = String(repeating: "b", count: 32)
        let withEvent = AttachmentIngestTests.envelope(
            eventID: first,
            items: [
                ("\"type\":\"event\"", Array(AttachmentIngestTests.event.utf8)),
                AttachmentIngestTests.attachment("debug.log", contentType: "text/plain", AttachmentIngestTests.log),
                AttachmentIngestTests.attachment("screenshot.png", contentType: "image/png", AttachmentIngestTests.png),
                AttachmentIngestTests.attachment("vh.json", type: "event.view_hierarchy", AttachmentIngestTests.hierarchy),
            ])
        let alone = AttachmentIngestTests.envelope(eventID: second, items: [AttachmentIngestTests.attachment("late.txt", Array("hi".utf8))])
        let dump = MinidumpBuilder.dump(crash: .init(code: 11, flags: 2))
        let minidump = try fixture.pipeline.prepare(
            fixture.request(ByteBuffer(bytes: dump), contentType: "application/x-dmp"), endpoint: .minidump)
        func unit(_ body: ByteBuffer) throws -> IngestQueue.Entry {
            .write(try fixture.pipeline.prepare(fixture.request(body), endpoint: .envelope).unit)
        }
        let batches: [[IngestQueue.Entry]] = [
            [try unit(withEvent), try unit(alone), try unit(withEvent)],
            [try unit(withEvent), .write(minidump.unit)],
        ]
        try stores.write(batches)

        try await stores.read { left, right in
            let minidumpID = try #require(minidump.eventID)
            for eventID in [EventID(first)!, EventID(second)!, minidumpID] {
                let rows = try await left.attachments(projectID: 1, eventID: eventID)
                #expect(!rows.isEmpty)
                #expect(rows == (try await right.attachments(projectID: 1, eventID: eventID)), "\(eventID)")
                for row in rows {
                    #expect(try await left.attachment(projectID: 1, id: row.id) == row)
                    #expect(try await right.attachment(projectID: 1, id: row.id) == row)
                    #expect(try await right.attachment(projectID: 2, id: row.id) == nil)
                    let a = try #require(try await left.attachmentContent(projectID: 1, id: row.id))
                    let b = try #require(try await right.attachmentContent(projectID: 1, id: row.id))
                    #expect(a.compressed == b.compressed)
                    #expect(try a.decoded() == b.decoded())
                    #expect(try await right.attachmentContent(projectID: 2, id: row.id) == nil)
                }
            }
            #expect(try await left.attachments(projectID: 1, eventID: EventID(first)!).count == 3, "resends stored once")
            #expect(try await right.attachments(projectID: 1, eventID: minidumpID).first?.type == "event.minidump")
            let issues = try await left.issues(projectID: 1, query: IssueQuery())
            #expect(issues == (try await right.issues(projectID: 1, query: IssueQuery())))
            #expect(issues.contains { $0.title == "SIGSEGV / SEGV_ACCERR: Fatal Error: SIGSEGV / SEGV_ACCERR" })

            // Retention deletes attachments the same way on both, in batches.
            let sqlitePurge = try SQLitePurgeStore(path: stores.sqlitePath)
            let postgresPurge = try PostgresPurgeStore(url: stores.database, logger: PostgresTestDatabase.logger)
            defer { postgresPurge.close() }
            for purge in [sqlitePurge, postgresPurge] as [any PurgeStore] {
                #expect(try purge.purgeAttachments(projectID: 1, receivedBefore: 0, limit: 10) == 0)
                #expect(try purge.purgeAttachments(projectID: 1, receivedBefore: .max, limit: 2) == 2)
                #expect(try purge.purgeAttachments(projectID: 1, receivedBefore: .max, limit: 100) == 3)
            }
            sqlitePurge.close()
            #expect(try await left.attachments(projectID: 1, eventID: EventID(first)!).isEmpty)
            #expect(try await right.attachments(projectID: 1, eventID: minidumpID).isEmpty)
        }
    }
}
