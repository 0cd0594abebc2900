import NIOCore
import PitIngest
import PitModel
import Testing

private func parse(_ body: [UInt8], limits: IngestLimits = IngestLimits()) throws(IngestError) -> Envelope {
    try EnvelopeParser(limits: limits).parse(ByteBuffer(bytes: body))
}

private func parse(_ body: String, limits: IngestLimits = IngestLimits()) throws(IngestError) -> Envelope {
    try parse(Array(body.utf8), limits: limits)
}

/// A valid envelope and the items (type, payload) it must yield.
struct ValidEnvelope: Sendable, CustomTestStringConvertible {
    let name: String
    let body: [UInt8]
    let items: [Item]

    struct Item: Sendable, Equatable {
        let type: String
        let payload: [UInt8]
    }

    init(_ name: String, _ body: String, _ items: [(String, String)]) {
        self.init(name, Array(body.utf8), items.map { ($0.0, Array($0.1.utf8)) })
    }

    init(_ name: String, _ body: [UInt8], _ items: [(String, [UInt8])]) {
        self.name = name
        self.body = body
        self.items = items.map { Item(type: $0.0, payload: $0.1) }
    }

    var testDescription: String { name }
}

/// An envelope that must be refused with `status`.
struct InvalidEnvelope: Sendable, CustomTestStringConvertible {
    let name: String
    let body: [UInt8]
    let status: Int

    init(_ name: String, _ body: String, _ status: Int = 400) {
        self.name = name
        self.body = Array(body.utf8)
        self.status = status
    }

    init(_ name: String, bytes: [UInt8], _ status: Int = 400) {
        self.name = name
        self.body = bytes
        self.status = status
    }

    var testDescription: String { name }
}

@Suite struct EnvelopeParserTests {
    static let id = "9ec79c33ec9942ab8353589fcb2e04dc"

    static let valid: [ValidEnvelope] = [
        ValidEnvelope(
            "protocol example (length, BOM, CRLF in payload, no length)",
            Array(
                "{\"event_id\":\"\(id)\",\"dsn\":\"https://key@host/42\"}\n{\"type\":\"attachment\",\"length\":10,\"filename\":\"hello.txt\"}\n"
                    .utf8)
                + [0xEF, 0xBB, 0xBF] + Array("Hello\r\n\n{\"type\":\"event\"}\n{\"message\":\"hello world\",\"level\":\"error\"}\n".utf8),
            [
                ("attachment", [0xEF, 0xBB, 0xBF] + Array("Hello\r\n".utf8)),
                ("event", Array("{\"message\":\"hello world\",\"level\":\"error\"}".utf8)),
            ]
        ),
        ValidEnvelope("with length", "{}\n{\"type\":\"event\",\"length\":7}\n{\"a\":1}\n", [("event", "{\"a\":1}")]),
        ValidEnvelope("with length, no trailing newline", "{}\n{\"type\":\"event\",\"length\":7}\n{\"a\":1}", [("event", "{\"a\":1}")]),
        ValidEnvelope("without length", "{}\n{\"type\":\"event\"}\n{\"a\":1}\n", [("event", "{\"a\":1}")]),
        ValidEnvelope("without length, no trailing newline", "{}\n{\"type\":\"event\"}\n{\"a\":1}", [("event", "{\"a\":1}")]),
        ValidEnvelope("length covering newlines", "{}\n{\"type\":\"attachment\",\"length\":5}\na\nb\nc\n", [("attachment", "a\nb\nc")]),
        ValidEnvelope("length null means no length", "{}\n{\"type\":\"event\",\"length\":null}\n{}\n", [("event", "{}")]),
        ValidEnvelope("empty payload", "{}\n{\"type\":\"attachment\",\"length\":0}\n\n", [("attachment", "")]),
        ValidEnvelope("empty payload at EOF", "{}\n{\"type\":\"attachment\",\"length\":0}\n", [("attachment", "")]),
        ValidEnvelope("empty payload, no newline", "{}\n{\"type\":\"attachment\",\"length\":0}", [("attachment", "")]),
        ValidEnvelope("item header at EOF without length", "{}\n{\"type\":\"attachment\"}", [("attachment", "")]),
        ValidEnvelope(
            "two empty payloads", "{}\n{\"type\":\"attachment\",\"length\":0}\n\n{\"type\":\"attachment\",\"length\":0}\n\n",
            [("attachment", ""), ("attachment", "")]),
        ValidEnvelope("only a header line", "{\"event_id\":\"\(id)\"}", []),
        ValidEnvelope("only a header line and newline", "{\"event_id\":\"\(id)\"}\n", []),
        ValidEnvelope("{} headers", "{}", []),
        ValidEnvelope("{} headers and newline", "{}\n", []),
        ValidEnvelope("one extra blank line at the end", "{}\n{\"type\":\"event\"}\n{}\n\n", [("event", "{}")]),
        ValidEnvelope(
            "several items without length",
            "{}\n{\"type\":\"session\"}\n{\"sid\":1}\n{\"type\":\"client_report\"}\n{\"discarded_events\":[]}\n",
            [("session", "{\"sid\":1}"), ("client_report", "{\"discarded_events\":[]}")]),
        ValidEnvelope(
            "unknown item type kept", "{}\n{\"type\":\"brand_new\",\"length\":3}\nabc\n{\"type\":\"event\"}\n{}\n",
            [("brand_new", "abc"), ("event", "{}")]),
        ValidEnvelope(
            "CRLF: \\r in header JSON is whitespace, in payload it is data",
            "{}\r\n{\"type\":\"event\"}\r\n{\"a\":1}\r\n", [("event", "{\"a\":1}\r")]),
        ValidEnvelope(
            "Python SDK shape",
            "{\"event_id\":\"\(id)\",\"sent_at\":\"2023-11-14T22:13:20.000000Z\"}\n{\"type\":\"event\",\"content_type\":\"application/json\",\"length\":2}\n{}\n",
            [("event", "{}")]),
        ValidEnvelope(
            "statsd and check_in", "{}\n{\"type\":\"statsd\",\"length\":3}\na:1\n{\"type\":\"check_in\"}\n{}\n",
            [("statsd", "a:1"), ("check_in", "{}")]),
    ]

