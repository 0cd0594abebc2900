package import PitModel

/// A JavaScript event whose source maps were not resolved by its acknowledgement's deadline
/// (`SourceMapSchedule`): held in `deferred_events`, written in the batch that acknowledges it,
/// until its resolution writes it as an event in one transaction with the row's deletion. A
/// restart, or another instance once the lease is over, resolves what is still held.
package struct DeferredEvent: Sendable, Equatable {
    package var projectID: Int64
    package var eventID: EventID
    /// Milliseconds since the epoch, as the envelope header decided them (clock-drift
    /// correction): resolution re-reads the payload without its header.
    package var timestamp: Int64
    package var received: Int64
    /// The processing errors found before resolution (JSON array), nil when none.
    package var processingErrors: String?
    /// The event's JSON as sent, zstd-compressed (`PayloadCodec`).
    package var compressedPayload: [UInt8]
    package var payloadSize: Int
    /// Until then (milliseconds since the epoch) the instance that holds the event resolves it;
    /// after, any instance may claim it.
    package var leaseUntil: Int64
    /// How many times the event was claimed after its first lease ran out.
    package var attempts: Int

    package init(
        projectID: Int64, eventID: EventID, timestamp: Int64, received: Int64, processingErrors: String?,
        compressedPayload: [UInt8], payloadSize: Int, leaseUntil: Int64, attempts: Int = 0
    ) {
        self.projectID = projectID
        self.eventID = eventID
        self.timestamp = timestamp
        self.received = received
        self.processingErrors = processingErrors
        self.compressedPayload = compressedPayload
        self.payloadSize = payloadSize
        self.leaseUntil = leaseUntil
        self.attempts = attempts
    }
}

/// The held events' side that is not the writer's: claiming those whose lease ran out. Each
/// back end's admin store implements it; the batch stores hold and release the rows.
package protocol DeferredEventStore: Sendable {
    /// Up to `limit` held events whose lease ended by `now`, oldest lease first, each leased
    /// to the caller until `leaseUntil` and its `attempts` counted. Instances claiming at once
    /// get disjoint sets.
    func claimDeferredEvents(now: Int64, leaseUntil: Int64, limit: Int) async throws -> [DeferredEvent]

    /// Drops a held event that can never be written (its payload no longer reads).
    func discardDeferredEvent(projectID: Int64, eventID: EventID) async throws

    /// How many events are held.
    func deferredEventCount() async throws -> Int
}
