import Foundation
import Logging
import NIOCore
import PitIngest
import PitModel
import PitObservability
import PitStorage
import SQLiteStore
import Testing

/// Admin data, key cache, queue, SQLite store, batch writer and pipeline over one temporary database.
final class PipelineFixture {
    static let key = "testkey"
    static let disabledKey = "disabledkey"

    let directory: TemporaryDirectory
    let path: String
    let keys = KeyCache()
    let queue: IngestQueue
    let writer: BatchWriter
    let reader: SQLiteReadStore
    let pipeline: IngestPipeline
    /// Refused requests' outcomes, counted by the pipeline and flushed by the writer.
    let rejections = RejectedOutcomes()
    /// Project 2's key.
    let otherKey: String

    init(
        ack: AckMode = .committed, queue: IngestQueue = IngestQueue(maxCount: 1000, maxBytes: 64 << 20),
        limits: IngestLimits = IngestLimits(), retryAfterSeconds: Int = 1, sourceMaps: SourceMapResolver? = nil,
        // Long by default: a test of what resolution does must not depend on how loaded the
        // machine is; the deadline's own tests set a short one.
        sourceMapSchedule: SourceMapSchedule = SourceMapSchedule(deadline: .seconds(60))
    ) async throws {
        directory = try TemporaryDirectory()
        path = directory.path("pit.db")
        let admin = try SQLiteAdminStore(path: path)
        #expect(try await admin.ensureDefaults(organizationSlug: "org", projectSlug: "proj").id == 1)
        _ = try await admin.createKey(projectID: 1, publicKey: Self.key, label: nil)
        _ = try await admin.createKey(projectID: 1, publicKey: Self.disabledKey, label: nil)
        let other = try await admin.createProject(name: "Other", id: 2, platform: "python")
        otherKey = try await admin.keys(projectID: other.id)[0].publicKey
        try SQLiteConnection(path: path).execute("UPDATE project_keys SET enabled = 0 WHERE public_key = '\(Self.disabledKey)'")
        try await keys.reload(from: admin)

        self.queue = queue
        let store = try SQLiteBatchStore(path: path, durability: StorageDurability(synchronous: .off))
        let metrics = PitMetrics()
        writer = BatchWriter(
            queue: queue, store: store, batchSize: 64, metrics: metrics, rejections: rejections,
            logger: Logger(label: "pit.tests", factory: { _ in SwiftLogNoOpLogHandler() }))
        reader = SQLiteReadStore(path: path)
        pipeline = IngestPipeline(
            keys: keys, queue: queue, ack: ack, limits: limits, metrics: metrics, retryAfterSeconds: retryAfterSeconds,
            rejections: rejections, sourceMaps: sourceMaps, sourceMapSchedule: sourceMapSchedule)
    }

    /// Runs `body` while the writer thread runs; stops and drains the writer afterwards.
    func withWriter(_ body: () async throws -> Void) async throws {
        let writer = writer
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await writer.run() }
            do {
                try await body()
            } catch {
                writer.finish()
                try await group.waitForAll()
                throw error
            }
            writer.finish()
            try await group.waitForAll()
        }
    }

    func request(
        _ body: String, projectID: Int64 = 1, key: String? = PipelineFixture.key, encoding: String? = nil,
        contentType: String? = nil
    ) -> IngestPipeline.Request {
        request(ByteBuffer(string: body), projectID: projectID, key: key, encoding: encoding, contentType: contentType)
    }

    func request(
        _ body: ByteBuffer, projectID: Int64 = 1, key: String? = PipelineFixture.key, encoding: String? = nil,
        contentType: String? = nil
    ) -> IngestPipeline.Request {
        IngestPipeline.Request(
            projectID: projectID, auth: key.map { SentryAuth(publicKey: $0, version: 7) },
            contentEncoding: encoding, contentType: contentType, body: body)
    }

    /// The status `envelope` fails with, nil when it succeeds.
    func envelopeStatus(_ request: IngestPipeline.Request) async -> Int? {
        do {
            _ = try await pipeline.envelope(request)
            return nil
        } catch {
            return error.status
        }
    }
}

