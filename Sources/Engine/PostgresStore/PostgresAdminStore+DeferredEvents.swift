import NIOCore
package import PitModel
package import PitStorage
import PostgresNIO

/// Claiming held JavaScript events (`DeferredEventStore`): `SKIP LOCKED`, so instances claiming
/// at once take disjoint rows, and the lease keeps a row from the others while one resolves it.
extension PostgresAdminStore: DeferredEventStore {
    package func claimDeferredEvents(now: Int64, leaseUntil: Int64, limit: Int) async throws -> [DeferredEvent] {
        try await with { db in
            let rows = try await rows(
                db,
                """
                UPDATE deferred_events d SET lease_until = \(leaseUntil), attempts = d.attempts + 1
                FROM (SELECT id FROM deferred_events WHERE lease_until <= \(now) ORDER BY lease_until LIMIT \(Int64(limit))
                      FOR UPDATE SKIP LOCKED) c
                WHERE d.id = c.id
                RETURNING d.project_id, d.event_id, d.timestamp, d.received, d.processing_errors, d.payload_size, d.payload,
                    d.lease_until, d.attempts
                """)
            return try rows.map { row in
                let (projectID, eventID, timestamp, received, errors, size, payload, lease, attempts) = try row.decode(
                    (Int64, ByteBuffer, Int64, Int64, String?, Int64, ByteBuffer, Int64, Int32).self)
                return DeferredEvent(
                    projectID: projectID, eventID: EventID(bytes: Array(eventID.readableBytesView)) ?? EventID(high: 0, low: 0),
                    timestamp: timestamp, received: received, processingErrors: errors,
                    compressedPayload: Array(payload.readableBytesView), payloadSize: Int(size), leaseUntil: lease,
                    attempts: Int(attempts))
            }
        }
    }

    package func discardDeferredEvent(projectID: Int64, eventID: EventID) async throws {
        try await with { db in
            _ = try await rows(
                db,
                "DELETE FROM deferred_events WHERE project_id = \(projectID) AND event_id = \(ByteBuffer(bytes: eventID.bytes))")
        }
    }

    package func deferredEventCount() async throws -> Int {
        try await with { db in
            let rows = try await rows(db, "SELECT COUNT(*) FROM deferred_events")
            return Int(try rows.first?.decode(Int64.self) ?? 0)
        }
    }
}
