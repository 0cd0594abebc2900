package import PitModel

/// One `profile` item (Sentry's sample format v1), lean: the columns that link it to its
/// transaction and trace, and its JSON compressed as an event's payload is. The flame graph is
/// built from the JSON when it is read, never at ingest.
package struct ProfileRecord: Sendable, Equatable {
    package var projectID: Int64
    /// The profile's own id (its `event_id`).
    package var profileID: EventID
    /// The event id of the transaction it was recorded in.
    package var transactionID: EventID
    package var traceID: TraceID?
    package var platform: String
    /// Milliseconds since the epoch: when the profile started (its `timestamp`, else arrival).
    package var timestamp: Int64
    /// Microseconds the samples span.
    package var duration: Int64
    package var sampleCount: Int
    /// Milliseconds since the epoch.
    package var received: Int64
    package var payloadSize: Int = 0
    package var compressedPayload: [UInt8] = []

    package init(
        projectID: Int64, profileID: EventID, transactionID: EventID, traceID: TraceID?, platform: String, timestamp: Int64,
        duration: Int64, sampleCount: Int, received: Int64
    ) {
        self.projectID = projectID
        self.profileID = profileID
        self.transactionID = transactionID
        self.traceID = traceID
        self.platform = platform
        self.timestamp = timestamp
        self.duration = duration
        self.sampleCount = sampleCount
        self.received = received
    }

    /// What the record holds in memory while queued (see `WriteUnit.cost`).
    var estimatedBytes: Int { WriteUnit.recordOverhead + compressedPayload.count + WriteUnit.stringBytes(platform) }
}
