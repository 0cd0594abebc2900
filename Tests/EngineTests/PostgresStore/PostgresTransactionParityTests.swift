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

            // The performance pages' reads answer alike.
            try await TransactionIngestTests.checkPageReads(left)
            try await TransactionIngestTests.checkPageReads(right)
            let query = TransactionSummaryQuery(projectIDs: [1], from: now - 3_600_000, to: now)
            let key: (TransactionSeriesRow) -> String = { "\($0.name) \($0.unit)" }
            #expect(
                try await left.transactionSeries(query).sorted { key($0) < key($1) }
                    == right.transactionSeries(query).sorted { key($0) < key($1) })
            let sample = TransactionSampleQuery(projectID: 1, from: now - 3_600_000, to: now + 1, name: "GET /users/{id}", limit: 5)
            #expect(try await left.transactionSamples(sample) == right.transactionSamples(sample))
            #expect(try await left.spanSample(sample).spans == right.spanSample(sample).spans)

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

    /// Retention deletes transactions (by arrival) and spans (by start) past the cutoff, and the
    /// aggregates of the hours before it, the same on both back ends; newer ones stay.
    @Test func retentionPurgesTransactionsSpansAndAggregatesAlike() async throws {
        let stores = try await ParityStores()
        let day: Int64 = 86_400_000
        let now = ClockTime.nowMilliseconds
        func record(_ n: UInt64, endingAt end: Int64) -> TransactionRecord {
            var record = TransactionRecord(
                projectID: 1, eventID: EventID(high: n, low: n), traceID: TraceID(high: 7, low: n), spanID: SpanID(n), parentSpanID: nil,
                name: "job", op: "task", status: "ok", start: end * 1000 - 5000, duration: 5000, release: nil, environment: "production",
                received: end)
            record.compressedPayload = PayloadCodec.compress(ByteBuffer(string: "{}"))
            record.payloadSize = 2
            record.spans = [
                SpanRecord(
                    projectID: 1, traceID: record.traceID, spanID: SpanID(n + 100), parentSpanID: record.spanID, segmentID: record.spanID,
                    op: "db", description: "SELECT %s", status: "ok", start: record.start, duration: 1000)
            ]
            return record
        }
        var unit = WriteUnit(event: nil, items: [])
        unit.transactions = [record(1, endingAt: now - 10 * day), record(2, endingAt: now - 10 * day), record(3, endingAt: now - 1000)]
        try stores.write([[.write(unit)]])
        let cutoff = now - 5 * day
        try await stores.read { left, right in
            // PostgreSQL's aggregates are purged once rolled up (its deltas hold about a second).
            #expect(try await PostgresRollup(client: right.client, logger: PostgresTestDatabase.logger).rollUp())
            let purgers: [any PurgeStore] = [
                try SQLitePurgeStore(path: stores.sqlitePath),
                try PostgresPurgeStore(url: stores.database, logger: PostgresTestDatabase.logger),
            ]
            for purger in purgers {
                #expect(try purger.purgeTransactions(projectID: 1, receivedBefore: cutoff, limit: 1) == 1, "a batch is bounded")
                #expect(try purger.purgeTransactions(projectID: 1, receivedBefore: cutoff, limit: 100) == 1)
                #expect(try purger.purgeSpans(projectID: 1, startedBefore: cutoff * 1000, limit: 100) == 2)
                #expect(try purger.purgeCounters(projectID: 1, beforeHour: HourlyCounts.hour(ofMilliseconds: cutoff)) >= 2)
                purger.close()
            }
            for reader in [left, right] as [any ReadStore] {
                #expect(try await reader.trace(TraceID(high: 7, low: 1), projectIDs: [1], limit: 10).transactions.isEmpty)
                let kept = try await reader.trace(TraceID(high: 7, low: 3), projectIDs: [1], limit: 10)
                #expect(kept.transactions.count == 1 && kept.spans.count == 1)
                let rows = try await reader.transactionSummaries(TransactionSummaryQuery(projectIDs: [1], from: now - 30 * day, to: now))
                #expect(rows.map(\.count) == [1], "only the recent transaction is still counted")
            }
        }
    }
}
