package import PitModel

/// The transaction summary's read (`events/?dataset=transactions`): the aggregates of the
/// window's projects, per project and transaction name.
package struct TransactionSummaryQuery: Sendable, Equatable {
    package var projectIDs: [Int64]
    /// Milliseconds since the epoch: the window [from, to).
    package var from: Int64
    package var to: Int64
    /// Only names containing this text, ignoring ASCII case.
    package var nameContains: String?
    /// Only this name (a transaction's own page).
    package var name: String?
    package var environments: [String] = []
    package var release: String?

    package init(projectIDs: [Int64], from: Int64, to: Int64, nameContains: String? = nil) {
        self.projectIDs = projectIDs
        self.from = from
        self.to = to
        self.nameContains = nameContains
    }

    /// Windows longer than this read the hour rows (aligned outward to whole hours), shorter
    /// ones the minute rows: a day reads 24 rows per name, not 1,440.
    package static let hourlyAbove: Int64 = 6 * 3_600_000

    package var readsHours: Bool { to - from > Self.hourlyAbove }
}

/// What the aggregates hold for one project and transaction name over a window.
package struct TransactionSummaryRow: Sendable, Equatable {
    package var projectID: Int64
    package var name: String
    package var count: Int64
    package var failures: Int64
    package var extrapolated: Double
    package var satisfied: Int64
    package var tolerated: Int64
    /// Microseconds.
    package var durationSum: Int64
    package var histogram: DurationHistogram

    package init(
        projectID: Int64, name: String, count: Int64, failures: Int64, extrapolated: Double, satisfied: Int64, tolerated: Int64,
        durationSum: Int64, histogram: DurationHistogram
    ) {
        self.projectID = projectID
        self.name = name
        self.count = count
        self.failures = failures
        self.extrapolated = extrapolated
        self.satisfied = satisfied
        self.tolerated = tolerated
        self.durationSum = durationSum
        self.histogram = histogram
    }

    package var failureRate: Double { count > 0 ? Double(failures) / Double(count) : 0 }
    package var apdex: Double { Apdex.score(satisfied: satisfied, tolerated: tolerated, count: count) }
}

/// One stored transaction, as the trace view and the event detail read it.
package struct TransactionRow: Sendable, Equatable {
    package var projectID: Int64
    package var eventID: EventID
    package var traceID: TraceID
    package var spanID: SpanID
    package var parentSpanID: SpanID?
    package var name: String
    package var op: String
    package var status: String
    /// Microseconds since the epoch.
    package var start: Int64
    package var duration: Int64
    package var release: String?
    package var environment: String
    package var platform: String?
    package var sampleRate: Double?
    package var measurements: String?
    package var received: Int64

    package init(
        projectID: Int64, eventID: EventID, traceID: TraceID, spanID: SpanID, parentSpanID: SpanID?, name: String, op: String,
        status: String, start: Int64, duration: Int64, release: String?, environment: String, platform: String?, sampleRate: Double?,
        measurements: String?, received: Int64
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
}

/// A stored transaction with its JSON (the event detail API).
package struct StoredTransaction: Sendable {
    package var row: TransactionRow
    /// The item's JSON; `{}` when it could not be decoded (see `payloadError`).
    package var payload: [UInt8]
    package var payloadError: String?

    package init(row: TransactionRow, payload: [UInt8], payloadError: String?) {
        self.row = row
        self.payload = payload
        self.payloadError = payloadError
    }
}

/// One stored span.
package struct SpanRow: Sendable, Equatable {
    package var projectID: Int64
    package var traceID: TraceID
    package var spanID: SpanID
    package var parentSpanID: SpanID?
    package var segmentID: SpanID?
    package var op: String
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
}

/// An error event of a trace, with what the trace view shows of its issue.
package struct TraceErrorRow: Sendable, Equatable {
    package var projectID: Int64
    package var eventID: EventID
    package var issueID: Int64
    package var shortID: Int64
    package var title: String
    package var level: Level
    /// Milliseconds since the epoch.
    package var timestamp: Int64
    /// The span it happened in (`contexts.trace.span_id`), when it named one.
    package var spanID: SpanID?

    package init(
        projectID: Int64, eventID: EventID, issueID: Int64, shortID: Int64, title: String, level: Level, timestamp: Int64,
        spanID: SpanID?
    ) {
        self.projectID = projectID
        self.eventID = eventID
        self.issueID = issueID
        self.shortID = shortID
        self.title = title
        self.level = level
        self.timestamp = timestamp
        self.spanID = spanID
    }
}

/// What the store holds of one trace, within the projects asked for.
package struct TraceContents: Sendable {
    package var transactions: [TransactionRow]
    package var spans: [SpanRow]
    package var errors: [TraceErrorRow]

    package init(transactions: [TransactionRow], spans: [SpanRow], errors: [TraceErrorRow]) {
        self.transactions = transactions
        self.spans = spans
        self.errors = errors
    }
}
