import Foundation
import NIOCore
import PitIngest
import PitModel
import PitStorage
import PostgresNIO
import PostgresStore
import SQLiteStore
import Testing

/// Logs written through both back ends read the same, for every filter the explorer and the API
/// use, and retention deletes them the same way.
@Suite(.enabled(if: PostgresTestDatabase.adminURL != nil, "PIT_TEST_DATABASE_URL is not set"))
struct PostgresLogParityTests {
    @Test func sameLogsSameAnswers() async throws {
        let fixture = try await PipelineFixture()
        let stores = try await ParityStores()

        func unit(_ body: String) throws -> IngestQueue.Entry {
            .write(try fixture.pipeline.prepare(fixture.request(body), endpoint: .envelope).unit)
        }
        let now = Double(ClockTime.nowMilliseconds / 1000)
        let trace = LogIngestTests.trace
        var logs: [String] = []
        for n in 0..<40 {
            let level = ["trace", "debug", "info", "warn", "error", "fatal"][n % 6]
            logs.append(
                LogIngestTests.log(
                    n % 5 == 0 ? "Payment FAILED for order \(n)" : "request \(n) served", level: level, at: now - Double(100 - n),
                    trace: n % 2 == 0 ? trace : nil,
                    attributes:
                        #""order":{"value":\#(n),"type":"integer"},"ok":{"value":\#(n % 3 == 0),"type":"boolean"},"user":{"value":"u\#(n % 4)","type":"string"},"ratio":{"value":\#(Double(n) / 4),"type":"double"},"sentry.release":{"value":"app@\#(n % 2)","type":"string"}"#
                ))
        }
        let otel =
            #"{"timeUnixNano":"\#(Int64((now - 1) * 1e9))","severityNumber":13,"body":{"stringValue":"otel é ünïcode"},"traceId":"\#(trace)","attributes":[{"key":"user","value":{"stringValue":"u1"}}]}"#
        let batches: [[IngestQueue.Entry]] = [
            [try unit(LogIngestTests.logEnvelope(Array(logs[0..<25]))), try unit(LogIngestTests.logEnvelope(Array(logs[25...])))],
            [try unit("{}\n" + #"{"type":"otel_log","length":\#(otel.utf8.count)}"# + "\n" + otel + "\n")],
        ]
        try stores.write(batches)

        try await stores.read { left, right in
            /// Row ids are each back end's own; everything else must agree.
            func compare(_ search: String, limit: Int = 100, secondPage: Bool = false) async throws -> Int {
                var query = LogQuery(projectIDs: [1])
                try LogSearch.apply(search, to: &query)
                query.limit = limit
                var a = try await left.logs(query)
                var b = try await right.logs(query)
                if secondPage {
                    var next = query
                    next.before = a.last?.cursor
                    a = try await left.logs(next)
                    next.before = b.last?.cursor
                    b = try await right.logs(next)
                }
                func strip(_ rows: [LogRow]) -> [LogRow] {
                    rows.map {
                        var row = $0
                        row.id = 0
                        return row
                    }
                }
                #expect(strip(a) == strip(b), "\(search)")
                return a.count
            }
            #expect(try await compare("") == 41)
            #expect(try await compare("severity:error") == 6)
            #expect(try await compare("severity:[warn,fatal]") > 0)
            #expect(try await compare("failed") == 8)
            #expect(try await compare(#"message:"*ORDER 1*""#) > 0)
            #expect(try await compare(#"message:"request 3 served""#) == 1)
            #expect(try await compare("order:7") == 1)
            #expect(try await compare("ok:true") == 14)
            #expect(try await compare("user:u1") == 11)
            #expect(try await compare("ratio:2.5") == 1)
            #expect(try await compare("has:ratio") == 40)
            #expect(try await compare("trace:\(trace)") == 21)
            #expect(try await compare("release:app@1 severity:warn") == 7)
            #expect(try await compare("ünïcode") == 1)
            #expect(try await compare("!severity:[trace,debug] !environment:none") == 41 - 14)
            #expect(try await compare("!trace:\(trace) !ok:true !message:*failed*") > 0)
            #expect(try await compare("!has:ratio") == 1)
            #expect(try await compare("", limit: 10, secondPage: true) == 10)

            // Retention deletes logs the same way on both, oldest first, in batches.
            let sqlitePurge = try SQLitePurgeStore(path: stores.sqlitePath)
            let postgresPurge = try PostgresPurgeStore(url: stores.database, logger: PostgresTestDatabase.logger)
            defer { postgresPurge.close() }
            let cutoff = Int64((now - 70) * 1000)
            for purge in [sqlitePurge, postgresPurge] as [any PurgeStore] {
                #expect(try purge.purgeLogs(projectID: 1, timestampBefore: 0, limit: 10) == 0)
                #expect(try purge.purgeLogs(projectID: 1, timestampBefore: cutoff, limit: 20) == 20)
                #expect(try purge.purgeLogs(projectID: 1, timestampBefore: cutoff, limit: 20) == 10)
                #expect(try purge.purgeLogs(projectID: 2, timestampBefore: .max, limit: 20) == 0)
            }
            sqlitePurge.close()
            #expect(try await compare("") == 11)
        }
    }
}
