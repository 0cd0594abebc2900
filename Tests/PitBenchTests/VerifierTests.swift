import Foundation
import PitBenchCore
import PitModel
import Testing

/// The requests and answers of pitd's verification endpoint as pit-bench writes and reads them.
struct VerifierTests {
    let ids = (1...3).map { EventID(String(format: "%032x", $0))! }

    @Test func bodyListsTheIdsAsHex() throws {
        let object = try JSONSerialization.jsonObject(with: Data(Verifier.body(ids[...]))) as? [String: [String]]
        #expect(object == ["event_ids": ids.map(\.hex)])
        #expect(String(decoding: Verifier.body([]), as: UTF8.self) == #"{"event_ids":[]}"#)
    }

    @Test func answerGivesTheMissingIds() throws {
        let body = Array(#"{"checked":3,"missing":["\#(ids[2].hex)","\#(ids[0].hex)"]}"#.utf8)
        #expect(try Verifier.missingIDs(in: .init(status: 200, body: body), checked: 3) == [ids[2], ids[0]])
    }

    @Test func anAnswerForAnotherBatchOrAFailureIsAnError() {
        let body = Array(#"{"checked":2,"missing":[]}"#.utf8)
        #expect(throws: BenchError.self) { try Verifier.missingIDs(in: .init(status: 200, body: body), checked: 3) }
        #expect(throws: BenchError.self) { try Verifier.missingIDs(in: .init(status: 403, body: Array("{}".utf8)), checked: 3) }
        #expect(throws: BenchError.self) {
            try Verifier.missingIDs(in: .init(status: 200, body: Array(#"{"checked":1,"missing":["nope"]}"#.utf8)), checked: 1)
        }
        // Another server's 200 is not an answer: pit-bench falls back to sampling the read API.
        #expect(Verifier.answer(Array("{}".utf8)) == nil)
    }
}
