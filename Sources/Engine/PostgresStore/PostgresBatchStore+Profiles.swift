import NIOCore
import PitIngest
import PitModel
import PostgresNIO

/// Profiles on the PostgreSQL write path: one pipelined statement per segment. A profile stored
/// already (an SDK retry of its envelope) is kept once; one statement may not meet a row twice,
/// so only the first copy of an id in the segment is offered.
extension PostgresBatchStore {
    func insertProfiles(_ records: [ProfileRecord]) {
        guard !records.isEmpty else { return }
        struct Key: Hashable {
            var projectID: Int64
            var profileID: EventID
        }
        var seen: Set<Key> = []
        let rows = records.filter { seen.insert(Key(projectID: $0.projectID, profileID: $0.profileID)).inserted }
        session.enqueue(
            prepared:
                """
                INSERT INTO profiles (project_id, profile_id, transaction_id, trace_id, platform, timestamp, duration_us, samples, received,
                    payload_size, payload)
                SELECT * FROM unnest(\(rows.map(\.projectID)), \(rows.map { ByteBuffer(bytes: $0.profileID.bytes) }),
                                     \(rows.map { ByteBuffer(bytes: $0.transactionID.bytes) }),
                                     \(PostgresNullableArray(rows.map { $0.traceID.map { ByteBuffer(bytes: $0.bytes) } })),
                                     \(rows.map(\.platform)), \(rows.map(\.timestamp)), \(rows.map(\.duration)),
                                     \(rows.map { Int64($0.sampleCount) }), \(rows.map(\.received)), \(rows.map { Int64($0.payloadSize) }),
                                     \(rows.map { ByteBuffer(bytes: $0.compressedPayload) }))
                ON CONFLICT (project_id, profile_id) DO NOTHING
                """)
    }
}
