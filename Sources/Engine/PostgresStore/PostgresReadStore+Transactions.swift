import NIOCore
package import PitModel
package import PitStorage
import PostgresNIO

extension PostgresReadStore {
    package func transactionSummaries(_ query: TransactionSummaryQuery) async throws -> [TransactionSummaryRow] {
        var result: [TransactionSummaryRow] = []
        for try await row in try await client.query(PostgresQuery(TransactionSQL.summaries(query, dialect: Self.dialect)), logger: logger) {
            let cells = row.makeRandomAccess()
            var buckets: [Int64] = []
            buckets.reserveCapacity(DurationHistogram.bucketCount)
            for index in 0..<DurationHistogram.bucketCount { buckets.append(try cells[8 + index].decode(Int64.self)) }
            result.append(
                TransactionSummaryRow(
                    projectID: try cells[0].decode(Int64.self), name: try cells[1].decode(String.self),
                    count: try cells[2].decode(Int64.self),
                    failures: try cells[3].decode(Int64.self), extrapolated: try cells[4].decode(Double.self),
                    satisfied: try cells[5].decode(Int64.self), tolerated: try cells[6].decode(Int64.self),
                    durationSum: try cells[7].decode(Int64.self), histogram: DurationHistogram(counts: buckets)))
        }
        return result
    }

    package func trace(_ traceID: TraceID, projectIDs: [Int64], limit: Int) async throws -> TraceContents {
        var transactions: [TransactionRow] = []
        let transactionQuery = TransactionSQL.traceTransactions(
            traceID: traceID, projectIDs: projectIDs, limit: limit, dialect: Self.dialect)
        for try await row in try await client.query(PostgresQuery(transactionQuery), logger: logger) {
            transactions.append(try Self.transactionRow(row.decode(TransactionColumns.self)))
        }
        var spans: [SpanRow] = []
        let spanQuery = TransactionSQL.traceSpans(traceID: traceID, projectIDs: projectIDs, limit: limit, dialect: Self.dialect)
        for try await row in try await client.query(PostgresQuery(spanQuery), logger: logger) {
            let c = try row.decode((Int64, ByteBuffer, Int64, Int64?, Int64?, String, String, String, Int64, Int64).self)
            spans.append(
                SpanRow(
                    projectID: c.0, traceID: TraceID(bytes: c.1.readableBytesView) ?? traceID, spanID: SpanID(storage: c.2),
                    parentSpanID: c.3.map { SpanID(storage: $0) }, segmentID: c.4.map { SpanID(storage: $0) }, op: c.5, description: c.6,
                    status: c.7, start: c.8, duration: c.9))
        }
        var errors: [TraceErrorRow] = []
        let errorQuery = TransactionSQL.traceErrors(traceID: traceID, projectIDs: projectIDs, limit: limit, dialect: Self.dialect)
        for try await row in try await client.query(PostgresQuery(errorQuery), logger: logger) {
            let c = try row.decode((Int64, ByteBuffer, Int64, Int64, String, Int64, Int64, Int64?).self)
            errors.append(
                TraceErrorRow(
                    projectID: c.0, eventID: EventID(bytes: c.1.readableBytesView) ?? EventID(high: 0, low: 0), issueID: c.2,
                    shortID: c.3, title: c.4, level: Level(rawValue: Int(c.5)) ?? .error, timestamp: c.6,
                    spanID: c.7.map { SpanID(storage: $0) }))
        }
        return TraceContents(transactions: transactions, spans: spans, errors: errors)
    }

