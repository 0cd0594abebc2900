import NIOCore
import PitModel
import PitObservability

/// Source-map resolution sits between `prepare` and the queue: a JavaScript event of a project
/// with artifact bundles is rewritten with its original frames and extracted, grouped and
/// compressed again, so that its issue, title, culprit and stored payload are the original
/// source's from the first write. Only events of projects that may have artifacts take this
/// step, and it runs as a task, never on an event loop: the loop hands the prepared request
/// over (`needsSourceMaps`) and answers when the commit comes, as for any event.
///
/// Why before the write and not after it (re-grouping stored events): moving a stored event
/// between issues would touch the issue index, counters and tag counts of both back ends, while
/// here the cost is the lookups, once per map and `lookupTTL` (a parsed map is cached), and
/// microseconds per frame after that. A cold map costs more (read and parsed: tens of
/// milliseconds for a bundle's), so the wait is bounded by `sourceMapSchedule`'s deadline: past
/// it the event is held durably in `deferred_events` and acknowledged from there, and it is
/// written, resolved and grouped by its original frames, when its resolution finishes
/// (`IngestPipeline+DeferredEvents`). Sentry too shows an event once its processing is done.
extension IngestPipeline {
    /// Whether the prepared event must go through `resolvingSourceMaps` before it is queued.
    /// Answered without waiting, on the event loop.
    package func needsSourceMaps(_ prepared: Prepared) -> Bool {
        guard let sourceMaps, let event = prepared.unit.event, event.mayNeedSourceMaps else { return false }
        return sourceMaps.mayHaveArtifacts(projectID: event.projectID)
    }

    /// `prepared` with its event's frames resolved and the event grouped by them; as it was
    /// when nothing resolves (not JavaScript, no artifacts, no map for its files); or with the
    /// event held (`WriteUnit.heldEvent`) when its resolution did not finish by the deadline
    /// or found no room to run, and goes on.
    package func resolvingSourceMaps(_ prepared: Prepared) async -> Prepared {
        guard let sourceMaps, let event = prepared.unit.event, case .payload(let payload) = event.grouping.source else { return prepared }
        let eventJSON = Array(payload.readableBytesView)
        let projectID = event.projectID
        let outcome = await sourceMapSchedule.run(
            { await sourceMaps.resolve(eventJSON: eventJSON, projectID: projectID) },
            whenLate: { resolution in self.releaseHeldEvent(self.resolved(event, by: resolution)) })
        var rewritten = prepared
        switch outcome {
        case .finished(let resolution):
            rewritten.unit.event = resolved(event, by: resolution)
        case .late:
            metrics.recordSourceMapsLate()
            rewritten.unit.event = nil
            rewritten.unit.heldEvent = held(event, payload: payload, leaseUntil: ClockTime.nowMilliseconds + heldEventLeaseMilliseconds)
        case .skipped:
            // Not started: the next sweep claims it at once.
            metrics.recordSourceMapsSkipped()
            rewritten.unit.event = nil
            rewritten.unit.heldEvent = held(event, payload: payload, leaseUntil: ClockTime.nowMilliseconds)
        }
        return rewritten
    }

    /// The event a resolution makes: its resolved JSON extracted, grouped and compressed again;
    /// `event` itself when nothing resolved.
    func resolved(_ event: EventRecord, by resolution: SourceMapResolver.Resolution?) -> EventRecord {
        guard let resolution, resolution.eventJSON.count <= limits.maxEventBytes else { return event }
        var record: EventRecord
        do {
            record = try makeEventRecord(
                ByteBuffer(bytes: resolution.eventJSON), header: nil, projectID: event.projectID,
                received: Double(event.received) / 1000)
        } catch {
            return event
        }
        // What the envelope header decided (the id when the payload has none, the clock-drift
        // correction of the timestamp and its error) stays as it was.
        record.eventID = event.eventID
        record.timestamp = event.timestamp
        record.received = event.received
        record.processingErrors = Self.appending(resolution.errors, to: event.processingErrors)
        return record
    }

    /// A JSON array of processing errors with `objects` (JSON objects) added at its end.
    static func appending(_ objects: [String], to errors: String?) -> String? {
        guard !objects.isEmpty else { return errors }
        var inner = errors.map { String($0.dropFirst().dropLast()) } ?? ""
        for object in objects { inner += (inner.isEmpty ? "" : ",") + object }
        return "[" + inner + "]"
    }
}
