import PitIngest
import PitModel
import PitStorage

/// JavaScript events held for their source maps (`DeferredEvent`) on the SQLite write path.
extension SQLiteBatchStore {
    /// Holds the event unless it is stored already (a resend of an event resolved since).
    func holdEvent(_ held: DeferredEvent) throws {
        try connection.statement(
            """
            INSERT OR IGNORE INTO deferred_events (project_id, event_id, timestamp, received, processing_errors, payload_size,
                payload, lease_until, attempts)
            SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?
            WHERE NOT EXISTS (SELECT 1 FROM events WHERE project_id = ? AND event_id = ?)
            """
        ).run([
            .int(held.projectID), .blob(held.eventID.bytes), .int(held.timestamp), .int(held.received),
            .optional(held.processingErrors), .int(Int64(held.payloadSize)), .blob(held.compressedPayload),
            .int(held.leaseUntil), .int(Int64(held.attempts)), .int(held.projectID), .blob(held.eventID.bytes),
        ])
    }

    /// Takes the held row of an event its resolution writes now, in the same transaction.
    func releaseHeldEvent(_ event: EventRecord) throws {
        try connection.statement("DELETE FROM deferred_events WHERE project_id = ? AND event_id = ?")
            .run([.int(event.projectID), .blob(event.eventID.bytes)])
    }
}
