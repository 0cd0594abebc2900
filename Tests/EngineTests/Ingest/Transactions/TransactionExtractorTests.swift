import Foundation
import NIOCore
import PitIngest
import PitModel
import Testing

@Suite struct TransactionExtractorTests {
    typealias F = TransactionFixtures

    @Test func aTransactionBecomesOneLeanRecordWithItsSpans() throws {
        let start = 1_764_000_000.25
        let json = F.transaction(
            eventID: "0123456789abcdef0123456789abcdef", start: start, duration: 0.5,
            spans: [
                F.span(F.dbSpan, op: "db", description: "SELECT * FROM users WHERE id = 7", start: start + 0.1, duration: 0.2),
                F.span(F.childSpan, parent: F.dbSpan, op: "http.client", description: "GET /users/7", start: start + 0.15, duration: 0.01),
            ], measurements: #"{"lcp":{"value":1200,"unit":"millisecond"}}"#)
        let result = try TransactionExtractor.transaction(
            ByteBuffer(string: json), headerEventID: nil, projectID: 3, received: start + 1, sampleRate: 0.25)
        let record = try result.get()
        #expect(record.eventID.hex == "0123456789abcdef0123456789abcdef")
        #expect(record.traceID.hex == F.trace && record.spanID.hex == F.rootSpan && record.parentSpanID == nil)
        #expect(record.name == "GET /users/{id}" && record.op == "http.server" && record.status == "ok")
        #expect(record.start == 1_764_000_000_250_000 && record.duration == 500_000)
        #expect(record.release == "app@1.0" && record.environment == "production" && record.platform == "python")
        #expect(record.sampleRate == 0.25 && record.extrapolatedCount == 4)
        #expect(record.measurements == #"{"lcp":{"value":1200,"unit":"millisecond"}}"#)
        #expect(record.spans.count == 2)
        #expect(record.spans[0].description == "SELECT * FROM users WHERE id = %s")
        #expect(record.spans[0].segmentID == record.spanID && record.spans[0].duration == 200_000)
        #expect(record.spans[1].parentSpanID?.hex == F.dbSpan && record.spans[1].description == "GET /users/*")
        #expect(!record.compressedPayload.isEmpty && record.payloadSize == json.utf8.count)
    }

    @Test func theHeaderEventIDWinsAndStatusDefaultsToUnknown() throws {
        let json = F.transaction(eventID: "0123456789abcdef0123456789abcdef", start: 1_764_000_000, duration: 1)
            .replacingOccurrences(of: #","status":"ok""#, with: "")
        let header = EventID("ffffffffffffffffffffffffffffffff")!
        let record = try TransactionExtractor.transaction(
            ByteBuffer(string: json), headerEventID: header, projectID: 1, received: 1_764_000_001, sampleRate: nil
        ).get()
        #expect(record.eventID == header && record.status == "unknown" && record.extrapolatedCount == 1)
    }

    @Test func aTransactionThatCannotBePlacedIsDropped() throws {
        let noTrace = #"{"type":"transaction","start_timestamp":1,"timestamp":2,"contexts":{}}"#
        #expect(
            try TransactionExtractor.transaction(
                ByteBuffer(string: noTrace), headerEventID: nil, projectID: 1, received: 3, sampleRate: nil)
                == .failure(.invalid))
        #expect(throws: IngestError.self) {
            _ = try TransactionExtractor.transaction(
                ByteBuffer(string: "[1]"), headerEventID: nil, projectID: 1, received: 3, sampleRate: nil)
        }
    }

    @Test func aFutureTransactionIsMovedToItsArrivalKeepingItsDuration() throws {
        let json = F.transaction(eventID: "0123456789abcdef0123456789abcdef", start: 1_764_100_000, duration: 2)
        let record = try TransactionExtractor.transaction(
            ByteBuffer(string: json), headerEventID: nil, projectID: 1, received: 1_764_000_000, sampleRate: nil
        ).get()
        #expect(record.start + record.duration == 1_764_000_000_000_000 && record.duration == 2_000_000)
    }

    @Test func aSpanV2ContainerGivesSegmentsAndSpans() throws {
        let start = 1_764_000_000.0
        let envelope = F.spanEnvelope([
            F.spanV2(F.rootSpan, parent: nil, name: "GET /checkout", op: "http.server", segment: true, start: start, duration: 0.3),
            F.spanV2(
                F.dbSpan, parent: F.rootSpan, name: "SELECT * FROM carts WHERE id = 9", op: "db", segment: false, start: start + 0.1,
                duration: 0.05, status: "error", segmentID: F.rootSpan, segmentName: "GET /checkout"),
            #"{"trace_id":"nope"}"#,
        ])
        let payload = envelope.split(separator: "\n")[2]
        let parsed = try TransactionExtractor.spanItem(
            ByteBuffer(string: String(payload)), itemCount: 3, contentType: TransactionExtractor.spanContainerContentType, projectID: 1,
            received: start + 1, sampleRate: 0.5)
        #expect(parsed.dropped == 1)
        #expect(parsed.segments.count == 1 && parsed.spans.count == 1)
        let segment = parsed.segments[0]
        #expect(segment.name == "GET /checkout" && segment.op == "http.server" && segment.release == "app@2.0")
        #expect(segment.environment == "staging" && segment.duration == 300_000 && segment.sampleRate == 0.5)
        #expect(segment.compressedPayload.isEmpty)
        let span = parsed.spans[0]
        #expect(span.segmentID?.hex == F.rootSpan && span.status == "error" && span.description == "SELECT * FROM carts WHERE id = %s")
        #expect(throws: IngestError.self) {
            _ = try TransactionExtractor.spanItem(
                ByteBuffer(string: String(payload)), itemCount: 2, contentType: nil, projectID: 1, received: start, sampleRate: nil)
        }
    }

    @Test func theSampleRateComesFromTheEnvelopeHeader() throws {
        let envelope = F.envelope(eventID: "0123456789abcdef0123456789abcdef", transaction: "{}", sampleRate: 0.1)
        let parsed = try EnvelopeParser(limits: IngestLimits()).parse(ByteBuffer(string: envelope))
        #expect(TransactionExtractor.sampleRate(parsed.header) == 0.1)
        let none = try EnvelopeParser(limits: IngestLimits()).parse(ByteBuffer(string: "{}\n"))
        #expect(TransactionExtractor.sampleRate(none.header) == nil)
    }
}
