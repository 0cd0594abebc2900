package import NIOCore
package import PitModel

/// Splits an envelope body into header and items without copying payloads.
///
/// Hand-written because it is the first thing every request touches: it scans each line once
/// (`readableBytesView.firstIndex(of:)`, as `NIOSplitLinesMessageDecoder` does), skips scanning
/// entirely when an item gives its `length`, and hands out `readSlice` views of the body.
package struct EnvelopeParser: Sendable {
    package var limits: IngestLimits

    package init(limits: IngestLimits = IngestLimits()) {
        self.limits = limits
    }

    package func parse(_ body: ByteBuffer) throws(IngestError) -> Envelope {
        var buffer = body
        guard buffer.readableBytes > 0 else { throw .badRequest("empty envelope") }
        guard let headerLine = try readLine(&buffer, what: "envelope header") else {
            throw .badRequest("empty envelope")
        }
        let header = try parseEnvelopeHeader(headerLine)

        var items: [EnvelopeItem] = []
        var seen = ItemCounts()
        while buffer.readableBytes > 0 {
            guard let itemHeaderLine = try readLine(&buffer, what: "item header") else { break }
            if itemHeaderLine.readableBytes == 0 && buffer.readableBytes == 0 {
                // A blank line at the very end: an extra trailing newline, tolerated.
                break
            }
            // Checked before the header is parsed, so an item past the cap costs nothing more.
            guard items.count < limits.maxItemCount else {
                throw .tooLarge("envelope has more than \(limits.maxItemCount) items")
            }
            var item = try parseItemHeader(itemHeaderLine)
            if let length = item.declaredLength {
                guard length <= buffer.readableBytes else {
                    throw .badRequest("item payload shorter than its length header (\(length) > \(buffer.readableBytes))")
                }
                item.item.payload = buffer.readSlice(length: length)!
                if let next = buffer.readableBytesView.first {
                    guard next == UInt8(ascii: "\n") else {
                        throw .badRequest("missing newline after item payload")
                    }
                    buffer.moveReaderIndex(forwardBy: 1)
                }
            } else {
                // Without `length` the payload runs to the next newline or to the end.
                item.item.payload =
                    try readLine(&buffer, what: "item payload", limit: limits.maxItemBytes(item.item.type))
                    ?? buffer.readSlice(length: 0)!
            }
            let size = item.item.payload.readableBytes
            guard size <= limits.maxItemBytes(item.item.type) else {
                throw .tooLarge("\(item.item.type) item exceeds \(limits.maxItemBytes(item.item.type)) bytes")
            }
            try seen.add(item.item, limits: limits)
            items.append(item.item)
        }
        return Envelope(header: header, items: items)
    }

    /// Reads up to the next `\n` (consumed, not returned) or to the end. Nil when nothing is left.
    private func readLine(_ buffer: inout ByteBuffer, what: StaticString, limit: Int? = nil) throws(IngestError) -> ByteBuffer? {
        guard buffer.readableBytes > 0 else { return nil }
        let cap = limit ?? limits.maxHeaderLineBytes
        let view = buffer.readableBytesView
        // Bound the scan for header lines so a hostile 2 MiB line costs at most the cap.
        let searchEnd = view.index(view.startIndex, offsetBy: min(view.count, cap + 1))
        if let newline = view[view.startIndex..<searchEnd].firstIndex(of: UInt8(ascii: "\n")) {
            let line = buffer.readSlice(length: newline - view.startIndex)!
            buffer.moveReaderIndex(forwardBy: 1)
            return line
        }
        guard view.count <= cap else {
            throw .tooLarge("\(what) exceeds \(cap) bytes")
        }
        return buffer.readSlice(length: buffer.readableBytes)!
    }

    /// The envelope header alone, from its line (the ingest path reads it before the body is in).
    package func parseHeader(_ line: ByteBuffer) throws(IngestError) -> EnvelopeHeader {
        try parseEnvelopeHeader(line)
    }

    private func parseEnvelopeHeader(_ line: ByteBuffer) throws(IngestError) -> EnvelopeHeader {
        try line.withUnsafeReadableBytes { (raw) throws(IngestError) -> EnvelopeHeader in
            let tape: JSONTape
            do { tape = try JSONTape.parse(raw) } catch { throw .badRequest("invalid envelope header: \(error)") }
            guard tape[0].kind == .object else { throw .badRequest("envelope header is not a JSON object") }
            let json = JSONView(tape: tape, bytes: raw)
            var header = EnvelopeHeader(eventID: nil, dsn: nil, sentAt: nil, raw: line)
            var sentAtCount = 0
            try json.forEachMember(0) { (key, value) throws(IngestError) in
                switch json.string(key) {
                case "event_id":
                    guard !json.isNull(value) else { return }
                    guard let id = json.withStringUTF8(value, { EventID(hex: $0) }) else {
                        throw .badRequest("invalid event_id in envelope header")
                    }
                    header.eventID = id
                case "dsn":
                    header.dsn = json.string(value)
                case "sent_at":
                    sentAtCount += 1
                    header.sentAt = json.withStringUTF8(value) { Timestamp.parse(utf8: $0) }
                default: break
                }
            }
            guard sentAtCount <= 1 else { throw .badRequest("duplicate sent_at in envelope header") }
            return header
        }
    }

    /// The item's content type; the common one is the literal (no String allocated per item).
    private static func contentType(_ json: JSONView, _ index: Int?) -> String? {
        if json.withStringUTF8(index, { $0.elementsEqual("application/json".utf8) ? true : nil }) == true { return "application/json" }
        return json.string(index)
    }

    private struct ParsedItemHeader {
        var item: EnvelopeItem
        var declaredLength: Int?
    }

    private func parseItemHeader(_ line: ByteBuffer) throws(IngestError) -> ParsedItemHeader {
        try line.withUnsafeReadableBytes { (raw) throws(IngestError) -> ParsedItemHeader in
            let tape: JSONTape
            do { tape = try JSONTape.parse(raw) } catch { throw .badRequest("invalid item header: \(error)") }
            guard tape[0].kind == .object else { throw .badRequest("item header is not a JSON object") }
            let json = JSONView(tape: tape, bytes: raw)
            guard let typeName = json.string(json.member(0, "type")) else {
                throw .badRequest("item header without a type")
            }
            var length: Int?
            if let index = json.member(0, "length"), !json.isNull(index) {
                // A u32 in Relay: negative, fractional, exponent or huge lengths are malformed.
                let text = json.kind(index) == .number ? String(decoding: json.raw(index), as: UTF8.self) : ""
                guard text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(text), value <= Int(UInt32.max) else {
                    throw .badRequest("invalid item length")
                }
                length = value
            }
            let item = EnvelopeItem(
                type: ItemType(typeName),
                payload: ByteBuffer(),
                contentType: Self.contentType(json, json.member(0, "content_type")),
                filename: json.string(json.member(0, "filename")),
                attachmentType: json.string(json.member(0, "attachment_type")),
                itemCount: json.int(json.member(0, "item_count")),
                rawHeader: line
            )
            return ParsedItemHeader(item: item, declaredLength: length)
        }
    }
}

