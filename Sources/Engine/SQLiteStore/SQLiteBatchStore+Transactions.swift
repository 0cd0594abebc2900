import PitIngest
import PitModel
import PitStorage

/// Performance data on the SQLite write path: transaction and span rows, and the aggregates
/// their batch adds to, in the batch's transaction. A transaction whose (project, event id) is
/// stored already (an SDK retry) adds neither spans nor counts; a span stored already is kept
/// once.
extension SQLiteBatchStore {
    /// `units`: the batch's units that carry transactions or spans, in queue order.
    func writeTransactions(_ units: [WriteUnit]) throws {
        let insertTransaction = try connection.statement(
            """
            INSERT OR IGNORE INTO transactions (project_id, event_id, trace_id, span_id, parent_span_id, name, op, status, start_us,
                duration_us, release, environment, platform, sample_rate, measurements, received, payload_size, payload,
                dictionary_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        let insertSpan = try connection.statement(
            """
            INSERT OR IGNORE INTO spans (project_id, trace_id, span_id, parent_span_id, segment_id, op, description, status, start_us,
                duration_us)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        var thresholds: [Int64: Int64] = [:]
        var tallies = TransactionTallies()
        for unit in units {
            for record in unit.transactions {
                try insertTransaction.run([
                    .int(record.projectID), .blob(record.eventID.bytes), .blob(record.traceID.bytes), .int(record.spanID.storage),
                    .optional(record.parentSpanID?.storage), .text(record.name), .text(record.op), .text(record.status),
                    .int(record.start), .int(record.duration), .optional(record.release), .text(record.environment),
                    .optional(record.platform), record.sampleRate.map { .double($0) } ?? .null, .optional(record.measurements),
                    .int(record.received), .int(Int64(record.payloadSize)), .blob(record.compressedPayload),
                    .optional(record.dictionaryID),
                ])
                guard connection.changes > 0 else { continue }
                let threshold = try thresholds[record.projectID] ?? apdexThreshold(projectID: record.projectID)
                thresholds[record.projectID] = threshold
                tallies.add(record, apdexThreshold: threshold)
                for span in record.spans { try insert(span, with: insertSpan) }
            }
            for span in unit.spans { try insert(span, with: insertSpan) }
        }
        guard !tallies.isEmpty else { return }
        try upsert(tallies.sortedMinutes, into: "transaction_minutes", unit: "minute")
        try upsert(tallies.sortedHours, into: "transaction_hours", unit: "hour")
    }

    private func insert(_ span: SpanRecord, with statement: SQLiteStatement) throws {
        try statement.run([
            .int(span.projectID), .blob(span.traceID.bytes), .int(span.spanID.storage), .optional(span.parentSpanID?.storage),
            .optional(span.segmentID?.storage), .text(span.op), .text(span.description), .text(span.status), .int(span.start),
            .int(span.duration),
        ])
    }

    private func apdexThreshold(projectID: Int64) throws -> Int64 {
        try connection.statement("SELECT apdex_threshold_ms FROM projects WHERE id = ?").query([.int(projectID)], { $0.int(0) }).first
            ?? Apdex.defaultThresholdMilliseconds
    }

    private func upsert(_ rows: [(key: TransactionTallies.Key, tally: TransactionTallies.Tally)], into table: String, unit: String) throws {
        let histogram = DurationHistogram.columns
        let statement = try connection.statement(
            """
            INSERT INTO \(table) (project_id, \(unit), name, release, environment, total, failures, extrapolated, satisfied, tolerated,
                duration_sum, \(histogram.joined(separator: ", ")))
            VALUES (\(Array(repeating: "?", count: 11 + histogram.count).joined(separator: ", ")))
            ON CONFLICT (project_id, \(unit), name, release, environment) DO UPDATE SET total = total + excluded.total,
                failures = failures + excluded.failures, extrapolated = extrapolated + excluded.extrapolated,
                satisfied = satisfied + excluded.satisfied, tolerated = tolerated + excluded.tolerated,
                duration_sum = duration_sum + excluded.duration_sum,
                \(histogram.map { "\($0) = \($0) + excluded.\($0)" }.joined(separator: ", "))
            """)
        for (key, tally) in rows {
            var values: [SQLiteValue] = [
                .int(key.projectID), .int(key.minute), .text(key.name), .text(key.release), .text(key.environment), .int(tally.count),
                .int(tally.failures), .double(tally.extrapolated), .int(tally.satisfied), .int(tally.tolerated),
                .int(tally.durationSum),
            ]
            values += tally.histogram.counts.map { .int($0) }
            try statement.run(values)
        }
    }
}
