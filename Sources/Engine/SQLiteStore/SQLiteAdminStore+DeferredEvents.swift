package import PitModel
package import PitStorage

/// Claiming held JavaScript events (`DeferredEventStore`) on the admin connection: one instance
/// uses a SQLite file, so the lease only keeps this instance from resolving an event twice.
extension SQLiteAdminStore: DeferredEventStore {
    package func claimDeferredEvents(now: Int64, leaseUntil: Int64, limit: Int) async throws -> [DeferredEvent] {
        try await with { db in
            try db.statement(
                """
                UPDATE deferred_events SET lease_until = ?, attempts = attempts + 1
                WHERE id IN (SELECT id FROM deferred_events WHERE lease_until <= ? ORDER BY lease_until LIMIT ?)
                RETURNING project_id, event_id, timestamp, received, processing_errors, payload_size, payload, lease_until, attempts
                """
            ).query([.int(leaseUntil), .int(now), .int(Int64(limit))]) { row in
                DeferredEvent(
                    projectID: row.int(0), eventID: EventID(bytes: row.blob(1)) ?? EventID(high: 0, low: 0), timestamp: row.int(2),
                    received: row.int(3), processingErrors: row.text(4), compressedPayload: row.blob(6), payloadSize: Int(row.int(5)),
                    leaseUntil: row.int(7), attempts: Int(row.int(8)))
            }
        }
    }

    package func discardDeferredEvent(projectID: Int64, eventID: EventID) async throws {
        try await with { db in
            try db.statement("DELETE FROM deferred_events WHERE project_id = ? AND event_id = ?")
                .run([.int(projectID), .blob(eventID.bytes)])
        }
    }

    package func deferredEventCount() async throws -> Int {
        try await with { db in Int(try db.scalarInt("SELECT COUNT(*) FROM deferred_events") ?? 0) }
    }
}
