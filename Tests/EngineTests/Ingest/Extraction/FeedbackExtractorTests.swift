import NIOCore
import PitIngest
import PitModel
import Testing

/// The new `feedback` item and the legacy `user_report` item become one kind of record.
@Suite struct FeedbackExtractorTests {
    private func extract(_ json: String, _ type: ItemType, header: EventID? = nil) throws -> FeedbackRecord {
        try FeedbackExtractor.extract(ByteBuffer(string: json), type: type, headerEventID: header, projectID: 1, received: receiveTime)
    }

    @Test func newFeedbackReadsContextsFeedback() throws {
        let record = try extract(
            """
            {"event_id": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "timestamp": 1700000001.5,
             "contexts": {"feedback": {"message": "The button does nothing", "contact_email": "jane@example.com", "name": "Jane",
                          "associated_event_id": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "url": "https://app.example/checkout"}},
             "user": {"id": "42", "email": "jane@example.com", "ip_address": "127.0.0.1"}}
            """, .feedback)
        #expect(record.kind == .feedback)
        #expect(record.feedbackID == EventID("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"))
        #expect(record.eventID == EventID("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"))
        #expect(record.name == "Jane" && record.email == "jane@example.com" && record.comments == "The button does nothing")
        #expect(record.url == "https://app.example/checkout")
        #expect(record.timestamp == 1_700_000_001_500 && record.received == Int64(receiveTime * 1000))
        #expect(record.user == #"{"id":"42","email":"jane@example.com","ip_address":"127.0.0.1"}"#)
        #expect(record.payloadSize > 0 && !record.compressedPayload.isEmpty)
    }

    @Test func newFeedbackFallsBackToTheUserAndTheHeaderID() throws {
        let header = EventID("cccccccccccccccccccccccccccccccc")
        let record = try extract(
            #"{"contexts": {"feedback": {"message": "hi"}}, "user": {"name": "Bob", "email": "bob@example.com"}}"#, .feedback,
            header: header)
        #expect(record.feedbackID == header && record.eventID == nil)
        #expect(record.name == "Bob" && record.email == "bob@example.com")
    }

    @Test func userReportIsAboutItsEvent() throws {
        let record = try extract(
            #"{"event_id": "dddddddddddddddddddddddddddddddd", "name": "Ann", "email": "ann@example.com", "comments": "It broke"}"#,
            .userReport)
        #expect(record.kind == .userReport)
        #expect(record.eventID == EventID("dddddddddddddddddddddddddddddddd") && record.feedbackID == record.eventID)
        #expect(record.name == "Ann" && record.email == "ann@example.com" && record.comments == "It broke")
    }

    @Test func longFieldsAreCutAndNULsRemoved() throws {
        let long = String(repeating: "é", count: 5000)
        let record = try extract(
            #"{"event_id": "dddddddddddddddddddddddddddddddd", "name": "A\u0000nn", "comments": "\#(long)"}"#, .userReport)
        #expect(record.name == "Ann")
        #expect(record.comments.utf8.count <= FeedbackExtractor.maxComments)
    }

    @Test(arguments: [
        ("{}", ItemType.userReport), (#"{"event_id": "nope"}"#, .userReport), ("[]", .userReport), ("{", .feedback),
        (#"{"contexts": {"feedback": {"message": "  "}}}"#, .feedback), (#"{"contexts": {}}"#, .feedback),
    ])
    func invalidFeedbackIsRefused(json: String, type: ItemType) {
        #expect(throws: IngestError.self) { try extract(json, type) }
    }
}
