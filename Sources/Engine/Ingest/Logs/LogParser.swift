package import NIOCore
package import PitModel
import PitStorage

/// `log` containers and `otel_log` items to `LogRecord`s (PROTOCOL.md §3), in the ingest pipeline,
/// off the writer thread.
///
/// A container whose shape is wrong (not JSON, no `items` array, a missing or wrong `item_count`,
/// another content type) is refused with the envelope (400, with the reason), as Relay refuses an
/// invalid item. One log in it that is not a log (no timestamp, no body) or is over Relay's 2 MiB
/// per log is dropped and counted, and the others are kept, as Relay drops single logs.
package enum LogParser {
    /// The container's content type (`log` items).
    package static let containerContentType = "application/vnd.sentry.items.log+json"
    /// Relay's `max_log_size`: one log, as it appears in its container.
    package static let maxLogBytes = 2 * 1024 * 1024
    /// Relay's `max_secs_in_future`: a log stamped later than this past its arrival is stamped
    /// with its arrival (a client clock ahead must not keep it past its retention).
    package static let maxFutureMilliseconds: Int64 = 60_000
    /// Longest attribute key kept; longer keys are dropped with their value.
    package static let maxAttributeKeyBytes = 256
    /// Bounds of the strings kept in their own columns.
    package static let maxSDKBytes = 64

    /// Why a single log was dropped, for the `pit_events_rejected_total` reason label.
    package enum Drop: String, Sendable, Error, Equatable {
        case invalid = "invalid_log"
        case tooLarge = "log_too_large"
    }

    /// The logs of a parsed item and those dropped from it.
    package struct Parsed: Sendable {
        package var logs: [LogRecord] = []
        package var dropped: [Drop] = []
    }

    /// A `log` container: `{"items":[{timestamp, trace_id, span_id?, level, body, severity_number?,
    /// attributes}]}` with `item_count` in its header matching the number of logs.
    package static func container(
        _ payload: ByteBuffer, itemCount: Int?, contentType: String?, projectID: Int64, received: Double, sdk: String? = nil
    ) throws(IngestError) -> Parsed {
        if let contentType, contentType.lowercased() != containerContentType {
            throw .badRequest("invalid log item: content_type must be \(containerContentType), not \(contentType)")
        }
        guard let itemCount else { throw .badRequest("invalid log item: missing item_count") }
        return try payload.withUnsafeReadableBytes { (raw) throws(IngestError) -> Parsed in
            let tape: JSONTape
            do { tape = try JSONTape.parse(raw) } catch { throw .badRequest("invalid log item: \(error)") }
            let json = JSONView(tape: tape, bytes: raw)
            let root = tape.root
            guard json.kind(root) == .object, let items = json.member(root, "items"), json.kind(items) == .array else {
                throw .badRequest("invalid log item: expected an object with an items array")
            }
            let count = json.count(items)
            guard count == itemCount else {
                throw .badRequest("invalid log item: item_count \(itemCount) does not match the \(count) logs in the container")
            }
            var parsed = Parsed()
            parsed.logs.reserveCapacity(count)
            let receivedMilliseconds = Int64(received * 1000)
            json.forEachElement(items) { index in
                do throws(Drop) {
                    guard json.source(index).count <= maxLogBytes else { throw .tooLarge }
                    parsed.logs.append(
                        try sentryLog(json, index, projectID: projectID, received: receivedMilliseconds, sdk: sdk))
                } catch {
                    parsed.dropped.append(error)
                }
            }
            return parsed
        }
    }

    /// One Sentry log of a container.
    private static func sentryLog(_ json: JSONView, _ log: Int, projectID: Int64, received: Int64, sdk: String?) throws(Drop)
        -> LogRecord
    {
        guard json.kind(log) == .object else { throw .invalid }
        guard let stamp = json.member(log, "timestamp").flatMap({ seconds(json, $0) }) else { throw .invalid }
        guard let body = json.string(json.member(log, "body")) else { throw .invalid }
        var attributes = LogAttributes()
        if let object = json.member(log, "attributes"), json.kind(object) == .object {
            json.forEachMember(object) { key, value in
                guard let name = json.string(key), json.kind(value) == .object else { return }
                attributes.add(json, name: name, value: json.member(value, "value"), type: json.string(json.member(value, "type")))
            }
        }
        var number = json.int(json.member(log, "severity_number")) ?? attributes.severityNumber
        if let value = number, LogSeverity(severityNumber: value) == nil { number = nil }
        let severity =
            json.string(json.member(log, "level")).flatMap { LogSeverity(name: $0) } ?? number.flatMap { LogSeverity(severityNumber: $0) }
            ?? attributes.severityText.flatMap { LogSeverity(name: $0) } ?? .info
        // A number outside the level's range (a level and a number that disagree) gives way to the level.
        if let value = number, LogSeverity(severityNumber: value) != severity { number = nil }
        return record(
            projectID: projectID, timestamp: stamp, received: received, severity: severity, severityNumber: number,
            traceID: hexID(json, json.member(log, "trace_id"), digits: 32), spanID: hexID(json, json.member(log, "span_id"), digits: 16),
            body: body, attributes: attributes, sdk: sdk)
    }

    /// An `otel_log` item as the pipeline takes it: one log, or none when it is over Relay's
    /// 2 MiB per log (dropped and counted, as a log in a container is; the rest of the envelope
    /// is kept).
    package static func otelItem(_ payload: ByteBuffer, projectID: Int64, received: Double, sdk: String? = nil) throws(IngestError)
        -> Parsed
    {
        var parsed = Parsed()
        if payload.readableBytes > maxLogBytes {
            parsed.dropped.append(.tooLarge)
        } else {
            parsed.logs.append(try otel(payload, projectID: projectID, received: received, sdk: sdk))
        }
        return parsed
    }

    /// An `otel_log` item: one OpenTelemetry LogRecord in OTLP's JSON encoding (`timeUnixNano`,
    /// `observedTimeUnixNano`, `severityNumber`, `severityText`, `body`, `attributes`, `traceId`,
    /// `spanId`). Not JSON, or not an object, refuses the envelope.
    package static func otel(_ payload: ByteBuffer, projectID: Int64, received: Double, sdk: String? = nil) throws(IngestError)
        -> LogRecord
    {
        try payload.withUnsafeReadableBytes { (raw) throws(IngestError) -> LogRecord in
            let tape: JSONTape
            do { tape = try JSONTape.parse(raw) } catch { throw .badRequest("invalid otel_log item: \(error)") }
            let json = JSONView(tape: tape, bytes: raw)
            let root = tape.root
            guard json.kind(root) == .object else { throw .badRequest("invalid otel_log item: expected a LogRecord object") }
            let receivedMilliseconds = Int64(received * 1000)
            let stamp =
                nanoseconds(json, json.member(root, "timeUnixNano")) ?? nanoseconds(json, json.member(root, "observedTimeUnixNano"))
                ?? receivedMilliseconds
            var attributes = LogAttributes()
            if let list = json.member(root, "attributes"), json.kind(list) == .array {
                json.forEachElement(list) { element in
                    guard let name = json.string(json.member(element, "key")) else { return }
                    attributes.addOTel(json, name: name, value: json.member(element, "value"))
                }
            }
            var number = json.int(json.member(root, "severityNumber"))
            if let value = number, LogSeverity(severityNumber: value) == nil { number = nil }
            let severity =
                number.flatMap { LogSeverity(severityNumber: $0) }
                ?? json.string(json.member(root, "severityText")).flatMap { LogSeverity(name: $0) } ?? .info
            let body = LogAttributes.otelText(json, json.member(root, "body")) ?? ""
            return record(
                projectID: projectID, timestamp: stamp, received: receivedMilliseconds, severity: severity, severityNumber: number,
                traceID: hexID(json, json.member(root, "traceId"), digits: 32),
                spanID: hexID(json, json.member(root, "spanId"), digits: 16),
                body: body, attributes: attributes, sdk: sdk)
        }
    }

    private static func record(
        projectID: Int64, timestamp: Int64, received: Int64, severity: LogSeverity, severityNumber: Int?, traceID: String?,
        spanID: String?, body: String, attributes: LogAttributes, sdk: String?
    ) -> LogRecord {
        LogRecord(
            projectID: projectID, timestamp: timestamp > received + maxFutureMilliseconds ? received : timestamp, received: received,
            severity: severity, severityNumber: severityNumber, traceID: traceID, spanID: spanID, body: FieldLimits.removingNUL(body),
            release: attributes.release.map { FieldLimits.prefix($0, maxBytes: FieldLimits.release) },
            environment: attributes.environment.map { FieldLimits.prefix($0, maxBytes: FieldLimits.environment) },
            sdk: (attributes.sdk ?? sdk).map { FieldLimits.prefix($0, maxBytes: maxSDKBytes) }, attributes: attributes.json)
    }

    /// Epoch seconds (number) or RFC 3339 as milliseconds; nil when invalid.
    private static func seconds(_ json: JSONView, _ index: Int) -> Int64? {
        let value: Double?
        switch json.kind(index) {
        case .number: value = json.double(index)
        case .string: value = json.withStringUTF8(index) { Timestamp.parse(utf8: $0) }
        default: value = nil
        }
        guard let value, value.isFinite, value > 0, value < 1e11 else { return nil }
        return Int64(value * 1000)
    }

    /// OTLP's nanoseconds (a number, or a decimal string as int64s are in OTLP JSON) as
    /// milliseconds; nil when absent, zero (OTel's "unknown") or invalid.
    private static func nanoseconds(_ json: JSONView, _ index: Int?) -> Int64? {
        guard let index else { return nil }
        let value: Double?
        switch json.kind(index) {
        case .number: value = json.double(index)
        case .string: value = json.string(index).flatMap { Double($0) }
        default: value = nil
        }
        guard let value, value.isFinite, value > 0, value < 1e20 else { return nil }
        return Int64(value / 1_000_000)
    }

    /// A hex id of `digits` digits (dashes tolerated, as in a UUID), lowercased; nil otherwise or
    /// when all zero (OTel's "no id").
    private static func hexID(_ json: JSONView, _ index: Int?, digits: Int) -> String? {
        guard let text = json.string(index) else { return nil }
        let hex = text.utf8.filter { $0 != UInt8(ascii: "-") }
        guard hex.count == digits, hex.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x66) }),
            hex.contains(where: { $0 != UInt8(ascii: "0") })
        else { return nil }
        return String(decoding: hex.map { $0 >= 0x41 && $0 <= 0x46 ? $0 | 0x20 : $0 }, as: UTF8.self)
    }
}