    package func transaction(projectID: Int64, eventID: EventID) async throws -> StoredTransaction? {
        let query = TransactionSQL.transaction(projectID: projectID, eventID: eventID, dialect: Self.dialect)
        for try await row in try await client.query(PostgresQuery(query), logger: logger) {
            let cells = row.makeRandomAccess()
            let columns = try row.decode(TransactionColumns.self)
            let bytes = try cells[16].decode(ByteBuffer.self)
            let dictionaryID = try cells[17].decode(Int64?.self)
            // A span v2 segment keeps no JSON of its own.
            let (payload, error) = EventRow.readPayload {
                bytes.readableBytes == 0 ? Array("{}".utf8) : try decompress(Array(bytes.readableBytesView), dictionaryID: dictionaryID)
            }
            return StoredTransaction(row: Self.transactionRow(columns), payload: payload, payloadError: error)
        }
        return nil
    }

    package func transactionSeries(_ query: TransactionSummaryQuery) async throws -> [TransactionSeriesRow] {
        var result: [TransactionSeriesRow] = []
        for try await row in try await client.query(PostgresQuery(TransactionSQL.series(query, dialect: Self.dialect)), logger: logger) {
            let c = try row.decode((Int64, String, Int64, Int64).self)
            result.append(TransactionSeriesRow(projectID: c.0, name: c.1, unit: c.2, count: c.3))
        }
        return result
    }

    package func transactionSamples(_ query: TransactionSampleQuery) async throws -> [TransactionRow] {
        var result: [TransactionRow] = []
        for try await row in try await client.query(PostgresQuery(TransactionSQL.samples(query, dialect: Self.dialect)), logger: logger) {
            result.append(Self.transactionRow(try row.decode(TransactionColumns.self)))
        }
        return result
    }

    package func spanSample(_ query: TransactionSampleQuery) async throws -> SpanSample {
        var totals: (Int64, Int64) = (0, 0)
        let totalsQuery = PostgresQuery(TransactionSQL.sampleTotals(query, dialect: Self.dialect))
        for try await row in try await client.query(totalsQuery, logger: logger) { totals = try row.decode((Int64, Int64).self) }
        var spans: [SpanSampleRow] = []
        for try await row in try await client.query(PostgresQuery(TransactionSQL.sampleSpans(query, dialect: Self.dialect)), logger: logger)
        {
            let c = try row.decode((String, String, ByteBuffer, Int64, Int64).self)
            spans.append(
                SpanSampleRow(
                    op: c.0, description: c.1, traceID: TraceID(bytes: c.2.readableBytesView) ?? TraceID(high: 0, low: 0),
                    segmentID: SpanID(storage: c.3), duration: c.4))
        }
        let truncated = spans.count > TransactionSQL.maxSampleSpans
        if truncated { spans.removeLast(spans.count - TransactionSQL.maxSampleSpans) }
        return SpanSample(transactions: Int(totals.0), transactionTime: totals.1, spans: spans, truncated: truncated)
    }

    package func measurements(_ query: TransactionSampleQuery) async throws -> [MeasurementsRow] {
        var result: [MeasurementsRow] = []
        for try await row in try await client.query(
            PostgresQuery(TransactionSQL.measurements(query, dialect: Self.dialect)), logger: logger)
        {
            let c = try row.decode((String, String).self)
            result.append(MeasurementsRow(name: c.0, measurements: c.1))
        }
        return result
    }

    private typealias TransactionColumns = (
        Int64, ByteBuffer, ByteBuffer, Int64, Int64?, String, String, String, Int64, Int64, String?, String, String?, Double?, String?,
        Int64
    )

    private static func transactionRow(_ c: TransactionColumns) -> TransactionRow {
        TransactionRow(
            projectID: c.0, eventID: EventID(bytes: c.1.readableBytesView) ?? EventID(high: 0, low: 0),
            traceID: TraceID(bytes: c.2.readableBytesView) ?? EventID(high: 0, low: 0), spanID: SpanID(storage: c.3),
            parentSpanID: c.4.map { SpanID(storage: $0) }, name: c.5, op: c.6, status: c.7, start: c.8, duration: c.9, release: c.10,
            environment: c.11, platform: c.12, sampleRate: c.13, measurements: c.14, received: c.15)
    }
}
