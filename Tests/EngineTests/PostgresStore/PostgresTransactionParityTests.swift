import Foundation
import PitIngest
import PitModel
import PitStorage
import PostgresNIO
import PostgresStore
import SQLiteStore
import Testing

/// Transactions, spans and their aggregates written through both back ends read the same: the
/// summary (minute and hour rows, before and after PostgreSQL's roll-up), the trace and the
/// detail.
@Suite(.enabled(if: PostgresTestDatabase.adminURL != nil, "PIT_TEST_DATABASE_URL is not set"))
struct PostgresTransactionParityTests {
    typealias F = TransactionFixtures

    @Test func sameTransactionsSameAnswers() async throws {
        let fixture = try await PipelineFixture()
        let stores = try await ParityStores()
        var entries: [IngestQueue.Entry] = []
        _ = try await TransactionIngestTests.storeSample { body in
            entries.append(.write(try fixture.pipeline.prepare(fixture.request(body), endpoint: .envelope).unit))
        }
        // One batch of all but the last two units, then those two (a duplicate among them).
        try stores.write([Array(entries.prefix(3)), Array(entries.suffix(2)) + [entries[1]]])
        let now = ClockTime.nowMilliseconds

        try await stores.read { left, right in
            func compareSummaries(_ query: TransactionSummaryQuery) async throws -> [TransactionSummaryRow] {
                let a = try await left.transactionSummaries(query).sorted { $0.name < $1.name }
                let b = try await right.transactionSummaries(query).sorted { $0.name < $1.name }
                #expect(a == b)
                return a
            }
            let hour = try await compareSummaries(TransactionSummaryQuery(projectIDs: [1], from: now - 3_600_000, to: now))
            #expect(hour.map(\.count) == [1, 2, 1])
            #expect(hour.map(\.extrapolated) == [1, 3, 1])
            _ = try await compareSummaries(TransactionSummaryQuery(projectIDs: [1], from: now - 86_400_000, to: now))
            var named = TransactionSummaryQuery(projectIDs: [1], from: now - 3_600_000, to: now, nameContains: "users")
            named.environments = ["production"]
            #expect(try await compareSummaries(named).count == 1)

            let a = try await left.trace(TraceID(F.trace)!, projectIDs: [1], limit: 100)
            let b = try await right.trace(TraceID(F.trace)!, projectIDs: [1], limit: 100)
            #expect(a.transactions == b.transactions && a.transactions.count == 3)
            #expect(a.spans == b.spans && a.spans.count == 3)
            #expect(a.errors.map(\.eventID) == b.errors.map(\.eventID) && a.errors.map(\.spanID) == b.errors.map(\.spanID))
            #expect(a.errors.map(\.title) == b.errors.map(\.title) && a.errors.count == 1)

            let id = EventID("11111111111111111111111111111111")!
            let x = try #require(try await left.transaction(projectID: 1, eventID: id))
            let y = try #require(try await right.transaction(projectID: 1, eventID: id))
            #expect(x.row == y.row && x.payload == y.payload && y.payloadError == nil)

            // Rolled up, PostgreSQL answers the same.
            #expect(try await PostgresRollup(client: right.client, logger: PostgresTestDatabase.logger).rollUp())
            for (from, to) in [(now - 3_600_000, now), (now - 86_400_000, now)] {
                let query = TransactionSummaryQuery(projectIDs: [1], from: from, to: to)
                let a = try await left.transactionSummaries(query).sorted { $0.name < $1.name }
                let b = try await right.transactionSummaries(query).sorted { $0.name < $1.name }
                #expect(a == b && a.count == 3)
            }
        }
    }
}
