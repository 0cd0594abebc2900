package import NIOCore
package import PitModel
import PitStorage

/// `transaction` items and `span` items (span v2 containers, or one legacy span) to lean
/// records (PROTOCOL.md §3), on the ingest path with the JSON tape, as events are extracted.
///
/// A transaction without the trace context Sentry needs to place it (a valid `trace_id` and
/// `span_id`, both timestamps) is dropped and counted as invalid, and the rest of its envelope is
/// kept, as Relay drops an invalid transaction. A span v2 container whose shape is wrong (no
/// `items` array, a wrong `item_count`) refuses the envelope, as a log container does.
package enum TransactionExtractor {
    /// Relay's limit on the spans of one transaction; spans past it are not kept.
    package static let maxSpans = 1000
    /// The span v2 container's content type.
    package static let spanContainerContentType = "application/vnd.sentry.items.span.v2+json"
    /// Bounds of the short strings kept in their own columns.
    package static let maxOpBytes = 128
    package static let maxStatusBytes = 32
    /// Largest `measurements` object kept, as JSON.
    package static let maxMeasurementsBytes = 8192
    /// Relay's bounds on a timestamp: later than this past arrival, or older than this, the
    /// transaction is moved to end at its arrival (its duration kept).
    static let maxFutureMicroseconds: Int64 = 60_000_000
    static let maxAgeMicroseconds: Int64 = 30 * 86_400_000_000

    package enum Drop: String, Error, Sendable, Equatable {
        case invalid = "invalid_transaction"
        case invalidSpan = "invalid_span"
    }

    /// The trace's sample rate from the envelope header's dynamic sampling context
    /// (`trace.sample_rate`, a string in the SDKs' baggage form or a number); nil when absent or
    /// outside (0, 1].
    package static func sampleRate(_ header: EnvelopeHeader) -> Double? {
        header.raw.withUnsafeReadableBytes { raw -> Double? in
            guard let tape = try? JSONTape.parse(raw) else { return nil }
            let json = JSONView(tape: tape, bytes: raw)
            guard let value = json.path(tape.root, "trace", "sample_rate") else { return nil }
            let rate: Double? =
                switch json.kind(value) {
                case .number: json.double(value)
                case .string: json.string(value).flatMap { Double($0) }
                default: nil
                }
            guard let rate, rate.isFinite, rate > 0, rate <= 1 else { return nil }
            return rate
        }
    }

    /// A `transaction` item. Not JSON, or not an object, refuses the envelope (as an event does);
    /// a transaction Sentry could not place is dropped (`Drop.invalid`).
    package static func transaction(
        _ payload: ByteBuffer, headerEventID: EventID?, projectID: Int64, received: Double, sampleRate: Double?
    ) throws(IngestError) -> Result<TransactionRecord, Drop> {
        try payload.withUnsafeReadableBytes { (raw) throws(IngestError) -> Result<TransactionRecord, Drop> in
            let tape: JSONTape
            do { tape = try JSONTape.parse(raw) } catch { throw .badRequest("invalid transaction item: \(error)") }
            let json = JSONView(tape: tape, bytes: raw)
            let root = tape.root
            guard json.kind(root) == .object else { throw .badRequest("invalid transaction item: expected an object") }
            let trace = json.path(root, "contexts", "trace")
            guard let traceID = json.withStringUTF8(json.member(trace, "trace_id"), { TraceID(hex: $0) }),
                let spanID = spanID(json, json.member(trace, "span_id")),
                var start = microseconds(json, json.member(root, "start_timestamp")),
                var end = microseconds(json, json.member(root, "timestamp")), end >= start
            else { return .failure(.invalid) }
            let receivedMicroseconds = Int64(received * 1_000_000)
            let shift = shiftIntoRange(end: end, received: receivedMicroseconds)
            start += shift
            end += shift
            let eventID = headerEventID ?? json.withStringUTF8(json.member(root, "event_id"), { EventID(hex: $0) }) ?? EventID.random()
            var record = TransactionRecord(
                projectID: projectID, eventID: eventID, traceID: traceID, spanID: spanID,
                parentSpanID: self.spanID(json, json.member(trace, "parent_span_id")),
                name: bounded(json.string(json.member(root, "transaction")), FieldLimits.transaction) ?? "<unlabeled transaction>",
                op: bounded(json.string(json.member(trace, "op")), maxOpBytes) ?? "default",
                status: bounded(json.string(json.member(trace, "status")), maxStatusBytes) ?? "unknown",
                start: start, duration: end - start,
                release: bounded(json.string(json.member(root, "release")), FieldLimits.release),
                environment: bounded(json.string(json.member(root, "environment")), FieldLimits.environment) ?? "production",
                platform: bounded(json.string(json.member(root, "platform")), FieldLimits.platform), sampleRate: sampleRate,
                measurements: measurements(json, json.member(root, "measurements")), received: Int64(received * 1000))
            if let spans = json.member(root, "spans"), json.kind(spans) == .array {
                json.forEachElement(spans) { element in
                    guard record.spans.count < maxSpans,
                        let span = legacySpan(json, element, projectID: projectID, traceID: traceID, segmentID: spanID, shift: shift)
                    else { return }
                    record.spans.append(span)
                }
            }
            record.payloadSize = payload.readableBytes
            record.compressedPayload = PayloadCodec.compress(payload)
            return .success(record)
        }
    }

    /// What a `span` item holds: the segments (as transactions) and the other spans; the spans
    /// dropped as invalid are counted.
    package struct Spans: Sendable {
        package var segments: [TransactionRecord] = []
        package var spans: [SpanRecord] = []
        package var dropped = 0
    }

    /// A `span` item: a span v2 container (`{"version": 2, "items": [...]}`), or one span in the
    /// transaction's span shape (the legacy standalone span).
    package static func spanItem(
        _ payload: ByteBuffer, itemCount: Int?, contentType: String?, projectID: Int64, received: Double, sampleRate: Double?
    ) throws(IngestError) -> Spans {
        try payload.withUnsafeReadableBytes { (raw) throws(IngestError) -> Spans in
            let tape: JSONTape
            do { tape = try JSONTape.parse(raw) } catch { throw .badRequest("invalid span item: \(error)") }
            let json = JSONView(tape: tape, bytes: raw)
            let root = tape.root
            guard json.kind(root) == .object else { throw .badRequest("invalid span item: expected an object") }
            var result = Spans()
            let receivedMicroseconds = Int64(received * 1_000_000)
            guard let items = json.member(root, "items") else {
                if contentType?.lowercased() == spanContainerContentType {
                    throw .badRequest("invalid span item: expected an object with an items array")
                }
                let traceID = json.withStringUTF8(json.member(root, "trace_id"), { TraceID(hex: $0) })
                if let traceID, let span = legacySpan(json, root, projectID: projectID, traceID: traceID, segmentID: nil, shift: 0) {
                    result.spans.append(span)
                } else {
                    result.dropped += 1
                }
                return result
            }
            guard json.kind(items) == .array else { throw .badRequest("invalid span item: items must be an array") }
            let count = json.count(items)
            if let itemCount, itemCount != count {
                throw .badRequest("invalid span item: item_count \(itemCount) does not match the \(count) spans in the container")
            }
            json.forEachElement(items) { element in
                do throws(Drop) {
                    try addSpanV2(
                        json, element, projectID: projectID, received: receivedMicroseconds, sampleRate: sampleRate, into: &result)
                } catch {
                    result.dropped += 1
                }
            }
            return result
        }
    }

    /// One span of a v2 container: `trace_id`, `span_id`, `parent_span_id`, `name`, `status`,
    /// `is_segment`, `start_timestamp`, `end_timestamp`, and typed `attributes` (`sentry.op`,
    /// `sentry.release`, `sentry.environment`, `sentry.segment.name`, `sentry.segment.id`,
    /// `sentry.description`, `sentry.platform`).
    private static func addSpanV2(
        _ json: JSONView, _ span: Int, projectID: Int64, received: Int64, sampleRate: Double?, into result: inout Spans
    ) throws(Drop) {
        guard json.kind(span) == .object,
            let traceID = json.withStringUTF8(json.member(span, "trace_id"), { TraceID(hex: $0) }),
            let spanID = spanID(json, json.member(span, "span_id")),
            var start = microseconds(json, json.member(span, "start_timestamp")),
            var end = microseconds(json, json.member(span, "end_timestamp")), end >= start
        else { throw .invalidSpan }
        let attributes = json.member(span, "attributes")
        func attribute(_ key: StaticString) -> String? {
            guard let attributes, json.kind(attributes) == .object else { return nil }
            var found: String?
            key.withUTF8Buffer { wanted in
                json.forEachMember(attributes) { name, value in
                    guard found == nil, json.withStringUTF8(name, { $0.elementsEqual(wanted) ? true : nil }) == true else { return }
                    found = json.kind(value) == .object ? json.string(json.member(value, "value")) : json.string(value)
                }
            }
            return found
        }
        let shift = shiftIntoRange(end: end, received: received)
        start += shift
        end += shift
        let name = json.string(json.member(span, "name")) ?? ""
        let op = bounded(attribute("sentry.op"), maxOpBytes) ?? "default"
        let status = bounded(json.string(json.member(span, "status")), maxStatusBytes) ?? "ok"
        let parent = self.spanID(json, json.member(span, "parent_span_id"))
        if let flag = json.member(span, "is_segment"), json.kind(flag) == .true {
            // A segment has no event id of its own: one made of its span and trace ids stays the
            // same when the SDK resends it, so the copy is found as a duplicate.
            let eventID = EventID(high: spanID.value, low: traceID.low)
            result.segments.append(
                TransactionRecord(
                    projectID: projectID, eventID: eventID, traceID: traceID, spanID: spanID, parentSpanID: parent,
                    name: bounded(attribute("sentry.segment.name") ?? name, FieldLimits.transaction) ?? "<unlabeled transaction>",
                    op: op, status: status, start: start, duration: end - start,
                    release: bounded(attribute("sentry.release"), FieldLimits.release),
                    environment: bounded(attribute("sentry.environment"), FieldLimits.environment) ?? "production",
                    platform: bounded(attribute("sentry.platform"), FieldLimits.platform), sampleRate: sampleRate,
                    received: received / 1000))
        } else {
            let segmentID = attribute("sentry.segment.id").flatMap { SpanID($0) }
            result.spans.append(
                SpanRecord(
                    projectID: projectID, traceID: traceID, spanID: spanID, parentSpanID: parent, segmentID: segmentID, op: op,
                    description: SpanDescription.normalize(op: op, description: attribute("sentry.description") ?? name),
                    status: status, start: start, duration: end - start))
        }
    }

    /// A span in the transaction's `spans` shape: `span_id`, `parent_span_id`, `trace_id`, `op`,
    /// `description`, `status`, `start_timestamp`, `timestamp`. Nil when it cannot be placed.
    private static func legacySpan(
        _ json: JSONView, _ span: Int, projectID: Int64, traceID: TraceID, segmentID: SpanID?, shift: Int64
    ) -> SpanRecord? {
        guard json.kind(span) == .object, let spanID = spanID(json, json.member(span, "span_id")),
            let start = microseconds(json, json.member(span, "start_timestamp")),
            let end = microseconds(json, json.member(span, "timestamp"))
        else { return nil }
        let op = bounded(json.string(json.member(span, "op")), maxOpBytes) ?? "default"
        return SpanRecord(
            projectID: projectID, traceID: traceID, spanID: spanID, parentSpanID: self.spanID(json, json.member(span, "parent_span_id")),
            segmentID: segmentID, op: op,
            description: SpanDescription.normalize(op: op, description: json.string(json.member(span, "description")) ?? ""),
            status: bounded(json.string(json.member(span, "status")), maxStatusBytes) ?? "ok", start: start + shift,
            duration: max(0, end - start))
    }

    /// How far a transaction ending at `end` must move to end no later than a minute after its
    /// arrival, and no earlier than 30 days before it (Relay's `future_timestamp` and
    /// `past_timestamp`); 0 when it is in range.
    private static func shiftIntoRange(end: Int64, received: Int64) -> Int64 {
        if end > received + maxFutureMicroseconds || end < received - maxAgeMicroseconds { return received - end }
        return 0
    }

    private static func spanID(_ json: JSONView, _ index: Int?) -> SpanID? {
        json.withStringUTF8(index) { SpanID(hex: $0) }
    }

    /// Epoch seconds (a number) or RFC 3339, as microseconds; nil when absent or invalid.
    static func microseconds(_ json: JSONView, _ index: Int?) -> Int64? {
        guard let index else { return nil }
        let value: Double?
        switch json.kind(index) {
        case .number: value = json.double(index)
        case .string: value = json.withStringUTF8(index) { Timestamp.parse(utf8: $0) }
        default: value = nil
        }
        guard let value, value.isFinite, value > 0, value < 1e11 else { return nil }
        return Int64((value * 1_000_000).rounded())
    }

    private static func bounded(_ text: String?, _ maxBytes: Int) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return FieldLimits.prefix(FieldLimits.removingNUL(text), maxBytes: maxBytes)
    }

    /// The `measurements` object as sent (Relay's schema: `{name: {value, unit?}}`), when it is one
    /// and not over `maxMeasurementsBytes`.
    private static func measurements(_ json: JSONView, _ index: Int?) -> String? {
        guard let index, json.kind(index) == .object, json.count(index) > 0 else { return nil }
        let raw = json.raw(index)
        guard raw.count <= maxMeasurementsBytes else { return nil }
        return String(decoding: raw, as: UTF8.self)
    }
}
