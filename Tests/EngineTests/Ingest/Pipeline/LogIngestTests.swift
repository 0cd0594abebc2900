import Foundation
import NIOCore
import PitIngest
import PitModel
import PitPayloads
import PitStorage
import SQLiteStore
import Testing

/// Logs through the pipeline and the writer into SQLite: committed means readable, one row per
/// log (no raw item kept), the explorer's filters, and the keyset pages.
@Suite struct LogIngestTests {
    static let trace = "5b8efff798038103d269b633813fc60c"

    /// A `log` container envelope of `logs` (each a JSON log).
    static func logEnvelope(_ logs: [String], header: String = #"{"sdk":{"name":"sentry.python","version":"2.0"}}"#) -> String {
        let payload = #"{"version":2,"items":["# + logs.joined(separator: ",") + "]}"
        return header + "\n"
            + #"{"type":"log","item_count":\#(logs.count),"content_type":"application/vnd.sentry.items.log+json","length":\#(payload.utf8.count)}"#
            + "\n" + payload + "\n"
    }

    static func log(
        _ body: String, level: String = "info", at seconds: Double, trace: String? = LogIngestTests.trace, attributes: String = ""
    )
        -> String
    {
        let traceMember = trace.map { #","trace_id":"\#($0)""# } ?? ""
        return #"{"timestamp":\#(seconds),"level":"\#(level)","body":"\#(body)"\#(traceMember),"attributes":{\#(attributes)}}"#
    }

    /// The logs the fixture stores, oldest first.
    static func storeSample(_ fixture: PipelineFixture, now: Double) async throws {
        let logs = [
            Self.log("user bob logged in", at: now - 30, attributes: #""user.name":{"value":"bob","type":"string"}"#),
            Self.log("slow query", level: "warn", at: now - 20, attributes: #""db.duration_ms":{"value":812,"type":"integer"}"#),
            Self.log("payment FAILED", level: "error", at: now - 10, trace: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        ]
        _ = try await fixture.pipeline.envelope(fixture.request(logEnvelope(logs)))
        let otel =
            #"{"timeUnixNano":"\#(Int64((now - 5) * 1e9))","severityNumber":21,"body":{"stringValue":"otel crash"},"traceId":"\#(trace)","attributes":[{"key":"peer","value":{"stringValue":"db-1"}}]}"#
        _ = try await fixture.pipeline.envelope(
            fixture.request("{}\n" + #"{"type":"otel_log","length":\#(otel.utf8.count)}"# + "\n" + otel + "\n"))
    }

    @Test func logsAreStoredOneRowEachAndFiltered() async throws {
        let fixture = try await PipelineFixture()
        let now = Double(ClockTime.nowMilliseconds / 1000)
        try await fixture.withWriter {
            try await Self.storeSample(fixture, now: now)
            let all = try await fixture.reader.logs(LogQuery(projectIDs: [1]))
            #expect(all.map(\.body) == ["otel crash", "payment FAILED", "slow query", "user bob logged in"], "newest first")
            #expect(all.map(\.severity) == [.fatal, .error, .warn, .info])
            #expect(all[3].sdk == "sentry.python" && all[3].traceID == Self.trace)
            #expect(try await fixture.reader.counts(projectID: 1).items == 0, "logs are not kept as raw items")
            #expect(try await fixture.reader.logs(LogQuery(projectIDs: [2])).isEmpty, "no cross-project reads")

            func bodies(_ search: String) async throws -> [String] {
                var query = LogQuery(projectIDs: [1])
                try LogSearch.apply(search, to: &query)
                return try await fixture.reader.logs(query).map(\.body)
            }
            #expect(try await bodies("severity:error") == ["payment FAILED"])
            #expect(try await bodies("severity:[warn,fatal]") == ["otel crash", "slow query"])
            #expect(try await bodies("failed") == ["payment FAILED"], "free text, ignoring case")
            #expect(try await bodies(#"message:"*LOGGED*""#) == ["user bob logged in"])
            #expect(try await bodies("message:slow") == [], "without a wildcard the whole message must match")
            #expect(try await bodies(#"message:"slow query""#) == ["slow query"])
            #expect(try await bodies("user.name:bob") == ["user bob logged in"])
            #expect(try await bodies("db.duration_ms:812") == ["slow query"], "an integer attribute matched from text")
            #expect(try await bodies("user.name:bo") == [])
            #expect(try await bodies("peer:db-1") == ["otel crash"])
            #expect(try await bodies("has:db.duration_ms") == ["slow query"])
            #expect(try await bodies("trace:\(Self.trace)") == ["otel crash", "slow query", "user bob logged in"])
            #expect(try await bodies("trace:\(Self.trace) severity:info") == ["user bob logged in"])
            #expect(try await bodies("!severity:[info,warn]") == ["otel crash", "payment FAILED"])
            #expect(try await bodies("!has:user.name !message:*failed*") == ["otel crash", "slow query"])
            #expect(try await bodies("!message:*FAILED*") == ["otel crash", "slow query", "user bob logged in"])
            #expect(try await bodies("!trace:\(Self.trace)") == ["payment FAILED"])
            #expect(try await bodies("!user.name:bob severity:info") == [])

            var page = LogQuery(projectIDs: [1])
            page.limit = 3
            let first = try await fixture.reader.logs(page)
            page.before = first.last?.cursor
            #expect(try await fixture.reader.logs(page).map(\.body) == ["user bob logged in"])
            var window = LogQuery(projectIDs: [1])
            window.since = Int64((now - 15) * 1000)
            #expect(try await fixture.reader.logs(window).count == 2)
        }
    }

    @Test func invalidContainersAreA400AndBadLogsDropped() async throws {
        let fixture = try await PipelineFixture()
        let payload = #"{"items":[{"timestamp":1,"level":"info","body":"x"}]}"#
        let wrongCount = "{}\n" + #"{"type":"log","item_count":2,"length":\#(payload.utf8.count)}"# + "\n" + payload + "\n"
        #expect(await fixture.envelopeStatus(fixture.request(wrongCount)) == 400)
        #expect(await fixture.envelopeStatus(fixture.request("{}\n{\"type\":\"otel_log\",\"length\":3}\n[1]\n")) == 400)
        try await fixture.withWriter {
            let now = Double(ClockTime.nowMilliseconds / 1000)
            _ = try await fixture.pipeline.envelope(
                fixture.request(Self.logEnvelope([Self.log("kept", at: now), #"{"level":"info","body":"no timestamp"}"#])))
            #expect(try await fixture.reader.logs(LogQuery(projectIDs: [1])).map(\.body) == ["kept"])
        }
    }

    /// pit-bench's `--mix` sends log containers; they stay accepted and stored.
    @Test func benchMixLogsAreStored() async throws {
        let fixture = try await PipelineFixture()
        let now = Double(ClockTime.nowMilliseconds / 1000)
        let envelope = SyntheticEvents().envelope(kind: .log, index: 3, eventID: EventID.random(), timestamp: now)
        try await fixture.withWriter {
            _ = try await fixture.pipeline.envelope(fixture.request(ByteBuffer(bytes: envelope)))
            let rows = try await fixture.reader.logs(LogQuery(projectIDs: [1]))
            #expect(rows.count == 2 && Set(rows.map(\.severity)) == [.info, .warn])
        }
    }
}