/// A log's attributes in Sentry's typed form, `{"key":{"value":v,"type":"t"}}`, with the types
/// `string`, `integer`, `double`, `boolean` and `array`, each value written one way only (what
/// `LogSearch` rebuilds to match an attribute filter, `LogAttributeText`). A value whose type does not fit it is
/// dropped, as Relay drops it. The attributes that only repeat the log's own fields
/// (`sentry.severity_number`, `sentry.severity_text`) are read and not kept.
package struct LogAttributes {
    private var writer = JSONWriter(capacity: 256)
    private var keys = Set<String>()
    package private(set) var release: String?
    package private(set) var environment: String?
    package private(set) var sdk: String?
    package private(set) var severityNumber: Int?
    package private(set) var severityText: String?

    package init() { writer.beginObject() }

    /// The JSON object, closed.
    package var json: String {
        var closed = writer
        closed.endObject()
        return closed.string
    }

    /// A Sentry attribute `{value, type}`; the type may be absent (then taken from the value).
    package mutating func add(_ json: JSONView, name: String, value: Int?, type: String?) {
        guard let value else { return }
        switch (type, json.kind(value)) {
        case ("string", .string), (nil, .string):
            guard let text = json.string(value) else { return }
            addString(name, text)
        case ("integer", .number):
            guard let number = json.int(value) else { return }
            add(name, type: "integer", String(number))
        case (nil, .number) where json.int(value) != nil:
            add(name, type: "integer", String(json.int(value)!))
        case ("integer", .string):
            // JavaScript sends 64-bit integers as strings.
            guard let number = json.string(value).flatMap({ Int64($0) }) else { return }
            add(name, type: "integer", String(number))
        case ("double", .number), (nil, .number):
            add(name, type: "double", json.double(value).flatMap(LogAttributeText.double))
        case ("double", .string):
            guard let text = json.string(value), let number = Double(text), number.isFinite,
                text.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D || $0 == 0x2B || $0 | 0x20 == 0x65 })
            else { return }
            add(name, type: "double", LogAttributeText.double(number))
        case ("boolean", .true), (nil, .true): add(name, type: "boolean", "true")
        case ("boolean", .false), (nil, .false): add(name, type: "boolean", "false")
        case ("array", .array), (nil, .array):
            add(name, type: "array", String(decoding: json.raw(value), as: UTF8.self))
        default:
            return
        }
    }

    /// An OTLP `AnyValue`: `stringValue`, `intValue` (a string or a number), `doubleValue`,
    /// `boolValue`, or `arrayValue`/`kvlistValue` (kept as an array of their JSON).
    package mutating func addOTel(_ json: JSONView, name: String, value: Int?) {
        guard let value, json.kind(value) == .object else { return }
        if let text = json.member(value, "stringValue") {
            add(json, name: name, value: text, type: "string")
        } else if let number = json.member(value, "intValue") {
            add(json, name: name, value: number, type: "integer")
        } else if let number = json.member(value, "doubleValue") {
            add(json, name: name, value: number, type: "double")
        } else if let flag = json.member(value, "boolValue") {
            add(json, name: name, value: flag, type: "boolean")
        } else if let array = json.member(value, "arrayValue") {
            add(name, type: "array", String(decoding: json.raw(json.member(array, "values") ?? array), as: UTF8.self))
        } else if let list = json.member(value, "kvlistValue") {
            add(name, type: "string", LogAttributeText.quoted(String(decoding: json.raw(list), as: UTF8.self)))
        }
    }

    /// An OTLP `AnyValue` as text (a log's body): the string, or a scalar's text.
    static func otelText(_ json: JSONView, _ value: Int?) -> String? {
        guard let value else { return nil }
        if json.kind(value) == .string { return json.string(value) }
        guard json.kind(value) == .object else { return nil }
        if let text = json.string(json.member(value, "stringValue")) { return text }
        for key in ["intValue", "doubleValue", "boolValue"] {
            var found: String?
            json.forEachMember(value) { name, member in
                if json.string(name) == key { found = json.scalarText(member) }
            }
            if let found { return found }
        }
        return nil
    }

    private mutating func addString(_ name: String, _ text: String) {
        switch name {
        case "sentry.release": release = FieldLimits.removingNUL(text)
        case "sentry.environment": environment = FieldLimits.removingNUL(text)
        case "sentry.sdk.name": sdk = FieldLimits.removingNUL(text)
        case "sentry.severity_text":
            severityText = text
            return
        default: break
        }
        add(name, type: "string", LogAttributeText.quoted(text))
    }

    private mutating func add(_ name: String, type: String, _ valueJSON: String?) {
        guard let valueJSON, !name.isEmpty, name.utf8.count <= LogParser.maxAttributeKeyBytes else { return }
        if name == "sentry.severity_number" {
            if type == "integer" { severityNumber = Int(valueJSON) }
            return
        }
        // The first of a repeated key wins (OTLP lists may repeat one).
        guard keys.insert(name).inserted else { return }
        writer.key(name)
        writer.raw(LogAttributeText.value(type: type, valueJSON: valueJSON))
    }
}
