import Foundation
import NIOCore
import PitIngest
import PitModel
import PitStorage
import Testing

@Suite struct ProfileParserTests {
    typealias F = ProfileFixtures

    private func parse(_ json: String, transactionID: EventID? = nil) throws -> Result<ProfileRecord, ProfileParser.Drop> {
        try ProfileParser.profile(ByteBuffer(string: json), transactionID: transactionID, projectID: 4, received: 1_764_000_000)
    }

    @Test func aPythonProfileBecomesOneRecordLinkedToItsTransaction() throws {
        let json = F.profile()
        let record = try parse(json).get()
        #expect(record.projectID == 4 && record.profileID.hex == F.profileID)
        #expect(record.transactionID.hex == F.transactionID && record.traceID?.hex == "771a43a4192642f0b136d5159a501700")
        #expect(record.platform == "python" && record.sampleCount == 5)
        #expect(record.duration == 45_000, "the transaction's span of the profile (45 ms) is longer than the samples' 40 ms")
        #expect(record.timestamp == 1_796_119_200_250 && record.received == 1_764_000_000_000)
        #expect(record.payloadSize == json.utf8.count)
        let stored = try PayloadCodec.decompress(record.compressedPayload, limit: 1 << 20)
        #expect(String(decoding: stored, as: UTF8.self) == json)
    }

    @Test func numbersAndASingleTransactionObjectAreReadToo() throws {
        let transaction = #""transaction":{"id":"22222222222222222222222222222222","trace_id":"99999999999999999999999999999999"}"#
        let record = try parse(F.profile(transaction: transaction, elapsedAsNumbers: true)).get()
        #expect(record.transactionID.hex == "22222222222222222222222222222222" && record.duration == 40_000)
    }

    @Test func theEnvelopesTransactionLinksAProfileThatNamesNone() throws {
        let envelopeTransaction = EventID("33333333333333333333333333333333")!
        let record = try parse(F.profile(transaction: #""transactions":[]"#), transactionID: envelopeTransaction).get()
        #expect(record.transactionID == envelopeTransaction && record.traceID == nil)
        #expect(try parse(F.profile(transaction: #""transactions":[]"#)) == .failure(.noTransaction))
    }

    @Test(arguments: [
        (F.profile(version: "\"2\""), ProfileParser.Drop.unsupported),
        (F.profile(version: "null"), .unsupported),
        (F.profile().replacingOccurrences(of: #""platform":"python","#, with: ""), .unsupported),
        (F.profile(samples: [(0, "1")]), .notEnoughSamples),
        (F.profile(samples: [(0, "1"), (9, "1")]), .malformedSamples),
        (F.profile(samples: [(0, "1"), (-1, "1")]), .malformedSamples),
        (F.profile(stacks: "[[3,2,1,0],[1,7]]"), .malformedStacks),
        (F.profile(stacks: "[[3,2,1,0],\"x\"]"), .malformedStacks),
        (
            F.profile().replacingOccurrences(of: #""elapsed_since_start_ns":"10000000""#, with: #""elapsed_since_start_ns":"-5""#),
            .malformedSamples
        ),
        (F.profile().replacingOccurrences(of: #""relative_end_ns":"45000000""#, with: #""relative_end_ns":"45000000000""#), .tooLong),
        (#"{"version":"1","platform":"python","profile":{"samples":[]}}"#, .malformedSamples),
    ])
    func profilesSentryCannotShowAreDropped(json: String, drop: ProfileParser.Drop) throws {
        #expect(try parse(json) == .failure(drop))
    }

    @Test func notJSONOrNotAnObjectRefusesTheEnvelope() {
        #expect(throws: IngestError.self) { try parse("{not json") }
        #expect(throws: IngestError.self) { try parse("[1,2]") }
    }
}
