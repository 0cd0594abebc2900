package import PitModel

/// One stored profile, as the trace view, a transaction's page and the flame graph read it.
package struct ProfileRow: Sendable, Equatable {
    package var projectID: Int64
    package var profileID: EventID
    package var transactionID: EventID
    package var traceID: TraceID?
    package var platform: String
    /// Milliseconds since the epoch.
    package var timestamp: Int64
    /// Microseconds.
    package var duration: Int64
    package var sampleCount: Int64
    /// Milliseconds since the epoch.
    package var received: Int64

    package init(
        projectID: Int64, profileID: EventID, transactionID: EventID, traceID: TraceID?, platform: String, timestamp: Int64,
        duration: Int64, sampleCount: Int64, received: Int64
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
}

/// A stored profile with its JSON (the flame graph, the profile API).
package struct StoredProfile: Sendable {
    package var row: ProfileRow
    /// The item's JSON; `{}` when it could not be decoded (see `payloadError`).
    package var payload: [UInt8]
    package var payloadError: String?

    package init(row: ProfileRow, payload: [UInt8], payloadError: String?) {
        self.row = row
        self.payload = payload
        self.payloadError = payloadError
    }
}
