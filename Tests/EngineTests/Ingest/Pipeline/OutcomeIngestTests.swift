import Foundation
import NIOCore
import PitIngest
import PitModel
import PitStorage
import SQLiteStore
import Testing

/// Outcomes through the pipeline and the writer into SQLite: accepted items per category (events
/// by the store, which alone knows a duplicate), client reports counted and not kept raw, and
/// refusals (429, 413, 400) counted in memory and flushed by the writer.
@Suite struct OutcomeIngestTests {
    static func envelope(eventID: String? = nil, items: [(type: String, payload: String)]) -> String {
        var text = eventID.map { "{\"event_id\":\"\($0)\"}\n" } ?? "{}\n"
        for item in items { text += "{\"type\":\"\(item.type)\",\"length\":\(item.payload.utf8.count)}\n\(item.payload)\n" }
        return text
    }

    static let event = #"{"exception":{"values":[{"type":"CheckoutError","value":"card declined"}]}}"#
    static let report =
        #"{"discarded_events":[{"reason":"before_send","category":"error","quantity":4},{"reason":"sample_rate","category":"transaction","quantity":2}]}"#

    /// The stored outcomes of project 1 as (outcome, category, reason) → quantity.
    static func totals(_ reader: any ReadStore, project: Int64 = 1) async throws -> [String: Int64] {
        let now = Int64(Date().timeIntervalSince1970) / 3600
        var totals: [String: Int64] = [:]
        for row in try await reader.outcomes(OutcomeQuery(projectIDs: [project], fromHour: now - 240, toHour: now + 1)) {
            totals["\(row.key.outcome.rawValue)/\(row.key.category)/\(row.key.reason)", default: 0] += row.tally.quantity
        }
        return totals
    }