    @Test(arguments: valid)
    func parsesValidEnvelopes(envelope: ValidEnvelope) throws {
        let parsed = try parse(envelope.body)
        let items = parsed.items.map { ValidEnvelope.Item(type: $0.type.description, payload: $0.payload.bytes) }
        #expect(items == envelope.items)
    }

    static let invalid: [InvalidEnvelope] = [
        InvalidEnvelope("empty body", ""),
        InvalidEnvelope("only a newline", "\n"),
        InvalidEnvelope("header not JSON", "not json\n"),
        InvalidEnvelope("header truncated JSON", "{\"event_id\":\n"),
        InvalidEnvelope("header a JSON array", "[]\n"),
        InvalidEnvelope("header a JSON string", "\"x\""),
        InvalidEnvelope("header invalid event_id", "{\"event_id\":\"xyz\"}\n"),
        InvalidEnvelope("header numeric event_id", "{\"event_id\":12}\n"),
        InvalidEnvelope("duplicate sent_at", "{\"sent_at\":\"2023-11-14T22:13:20Z\",\"sent_at\":\"2023-11-14T22:13:21Z\"}\n"),
        InvalidEnvelope("item header not JSON", "{}\nxyz\n"),
        InvalidEnvelope("item header a JSON array", "{}\n[\"event\"]\n{}\n"),
        InvalidEnvelope("item header without type", "{}\n{\"length\":0}\n\n"),
        InvalidEnvelope("item header with numeric type", "{}\n{\"type\":1}\n{}\n"),
        InvalidEnvelope("blank line between items", "{}\n\n\n"),
        InvalidEnvelope("length larger than the rest", "{}\n{\"type\":\"attachment\",\"length\":10}\nabc\n"),
        InvalidEnvelope("length negative", "{}\n{\"type\":\"attachment\",\"length\":-1}\nabc\n"),
        InvalidEnvelope("length fractional", "{}\n{\"type\":\"attachment\",\"length\":1.5}\nabc\n"),
        InvalidEnvelope("length with exponent", "{}\n{\"type\":\"attachment\",\"length\":1e0}\na\n"),
        InvalidEnvelope("length as a string", "{}\n{\"type\":\"attachment\",\"length\":\"3\"}\nabc\n"),
        InvalidEnvelope("length above u32", "{}\n{\"type\":\"attachment\",\"length\":4294967296}\nabc\n"),
        InvalidEnvelope("length huge", "{}\n{\"type\":\"attachment\",\"length\":99999999999999999999999}\nabc\n"),
        InvalidEnvelope("length then \\r", "{}\n{\"type\":\"attachment\",\"length\":3}\nabc\r\n"),
        InvalidEnvelope("length then more data", "{}\n{\"type\":\"attachment\",\"length\":3}\nabcd\n"),
        InvalidEnvelope("two event items", "{}\n{\"type\":\"event\"}\n{}\n{\"type\":\"event\"}\n{}\n"),
        InvalidEnvelope("event and transaction", "{}\n{\"type\":\"event\"}\n{}\n{\"type\":\"transaction\"}\n{}\n"),
        InvalidEnvelope("transaction and event", "{}\n{\"type\":\"transaction\"}\n{}\n{\"type\":\"event\"}\n{}\n"),
        InvalidEnvelope("two transactions", "{}\n{\"type\":\"transaction\"}\n{}\n{\"type\":\"transaction\"}\n{}\n"),
        InvalidEnvelope("feedback and transaction", "{}\n{\"type\":\"feedback\"}\n{}\n{\"type\":\"transaction\"}\n{}\n"),
        InvalidEnvelope("two feedback items", "{}\n{\"type\":\"feedback\"}\n{}\n{\"type\":\"feedback\"}\n{}\n"),
        InvalidEnvelope("two check_ins", "{}\n{\"type\":\"check_in\"}\n{}\n{\"type\":\"check_in\"}\n{}\n"),
        InvalidEnvelope("invalid UTF-8 in header", bytes: [0x7B, 0x22, 0xC0, 0x80, 0x22, 0x3A, 0x31, 0x7D, 0x0A]),
        InvalidEnvelope("header line over 256 KiB", "{\"x\":\"" + String(repeating: "a", count: 256 * 1024) + "\"}\n", 413),
        InvalidEnvelope("header line over 256 KiB without newline", "{\"x\":\"" + String(repeating: "a", count: 256 * 1024) + "\"}", 413),
        InvalidEnvelope(
            "item header line over 256 KiB",
            "{}\n{\"type\":\"attachment\",\"x\":\"" + String(repeating: "a", count: 256 * 1024) + "\"}\n\n", 413),
    ]

