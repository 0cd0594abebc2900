package import PitModel

/// One transaction (a `transaction` item, or the segment span of a span v2 container), lean: the
/// columns the performance pages query, and for a `transaction` item its compressed payload,
/// which the event detail API returns.
package struct TransactionRecord: Sendable, Equatable {
    package var projectID: Int64
    package var eventID: EventID
    package var traceID: TraceID
    package var spanID: SpanID
    package var parentSpanID: SpanID?
    /// The transaction's name (`transaction`; a segment span's `sentry.segment.name` or name).
    package var name: String
    package var op: String
    /// Sentry's span status (`ok`, `internal_error`, …; span v2's `ok`/`error`).
    package var status: String
    /// Microseconds since the epoch.
    package var start: Int64
    package var duration: Int64
    package var release: String?
    package var environment: String
    package var platform: String?
    /// The trace's sample rate from the envelope's dynamic sampling context, when it carried one
    /// in (0, 1]: this transaction stands for 1 / rate of them.
    package var sampleRate: Double?
    /// `measurements` as a JSON object (`{"lcp":{"value":…,"unit":"millisecond"}}`), nil when none.
    package var measurements: String?
    /// Milliseconds since the epoch.
    package var received: Int64
    package var payloadSize: Int = 0
    /// The item's JSON (`PayloadCodec`); empty for a segment span.
    package var compressedPayload: [UInt8] = []
    package var dictionaryID: Int64? = nil
    /// The transaction's child spans (those of a `transaction` item's `spans`).
    package var spans: [SpanRecord] = []

    package init(
        projectID: Int64, eventID: EventID, traceID: TraceID, spanID: SpanID, parentSpanID: SpanID?, name: String, op: String,
        status: String, start: Int64, duration: Int64, release: String?, environment: String, platform: String? = nil,
        sampleRate: Double? = nil, measurements: String? = nil, received: Int64
    ) {
        self.projectID = projectID
        self.eventID = eventID
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.name = name
        self.op = op
        self.status = status
        self.start = start
        self.duration = duration
        self.release = release
        self.environment = environment
        self.platform = platform
        self.sampleRate = sampleRate
        self.measurements = measurements
        self.received = received
    }

    /// How many transactions this one stands for under sampling.
    package var extrapolatedCount: Double {
        guard let sampleRate, sampleRate > 0, sampleRate <= 1 else { return 1 }
        return 1 / sampleRate
    }

    /// What the record holds in memory while queued (see `WriteUnit.cost`).
    var estimatedBytes: Int {
        var total =
            WriteUnit.recordOverhead + compressedPayload.count + WriteUnit.stringBytes(name) + WriteUnit.stringBytes(op)
            + WriteUnit.stringBytes(status) + WriteUnit.stringBytes(release) + WriteUnit.stringBytes(environment)
            + WriteUnit.stringBytes(platform) + WriteUnit.stringBytes(measurements)
        for span in spans { total += span.estimatedBytes }
        return total
    }
}

/// One span below a transaction, or of a span v2 container.
package struct SpanRecord: Sendable, Equatable {
    package var projectID: Int64
    package var traceID: TraceID
    package var spanID: SpanID
    package var parentSpanID: SpanID?
    /// The span id of its segment (the transaction it belongs to), when known.
    package var segmentID: SpanID?
    package var op: String
    /// The description with SQL literals and URL ids masked (`SpanDescription.normalize`).
    package var description: String
    package var status: String
    /// Microseconds since the epoch.
    package var start: Int64
    package var duration: Int64

    package init(
        projectID: Int64, traceID: TraceID, spanID: SpanID, parentSpanID: SpanID?, segmentID: SpanID?, op: String, description: String,
        status: String, start: Int64, duration: Int64
    ) {
        self.projectID = projectID
        self.traceID = traceID
        self.spanID = spanID
        self.parentSpanID = parentSpanID
        self.segmentID = segmentID
        self.op = op
        self.description = description
        self.status = status
        self.start = start
        self.duration = duration
    }

    var estimatedBytes: Int {
        WriteUnit.recordOverhead + WriteUnit.stringBytes(op) + WriteUnit.stringBytes(description) + WriteUnit.stringBytes(status)
    }
}