    @Test func acceptedItemsAndClientReportsAreCounted() async throws {
        let fixture = try await PipelineFixture()
        let id = String(repeating: "a", count: 32)
        try await fixture.withWriter {
            let attachment = String(repeating: "x", count: 1500)
            _ = try await fixture.pipeline.envelope(
                fixture.request(
                    Self.envelope(
                        eventID: id,
                        items: [("event", Self.event), ("attachment", attachment), ("client_report", Self.report)])))
            // The same event again: a duplicate, not accepted twice.
            _ = try await fixture.pipeline.envelope(fixture.request(Self.envelope(eventID: id, items: [("event", Self.event)])))
            _ = try await fixture.pipeline.envelope(
                fixture.request(Self.envelope(items: [("client_report", Self.report), ("client_report", Self.report)])))
            // A message event is a `default` event.
            _ = try await fixture.pipeline.envelope(
                fixture.request(Self.envelope(items: [("event", #"{"message":"hello","level":"info"}"#)])))
        }
        let totals = try await Self.totals(fixture.reader)
        #expect(
            totals == [
                "accepted/error/": 1, "accepted/default/": 1, "accepted/attachment/": 1500, "invalid/error/duplicate": 1,
                "client_discard/error/before_send": 12, "client_discard/transaction/sample_rate": 6,
            ])
        #expect(try await fixture.reader.counts(projectID: 1).items == 0, "client reports are counted, not stored")
        #expect(try await fixture.reader.attachments(projectID: 1, eventID: try #require(EventID(id))).count == 1)
        #expect(try await Self.totals(fixture.reader, project: 2).isEmpty)
    }

    /// Logs count one by one: the kept ones accepted, one dropped by Relay's rules invalid, the
    /// container's bytes as log_byte.
    @Test func logsAreCountedOneByOne() async throws {
        let fixture = try await PipelineFixture()
        let now = Date().timeIntervalSince1970
        let logs =
            #"{"items":[{"timestamp":\#(now),"level":"info","body":"kept"},{"timestamp":\#(now),"level":"warn","body":"kept too"},{"level":"info"}]}"#
        let body =
            "{}\n{\"type\":\"log\",\"item_count\":3,\"content_type\":\"application/vnd.sentry.items.log+json\",\"length\":\(logs.utf8.count)}\n\(logs)\n"
        try await fixture.withWriter {
            _ = try await fixture.pipeline.envelope(fixture.request(body))
        }
        #expect(
            try await Self.totals(fixture.reader) == [
                "accepted/log_item/": 2, "invalid/log_item/invalid_log": 1, "accepted/log_byte/": Int64(logs.utf8.count),
            ])
    }

    @Test func refusalsAreCountedAndFlushedByTheWriter() async throws {
        var limits = IngestLimits()
        limits.maxEventBytes = 4096
        let fixture = try await PipelineFixture(limits: limits)
        let admin = try SQLiteAdminStore(path: fixture.path)
        let key = try #require(try await admin.keys(projectID: 1).first { $0.publicKey == PipelineFixture.key })
        _ = try await admin.updateKey(
            id: key.id, label: nil, enabled: nil, rateLimit: .some(ProjectKey.RateLimit(count: 2, windowSeconds: 60)))
        try await fixture.keys.reload(from: admin)
        try await fixture.withWriter {
            // Two admitted, then a 429 for each further request.
            for n in 0..<4 {
                let status = await fixture.envelopeStatus(
                    fixture.request(Self.envelope(items: [("event", #"{"message":"m\#(n)"}"#)])))
                #expect(status == (n < 2 ? nil : 429), "request \(n)")
            }
            _ = try await admin.updateKey(id: key.id, label: nil, enabled: nil, rateLimit: .some(nil))
            try await fixture.keys.reload(from: admin)
            // Too large an event, a broken client report, an empty envelope: refused and counted, per
            // item once the envelope parsed (else as one item of category default).
            let big = #"{"message":""# + String(repeating: "x", count: 5000) + #""}"#
            #expect(await fixture.envelopeStatus(fixture.request(Self.envelope(items: [("event", big)]))) == 413)
            let broken = #"{"discarded_events":[{"reason":"x","category":"error","quantity":-3}]}"#
            let request = fixture.request(Self.envelope(items: [("event", Self.event), ("client_report", broken)]))
            do throws(IngestError) {
                _ = try await fixture.pipeline.envelope(request)
                Issue.record("a broken client report was accepted")
            } catch {
                #expect(error.status == 400)
                #expect(error.detail == "invalid client_report item: discarded_events[0].quantity must be an integer from 0 to 4294967295")
            }
            #expect(await fixture.envelopeStatus(fixture.request("")) == 400)
            // Another project's key for project 1, an unknown key: not counted anywhere.
            #expect(await fixture.envelopeStatus(fixture.request(Self.envelope(items: [("event", big)]), key: fixture.otherKey)) == 403)
            #expect(await fixture.envelopeStatus(fixture.request(Self.envelope(items: [("event", big)]), key: "nobody")) == 403)
        }
        let totals = try await Self.totals(fixture.reader)
        #expect(
            totals == [
                "accepted/default/": 2, "rate_limited/default/key_quota": 2, "invalid/default/too_large": 1,
                "invalid/error/client_report": 1, "invalid/default/empty_envelope": 1,
            ])
        #expect(try await Self.totals(fixture.reader, project: 2).isEmpty)
        #expect(fixture.rejections.isEmpty)
    }

    @Test func outcomesArePurgedInBatches() async throws {
        let fixture = try await PipelineFixture()
        try await fixture.withWriter {
            _ = try await fixture.pipeline.envelope(fixture.request(Self.envelope(items: [("client_report", Self.report)])))
        }
        let purge = try SQLitePurgeStore(path: fixture.path)
        let now = Int64(Date().timeIntervalSince1970) / 3600
        #expect(try purge.purgeOutcomes(beforeHour: now - OutcomeRetention.hours, limit: 10) == 0)
        #expect(try purge.purgeOutcomes(beforeHour: now + 1, limit: 1) == 1)
        #expect(try purge.purgeOutcomes(beforeHour: now + 1, limit: 10) == 1)
        #expect(try await Self.totals(fixture.reader).isEmpty)
    }
}
