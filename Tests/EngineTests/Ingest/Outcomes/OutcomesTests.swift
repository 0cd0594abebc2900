import Foundation
import NIOCore
import PitIngest
import PitModel
import PitStorage
import Testing

/// Client reports parsed into outcomes (and bad ones refused with a reason), refusals mapped to
/// Relay's reason codes, and outcomes summed per key per batch and in memory.
@Suite struct OutcomesTests {
    static let received = 1_700_000_000.0
    static let hour = Int64(received) / 3600

    func parse(_ json: String) throws(IngestError) -> [OutcomeCount] {
        try ClientReportParser.parse(ByteBuffer(string: json), projectID: 1, received: Self.received)
    }

    @Test func clientReportBecomesOutcomes() throws {
        let counts = try parse(
            """
            {"timestamp":"\(Timestamp.format(milliseconds: Int64(Self.received - 7200) * 1000))",
             "discarded_events":[{"reason":"before_send","category":"error","quantity":3},
                                 {"reason":"sample_rate","category":"transaction","quantity":0},
                                 {"reason":"queue_overflow","category":"attachment","quantity":1024}],
             "rate_limited_events":[{"reason":"key_quota","category":"error","quantity":2}],
             "filtered_events":[{"reason":"release-version","category":"error","quantity":1}],
             "filtered_sampling_events":[{"reason":"Sampled:0","category":"transaction","quantity":5}]}
            """.replacingOccurrences(of: "Sampled:0", with: "sampled:0"))
        // The report's own hour (two hours before receipt); a zero quantity counts nothing.
        let hour = Self.hour - 2
        #expect(
            counts == [
                OutcomeCount(
                    OutcomeKey(projectID: 1, hour: hour, outcome: .clientDiscard, category: "error", reason: "before_send"), quantity: 3),
                OutcomeCount(
                    OutcomeKey(projectID: 1, hour: hour, outcome: .clientDiscard, category: "attachment", reason: "queue_overflow"),
                    quantity: 1024),
                OutcomeCount(
                    OutcomeKey(projectID: 1, hour: hour, outcome: .rateLimited, category: "error", reason: "key_quota"), quantity: 2),
                OutcomeCount(
                    OutcomeKey(projectID: 1, hour: hour, outcome: .filtered, category: "error", reason: "release-version"), quantity: 1),
                OutcomeCount(
                    OutcomeKey(projectID: 1, hour: hour, outcome: .filtered, category: "transaction", reason: "sampled:0"), quantity: 5),
            ])
        // Epoch seconds work too; a timestamp from long ago or the future counts at receipt.
        for timestamp in ["\(Self.received - 30)", "\(Self.received - 10 * 86400)", "\(Self.received + 3600)", "null"] {
            let counts = try parse(#"{"timestamp":\#(timestamp),"discarded_events":[{"reason":"x","category":"error","quantity":1}]}"#)
            #expect(counts.first?.key.hour == Self.hour, "\(timestamp)")
        }
        #expect(try parse("{}").isEmpty)
    }

