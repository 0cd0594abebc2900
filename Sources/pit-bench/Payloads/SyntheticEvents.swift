package import PitModel

/// Realistic Sentry traffic for pit-bench and the microbenchmarks: Python-like error envelopes of
/// about 2.9 KiB on average (an exception with 8-16 frames, tags, breadcrumbs, contexts, user), and the other
/// item types SDKs send, in the proportions a typical backend produces them.
package struct SyntheticEvents: Sendable {
    package var fingerprints: Int
    package var users: Int
    package var releases: Int

    package init(fingerprints: Int = 100, users: Int = 1000, releases: Int = 5) {
        self.fingerprints = max(1, fingerprints)
        self.users = max(1, users)
        self.releases = max(1, releases)
    }

    private static let modules = [
        "app.views.checkout", "app.services.billing", "app.models.order", "app.tasks.email", "app.api.handlers",
        "app.db.session", "app.cache.redis", "app.auth.tokens",
    ]
    private static let functions = [
        "handle_request", "process_payment", "load_order", "send_receipt", "dispatch", "execute", "get_or_create",
        "validate_token", "serialize", "apply_discount",
    ]
    private static let errorTypes = [
        "ValueError", "KeyError", "TypeError", "ZeroDivisionError", "ConnectionError", "TimeoutError", "IntegrityError",
        "PermissionError",
    ]

    /// The error event payload (JSON) for sequence number `index`.
    package func eventPayload(index: Int, eventID: EventID, timestamp: Double) -> [UInt8] {
        let issue = index % fingerprints
        var w = JSONWriter(capacity: 3200)
        w.beginObject()
        w.field("event_id", eventID.hex)
        w.key("timestamp")
        w.value(timestamp)
        w.field("platform", "python")
        w.field("level", "error")
        w.field("logger", "app.\(Self.modules[issue % Self.modules.count].split(separator: ".").last ?? "main")")
        w.field("server_name", "web-\(index % 8)")
        w.field("release", "app@1.\(index % releases).0")
        w.field("environment", index % 10 == 0 ? "staging" : "production")
        w.field("transaction", "/orders/\(Self.functions[issue % Self.functions.count])")
        w.key("sdk")
        w.beginObject()
        w.field("name", "sentry.python")
        w.field("version", "2.68.0")
        w.endObject()
        w.key("exception")
        w.beginObject()
        w.key("values")
        w.beginArray()
        w.beginObject()
        w.field("type", Self.errorTypes[issue % Self.errorTypes.count])
        w.field("value", "invalid literal for order \(index) in fingerprint group \(issue)")
        w.key("mechanism")
        w.beginObject()
        w.field("type", "logging")
        w.field("handled", true)
        w.endObject()
        w.key("stacktrace")
        w.beginObject()
        w.key("frames")
        w.beginArray()
        let frameCount = 8 + issue % 9
        for f in 0..<frameCount {
            let module = Self.modules[(issue + f) % Self.modules.count]
            let function = Self.functions[(issue * 7 + f) % Self.functions.count]
            let inApp = f >= frameCount / 2
            w.beginObject()
            w.field("filename", module.replacingDots + ".py")
            w.field("function", issue >= Self.functions.count ? "\(function)_\(issue)" : function)
            w.field("module", module)
            w.field("lineno", 10 + (issue * 13 + f * 7) % 400)
            w.field("context_line", "    return \(function)(order)")
            w.field("in_app", inApp)
            w.endObject()
        }
        w.endArray()
        w.endObject()
        w.endObject()
        w.endArray()
        w.endObject()
        w.key("tags")
        w.beginObject()
        w.field("browser", index % 3 == 0 ? "Chrome 131" : "Firefox 133")
        w.field("customer_tier", index % 5 == 0 ? "enterprise" : "free")
        w.field("region", ["eu-west-1", "us-east-1", "ap-south-1"][index % 3])
        w.field("endpoint", "orders")
        w.endObject()
        w.key("user")
        w.beginObject()
        let user = index % users
        w.field("id", "user-\(user)")
        w.field("email", "user\(user)@example.com")
        w.endObject()
        w.key("contexts")
        w.beginObject()
        w.key("os")
        w.beginObject()
        w.field("name", "Linux")
        w.field("version", "6.1.0")
        w.endObject()
        w.key("runtime")
        w.beginObject()
        w.field("name", "CPython")
        w.field("version", "3.12.4")
        w.endObject()
        w.key("trace")
        w.beginObject()
        w.field("trace_id", EventID(high: UInt64(index) &* 0x9E37_79B9_7F4A_7C15, low: UInt64(index)).hex)
        w.field("span_id", String(EventID(high: 0, low: UInt64(index) &* 31).hex.suffix(16)))
        w.field("op", "http.server")
        w.endObject()
        w.endObject()
        w.key("breadcrumbs")
        w.beginObject()
        w.key("values")
        w.beginArray()
        for b in 0..<1 {
            w.beginObject()
            w.key("timestamp")
            w.value(timestamp - 1 - Double(b))
            w.field("type", b % 2 == 0 ? "http" : "default")
            w.field("category", b % 2 == 0 ? "httplib" : "query")
            w.field("message", b % 2 == 0 ? "GET https://api.internal/v1/orders/\(index)" : "SELECT * FROM orders WHERE id = %s")
            w.field("level", "info")
            w.endObject()
        }
        w.endArray()
        w.endObject()
        w.endObject()
        return w.bytes
    }

    /// A complete envelope carrying one error event.
    package func errorEnvelope(index: Int, eventID: EventID, timestamp: Double) -> [UInt8] {
        let payload = eventPayload(index: index, eventID: eventID, timestamp: timestamp)
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + 200)
        out += Array(
            "{\"event_id\":\"\(eventID.hex)\",\"sent_at\":\"\(Timestamp.format(timestamp))\",\"sdk\":{\"name\":\"sentry.python\",\"version\":\"2.68.0\"}}\n"
                .utf8)
        out += Array("{\"type\":\"event\",\"content_type\":\"application/json\",\"length\":\(payload.count)}\n".utf8)
        out += payload
        out.append(UInt8(ascii: "\n"))
        return out
    }

    package enum Kind: String, Sendable, CaseIterable {
        case error, transaction, session
        case checkIn = "check_in"
        case log
        /// A span v2 container (span streaming): a segment and its child spans.
        case span
    }

    /// Spans of request `index`'s transaction or container: 10 to 50, as a traced backend's
    /// requests carry (a query or two per model, an HTTP call, template rendering).
    static func spanCount(index: Int) -> Int { 10 + index % 41 }

    /// Unix seconds with exactly six decimals (`1796271067.892005`): a fixed width lets pit-bench
    /// move a template's times to the send time in place (`RequestSource`).
    package static func seconds(_ value: Double) -> String {
        let micros = Int64((value * 1_000_000).rounded())
        let fraction = String(micros % 1_000_000)
        return "\(micros / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }

    /// A span id that differs per position in its trace; the trace id (the request's event id,
    /// patched per request) keeps spans of different requests apart.
    static func spanID(_ position: Int) -> String {
        let hex = String(position + 1, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The ops and descriptions spans cycle through, the SQL with literals as an ORM sends them.
    static let spanShapes: [(op: String, description: String)] = [
        ("db", "SELECT id, total FROM orders WHERE customer_id = 42 LIMIT 20"),
        ("db", "SELECT * FROM order_lines WHERE order_id IN (1, 2, 3)"),
        ("http.client", "GET https://payments.internal/charges/9f86d081884c7d65"),
        ("cache.get", "orders:customer:42"),
        ("template.render", "orders/list.html"),
    ]

    /// An envelope of `kind`; error envelopes carry the event id that the server answers with.
    package func envelope(kind: Kind, index: Int, eventID: EventID, timestamp: Double) -> [UInt8] {
        let sentAt = Timestamp.format(timestamp)
        func wrap(_ header: String, _ type: String, _ payload: [UInt8], contentType: String = "application/json", extra: String = "")
            -> [UInt8]
        {
            var out = Array(
                "\(header)\n{\"type\":\"\(type)\",\"content_type\":\"\(contentType)\",\"length\":\(payload.count)\(extra)}\n".utf8)
            out += payload
            out.append(UInt8(ascii: "\n"))
            return out
        }
        switch kind {
        case .error:
            return errorEnvelope(index: index, eventID: eventID, timestamp: timestamp)
        case .transaction:
            let root = Self.spanID(0)
            let duration = 0.05 + Double(index % 20) * 0.03
            let count = Self.spanCount(index: index)
            let spans = (1...count).map { position -> String in
                let shape = Self.spanShapes[position % Self.spanShapes.count]
                let start = timestamp - duration + duration * Double(position - 1) / Double(count)
                return """
                    {"span_id":"\(Self.spanID(position))","parent_span_id":"\(root)","trace_id":"\(eventID.hex)","op":"\(shape.op)","description":"\(shape.description)","start_timestamp":\(Self.seconds(start)),"timestamp":\(Self.seconds(start + duration / Double(count))),"status":"ok"}
                    """
            }
            let payload = Array(
                """
                {"type":"transaction","event_id":"\(eventID.hex)","transaction":"/api/orders/{id}","start_timestamp":\(Self.seconds(timestamp - duration)),"timestamp":\(Self.seconds(timestamp)),"platform":"python","release":"app@1.\(index % releases).0","environment":"production","contexts":{"trace":{"trace_id":"\(eventID.hex)","span_id":"\(root)","op":"http.server","status":"\(index % 25 == 0 ? "internal_error" : "ok")"}},"spans":[\(spans.joined(separator: ","))]}
                """.utf8)
            return wrap(
                "{\"event_id\":\"\(eventID.hex)\",\"sent_at\":\"\(sentAt)\",\"trace\":{\"trace_id\":\"\(eventID.hex)\",\"sample_rate\":\"1.0\"}}",
                "transaction", payload)
        case .span:
            let root = Self.spanID(0)
            let duration = 0.02 + Double(index % 10) * 0.01
            let count = Self.spanCount(index: index)
            func attributes(_ op: String) -> String {
                """
                {"sentry.op":{"type":"string","value":"\(op)"},"sentry.release":{"type":"string","value":"app@1.\(index % releases).0"},"sentry.environment":{"type":"string","value":"production"},"sentry.segment.id":{"type":"string","value":"\(root)"},"sentry.segment.name":{"type":"string","value":"GET /api/stock"}}
                """
            }
            var items = [
                """
                {"trace_id":"\(eventID.hex)","span_id":"\(root)","name":"GET /api/stock","status":"ok","is_segment":true,"kind":"server","start_timestamp":\(Self.seconds(timestamp - duration)),"end_timestamp":\(Self.seconds(timestamp)),"attributes":\(attributes("http.server"))}
                """
            ]
            for position in 1..<count {
                let shape = Self.spanShapes[position % Self.spanShapes.count]
                let start = timestamp - duration + duration * Double(position - 1) / Double(count)
                items.append(
                    """
                    {"trace_id":"\(eventID.hex)","span_id":"\(Self.spanID(position))","parent_span_id":"\(root)","name":"\(shape.description)","status":"ok","is_segment":false,"kind":"client","start_timestamp":\(Self.seconds(start)),"end_timestamp":\(Self.seconds(start + duration / Double(count))),"attributes":\(attributes(shape.op))}
                    """)
            }
            let payload = Array(#"{"version":2,"items":["#.utf8) + Array(items.joined(separator: ",").utf8) + Array("]}".utf8)
            return wrap(
                "{\"sent_at\":\"\(sentAt)\",\"trace\":{\"trace_id\":\"\(eventID.hex)\",\"sample_rate\":\"1.0\"}}", "span", payload,
                contentType: "application/vnd.sentry.items.span.v2+json", extra: ",\"item_count\":\(count)")
        case .session:
            let payload = Array(
                """
                {"sid":"\(eventID.hex)","did":"user-\(index % users)","init":true,"started":"\(sentAt)","timestamp":"\(sentAt)","status":"\(index % 50 == 0 ? "crashed" : "exited")","errors":\(index % 50 == 0 ? 1 : 0),"duration":12.5,"attrs":{"release":"app@1.\(index % releases).0","environment":"production"}}
                """.utf8)
            return wrap("{\"sent_at\":\"\(sentAt)\"}", "session", payload)
        case .checkIn:
            let payload = Array(
                """
                {"check_in_id":"\(eventID.hex)","monitor_slug":"nightly-\(index % 10)","status":"ok","duration":3.2,"environment":"production"}
                """.utf8)
            return wrap("{\"sent_at\":\"\(sentAt)\"}", "check_in", payload)
        case .log:
            let payload = Array(
                """
                {"version":2,"items":[{"timestamp":\(Self.seconds(timestamp)),"trace_id":"\(eventID.hex)","level":"info","body":"user logged in","attributes":{"user.id":{"value":"user-\(index % users)","type":"string"}}},{"timestamp":\(Self.seconds(timestamp)),"trace_id":"\(eventID.hex)","level":"warn","body":"slow query","attributes":{"db.duration_ms":{"value":812,"type":"integer"}}}]}
                """.utf8)
            return wrap(
                "{\"sent_at\":\"\(sentAt)\"}", "log", payload, contentType: "application/vnd.sentry.items.log+json",
                extra: ",\"item_count\":2")
        }
    }
}

extension String {
    fileprivate var replacingDots: String { String(map { $0 == "." ? "/" : $0 }) }
}