private func hex(_ n: Int) -> String { String(format: "%032x", n) }

/// An envelope with one event item; `header` is the envelope header's JSON.
private func envelope(_ n: Int, header: String? = nil, type: String = "ValueError") -> String {
    let header = header ?? "{\"event_id\":\"\(hex(n))\"}"
    let event = "{\"exception\":{\"values\":[{\"type\":\"\(type)\",\"value\":\"v\"}]},\"user\":{\"id\":\"u\(n)\"}}"
    return header + "\n{\"type\":\"event\",\"length\":\(event.utf8.count)}\n" + event + "\n"
}

@Suite struct IngestPipelineTests {
    @Test func committedAcknowledgementMeansReadable() async throws {
        let fixture = try await PipelineFixture()
        try await fixture.withWriter {
            for n in 1...5 {
                let id = try await fixture.pipeline.envelope(fixture.request(envelope(n)))
                #expect(id?.hex == hex(n))
                // No waiting: the answer came after the commit.
                let row = try await fixture.reader.event(projectID: 1, eventID: try #require(id))
                #expect(row?.eventID == id)
                #expect(try await fixture.reader.counts(projectID: 1).events == Int64(n))
            }
        }
        let issues = try await fixture.reader.issues(projectID: 1, query: IssueQuery())
        #expect(issues.count == 1)
        #expect(issues.first?.timesSeen == 5 && issues.first?.usersSeen == 5)
    }

    @Test func concurrentSubmissionsAreAllCommitted() async throws {
        let fixture = try await PipelineFixture()
        let pipeline = fixture.pipeline
        let requests = (1...40).map { fixture.request(envelope($0, type: $0.isMultiple(of: 2) ? "A" : "B")) }
        try await fixture.withWriter {
            let ids = try await withThrowingTaskGroup(of: EventID?.self) { group in
                for request in requests { group.addTask { try await pipeline.envelope(request) } }
                var ids: [EventID] = []
                for try await id in group { if let id { ids.append(id) } }
                return ids
            }
            #expect(Set(ids.map(\.hex)) == Set((1...40).map(hex)))
            let counts = try await fixture.reader.counts(projectID: 1)
            #expect(counts == (40, 2, 0))
        }
    }

    @Test func eventIDSources() async throws {
        let fixture = try await PipelineFixture()
        try await fixture.withWriter {
            // The payload's id when the header has none.
            let payloadID = try await fixture.pipeline.envelope(
                fixture.request(
                    "{}\n{\"type\":\"event\"}\n{\"event_id\":\"\(hex(77))\",\"message\":\"m\"}\n"))
            #expect(payloadID?.hex == hex(77))
            // A generated one when neither has it; it is the stored id.
            let generated = try #require(
                try await fixture.pipeline.envelope(fixture.request("{}\n{\"type\":\"event\"}\n{\"message\":\"m\"}\n")))
            #expect(try await fixture.reader.event(projectID: 1, eventID: generated) != nil)
            // No event and no header id: nothing to answer with.
            let none = try await fixture.pipeline.envelope(fixture.request("{}\n{\"type\":\"client_report\"}\n{\"discarded_events\":[]}\n"))
            #expect(none == nil)
        }
    }

