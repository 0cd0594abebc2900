/// Envelope item types (PROTOCOL.md §3). Unknown types are kept under `.other` so that nothing an
/// SDK sends is dropped before a later release knows how to process it.
package enum ItemType: Hashable, Sendable, CustomStringConvertible {
    case event, transaction, attachment, session, sessions, userReport, feedback, clientReport
    case checkIn, log, otelLog, span, replayEvent, replayRecording, replayVideo, profile, profileChunk
    case traceMetric, statsd, metricBuckets, security, rawSecurity, nel, unrealReport, formData
    case other(String)

    package init(_ name: String) {
        switch name {
        case "event": self = .event
        case "transaction": self = .transaction
        case "attachment": self = .attachment
        case "session": self = .session
        case "sessions": self = .sessions
        case "user_report": self = .userReport
        case "feedback": self = .feedback
        case "client_report": self = .clientReport
        case "check_in": self = .checkIn
        case "log": self = .log
        case "otel_log": self = .otelLog
        case "span": self = .span
        case "replay_event": self = .replayEvent
        case "replay_recording": self = .replayRecording
        case "replay_video": self = .replayVideo
        case "profile": self = .profile
        case "profile_chunk": self = .profileChunk
        case "trace_metric": self = .traceMetric
        case "statsd": self = .statsd
        case "metric_buckets": self = .metricBuckets
        case "security": self = .security
        case "raw_security": self = .rawSecurity
        case "nel": self = .nel
        case "unreal_report": self = .unrealReport
        case "form_data": self = .formData
        default: self = .other(Self.storableName(name))
        }
    }

    /// An unknown type's name as stored (the items table's indexed `type` column): printable
    /// ASCII up to `FieldLimits.itemTypeName` bytes, as every Sentry type name is. Anything else
    /// (a NUL, a control character, a 10 KB name) is kept as `invalid`; the item's raw header,
    /// stored with it, still says what was sent.
    static func storableName(_ name: String) -> String {
        let bytes = name.utf8
        guard !bytes.isEmpty, bytes.count <= FieldLimits.itemTypeName, bytes.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            return "invalid"
        }
        return name
    }

    package var description: String {
        switch self {
        case .event: "event"
        case .transaction: "transaction"
        case .attachment: "attachment"
        case .session: "session"
        case .sessions: "sessions"
        case .userReport: "user_report"
        case .feedback: "feedback"
        case .clientReport: "client_report"
        case .checkIn: "check_in"
        case .log: "log"
        case .otelLog: "otel_log"
        case .span: "span"
        case .replayEvent: "replay_event"
        case .replayRecording: "replay_recording"
        case .replayVideo: "replay_video"
        case .profile: "profile"
        case .profileChunk: "profile_chunk"
        case .traceMetric: "trace_metric"
        case .statsd: "statsd"
        case .metricBuckets: "metric_buckets"
        case .security: "security"
        case .rawSecurity: "raw_security"
        case .nel: "nel"
        case .unrealReport: "unreal_report"
        case .formData: "form_data"
        case .other(let name): name
        }
    }

    /// Item types whose payload must be JSON (validated at ingest so a broken item is a 400 now,
    /// not a surprise for the processor that handles it later).
    package var isJSON: Bool {
        switch self {
        case .event, .transaction, .session, .sessions, .userReport, .feedback, .clientReport, .checkIn, .log,
            .otelLog, .span, .replayEvent, .profile, .profileChunk, .traceMetric, .security, .nel:
            true
        default: false
        }
    }

    /// The `item_type` label of metrics: a known type's name, else `unknown`. Type names come from
    /// clients, and each distinct label value is a time series kept for the life of the process.
    package var metricLabel: String {
        if case .other = self { return "unknown" }
        return description
    }

    /// Deprecated by Sentry: accepted and dropped (PROTOCOL.md §3).
    package var isDropped: Bool { self == .statsd || self == .metricBuckets }
}
