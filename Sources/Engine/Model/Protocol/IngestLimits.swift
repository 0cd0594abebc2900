/// Size limits, applied to decompressed sizes, with Relay's defaults (`Limits::default`).
package struct IngestLimits: Sendable, Equatable {
    /// Request body as received (before decompression).
    package var maxRequestBytes = 200 * mib
    /// Whole decompressed envelope.
    package var maxEnvelopeBytes = 200 * mib
    package var maxEventBytes = 1 * mib
    package var maxAttachmentBytes = 200 * mib
    package var maxAttachmentsBytes = 200 * mib
    package var maxAttachmentCount = 30
    package var maxSessionItems = 100
    package var maxSessionsBytes = 10 * mib
    package var maxCheckInBytes = 100 * kib
    package var maxClientReportBytes = 100 * kib
    package var maxProfileBytes = 50 * mib
    package var maxLogBytes = 12 * mib
    package var maxSpanBytes = 12 * mib
    package var maxMetricBytes = 1 * mib
    package var maxReplayBytes = 100 * mib
    /// Items in one envelope. Relay has no overall cap, only per-kind ones (one event, 30
    /// attachments, 100 sessions, one container per log/span/metric kind...), which a real SDK's
    /// envelope stays far below; without any cap, 200 KB of gzip holds ~15 M empty items, each a
    /// row in one transaction. 1,000 is generous for every SDK and bounds that cost. Over it is a
    /// 413, as Relay answers for its per-kind counts.
    package var maxItemCount = 1000
    /// Envelope and item header lines. Relay has no separate cap; a header is metadata, and a
    /// bound keeps a hostile header from costing a large tape.
    package var maxHeaderLineBytes = 256 * kib

    package static let kib = 1024
    package static let mib = 1024 * 1024

    package init() {}

    /// The cap for one item's payload of `type`.
    package func maxItemBytes(_ type: ItemType) -> Int {
        switch type {
        case .event, .transaction, .feedback, .userReport, .security, .nel: maxEventBytes
        case .attachment, .unrealReport, .formData: maxAttachmentBytes
        case .session, .sessions: maxSessionsBytes
        case .checkIn: maxCheckInBytes
        case .clientReport: maxClientReportBytes
        case .profile, .profileChunk: maxProfileBytes
        case .log, .otelLog: maxLogBytes
        case .span: maxSpanBytes
        case .traceMetric, .statsd, .metricBuckets: maxMetricBytes
        case .replayEvent, .replayRecording, .replayVideo: maxReplayBytes
        case .rawSecurity: maxEventBytes
        case .other: maxAttachmentBytes
        }
    }
}
