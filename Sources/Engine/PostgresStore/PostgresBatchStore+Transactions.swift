import NIOCore
import PitIngest
import PitModel
import PitStorage
import PostgresNIO

/// Performance data on the PostgreSQL write path: transaction rows in one statement that returns
/// which were new (a retried transaction adds neither spans nor counts), the spans in one
/// pipelined statement, and the aggregates appended as deltas (`transaction_minute_deltas`), so
/// concurrent writers of one busy transaction name never queue on a counter row.
extension PostgresBatchStore {
    /// `units`: the segment's units, in queue order.
    func writeTransactions(_ units: [WriteUnit]) throws {
        var seen = Set<TransactionKey>()
        var offered: [TransactionRecord] = []
        for unit in units {
            for record in unit.transactions where seen.insert(TransactionKey(record)).inserted { offered.append(record) }
        }
        var spans = units.flatMap(\.spans)
        var tallies = TransactionTallies()
        if !offered.isEmpty {
            var stored = Set<TransactionKey>()
            for row in try session.query(
                """
                INSERT INTO transactions (project_id, event_id, trace_id, span_id, parent_span_id, name, op, status, start_us, duration_us,
                    release, environment, platform, sample_rate, measurements, received, payload_size, payload, dictionary_id)
                SELECT * FROM unnest(\(offered.map(\.projectID)), \(offered.map { ByteBuffer(bytes: $0.eventID.bytes) }),
                                     \(offered.map { ByteBuffer(bytes: $0.traceID.bytes) }), \(offered.map(\.spanID.storage)),
                                     \(PostgresNullableArray(offered.map { $0.parentSpanID?.storage })), \(offered.map(\.name)),
                                     \(offered.map(\.op)), \(offered.map(\.status)), \(offered.map(\.start)), \(offered.map(\.duration)),
                                     \(PostgresNullableArray(offered.map(\.release))), \(offered.map(\.environment)),
                                     \(PostgresNullableArray(offered.map(\.platform))), \(PostgresNullableArray(offered.map(\.sampleRate))),
                                     \(PostgresNullableArray(offered.map(\.measurements))), \(offered.map(\.received)),
                                     \(offered.map { Int64($0.payloadSize) }), \(offered.map { ByteBuffer(bytes: $0.compressedPayload) }),
                                     \(PostgresNullableArray(offered.map(\.dictionaryID))))
                    AS n(project_id, event_id, trace_id, span_id, parent_span_id, name, op, status, start_us, duration_us, release,
                         environment, platform, sample_rate, measurements, received, payload_size, payload, dictionary_id)
                WHERE NOT EXISTS (SELECT 1 FROM transactions t WHERE t.project_id = n.project_id AND t.event_id = n.event_id)
                ON CONFLICT (project_id, event_id) DO NOTHING
                RETURNING project_id, event_id
                """)
            {
                let (projectID, eventID) = try row.decode((Int64, ByteBuffer).self)
                if let id = EventID(bytes: eventID.readableBytesView) { stored.insert(TransactionKey(projectID: projectID, eventID: id)) }
            }
            let inserted = offered.filter { stored.contains(TransactionKey($0)) }
            let thresholds = try apdexThresholds(Array(Set(inserted.map(\.projectID))))
            for record in inserted {
                tallies.add(record, apdexThreshold: thresholds[record.projectID] ?? Apdex.defaultThresholdMilliseconds)
                spans += record.spans
            }
        }
        insertSpans(spans)
        appendDeltas(tallies)
    }

    private struct TransactionKey: Hashable {
        var projectID: Int64
        var eventID: EventID

        init(projectID: Int64, eventID: EventID) {
            self.projectID = projectID
            self.eventID = eventID
        }

        init(_ record: TransactionRecord) { self.init(projectID: record.projectID, eventID: record.eventID) }
    }

    private func apdexThresholds(_ projectIDs: [Int64]) throws -> [Int64: Int64] {
        guard !projectIDs.isEmpty else { return [:] }
        var thresholds: [Int64: Int64] = [:]
        for row in try session.query("SELECT id, apdex_threshold_ms FROM projects WHERE id = ANY(\(projectIDs))") {
            let (id, threshold) = try row.decode((Int64, Int64).self)
            thresholds[id] = threshold
        }
        return thresholds
    }

    /// A span stored already (a resent container) is kept once.
    private func insertSpans(_ spans: [SpanRecord]) {
        guard !spans.isEmpty else { return }
        session.enqueue(
            prepared:
                """
                INSERT INTO spans (project_id, trace_id, span_id, parent_span_id, segment_id, op, description, status, start_us, duration_us)
                SELECT * FROM unnest(\(spans.map(\.projectID)), \(spans.map { ByteBuffer(bytes: $0.traceID.bytes) }),
                                     \(spans.map(\.spanID.storage)), \(PostgresNullableArray(spans.map { $0.parentSpanID?.storage })),
                                     \(PostgresNullableArray(spans.map { $0.segmentID?.storage })), \(spans.map(\.op)),
                                     \(spans.map(\.description)), \(spans.map(\.status)), \(spans.map(\.start)), \(spans.map(\.duration)))
                ON CONFLICT (trace_id, span_id, project_id) DO NOTHING
                """)
    }

    private func appendDeltas(_ tallies: TransactionTallies) {
        guard !tallies.isEmpty else { return }
        let rows = tallies.sortedMinutes
        var statement: PostgresPreparedSQL = """
            INSERT INTO transaction_minute_deltas (project_id, minute, name, release, environment, total, failures, extrapolated,
                satisfied, tolerated, duration_sum, \(unescaped: DurationHistogram.columns.joined(separator: ", ")))
            SELECT * FROM unnest(
            """
        var parameters = [
            statement.bind(rows.map(\.key.projectID)), statement.bind(rows.map(\.key.minute)), statement.bind(rows.map(\.key.name)),
            statement.bind(rows.map(\.key.release)), statement.bind(rows.map(\.key.environment)), statement.bind(rows.map(\.tally.count)),
            statement.bind(rows.map(\.tally.failures)), statement.bind(rows.map(\.tally.extrapolated)),
            statement.bind(rows.map(\.tally.satisfied)), statement.bind(rows.map(\.tally.tolerated)),
            statement.bind(rows.map(\.tally.durationSum)),
        ]
        for bucket in 0..<DurationHistogram.bucketCount {
            parameters.append(statement.bind(rows.map { $0.tally.histogram.counts[bucket] }))
        }
        statement.append(sql: parameters.joined(separator: ", ") + ")")
        session.enqueue(prepared: statement)
    }
}