/// The mutual-exclusion and count rules of PROTOCOL.md §3.
private struct ItemCounts {
    var events = 0
    var transactions = 0
    var feedback = 0
    var checkIns = 0
    var attachments = 0
    var attachmentBytes = 0
    var sessions = 0
    var logContainers = 0

    mutating func add(_ item: EnvelopeItem, limits: IngestLimits) throws(IngestError) {
        switch item.type {
        case .event: events += 1
        case .transaction: transactions += 1
        case .feedback: feedback += 1
        case .checkIn: checkIns += 1
        case .attachment:
            attachments += 1
            attachmentBytes += item.payload.readableBytes
        case .session, .sessions: sessions += 1
        case .log: logContainers += 1
        default: break
        }
        if events > 1 { throw .badRequest("duplicate event item") }
        if transactions > 1 { throw .badRequest("duplicate transaction item") }
        if events > 0 && transactions > 0 { throw .badRequest("event and transaction in one envelope") }
        if feedback > 1 || (feedback > 0 && transactions > 0) { throw .badRequest("invalid feedback item") }
        if checkIns > 1 { throw .badRequest("duplicate check_in item") }
        if attachments > limits.maxAttachmentCount { throw .tooLarge("too many attachments") }
        if attachmentBytes > limits.maxAttachmentsBytes { throw .tooLarge("attachments too large") }
        if sessions > limits.maxSessionItems { throw .tooLarge("too many session items") }
        if logContainers > 1 { throw .badRequest("duplicate log item: one log container per envelope") }
    }
}
