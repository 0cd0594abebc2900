import PitIngest
import PitModel

/// Profiles on the SQLite write path, in the batch's transaction. A profile stored already (an
/// SDK retry of its envelope) is kept once.
extension SQLiteBatchStore {
    func insertProfiles(_ records: [ProfileRecord]) throws {
        guard !records.isEmpty else { return }
        let statement = try connection.statement(
            """
            INSERT OR IGNORE INTO profiles (project_id, profile_id, transaction_id, trace_id, platform, timestamp, duration_us, samples,
                received, payload_size, payload)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        for record in records {
            try statement.run([
                .int(record.projectID), .blob(record.profileID.bytes), .blob(record.transactionID.bytes),
                record.traceID.map { .blob($0.bytes) } ?? .null, .text(record.platform), .int(record.timestamp), .int(record.duration),
                .int(Int64(record.sampleCount)), .int(record.received), .int(Int64(record.payloadSize)), .blob(record.compressedPayload),
            ])
        }
    }
}
