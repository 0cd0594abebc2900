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

    /// The logs not already past their project's log retention, for the same reason; the others
    /// are counted as rejected with reason `too_old`.
    package func keepingUnexpired(_ logs: [LogRecord]) -> [LogRecord] {
        guard let retention, !logs.isEmpty else { return logs }
        var cutoffs: [Int64: Int64?] = [:]
        let kept = logs.filter { log in
            let cutoff: Int64?
            if let known = cutoffs[log.projectID] {
                cutoff = known
            } else {
                cutoff = retention.logs.cutoff(projectID: log.projectID, nowMilliseconds: log.received)
                cutoffs[log.projectID] = .some(cutoff)
            }
            return cutoff.map { log.timestamp >= $0 } ?? true
        }
        for _ in kept.count..<logs.count { metrics.rejected(reason: "too_old", itemType: "log") }
        return kept
    }

    /// The transactions not already past their project's event retention, for the same reason.
    package func keepingUnexpired(_ transactions: [TransactionRecord]) -> [TransactionRecord] {
        guard let retention, !transactions.isEmpty else { return transactions }
        let kept = transactions.filter { record in
            !retention.isExpired(
                timestampMilliseconds: (record.start + record.duration) / 1000, projectID: record.projectID,
                nowMilliseconds: record.received)
        }
        for _ in kept.count..<transactions.count { metrics.rejected(reason: "too_old", itemType: "transaction") }
        return kept
    }

    /// The profiles not already past their project's event retention, for the same reason.
    package func keepingUnexpired(_ profiles: [ProfileRecord]) -> [ProfileRecord] {
        guard let retention, !profiles.isEmpty else { return profiles }
        let kept = profiles.filter { record in
            !retention.isExpired(timestampMilliseconds: record.timestamp, projectID: record.projectID, nowMilliseconds: record.received)
        }
        for _ in kept.count..<profiles.count { metrics.rejected(reason: "too_old", itemType: "profile") }
        return kept
    }
}
