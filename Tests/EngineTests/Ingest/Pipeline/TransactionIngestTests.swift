import Foundation
import NIOCore
import PitIngest
import PitModel
import PitPayloads
import PitQuery
import PitStorage
import SQLiteStore
import Testing

/// Transactions and spans through the pipeline and the writer into SQLite: one row each (no raw
/// item), the aggregates the summary reads, the trace with its error, and the detail.
@Suite struct TransactionIngestTests {
    typealias F = TransactionFixtures

    /// Three transactions of the trace (a root, a child under its db span, and a span v2
    /// segment), an error on the child's span, and a transaction of another trace; returns when
    /// the sample started.
    static func storeSample(_ send: (String) async throws -> Void) async throws -> Double {
        let now = Double(ClockTime.nowMilliseconds / 1000)
        let start = now - 120
        try await send(
            F.envelope(
                eventID: "11111111111111111111111111111111",
                transaction: F.transaction(
                    eventID: "11111111111111111111111111111111", start: start, duration: 0.2,
                    spans: [
                        F.span(F.dbSpan, op: "db", description: "SELECT * FROM users WHERE id = 1", start: start + 0.01, duration: 0.05),
                        F.span(
                            "c3d4e5f607182930", op: "db", description: "SELECT * FROM users WHERE id = 2", start: start + 0.07,
                            duration: 0.05),
                    ], measurements: #"{"lcp":{"value":900,"unit":"millisecond"}}"#), sampleRate: 0.5))
        try await send(
            F.envelope(
                eventID: "22222222222222222222222222222222",
                transaction: F.transaction(
                    eventID: "22222222222222222222222222222222", name: "task.refresh", op: "queue.task", status: "internal_error",
                    start: start + 0.02, duration: 2, spanID: F.childSpan, parentSpanID: F.dbSpan)))
        try await send(
            F.spanEnvelope([
                F.spanV2(
                    "d4e5f60718293a4b", parent: F.childSpan, name: "GET /health", op: "http.server", segment: true, start: start + 0.5,
                    duration: 0.01),
                F.spanV2(
                    "e5f60718293a4b5c", parent: "d4e5f60718293a4b", name: "render", op: "template", segment: false, start: start + 0.501,
                    duration: 0.005, segmentID: "d4e5f60718293a4b"),
            ]))
        try await send(F.errorEnvelope(eventID: "33333333333333333333333333333333", span: F.childSpan, at: start + 1))
        try await send(
            F.envelope(
                eventID: "44444444444444444444444444444444",
                transaction: F.transaction(
                    eventID: "44444444444444444444444444444444", start: start + 3, duration: 0.1, spanID: "f60718293a4b5c6d",
                    trace: "99999999999999999999999999999999")))
        return start
    }

    @Test func transactionsAreStoredAggregatedAndPlacedInTheirTrace() async throws {
        let fixture = try await PipelineFixture()
        try await fixture.withWriter {
            let start = try await Self.storeSample { _ = try await fixture.pipeline.envelope(fixture.request($0)) }
            // A resent transaction is a duplicate: no second row, no second count.
            _ = try await fixture.pipeline.envelope(
                fixture.request(
                    F.envelope(
                        eventID: "22222222222222222222222222222222",
                        transaction: F.transaction(
                            eventID: "22222222222222222222222222222222", name: "task.refresh", op: "queue.task", status: "internal_error",
                            start: start + 0.02, duration: 2, spanID: F.childSpan, parentSpanID: F.dbSpan))))
            #expect(try await fixture.reader.counts(projectID: 1).items == 0, "transactions and spans are not kept as raw items")

            let now = ClockTime.nowMilliseconds
            let rows = try await fixture.reader.transactionSummaries(
                TransactionSummaryQuery(projectIDs: [1], from: now - 3_600_000, to: now))
            let byName = Dictionary(uniqueKeysWithValues: rows.map { ($0.name, $0) })
            #expect(Set(byName.keys) == ["GET /users/{id}", "task.refresh", "GET /health"])
            let users = try #require(byName["GET /users/{id}"])
            #expect(users.count == 2 && users.extrapolated == 3, "sampled at 0.5, the first stands for two")
            #expect(users.failures == 0 && users.satisfied == 2)
            let task = try #require(byName["task.refresh"])
            #expect(task.count == 1 && task.failures == 1 && task.tolerated == 0 && task.apdex == 0)
            #expect(abs(task.histogram.percentile(0.5)! - 2000) / 2000 < 0.13)
            let day = try await fixture.reader.transactionSummaries(
                TransactionSummaryQuery(projectIDs: [1], from: now - 86_400_000, to: now))
            #expect(day.map(\.count).reduce(0, +) == 4, "the hour rows hold the same counts")
            var named = TransactionSummaryQuery(projectIDs: [1], from: now - 3_600_000, to: now)
            named.nameContains = "REFRESH"
            #expect(try await fixture.reader.transactionSummaries(named).map(\.name) == ["task.refresh"])
            #expect(try await fixture.reader.transactionSummaries(TransactionSummaryQuery(projectIDs: [2], from: 0, to: now)).isEmpty)

            let contents = try await fixture.reader.trace(TraceID(F.trace)!, projectIDs: [1], limit: 1000)
            #expect(contents.transactions.map(\.eventID.hex).count == 3)
            #expect(contents.spans.count == 3)
            #expect(contents.errors.map(\.eventID.hex) == ["33333333333333333333333333333333"])
            #expect(contents.errors[0].spanID?.hex == F.childSpan && contents.errors[0].title.contains("ZeroDivisionError"))
            let tree = TraceTree(contents)
            #expect(tree.tops.count == 1)
            let root = tree.nodes[tree.tops[0]]
            #expect(root.transaction.name == "GET /users/{id}" && root.children.count == 1 && root.generation == 0)
            let child = tree.nodes[root.children[0]]
            #expect(child.transaction.name == "task.refresh" && child.generation == 1 && child.errors.count == 1)
            #expect(tree.nodes[child.children[0]].transaction.name == "GET /health")
            #expect(tree.orphanErrors.isEmpty)
            #expect(try await fixture.reader.trace(TraceID(F.trace)!, projectIDs: [2], limit: 1000).transactions.isEmpty)

            let stored = try #require(
                try await fixture.reader.transaction(projectID: 1, eventID: EventID("11111111111111111111111111111111")!))
            #expect(stored.row.measurements == #"{"lcp":{"value":900,"unit":"millisecond"}}"# && stored.payloadError == nil)
            var writer = JSONWriter()
            SentryAPIRenderer.transactionEvent(stored, into: &writer)
            let detail = try #require(try JSONSerialization.jsonObject(with: Data(writer.string.utf8)) as? [String: Any])
            #expect(detail["type"] as? String == "transaction" && detail["title"] as? String == "GET /users/{id}")
            let entries = try #require(detail["entries"] as? [[String: Any]])
            #expect((entries.first?["data"] as? [Any])?.count == 2 && entries.first?["type"] as? String == "spans")
            #expect(try await fixture.reader.transaction(projectID: 2, eventID: EventID("11111111111111111111111111111111")!) == nil)
        }
    }

    /// The performance pages' reads: counts per minute for sparklines, a name's slowest samples,
    /// the spans of sampled transactions (a name's or the project's), and measurements.
    @Test func thePerformancePagesReadSamplesSpansAndMeasurements() async throws {
        let fixture = try await PipelineFixture()
        try await fixture.withWriter {
            _ = try await Self.storeSample { _ = try await fixture.pipeline.envelope(fixture.request($0)) }
            try await Self.checkPageReads(fixture.reader)
        }
    }

    static func checkPageReads(_ reader: any ReadStore) async throws {
        let now = ClockTime.nowMilliseconds
        let hour = TransactionSummaryQuery(projectIDs: [1], from: now - 3_600_000, to: now)
        let series = try await reader.transactionSeries(hour)
        #expect(series.map(\.count).reduce(0, +) == 4 && Set(series.map(\.name)).count == 3)
        #expect(series.allSatisfy { $0.unit >= hour.from / 60_000 && $0.unit <= now / 60_000 })
        var day = hour
        day.from = now - 86_400_000
        #expect(try await reader.transactionSeries(day).allSatisfy { $0.unit == now / 3_600_000 || $0.unit == now / 3_600_000 - 1 })

        var users = TransactionSampleQuery(projectID: 1, from: now - 3_600_000, to: now + 1, name: "GET /users/{id}", limit: 10)
        let slowest = try await reader.transactionSamples(users)
        #expect(slowest.map(\.eventID.hex) == ["11111111111111111111111111111111", "44444444444444444444444444444444"])
        users.limit = 1
        #expect(try await reader.transactionSamples(users).map(\.duration) == [200_000])
        users.limit = 10
        users.environment = "staging"
        #expect(try await reader.transactionSamples(users).isEmpty)
        users.environment = "production"

        let sample = try await reader.spanSample(users)
        #expect(sample.transactions == 2 && sample.transactionTime == 300_000 && !sample.truncated)
        let summary = SpanSummary(sample)
        #expect(summary.groups.count == 1, "both queries normalise to one description: \(summary.groups.map(\.description))")
        #expect(summary.groups.first?.count == 2 && summary.groups.first?.perTransaction == 2 && summary.groups.first?.transactions == 1)
        #expect(summary.ops.map(\.op) == ["db"])

        let project = try await reader.spanSample(TransactionSampleQuery(projectID: 1, from: now - 3_600_000, to: now + 1, limit: 100))
        #expect(project.transactions == 4 && Set(project.spans.map(\.op)) == ["db", "template"])
        #expect(try await reader.spanSample(TransactionSampleQuery(projectID: 2, from: 0, to: now + 1, limit: 100)).spans.isEmpty)

        let measured = try await reader.measurements(TransactionSampleQuery(projectID: 1, from: now - 3_600_000, to: now + 1, limit: 10))
        #expect(measured == [MeasurementsRow(name: "GET /users/{id}", measurements: #"{"lcp":{"value":900,"unit":"millisecond"}}"#)])
        #expect(WebVitals(measured).pages.first?.scores[.lcp]?.p75 == 900)
    }

    /// pit-bench's `--mix` sends transactions of 10-50 spans and span v2 containers; both are
    /// stored, each span once, and counted in the aggregates.
    @Test func benchMixTransactionsAndSpansAreStored() async throws {
        let fixture = try await PipelineFixture()
        let now = Double(ClockTime.nowMilliseconds / 1000)
        let generator = SyntheticEvents()
        let transactionID = EventID.random()
        let containerID = EventID.random()
        try await fixture.withWriter {
            for (kind, index, id) in [(SyntheticEvents.Kind.transaction, 40, transactionID), (.span, 7, containerID)] {
                let envelope = generator.envelope(kind: kind, index: index, eventID: id, timestamp: now)
                _ = try await fixture.pipeline.envelope(fixture.request(ByteBuffer(bytes: envelope)))
            }
            let transaction = try await fixture.reader.trace(transactionID, projectIDs: [1], limit: 1000)
            #expect(transaction.transactions.map(\.name) == ["/api/orders/{id}"] && transaction.spans.count == 50)
            #expect(Set(transaction.spans.map(\.description)).contains("SELECT id, total FROM orders WHERE customer_id = %s LIMIT %s"))
            let container = try await fixture.reader.trace(containerID, projectIDs: [1], limit: 1000)
            #expect(container.transactions.map(\.name) == ["GET /api/stock"] && container.spans.count == 16)
            let now = ClockTime.nowMilliseconds
            let rows = try await fixture.reader.transactionSummaries(TransactionSummaryQuery(projectIDs: [1], from: now - 600_000, to: now))
            #expect(rows.map(\.count).reduce(0, +) == 2)
        }
    }
}
