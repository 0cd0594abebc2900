import NIOConcurrencyHelpers
package import PitModel
package import PitStorage

/// The outcomes a batch writes: what its units carry (accepted items, client reports, Relay-rule
/// drops, the rejected counts flushed with it) and its events, accepted when stored and
/// `invalid`/`duplicate` when their id was already there. Summed per key, so the store upserts
/// each key once per batch however many events it holds.
package struct OutcomeBatch: Sendable {
    package private(set) var tallies: [OutcomeKey: OutcomeTally] = [:]

    package init() {}

    package var isEmpty: Bool { tallies.isEmpty }

    package mutating func add(_ counts: [OutcomeCount]) {
        for count in counts { tallies[count.key, default: OutcomeTally()].add(count.tally) }
    }

    /// An event of the batch: accepted in its category when stored, else a duplicate.
    package mutating func addEvent(_ event: EventRecord, stored: Bool) {
        let key = OutcomeKey(
            projectID: event.projectID, hour: HourlyCounts.hour(ofMilliseconds: event.received),
            outcome: stored ? .accepted : .invalid, category: OutcomeCategory.ofEvent(kind: event.grouping.kind),
            reason: stored ? "" : "duplicate")
        tallies[key, default: OutcomeTally()].add(OutcomeTally(quantity: 1, timesSeen: 1))
    }

    /// The rows in key order (stable statements, and PostgreSQL takes row locks in one order).
    package var sorted: [(key: OutcomeKey, tally: OutcomeTally)] {
        tallies.sorted {
            ($0.key.projectID, $0.key.hour, $0.key.outcome.rawValue, $0.key.category, $0.key.reason)
                < ($1.key.projectID, $1.key.hour, $1.key.outcome.rawValue, $1.key.category, $1.key.reason)
        }.map { (key: $0.key, tally: $0.value) }
    }
}

/// Requests refused before the writer (429, 400, 413, ...): counted in memory per key, bounded
/// by `maxKeys` (a key past it is dropped and counted in `dropped`), and flushed by the writer
/// with its next batch, after `flushInterval` seconds of no batch, and when it stops. A kill -9
/// loses what was counted since the last flush, as Relay's outcome aggregator does.
package final class RejectedOutcomes: Sendable {
    package static let maxKeys = 10_000
    /// How often an idle writer wakes to flush them.
    package static let flushInterval = 10.0

    private let state = NIOLockedValueBox<[OutcomeKey: OutcomeTally]>([:])
    private let droppedCount = NIOLockedValueBox<Int>(0)

    package init() {}

    package func record(_ key: OutcomeKey, quantity: Int64 = 1) {
        let kept = state.withLockedValue { pending -> Bool in
            if pending[key] == nil, pending.count >= Self.maxKeys { return false }
            pending[key, default: OutcomeTally()].add(OutcomeTally(quantity: quantity, timesSeen: 1))
            return true
        }
        if !kept { droppedCount.withLockedValue { $0 += 1 } }
    }

    /// Everything counted since the last drain.
    package func drain() -> [OutcomeCount] {
        let pending = state.withLockedValue { pending in
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
        return pending.map { OutcomeCount($0.key, quantity: $0.value.quantity, timesSeen: $0.value.timesSeen) }
    }

    /// Puts counts back (their batch failed), within the bound.
    package func restore(_ counts: [OutcomeCount]) {
        state.withLockedValue { pending in
            for count in counts where pending[count.key] != nil || pending.count < Self.maxKeys {
                pending[count.key, default: OutcomeTally()].add(count.tally)
            }
        }
    }

    package var isEmpty: Bool { state.withLockedValue { $0.isEmpty } }

    /// Keys refused because `maxKeys` were pending.
    package var dropped: Int { droppedCount.withLockedValue { $0 } }
}

/// How a refusal is counted: its outcome and Relay's reason code, or nil for refusals Sentry does
/// not count as outcomes (auth failures, and 503 load shedding: nothing was looked at, and the
/// SDK counts what it lost itself as a `client_discard` with reason `network_error` in its next
/// client report, so counting it here too would count it twice).
package enum OutcomeReason {
    package static func of(_ error: IngestError) -> (OutcomeKind, String)? {
        switch error.code {
        case .rateLimited: return (.rateLimited, "key_quota")
        case .payloadTooLarge: return (.invalid, "too_large")
        case .unsupportedMediaType: return (.invalid, "content_type")
        case .badRequest: return (.invalid, invalidReason(error.detail))
        default: return nil
        }
    }

    /// Relay's `DiscardReason` for a 400, from its detail.
    package static func invalidReason(_ detail: String) -> String {
        if detail == "empty envelope" { return "empty_envelope" }
        if detail.hasPrefix("empty ") { return "no_data" }
        if detail.hasPrefix("duplicate ") && detail.hasSuffix(" item") { return "duplicate_item" }
        if detail.hasPrefix("client requested unsupported protocol version") || detail == "invalid sentry_version" {
            return "auth_version"
        }
        if detail.hasPrefix("invalid security report") || detail.hasPrefix("invalid csp report") { return "security_report" }
        if detail.hasPrefix("could not decode") || detail.contains("base64") { return "payload" }
        if detail.hasPrefix("invalid envelope header") || detail.hasPrefix("envelope header") || detail.hasPrefix("invalid item")
            || detail.hasPrefix("item ") || detail.hasPrefix("missing newline") || detail.hasPrefix("invalid event_id")
            || detail.hasPrefix("event and transaction") || detail.hasPrefix("duplicate sent_at")
        {
            return "invalid_envelope"
        }
        if detail.hasPrefix("invalid client_report item") { return "client_report" }
        if detail.contains("JSON") || detail.contains("json") || detail.hasPrefix("invalid event payload") { return "invalid_json" }
        return "payload"
    }
}

extension OutcomeCategory {
    /// The accepted outcome of an envelope item other than an event (the store counts events, as
    /// it alone knows a duplicate), or nil for items that are not counted (client reports,
    /// deprecated metrics). Attachments count their bytes, as Sentry does; a log container
    /// counts its logs (`item_count`) and its bytes.
    package static func accepted(_ type: ItemType, itemCount: Int?, payloadBytes: Int) -> [(String, Int64)] {
        switch type {
        case .event, .clientReport: return []
        case .transaction: return [(transaction, 1)]
        case .attachment: return [(attachment, Int64(payloadBytes))]
        case .session: return [(session, 1)]
        case .checkIn: return [(monitor, 1)]
        case .feedback, .userReport: return [(feedback, 1)]
        case .log: return [(logItem, Int64(max(itemCount ?? 1, 0))), (logByte, Int64(payloadBytes))]
        case .otelLog: return [(logItem, 1), (logByte, Int64(payloadBytes))]
        case .span: return [(span, Int64(max(itemCount ?? 1, 1)))]
        case .replayEvent: return [(replay, 1)]
        case .profile: return [(profile, 1)]
        case .profileChunk: return [(profileChunk, 1)]
        case .traceMetric: return [(traceMetric, Int64(max(itemCount ?? 1, 0)))]
        case .security: return [(security, 1)]
        default: return []
        }
    }
}
