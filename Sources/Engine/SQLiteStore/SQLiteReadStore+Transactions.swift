package import PitModel
package import PitStorage

extension SQLiteReadStore {
    package func transactionSummaries(_ query: TransactionSummaryQuery) async throws -> [TransactionSummaryRow] {
        try await read { db in
            try db.query(TransactionSQL.summaries(query, dialect: Self.dialect)) { row in
                TransactionSummaryRow(
                    projectID: row.int(0), name: row.text(1) ?? "", count: row.int(2), failures: row.int(3), extrapolated: row.double(4),
                    satisfied: row.int(5), tolerated: row.int(6), durationSum: row.int(7),
                    histogram: DurationHistogram(counts: (0..<DurationHistogram.bucketCount).map { row.int(Int32(8 + $0)) }))
            }
        }
    }

    package func trace(_ traceID: TraceID, projectIDs: [Int64], limit: Int) async throws -> TraceContents {
        try await read { db in
            let transactions = try db.query(
                TransactionSQL.traceTransactions(traceID: traceID, projectIDs: projectIDs, limit: limit, dialect: Self.dialect),
                Self.transactionRow)
            let spans = try db.query(
                TransactionSQL.traceSpans(traceID: traceID, projectIDs: projectIDs, limit: limit, dialect: Self.dialect)
            ) { row in
                SpanRow(
                    projectID: row.int(0), traceID: TraceID(bytes: row.blob(1)) ?? traceID, spanID: SpanID(storage: row.int(2)),
                    parentSpanID: row.isNull(3) ? nil : SpanID(storage: row.int(3)),
                    segmentID: row.isNull(4) ? nil : SpanID(storage: row.int(4)),
                    op: row.text(5) ?? "", description: row.text(6) ?? "", status: row.text(7) ?? "", start: row.int(8),
                    duration: row.int(9))
            }
            let errors = try db.query(
                TransactionSQL.traceErrors(traceID: traceID, projectIDs: projectIDs, limit: limit, dialect: Self.dialect)
            ) { row in
                TraceErrorRow(
                    projectID: row.int(0), eventID: EventID(bytes: row.blob(1)) ?? EventID(high: 0, low: 0), issueID: row.int(2),
                    shortID: row.int(3), title: row.text(4) ?? "", level: Level(rawValue: Int(row.int(5))) ?? .error, timestamp: row.int(6),
                    spanID: row.isNull(7) ? nil : SpanID(storage: row.int(7)))
            }
            return TraceContents(transactions: transactions, spans: spans, errors: errors)
        }
    }

    package func transaction(projectID: Int64, eventID: EventID) async throws -> StoredTransaction? {
        try await read { [self] db in
            try db.query(TransactionSQL.transaction(projectID: projectID, eventID: eventID, dialect: Self.dialect)) { row in
                // A span v2 segment keeps no JSON of its own.
                let blob = row.blob(16)
                let (payload, error) = EventRow.readPayload {
                    blob.isEmpty ? Array("{}".utf8) : try decompress(blob, dictionaryID: row.isNull(17) ? nil : row.int(17))
                }
                return StoredTransaction(row: Self.transactionRow(row), payload: payload, payloadError: error)
            }.first
        }
    }

    package func transactionSeries(_ query: TransactionSummaryQuery) async throws -> [TransactionSeriesRow] {
        try await read { db in
            try db.query(TransactionSQL.series(query, dialect: Self.dialect)) { row in
                TransactionSeriesRow(projectID: row.int(0), name: row.text(1) ?? "", unit: row.int(2), count: row.int(3))
            }
        }
    }

    package func transactionSamples(_ query: TransactionSampleQuery) async throws -> [TransactionRow] {
        try await read { db in try db.query(TransactionSQL.samples(query, dialect: Self.dialect), Self.transactionRow) }
    }

    package func spanSample(_ query: TransactionSampleQuery) async throws -> SpanSample {
        try await read { db in
            let totals = try db.query(TransactionSQL.sampleTotals(query, dialect: Self.dialect)) { ($0.int(0), $0.int(1)) }.first ?? (0, 0)
            var spans = try db.query(TransactionSQL.sampleSpans(query, dialect: Self.dialect)) { row in
                SpanSampleRow(
                    op: row.text(0) ?? "", description: row.text(1) ?? "", traceID: TraceID(bytes: row.blob(2)) ?? TraceID(high: 0, low: 0),
                    segmentID: SpanID(storage: row.int(3)), duration: row.int(4))
            }
            let truncated = spans.count > TransactionSQL.maxSampleSpans
            if truncated { spans.removeLast(spans.count - TransactionSQL.maxSampleSpans) }
            return SpanSample(transactions: Int(totals.0), transactionTime: totals.1, spans: spans, truncated: truncated)
        }
    }

    package func measurements(_ query: TransactionSampleQuery) async throws -> [MeasurementsRow] {
        try await read { db in
            try db.query(TransactionSQL.measurements(query, dialect: Self.dialect)) { row in
                MeasurementsRow(name: row.text(0) ?? "", measurements: row.text(1) ?? "")
            }
        }
    }

    private static func transactionRow(_ row: SQLiteStatement) -> TransactionRow {
        TransactionRow(
            projectID: row.int(0), eventID: EventID(bytes: row.blob(1)) ?? EventID(high: 0, low: 0),
            traceID: TraceID(bytes: row.blob(2)) ?? EventID(high: 0, low: 0), spanID: SpanID(storage: row.int(3)),
            parentSpanID: row.isNull(4) ? nil : SpanID(storage: row.int(4)), name: row.text(5) ?? "", op: row.text(6) ?? "",
            status: row.text(7) ?? "", start: row.int(8), duration: row.int(9), release: row.text(10),
            environment: row.text(11) ?? "production", platform: row.text(12), sampleRate: row.isNull(13) ? nil : row.double(13),
            measurements: row.text(14), received: row.int(15))
    }
}
