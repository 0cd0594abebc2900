package import NIOCore
package import PitModel

/// One pass over an event payload's tape that pulls out what is indexed or grouped
/// (PROTOCOL.md §4), accepting the legacy and alternative shapes SDKs send.
package enum EventExtractor {
    /// Strings Sentry limits (logentry fields 8192, tag keys/values 200).
    static let maxMessageLength = 8192

    package static func extract(_ json: JSONView) throws(IngestError) -> ExtractedEvent {
        let root = json.tape.root
        guard json.kind(root) == .object else { throw .badRequest("event payload is not a JSON object") }
        var event = ExtractedEvent()
        var messageField: Int?
        var logentry: Int?
        json.forEachMember(root) { key, value in
            guard let name = json.string(key) else { return }
            switch name {
            case "event_id":
                if let id = json.withStringUTF8(value, { EventID(hex: $0) }) {
                    event.eventID = id
                } else if !json.isNull(value) {
                    event.invalidEventID = true
                }
            case "timestamp":
                event.timestamp = timestamp(json, value)
            case "level":
                if let text = json.string(value) {
                    event.level = Level(name: text) ?? .error
                } else if let number = json.int(value) {
                    event.level = Level(number: number) ?? .error
                }
            case "platform": event.platform = json.string(value) ?? "other"
            case "logger": event.logger = nonEmpty(json.string(value))
            case "transaction": event.transaction = nonEmpty(json.string(value))
            case "server_name": event.serverName = nonEmpty(json.scalarText(value))
            case "site": event.site = nonEmpty(json.scalarText(value))
            case "release": event.release = nonEmpty(json.scalarText(value).map(\.trimmingSpaces))
            case "dist": event.dist = nonEmpty(json.scalarText(value).map(\.trimmingSpaces))
            case "environment": event.environment = nonEmpty(json.scalarText(value))
            case "culprit": event.culprit = nonEmpty(json.string(value))
            case "type": event.type = json.string(value)
            case "message": messageField = value
            case "logentry", "sentry.interfaces.Message": logentry = value
            case "exception", "sentry.interfaces.Exception":
                event.exceptions = exceptions(json, value)
            case "threads":
                event.threadFrames = threadFrames(json, value) ?? event.threadFrames
            case "stacktrace", "sentry.interfaces.Stacktrace":
                if event.threadFrames == nil { event.threadFrames = frames(json, value) }
            case "fingerprint":
                if json.kind(value) == .array {
                    var parts: [String] = []
                    json.forEachElement(value) { if let text = json.scalarText($0) { parts.append(text) } }
                    event.fingerprint = parts
                }
            case "tags": event.tags = tags(json, value)
            case "user", "sentry.interfaces.User": event.user = user(json, value)
            case "contexts":
                event.traceID = json.string(json.path(value, "trace", "trace_id"))
                event.traceSpanID = json.withStringUTF8(json.path(value, "trace", "span_id")) { SpanID(hex: $0) }
            case "sdk":
                event.sdkName = json.string(json.member(value, "name"))
                event.sdkVersion = json.string(json.member(value, "version"))
            default: break
            }
        }
        event.message = message(json, logentry: logentry, message: messageField)
        event.applyFieldLimits()
        return event
    }

    /// Parses and extracts a whole event payload: the ingest path's first step, and how stored
    /// payloads are read again (a new issue's grouping explanation, a recount after a crash).
    package static func extract(payload raw: UnsafeRawBufferPointer) throws(IngestError) -> ExtractedEvent {
        let tape: JSONTape
        do { tape = try JSONTape.parse(raw) } catch { throw .badRequest("invalid event payload: \(error)") }
        return try extract(JSONView(tape: tape, bytes: raw))
    }

    /// The same from a buffer, whose bytes the frames' strings then share (the ingest path).
    package static func extract(payload: ByteBuffer) throws(IngestError) -> ExtractedEvent {
        try payload.withUnsafeReadableBytes { (raw) throws(IngestError) -> ExtractedEvent in
            let tape: JSONTape
            do { tape = try JSONTape.parse(raw) } catch { throw .badRequest("invalid event payload: \(error)") }
            return try extract(JSONView(tape: tape, bytes: raw, source: payload))
        }
    }

    static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }

    static func nonEmpty(_ text: PayloadText?) -> PayloadText? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }

    /// Epoch seconds (number or numeric string) or RFC 3339; nil when invalid or non-finite.
    static func timestamp(_ json: JSONView, _ index: Int) -> Double? {
        switch json.kind(index) {
        case .number:
            guard let value = json.double(index), value.isFinite else { return nil }
            return value
        case .string:
            return json.withStringUTF8(index) { Timestamp.parse(utf8: $0) }
        default: return nil
        }
    }

    static func truncated(_ text: String?, _ limit: Int) -> String? {
        guard let text else { return nil }
        return FieldLimits.prefix(text, maxBytes: limit)
    }

    static func message(_ json: JSONView, logentry: Int?, message: Int?) -> MessageInfo? {
        var info = MessageInfo()
        for source in [logentry, message].compactMap({ $0 }) {
            switch json.kind(source) {
            case .string:
                // Legacy `"message": "text"`: the text is the template when nothing else is.
                if info.template == nil && info.formatted == nil { info.template = truncated(json.string(source), maxMessageLength) }
            case .object:
                if info.template == nil { info.template = truncated(json.string(json.member(source, "message")), maxMessageLength) }
                if info.formatted == nil { info.formatted = truncated(json.string(json.member(source, "formatted")), maxMessageLength) }
                if info.params.isEmpty, let params = json.member(source, "params") {
                    if json.kind(params) == .array {
                        json.forEachElement(params) {
                            info.params.append(json.scalarText($0) ?? String(decoding: json.raw($0), as: UTF8.self))
                        }
                    }
                }
            default: break
            }
        }
        if info.template == nil && info.formatted == nil { return nil }
        return info
    }

    static func exceptions(_ json: JSONView, _ index: Int) -> [ExceptionInfo] {
        // `{"values": [...]}` or a bare list; a single object is accepted as well.
        let list: Int?
        switch json.kind(index) {
        case .array: list = index
        case .object:
            if let values = json.member(index, "values") { list = values } else { return [exception(json, index)].compactMap { $0 } }
        default: list = nil
        }
        guard let list else { return [] }
        var result: [ExceptionInfo] = []
        json.forEachElement(list) { if let value = exception(json, $0) { result.append(value) } }
        return result
    }

    static func exception(_ json: JSONView, _ index: Int) -> ExceptionInfo? {
        guard json.kind(index) == .object else { return nil }
        var info = ExceptionInfo()
        info.type = nonEmpty(json.string(json.member(index, "type")))
        info.value = nonEmpty(json.scalarText(json.member(index, "value")))
        info.module = nonEmpty(json.string(json.member(index, "module")))
        if let mechanism = json.member(index, "mechanism"), json.kind(mechanism) == .object {
            info.mechanismType = json.string(json.member(mechanism, "type"))
            info.synthetic = json.bool(json.member(mechanism, "synthetic")) ?? false
            info.handled = json.bool(json.member(mechanism, "handled"))
            info.exceptionID = json.int(json.member(mechanism, "exception_id"))
            info.parentID = json.int(json.member(mechanism, "parent_id"))
            info.isExceptionGroup = json.bool(json.member(mechanism, "is_exception_group")) ?? false
        }
        if let stacktrace = json.member(index, "stacktrace") { info.frames = frames(json, stacktrace) ?? [] }
        if info.type == nil && info.value == nil && info.frames.isEmpty { return nil }
        return info
    }

    static func threadFrames(_ json: JSONView, _ index: Int) -> [FrameInfo]? {
        let list = json.kind(index) == .array ? index : json.member(index, "values")
        guard let list, json.kind(list) == .array else { return nil }
        var chosen: Int?
        var count = 0
        json.forEachElement(list) { thread in
            count += 1
            if json.bool(json.member(thread, "crashed")) == true {
                chosen = thread
            } else if chosen == nil, json.bool(json.member(thread, "current")) == true {
                chosen = thread
            }
        }
        if chosen == nil && count == 1 { chosen = json.elements(list).first }
        guard let chosen, let stacktrace = json.member(chosen, "stacktrace") else { return nil }
        return frames(json, stacktrace)
    }

    static func frames(_ json: JSONView, _ stacktrace: Int) -> [FrameInfo]? {
        guard let list = json.member(stacktrace, "frames"), json.kind(list) == .array else { return nil }
        var result: [FrameInfo] = []
        result.reserveCapacity(json.count(list))
        json.forEachElement(list) { frame in
            guard json.kind(frame) == .object else { return }
            var info = FrameInfo()
            // Member names compared as bytes: frames are most of an event's members, and a
            // String per name was a measurable share of extraction.
            json.forEachMember(frame) { key, value in
                if json.keyIs(key, "function") {
                    info.function = nonEmpty(frameText(json, value))
                } else if json.keyIs(key, "module") {
                    info.module = nonEmpty(frameText(json, value))
                } else if json.keyIs(key, "filename") {
                    info.filename = nonEmpty(frameText(json, value))
                } else if json.keyIs(key, "lineno") {
                    info.lineno = json.int(value)
                } else if json.keyIs(key, "in_app") {
                    info.inApp = json.bool(value)
                } else if json.keyIs(key, "context_line") {
                    info.contextLine = frameText(json, value)
                } else if json.keyIs(key, "abs_path") {
                    info.absPath = nonEmpty(frameText(json, value))
                } else if json.keyIs(key, "colno") {
                    info.colno = json.int(value)
                } else if json.keyIs(key, "raw_function") {
                    info.rawFunction = nonEmpty(frameText(json, value))
                } else if json.keyIs(key, "package") {
                    info.package = nonEmpty(frameText(json, value))
                } else if json.keyIs(key, "platform") {
                    info.platform = nonEmpty(json.string(value).map(FieldLimits.removingNUL))
                }
            }
            result.append(consume info)
        }
        return result
    }

    /// A frame string without NULs, which would reach titles and culprits. JSON forbids raw
    /// control characters in strings (the tape refuses them), so only an escaped `\u0000` can
    /// put one there: unescaped strings, the payload slices, need no scan.
    static func frameText(_ json: JSONView, _ index: Int) -> PayloadText? {
        guard json.kind(index) == .string else { return nil }
        guard json.tape[index].escaped, let text = json.string(index) else { return json.text(index) }
        return PayloadText(FieldLimits.removingNUL(text))
    }

    static func tags(_ json: JSONView, _ index: Int) -> [(key: String, value: String)] {
        var result: [(key: String, value: String)] = []
        result.reserveCapacity(json.count(index))
        switch json.kind(index) {
        case .object:
            json.forEachMember(index) { key, value in
                if let k = json.string(key), let v = json.scalarText(value) { result.append((k, v)) }
            }
        case .array:
            // `[[key, value], ...]`
            json.forEachElement(index) { pair in
                let parts = json.elements(pair)
                guard parts.count == 2, let k = json.scalarText(parts[0]), let v = json.scalarText(parts[1]) else { return }
                result.append((k, v))
            }
        default: break
        }
        return result
    }

    static func user(_ json: JSONView, _ index: Int) -> UserInfo? {
        guard json.kind(index) == .object else { return nil }
        var info = UserInfo()
        info.id = nonEmpty(json.scalarText(json.member(index, "id")))
        info.email = nonEmpty(json.string(json.member(index, "email")))
        info.username = nonEmpty(json.string(json.member(index, "username")))
        info.ipAddress = nonEmpty(json.string(json.member(index, "ip_address")))
        return info
    }
}