    @Test(arguments: invalid)
    func rejectsInvalidEnvelopes(envelope: InvalidEnvelope) {
        let error = #expect(throws: IngestError.self) { try parse(envelope.body) }
        #expect(error?.status == envelope.status)
    }

    @Test func headerLineOfExactlyTheLimitIsAccepted() throws {
        let limit = IngestLimits().maxHeaderLineBytes
        #expect(limit == 256 * 1024)
        let header = "{\"x\":\"" + String(repeating: "a", count: limit - 8) + "\"}"
        #expect(header.utf8.count == limit)
        #expect(try parse(header + "\n").items.isEmpty)
        #expect(try parse(header).items.isEmpty)
    }

    @Test func envelopeHeaderFields() throws {
        let envelope = try parse(
            "{\"event_id\":\"\(Self.id)\",\"dsn\":\"https://k@h/1\",\"sent_at\":\"2023-11-14T22:13:20.5Z\",\"trace\":{\"trace_id\":\"t\"},\"sdk\":{\"name\":\"s\"}}\n"
        )
        #expect(envelope.header.eventID?.hex == Self.id)
        #expect(envelope.header.dsn == "https://k@h/1")
        #expect(envelope.header.sentAt == 1_700_000_000.5)
        // The raw line is kept whole (unknown keys survive).
        #expect(envelope.header.raw.text.hasSuffix("\"sdk\":{\"name\":\"s\"}}"))
    }

    @Test(arguments: [
        "9ec79c33-ec99-42ab-8353-589fcb2e04dc", "9EC79C33EC9942AB8353589FCB2E04DC", "9EC79C33-EC99-42AB-8353-589FCB2E04DC",
        "9ec79c33ec9942ab8353589fcb2e04dc",
    ])
    func eventIDIsNormalised(text: String) throws {
        let envelope = try parse("{\"event_id\":\"\(text)\"}\n")
        #expect(envelope.header.eventID?.hex == Self.id)
    }

    @Test func nullOrMissingHeaderFields() throws {
        let envelope = try parse("{\"event_id\":null,\"sent_at\":\"not a date\"}")
        #expect(envelope.header.eventID == nil)
        #expect(envelope.header.dsn == nil)
        #expect(envelope.header.sentAt == nil)
    }

    @Test func itemHeaderFields() throws {
        let envelope = try parse(
            """
            {}
            {"type":"attachment","length":3,"filename":"a.txt","content_type":"text/plain","attachment_type":"event.minidump"}
            abc
            {"type":"log","item_count":4,"content_type":"application/vnd.sentry.items.log+json"}
            {"items":[]}
            """)
        #expect(envelope.items.count == 2)
        let attachment = envelope.items[0]
        #expect(attachment.type == .attachment)
        #expect(attachment.filename == "a.txt")
        #expect(attachment.contentType == "text/plain")
        #expect(attachment.attachmentType == "event.minidump")
        #expect(attachment.itemCount == nil)
        #expect(attachment.rawHeader.text.hasPrefix("{\"type\":\"attachment\""))
        #expect(envelope.items[1].type == .log)
        #expect(envelope.items[1].itemCount == 4)
        #expect(envelope.items[1].contentType == "application/vnd.sentry.items.log+json")
    }