    @Test func nonEventItemsAreStored() async throws {
        let fixture = try await PipelineFixture()
        try await fixture.withWriter {
            let body =
                "{\"event_id\":\"\(hex(1))\"}\n{\"type\":\"attachment\",\"length\":5,\"filename\":\"a.txt\"}\nhello\n"
                + "{\"type\":\"session\"}\n{\"sid\":\"x\"}\n{\"type\":\"statsd\",\"length\":3}\na:1\n{\"type\":\"brand_new\"}\nzzz\n"
            let id = try await fixture.pipeline.envelope(fixture.request(body))
            #expect(id?.hex == hex(1))
            // The unknown type is kept as an item, the attachment in attachments; statsd is
            // dropped; the session goes to release health, where one without a release is
            // dropped as Relay does.
            let counts = try await fixture.reader.counts(projectID: 1)
            #expect(counts == (0, 0, 1))
            #expect(try await fixture.reader.attachments(projectID: 1, eventID: try #require(id)).map(\.name) == ["a.txt"])
        }
    }

    @Test func tunnelledEnvelopeAuthenticatesWithItsDSN() async throws {
        let fixture = try await PipelineFixture()
        try await fixture.withWriter {
            let header = "{\"event_id\":\"\(hex(1))\",\"dsn\":\"https://\(PipelineFixture.key)@pit.example.com/1\"}"
            let tunnelled = try await fixture.pipeline.envelope(fixture.request(envelope(1, header: header), key: nil))
            #expect(tunnelled?.hex == hex(1))
            // Request auth and a matching DSN together are fine.
            let header2 = "{\"event_id\":\"\(hex(2))\",\"dsn\":\"https://\(PipelineFixture.key)@pit.example.com/1\"}"
            let withAuth = try await fixture.pipeline.envelope(fixture.request(envelope(2, header: header2)))
            #expect(withAuth?.hex == hex(2))
        }
    }

    @Test func authenticationFailures() async throws {
        let fixture = try await PipelineFixture()
        let dsnHeader = { (key: String, project: Int) in "{\"dsn\":\"https://\(key)@pit.example.com/\(project)\"}" }
        try await fixture.withWriter {
            // 401: no credentials at all, or an unusable DSN as the only credentials.
            #expect(await fixture.envelopeStatus(fixture.request(envelope(1), key: nil)) == 401)
            #expect(await fixture.envelopeStatus(fixture.request(envelope(1, header: "{\"dsn\":\"garbage\"}"), key: nil)) == 401)
            // 403: unknown or disabled key, key of another project, DSN of another project or key.
            #expect(await fixture.envelopeStatus(fixture.request(envelope(1), key: "nosuchkey")) == 403)
            #expect(await fixture.envelopeStatus(fixture.request(envelope(1), key: PipelineFixture.disabledKey)) == 403)
            #expect(await fixture.envelopeStatus(fixture.request(envelope(1), projectID: 2)) == 403)
            #expect(await fixture.envelopeStatus(fixture.request(envelope(1), projectID: 1, key: fixture.otherKey)) == 403)
            #expect(await fixture.envelopeStatus(fixture.request(envelope(1, header: dsnHeader(PipelineFixture.key, 2)), key: nil)) == 403)
            #expect(await fixture.envelopeStatus(fixture.request(envelope(1, header: dsnHeader("nosuchkey", 1)), key: nil)) == 403)
            #expect(await fixture.envelopeStatus(fixture.request(envelope(1, header: dsnHeader(fixture.otherKey, 1)))) == 403)
            // Project 2 with its own key works.
            #expect(await fixture.envelopeStatus(fixture.request(envelope(1), projectID: 2, key: fixture.otherKey)) == nil)
            let project1 = try await fixture.reader.counts(projectID: 1)
            #expect(project1.events == 0)
            let project2 = try await fixture.reader.counts(projectID: 2)
            #expect(project2.events == 1)
        }
    }

    @Test func badPayloadsAre400() async throws {
        let fixture = try await PipelineFixture()
        try await fixture.withWriter {
            let cases = [
                "", "not an envelope", "{}\n{\"type\":\"event\"}\n{not json}\n", "{}\n{\"type\":\"event\"}\n[1,2]\n",
                "{}\n{\"type\":\"session\"}\n{\"sid\":\n", "{}\n{\"type\":\"event\"}\n{}\n{\"type\":\"event\"}\n{}\n",
                "{}\n{\"type\":\"event\"}\n{\"a\":\"\\ud800\"}\n",
            ]
            for body in cases {
                #expect(await fixture.envelopeStatus(fixture.request(body)) == 400, "\(body)")
            }
            let counts = try await fixture.reader.counts(projectID: 1)
            #expect(counts == (0, 0, 0))
        }
    }

