import Foundation
import NIOCore
import PitIngest
import PitModel
import PitStorage
import PostgresNIO
import PostgresStore
import SQLiteStore
import Testing

/// Outcomes written through both back ends read the same: accepted items and events (a duplicate
/// as invalid), client reports, flushed refusals, summed per key across batches; and both purge
/// them the same way.
@Suite(.enabled(if: PostgresTestDatabase.adminURL != nil, "PIT_TEST_DATABASE_URL is not set"))
struct PostgresOutcomeParityTests {
    @Test func sameOutcomesSameRows() async throws {
        let fixture = try await PipelineFixture()
        let stores = try await ParityStores()

        func unit(_ body: String) throws -> IngestQueue.Entry {
            .write(try fixture.pipeline.prepare(fixture.request(body), endpoint: .envelope).unit)
        }
        let id = String(repeating: "c", count: 32)
        let event = OutcomeIngestTests.envelope(eventID: id, items: [("event", OutcomeIngestTests.event)])
        let withReport = OutcomeIngestTests.envelope(
            eventID: String(repeating: "d", count: 32),
            items: [("attachment", String(repeating: "y", count: 300)), ("client_report", OutcomeIngestTests.report)])
        var refused = WriteUnit(event: nil, items: [])
        let hour = Int64(Date().timeIntervalSince1970) / 3600
        refused.outcomes = [
            OutcomeCount(
                OutcomeKey(projectID: 1, hour: hour, outcome: .rateLimited, category: "default", reason: "key_quota"), quantity: 7,
                timesSeen: 7)
        ]
        let batches: [[IngestQueue.Entry]] = [
            // The same event twice in one batch, then again in the next: accepted once.
            [try unit(event), try unit(event), try unit(withReport), .write(refused)],
            [try unit(event), try unit(withReport), .write(refused)],
        ]
        try stores.write(batches)

        try await stores.read { left, right in
            let query = OutcomeQuery(projectIDs: [1, 2], fromHour: hour - 24, toHour: hour + 1)
            let rows = try await left.outcomes(query)
            #expect(rows == (try await right.outcomes(query)))
            #expect(try await OutcomeIngestTests.totals(left) == (try await OutcomeIngestTests.totals(right)))
            #expect(
                try await OutcomeIngestTests.totals(left) == [
                    "accepted/error/": 1, "invalid/error/duplicate": 2, "accepted/attachment/": 600,
                    "client_discard/error/before_send": 8, "client_discard/transaction/sample_rate": 4,
                    "rate_limited/default/key_quota": 14,
                ])
            #expect(rows.first { $0.key.reason == "key_quota" }?.tally == OutcomeTally(quantity: 14, timesSeen: 14))
            // stats_v2 over both reads the same.
            #expect(try await left.outcomes(OutcomeQuery(projectIDs: [2], fromHour: hour - 24, toHour: hour + 1)).isEmpty)

            // PostgreSQL's writers append deltas; rolled up, its counters read the same as before.
            try await PostgresRollup(client: right.client, logger: PostgresTestDatabase.logger).rollUp()
            #expect(try await right.outcomes(query) == rows)

            let sqlitePurge = try SQLitePurgeStore(path: stores.sqlitePath)
            let postgresPurge = try PostgresPurgeStore(url: stores.database, logger: PostgresTestDatabase.logger)
            defer { postgresPurge.close() }
            for purge in [sqlitePurge, postgresPurge] as [any PurgeStore] {
                #expect(try purge.purgeOutcomes(beforeHour: hour - OutcomeRetention.hours, limit: 100) == 0)
                #expect(try purge.purgeOutcomes(beforeHour: hour + 1, limit: 2) == 2)
                #expect(try purge.purgeOutcomes(beforeHour: hour + 1, limit: 100) == rows.count - 2)
            }
            sqlitePurge.close()
            #expect(try await left.outcomes(query).isEmpty)
            #expect(try await right.outcomes(query).isEmpty)
        }
    }
}