    @Test func unknownTypeIsOther() throws {
        let envelope = try parse("{}\n{\"type\":\"brand_new\"}\nxyz\n")
        #expect(envelope.items.map(\.type) == [.other("brand_new")])
        #expect(envelope.items[0].type.description == "brand_new")
        #expect(!envelope.items[0].type.isJSON)
    }

    @Test func payloadsAreViewsOfTheBody() throws {
        let text = "{}\n{\"type\":\"attachment\",\"length\":5}\nhello\n{\"type\":\"event\"}\n{\"a\":1}\n"
        let body = ByteBuffer(string: text)
        let envelope = try EnvelopeParser().parse(body)
        let base = body.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) }
        let offsets = envelope.items.map { item in
            item.payload.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) - base }
        }
        let helloOffset = UInt(text.utf8.count - "hello\n{\"type\":\"event\"}\n{\"a\":1}\n".utf8.count)
        let eventOffset = UInt(text.utf8.count - "{\"a\":1}\n".utf8.count)
        #expect(offsets == [helloOffset, eventOffset])
        #expect(envelope.items.map(\.payload.text) == ["hello", "{\"a\":1}"])
        #expect(envelope.header.raw.text == "{}")
    }

    @Test func itemSizeLimits() {
        var limits = IngestLimits()
        limits.maxEventBytes = 10
        // With and without `length`, an event over the limit is a 413.
        let withLength = #expect(throws: IngestError.self) {
            try parse("{}\n{\"type\":\"event\",\"length\":11}\n{\"a\":12345}\n", limits: limits)
        }
        #expect(withLength?.status == 413)
        let withoutLength = #expect(throws: IngestError.self) {
            try parse("{}\n{\"type\":\"event\"}\n{\"a\":12345}\n", limits: limits)
        }
        #expect(withoutLength?.status == 413)
        #expect((try? parse("{}\n{\"type\":\"event\"}\n{\"a\":1234}\n", limits: limits))?.items.count == 1)
    }

    @Test func attachmentCountLimit() {
        var limits = IngestLimits()
        limits.maxAttachmentCount = 2
        let two = String(repeating: "{\"type\":\"attachment\",\"length\":1}\na\n", count: 2)
        #expect((try? parse("{}\n" + two, limits: limits))?.items.count == 2)
        let error = #expect(throws: IngestError.self) {
            try parse("{}\n" + two + "{\"type\":\"attachment\",\"length\":1}\na\n", limits: limits)
        }
        #expect(error?.status == 413)
    }

    @Test func itemCountLimit() {
        // Empty unknown items are the cheapest to send: 15 M of them fit in 200 KB of gzip.
        let tiny = "{\"type\":\"x\"}\n\n"
        let atLimit = "{}\n" + String(repeating: tiny, count: IngestLimits().maxItemCount)
        #expect((try? parse(atLimit))?.items.count == IngestLimits().maxItemCount)
        let error = #expect(throws: IngestError.self) { try parse(atLimit + tiny) }
        #expect(error?.status == 413)
        #expect(error?.detail.contains("items") == true)
    }

    @Test func attachmentBytesLimit() {
        var limits = IngestLimits()
        limits.maxAttachmentsBytes = 5
        let error = #expect(throws: IngestError.self) {
            try parse("{}\n{\"type\":\"attachment\",\"length\":3}\nabc\n{\"type\":\"attachment\",\"length\":3}\ndef\n", limits: limits)
        }
        #expect(error?.status == 413)
    }
}

@Suite struct ItemTypeTests {
    @Test(arguments: [
        "event", "transaction", "attachment", "session", "sessions", "user_report", "feedback", "client_report", "check_in",
        "log", "otel_log", "span", "replay_event", "replay_recording", "replay_video", "profile", "profile_chunk",
        "trace_metric", "statsd", "metric_buckets", "security", "raw_security", "nel", "unreal_report", "form_data",
    ])
    func namesRoundTrip(name: String) {
        let type = ItemType(name)
        #expect(type.description == name)
        #expect(type != .other(name))
    }

    /// Each distinct `item_type` label value is a Prometheus series for the life of the process;
    /// type names come from clients.
    @Test func metricLabelsAreBounded() {
        #expect(ItemType("made_up_\(UInt64.random(in: 0...UInt64.max))").metricLabel == "unknown")
        #expect(ItemType("event").metricLabel == "event")
        #expect(ItemType("replay_video").metricLabel == "replay_video")
    }

    @Test func droppedAndJSONTypes() {
        #expect(ItemType.statsd.isDropped && ItemType.metricBuckets.isDropped && !ItemType.event.isDropped)
        #expect(ItemType.event.isJSON && ItemType.checkIn.isJSON && !ItemType.attachment.isJSON && !ItemType.replayRecording.isJSON)
    }
}
