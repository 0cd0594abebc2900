import NIOCore
import PitIngest
import PitModel
import PitStorage
import PostgresNIO

/// JavaScript events held for their source maps (`DeferredEvent`) on the PostgreSQL write path:
/// one pipelined statement each way per segment.
extension PostgresBatchStore {
    /// Holds the events not stored already (a resend of an event resolved since).
    func holdEvents(_ held: [DeferredEvent]) {
        guard !held.isEmpty else { return }
        session.enqueue(
            """
            INSERT INTO deferred_events (project_id, event_id, timestamp, received, processing_errors, payload_size, payload,
                lease_until, attempts)
            SELECT * FROM unnest(\(held.map(\.projectID)), \(held.map { ByteBuffer(bytes: $0.eventID.bytes) }),
                                 \(held.map(\.timestamp)), \(held.map(\.received)),
                                 \(PostgresNullableArray(held.map(\.processingErrors))), \(held.map { Int64($0.payloadSize) }),
                                 \(held.map { ByteBuffer(bytes: $0.compressedPayload) }), \(held.map(\.leaseUntil)),
                                 \(held.map { Int32($0.attempts) }))
                AS n (project_id, event_id, timestamp, received, processing_errors, payload_size, payload, lease_until, attempts)
            WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.project_id = n.project_id AND e.event_id = n.event_id)
            ON CONFLICT (project_id, event_id) DO NOTHING
            """)
    }

    /// Takes the held rows of events their resolutions write now, in the same transaction.
    func releaseHeldEvents(_ events: [EventRecord]) {
        session.enqueue(
            """
            DELETE FROM deferred_events d USING unnest(\(events.map(\.projectID)), \(events.map { ByteBuffer(bytes: $0.eventID.bytes) }))
                AS r (project_id, event_id)
            WHERE d.project_id = r.project_id AND d.event_id = r.event_id
            """)
    }
}
