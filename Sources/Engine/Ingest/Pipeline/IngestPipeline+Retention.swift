import PitObservability
import PitStorage

extension IngestPipeline {
    /// The event, or nil when its timestamp is already past its project's retention: Relay drops
    /// such an event (outcome "timestamp") and still answers 200, since the next purge would
    /// delete it anyway and an SDK must not retry it. Counted as rejected with reason `too_old`.
    package func keepingUnexpired(_ event: EventRecord?) -> EventRecord? {
        guard let event, let retention,
            retention.isExpired(
                timestampMilliseconds: event.timestamp, projectID: event.projectID,
                nowMilliseconds: event.received)
        else { return event }
        metrics.rejected(reason: "too_old", itemType: "event")
        return nil
    }
}
