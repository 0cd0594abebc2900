package import PitModel

/// A transaction name's counts per minute or hour of a window (`TransactionSQL.series`): the
/// summary list's sparklines, read from the same aggregates as its figures.
package struct TransactionSeriesRow: Sendable, Equatable {
    package var projectID: Int64
    package var name: String
    /// The minute or hour number (milliseconds since the epoch / 60,000 or / 3,600,000), as
    /// `TransactionSummaryQuery.readsHours` chose.
    package var unit: Int64
    package var count: Int64

    package init(projectID: Int64, name: String, unit: Int64, count: Int64) {
        self.projectID = projectID
        self.name = name
        self.unit = unit
        self.count = count
    }
}

/// Some stored transactions of one project in a window, chosen through an index so that the read
/// stays bounded however many the window holds: the slowest of one name (`transactions_slowest`,
/// project, name, duration), or, without a name, the newest (`transactions_project_received`).
package struct TransactionSampleQuery: Sendable, Equatable {
    package var projectID: Int64
    /// Received in [from, to), milliseconds since the epoch.
    package var from: Int64
    package var to: Int64
    package var name: String?
    package var environment: String?
    package var limit: Int

    package init(projectID: Int64, from: Int64, to: Int64, name: String? = nil, environment: String? = nil, limit: Int) {
        self.projectID = projectID
        self.from = from
        self.to = to
        self.name = name
        self.environment = environment
        self.limit = limit
    }
}

/// One span of a sampled transaction (`TransactionSQL.sampleSpans`), with what the span summary
/// groups by: the op, the description normalised at ingest, and the transaction it belongs to.
package struct SpanSampleRow: Sendable, Equatable {
    package var op: String
    package var description: String
    package var traceID: TraceID
    /// The span id of its transaction (the segment).
    package var segmentID: SpanID
    /// Microseconds.
    package var duration: Int64

    package init(op: String, description: String, traceID: TraceID, segmentID: SpanID, duration: Int64) {
        self.op = op
        self.description = description
        self.traceID = traceID
        self.segmentID = segmentID
        self.duration = duration
    }
}

/// The spans of a sample of transactions and the sample itself, for the span pages.
package struct SpanSample: Sendable {
    /// The transactions sampled (their spans are in `spans`).
    package var transactions: Int
    /// Their durations summed, microseconds.
    package var transactionTime: Int64
    package var spans: [SpanSampleRow]
    /// Whether the cap on spans (`TransactionSQL.maxSampleSpans`) cut the sample.
    package var truncated: Bool

    package init(transactions: Int, transactionTime: Int64, spans: [SpanSampleRow], truncated: Bool) {
        self.transactions = transactions
        self.transactionTime = transactionTime
        self.spans = spans
        self.truncated = truncated
    }
}

/// A transaction's name with its `measurements` JSON as stored (the Web Vitals page).
package struct MeasurementsRow: Sendable, Equatable {
    package var name: String
    package var measurements: String

    package init(name: String, measurements: String) {
        self.name = name
        self.measurements = measurements
    }
}