    @Test func encodings() async throws {
        let fixture = try await PipelineFixture()
        try await fixture.withWriter {
            let body = Array(envelope(1).utf8)
            #expect(await fixture.envelopeStatus(fixture.request(ByteBuffer(bytes: Fixtures.gzip(body)), encoding: "gzip")) == nil)
            #expect(
                await fixture.envelopeStatus(fixture.request(ByteBuffer(bytes: Fixtures.zstd(Array(envelope(2).utf8))), encoding: "zstd"))
                    == nil)
            #expect(await fixture.envelopeStatus(fixture.request(envelope(3), encoding: "UTF-8")) == nil)
            #expect(await fixture.envelopeStatus(fixture.request(ByteBuffer(bytes: body), encoding: "gzip")) == 400)
            #expect(await fixture.envelopeStatus(fixture.request(envelope(4), encoding: "compress")) == 415)
            #expect(await fixture.envelopeStatus(fixture.request(envelope(4), encoding: "gzip, br")) == 415)
            let counts = try await fixture.reader.counts(projectID: 1)
            #expect(counts.events == 3)
        }
    }

    @Test func tooLargeIs413() async throws {
        var limits = IngestLimits()
        limits.maxEventBytes = 200
        limits.maxEnvelopeBytes = 4096
        let fixture = try await PipelineFixture(limits: limits)
        try await fixture.withWriter {
            let bigEvent = "{\"message\":\"" + String(repeating: "x", count: 300) + "\"}"
            #expect(await fixture.envelopeStatus(fixture.request("{}\n{\"type\":\"event\"}\n\(bigEvent)\n")) == 413)
            let longHeader = "{\"x\":\"" + String(repeating: "a", count: 300 * 1024) + "\"}\n"
            #expect(await fixture.envelopeStatus(fixture.request(longHeader)) == 413)
            // A small compressed body that inflates past the envelope limit.
            let bomb = Array("{}\n{\"type\":\"attachment\"}\n".utf8) + Array(repeating: UInt8(ascii: "a"), count: 10_000)
            #expect(await fixture.envelopeStatus(fixture.request(ByteBuffer(bytes: Fixtures.gzip(bomb)), encoding: "gzip")) == 413)
        }
    }

    @Test func processingErrorsAreStored() async throws {
        let fixture = try await PipelineFixture()
        try await fixture.withWriter {
            let future = ClockTime.nowSeconds + 3600
            let body =
                "{\"event_id\":\"\(hex(1))\"}\n{\"type\":\"event\"}\n{\"timestamp\":\(future),\"message\":\"m\",\"tags\":{\"\":\"x\"}}\n"
            let id = try #require(try await fixture.pipeline.envelope(fixture.request(body)))
            let row = try #require(try await fixture.reader.event(projectID: 1, eventID: id))
            #expect(row.processingErrors == #"[{"type":"future_timestamp","name":"timestamp"},{"type":"invalid_data","name":"tags"}]"#)
            #expect(abs(row.timestamp - row.received) < 1000)
        }
    }

    @Test func queueFullIs503WithRetryAfter() async throws {
        // ack=queued and no writer: the first envelope fills the queue.
        let fixture = try await PipelineFixture(ack: .queued, queue: IngestQueue(maxCount: 1, maxBytes: 64 << 20), retryAfterSeconds: 7)
        #expect(try await fixture.pipeline.envelope(fixture.request(envelope(1)))?.hex == hex(1))
        let error = await #expect(throws: IngestError.self) { try await fixture.pipeline.envelope(fixture.request(envelope(2))) }
        #expect(error?.status == 503)
        #expect(error?.retryAfter == 7)
        let store = await #expect(throws: IngestError.self) {
            try await fixture.pipeline.store(fixture.request("{\"message\":\"m\"}"))
        }
        #expect(store?.status == 503 && store?.retryAfter == 7)
        #expect(fixture.queue.depth.count == 1)
        // Once the writer drains it, the queued event is stored.
        try await fixture.withWriter {}
        #expect(try await fixture.reader.event(projectID: 1, eventID: try #require(EventID(hex(1)))) != nil)
    }

    @Test func shutdownIs503() async throws {
        let fixture = try await PipelineFixture()
        fixture.queue.finish()
        let error = await #expect(throws: IngestError.self) { try await fixture.pipeline.envelope(fixture.request(envelope(1))) }
        #expect(error?.status == 503 && error?.retryAfter == 1)
    }

    @Test func storageFailureIs503() async throws {
        let fixture = try await PipelineFixture()
        try SQLiteConnection(path: fixture.path).execute(
            """
            CREATE TRIGGER fail_all BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'forced failure'); END
            """)
        try await fixture.withWriter {
            let error = await #expect(throws: IngestError.self) { try await fixture.pipeline.envelope(fixture.request(envelope(1))) }
            #expect(error?.status == 503)
        }
    }

    @Test func commandsGoThroughTheWriter() async throws {
        let fixture = try await PipelineFixture()
        try await fixture.withWriter {
            _ = try await fixture.pipeline.envelope(fixture.request(envelope(1)))
            let issue = try #require(try await fixture.reader.issues(projectID: 1, query: IssueQuery()).first)
            let queue = fixture.queue
            let result: Result<Void, any Error> = await withCheckedContinuation { continuation in
                let accepted = queue.offer(command: .setStatus(issueIDs: [issue.id], status: .resolved, resolveInNextRelease: false)) {
                    continuation.resume(returning: $0)
                }
                if !accepted { continuation.resume(returning: .failure(CancellationError())) }
            }
            #expect(throws: Never.self) { try result.get() }
            let resolved = try await fixture.reader.issue(id: issue.id)
            #expect(resolved?.status == .resolved)
            // The next event reopens it.
            _ = try await fixture.pipeline.envelope(fixture.request(envelope(2)))
            let reopened = try await fixture.reader.issue(id: issue.id)
            #expect(reopened?.status == .unresolved && reopened?.substatus == .regressed)
        }
    }

    @Test func legacyStoreEndpoint() async throws {
        let fixture = try await PipelineFixture()
        try await fixture.withWriter {
            let json = "{\"event_id\":\"\(hex(1))\",\"message\":\"legacy\"}"
            #expect(try await fixture.pipeline.store(fixture.request(json)).hex == hex(1))
            // base64(zlib(json)) with no headers saying so.
            let encoded = Data(Fixtures.zlib(Array("{\"event_id\":\"\(hex(2))\",\"message\":\"zipped\"}".utf8))).base64EncodedString()
            #expect(try await fixture.pipeline.store(fixture.request(encoded)).hex == hex(2))
            // An envelope posted to /store/ with the envelope content type.
            let viaStore = try await fixture.pipeline.store(fixture.request(envelope(3), contentType: "application/x-sentry-envelope"))
            #expect(viaStore.hex == hex(3))
            #expect(try await fixture.reader.counts(projectID: 1).events == 3)

            let noAuth = await #expect(throws: IngestError.self) { try await fixture.pipeline.store(fixture.request(json, key: nil)) }
            #expect(noAuth?.status == 401)
            let garbage = await #expect(throws: IngestError.self) { try await fixture.pipeline.store(fixture.request("!!not base64!!")) }
            #expect(garbage?.status == 400)
            let empty = await #expect(throws: IngestError.self) { try await fixture.pipeline.store(fixture.request("  ")) }
            #expect(empty?.status == 400)
        }
    }
}
