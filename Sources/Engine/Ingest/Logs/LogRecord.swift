package import PitModel

/// One log, parsed at ingest from a `log` container or an `otel_log` item (`LogParser`), for the
/// writer to insert as one row of `logs` in the batch's transaction.
package struct LogRecord: Sendable, Equatable {
    package var projectID: Int64
    /// When the log was emitted, milliseconds since the epoch.
    package var timestamp: Int64
    /// When Pit received it, milliseconds since the epoch.
    package var received: Int64
    package var severity: LogSeverity
    /// OTel's severity number (1-24); the level's first number when the SDK sent none.
    package var severityNumber: Int
    /// 32 lowercase hex digits, when the SDK sent a valid trace id.
    package var traceID: String?
    /// 16 lowercase hex digits, when the SDK sent a valid span id.
    package var spanID: String?
    package var body: String
    /// `sentry.release` and `sentry.environment` of the attributes, when present.
    package var release: String?
    package var environment: String?
    /// `sentry.sdk.name` of the attributes, else the envelope's `sdk.name`.
    package var sdk: String?
    /// The attributes as a JSON object in Sentry's typed form, `{"key":{"value":v,"type":"t"}}`,
    /// written by `LogAttributes` (so a filter can match its exact text).
    package var attributes: String

    package init(
        projectID: Int64, timestamp: Int64, received: Int64, severity: LogSeverity, severityNumber: Int? = nil,
        traceID: String? = nil, spanID: String? = nil, body: String, release: String? = nil, environment: String? = nil,
        sdk: String? = nil, attributes: String = "{}"
    ) {
        self.projectID = projectID
        self.timestamp = timestamp
        self.received = received
        self.severity = severity
        self.severityNumber = severityNumber ?? severity.severityNumber
        self.traceID = traceID
        self.spanID = spanID
        self.body = body
        self.release = release
        self.environment = environment
        self.sdk = sdk
        self.attributes = attributes
    }

    /// What the record holds in memory while queued (see `WriteUnit.cost`).
    var estimatedBytes: Int {
        WriteUnit.recordOverhead + WriteUnit.stringBytes(body) + WriteUnit.stringBytes(attributes) + WriteUnit.stringBytes(traceID)
            + WriteUnit.stringBytes(spanID) + WriteUnit.stringBytes(release) + WriteUnit.stringBytes(environment)
            + WriteUnit.stringBytes(sdk)
    }
}