    @Test func badClientReportsAreRefusedWithAReason() {
        let cases: [(String, String)] = [
            ("[1]", "invalid client_report item: not a JSON object"),
            ("{", "invalid client_report item:"),
            (#"{"discarded_events":{}}"#, "invalid client_report item: discarded_events is not an array"),
            (#"{"discarded_events":[1]}"#, "invalid client_report item: discarded_events[0] is not an object"),
            (
                #"{"discarded_events":[{"category":"error","quantity":1}]}"#,
                "invalid client_report item: discarded_events[0].reason must be a string"
            ),
            (
                #"{"discarded_events":[{"reason":"Before Send","category":"error","quantity":1}]}"#,
                "invalid client_report item: discarded_events[0].reason must be 1 to 200 characters"
            ),
            (
                #"{"discarded_events":[{"reason":"x","category":"error","quantity":-1}]}"#,
                "invalid client_report item: discarded_events[0].quantity must be an integer from 0 to 4294967295"
            ),
            (
                #"{"rate_limited_events":[{"reason":"x","category":"error","quantity":1.5}]}"#,
                "invalid client_report item: rate_limited_events[0].quantity must be an integer from 0 to 4294967295"
            ),
            (
                #"{"discarded_events":[{"reason":"x","category":"error","quantity":4294967296}]}"#,
                "invalid client_report item: discarded_events[0].quantity must be an integer from 0 to 4294967295"
            ),
            (#"{"timestamp":"yesterday"}"#, "invalid client_report item: timestamp is not a timestamp"),
            (
                #"{"discarded_events":["#
                    + Array(repeating: #"{"reason":"x","category":"error","quantity":1}"#, count: 1001).joined(separator: ",")
                    + "]}",
                "invalid client_report item: more than 1000 entries"
            ),
        ]
        for (json, message) in cases {
            do {
                _ = try parse(json)
                Issue.record("accepted \(json.prefix(80))")
            } catch {
                #expect(error.status == 400 && error.detail.hasPrefix(message), "\(error.detail)")
                #expect(OutcomeReason.of(error)?.1 == "client_report" || OutcomeReason.of(error)?.1 == "invalid_json")
            }
        }
    }

    @Test func refusalsMapToRelaysReasons() {
        #expect(OutcomeReason.of(.rateLimited("x", retryAfter: 1))! == (.rateLimited, "key_quota"))
        #expect(OutcomeReason.of(.tooLarge("event exceeds 1 bytes"))! == (.invalid, "too_large"))
        #expect(OutcomeReason.of(.unsupportedMediaType("x"))! == (.invalid, "content_type"))
        for (detail, reason) in [
            ("empty envelope", "empty_envelope"), ("empty event", "no_data"), ("duplicate event item", "duplicate_item"),
            ("invalid envelope header: x", "invalid_envelope"), ("missing newline after item payload", "invalid_envelope"),
            ("invalid event payload: x", "invalid_json"), ("invalid session item: not JSON", "invalid_json"),
            ("could not decode gzip body: x", "payload"), ("client requested unsupported protocol version (9)", "auth_version"),
            ("invalid security report: x", "security_report"),
        ] {
            #expect(OutcomeReason.of(.badRequest(detail))?.1 == reason, "\(detail)")
        }
        // Not outcomes: auth failures and load shedding (the SDK reports what it lost to a 503).
        #expect(OutcomeReason.of(.unauthorized("x")) == nil)
        #expect(OutcomeReason.of(.forbidden("x")) == nil)
        #expect(OutcomeReason.of(.overloaded("x", retryAfter: 1)) == nil)
    }

    @Test func batchSumsPerKey() {
        var batch = OutcomeBatch()
        let key = OutcomeKey(projectID: 1, hour: 5, outcome: .accepted, category: "attachment")
        batch.add([OutcomeCount(key, quantity: 100), OutcomeCount(key, quantity: 20)])
        batch.add([OutcomeCount(OutcomeKey(projectID: 2, hour: 5, outcome: .accepted, category: "attachment"), quantity: 1)])
        #expect(batch.tallies[key] == OutcomeTally(quantity: 120, timesSeen: 2))
        #expect(batch.sorted.map(\.key.projectID) == [1, 2])
        #expect(OutcomeCategory.ofEvent(kind: "error") == "error" && OutcomeCategory.ofEvent(kind: "csp") == "security")
        #expect(OutcomeCategory.ofEvent(kind: "default") == "default")
        #expect(OutcomeCategory.statsName("security") == "error" && OutcomeCategory.statsName("log_byte") == "log_byte")
        #expect(OutcomeCategory.accepted(.attachment, itemCount: nil, payloadBytes: 4096).first! == ("attachment", 4096))
        #expect(OutcomeCategory.accepted(.log, itemCount: 3, payloadBytes: 900).map(\.0) == ["log_item", "log_byte"])
        #expect(OutcomeCategory.accepted(.clientReport, itemCount: nil, payloadBytes: 10).isEmpty)
    }

    @Test func rejectedOutcomesAreBoundedAndDrained() {
        let rejected = RejectedOutcomes()
        let key = OutcomeKey(projectID: 1, hour: 1, outcome: .rateLimited, category: "error", reason: "key_quota")
        for _ in 0..<3 { rejected.record(key) }
        for n in 0..<(RejectedOutcomes.maxKeys + 5) {
            rejected.record(OutcomeKey(projectID: Int64(n + 10), hour: 1, outcome: .invalid, category: "error", reason: "too_large"))
        }
        #expect(rejected.dropped == 6, "the bound counts keys, the first key still adds up")
        rejected.record(key)
        let drained = rejected.drain()
        #expect(drained.count == RejectedOutcomes.maxKeys)
        #expect(drained.first { $0.key == key }?.tally == OutcomeTally(quantity: 4, timesSeen: 4))
        #expect(rejected.isEmpty && rejected.drain().isEmpty)
    }
}
