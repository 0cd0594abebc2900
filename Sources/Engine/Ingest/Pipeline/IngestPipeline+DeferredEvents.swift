package import NIOCore
import PitModel
import PitObservability
package import PitStorage

/// JavaScript events held for their source maps (`DeferredEvent`). A late event is acknowledged
/// once its held row commits; its resolution, when it finishes, queues the resolved event with
/// the row's release, one transaction for both. What no resolution wrote (a restart, a lease run
/// out, an event that found no room to resolve) the sweep claims and writes (`resolveHeldEvents`).
///
/// Ordering needs no coordination: a resolution queued before its hold writes the event, and
/// the hold then finds the event stored and holds nothing; a hold left behind by a concurrent
/// writer (PostgreSQL, several writers) is claimed when its lease runs out, and its second
/// write is a duplicate of a stored event, which the stores drop without counting it.
extension IngestPipeline {
    /// `SourceMapSchedule.holdLease` in milliseconds.
    var heldEventLeaseMilliseconds: Int64 {
        let (seconds, attoseconds) = sourceMapSchedule.holdLease.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Claims of one held event after which it is written as sent, unresolved: a map that keeps
    /// failing to resolve (a resolution that never finishes) must not keep the event unseen.
    package static let maximumHeldEventAttempts = 3

    /// The held row of a late event: its JSON as sent, and what the envelope decided for it.
    package func held(_ event: EventRecord, payload: ByteBuffer, leaseUntil: Int64) -> DeferredEvent {
        DeferredEvent(
            projectID: event.projectID, eventID: event.eventID, timestamp: event.timestamp, received: event.received,
            processingErrors: event.processingErrors, compressedPayload: PayloadCodec.compress(payload),
            payloadSize: payload.readableBytes, leaseUntil: leaseUntil)
    }

    /// Queues a held event's resolution with the release of its row. False when the queue has no
    /// room: the event stays held, and the sweep claims it when its lease runs out.
    @discardableResult
    func releaseHeldEvent(_ record: EventRecord) -> Bool {
        var unit = WriteUnit(event: record, items: [])
        unit.releasesHeldEvent = true
        return queue.offer(unit) == .accepted
    }

    /// The event a held row holds, rebuilt from its payload as `prepare` built it.
    package func rebuild(_ held: DeferredEvent) throws -> EventRecord {
        let json = try PayloadCodec.decompress(held.compressedPayload, limit: max(limits.maxEventBytes, held.payloadSize))
        var record = try makeEventRecord(
            ByteBuffer(bytes: json), header: nil, projectID: held.projectID, received: Double(held.received) / 1000)
        record.eventID = held.eventID
        record.timestamp = held.timestamp
        record.received = held.received
        record.processingErrors = held.processingErrors
        return record
    }

    /// Claims up to `limit` held events whose lease ran out, resolves each (one at a time: the
    /// sweep is a background chore) and queues it with its row's release. An event claimed
    /// `maximumHeldEventAttempts` times is queued as sent. Returns how many were queued; an
    /// event the queue had no room for stays held for the next sweep, and one whose payload
    /// cannot be read any more is discarded (it could never be written).
    /// `leasesEndedBy`: claims the holds whose lease ends by then (default: now); a start on a
    /// SQLite file, which no other instance shares, claims every hold at once.
    package func resolveHeldEvents(
        from store: any DeferredEventStore, limit: Int = 64, leasesEndedBy: Int64? = nil
    ) async throws -> Int {
        let now = ClockTime.nowMilliseconds
        let claimed = try await store.claimDeferredEvents(
            now: leasesEndedBy ?? now, leaseUntil: now + heldEventLeaseMilliseconds, limit: limit)
        var queued = 0
        for held in claimed {
            guard let event = try? rebuild(held) else {
                try await store.discardDeferredEvent(projectID: held.projectID, eventID: held.eventID)
                continue
            }
            var record = event
            if held.attempts <= Self.maximumHeldEventAttempts, let sourceMaps,
                case .payload(let payload) = event.grouping.source
            {
                let resolution = await sourceMaps.resolve(eventJSON: Array(payload.readableBytesView), projectID: held.projectID)
                record = resolved(event, by: resolution)
            }
            guard releaseHeldEvent(record) else { break }
            queued += 1
        }
        metrics.recordHeldEventsResolved(queued)
        return queued
    }
}
