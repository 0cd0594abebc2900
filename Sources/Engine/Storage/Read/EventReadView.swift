/// What the event page and `/api/0` show of an event that ingest derived from it: the grouping's
/// type, title and culprit, the message as read, the event's own tags after normalisation. Stored
/// with the payload at ingest (`StoredEventPayload`), so reading an event never runs extraction,
/// normalisation or grouping again, and a later change to those algorithms does not change how an
/// event stored before it reads.
///
/// Compact binary, not JSON: it is in every event (the target is ≤ 1 KiB per event on disk).
/// Layout: a version byte, then `kind`, `title`,
/// `culprit`, a message flag byte (0/1) and the message, a tag count, then key/value pairs; each
/// string and count a LEB128 length (or number) followed by UTF-8 bytes.
package struct EventReadView: Sendable, Equatable {
    package var kind: String
    package var title: String
    package var culprit: String
    package var message: String?
    package var tags: [(key: String, value: String)]

    package init(kind: String, title: String, culprit: String, message: String?, tags: [(key: String, value: String)]) {
        self.kind = kind
        self.title = title
        self.culprit = culprit
        self.message = message
        self.tags = tags
    }

    package static func == (a: EventReadView, b: EventReadView) -> Bool {
        a.kind == b.kind && a.title == b.title && a.culprit == b.culprit && a.message == b.message
            && a.tags.map { [$0.key, $0.value] } == b.tags.map { [$0.key, $0.value] }
    }

    static let version: UInt8 = 1

    package func encoded() -> [UInt8] {
        Self.withEncoded(kind: kind, title: title, culprit: culprit, message: message, tags: tags[...]) { Array($0) }
    }

    /// `body` on the encoding of a view with these fields, without building one: ingest encodes
    /// straight from its grouping result and its tag array into temporary space (on the stack
    /// when it fits) and compresses it with the payload, where an array was one more malloc and
    /// free per event on the event loop. A concrete slice, not `some Collection`: a generic here
    /// is called from PitIngest unspecialised, through witness tables.
    package static func withEncoded<Result>(
        kind: String, title: String, culprit: String, message: String?, tags: ArraySlice<(key: String, value: String)>,
        _ body: (UnsafeRawBufferPointer) throws -> Result
    ) rethrows -> Result {
        // Each string's UTF-8 plus at most 10 bytes of length; the version, the flag, the count.
        var capacity = kind.utf8.count + title.utf8.count + culprit.utf8.count + (message?.utf8.count ?? 0) + 4 * 10 + 12
        for tag in tags { capacity += tag.key.utf8.count + tag.value.utf8.count + 2 * 10 }
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { out in
            var count = 0
            func byte(_ value: UInt8) {
                out[count] = value
                count += 1
            }
            func number(_ value: Int) {
                var rest = UInt(value)
                while rest >= 0x80 {
                    byte(UInt8(rest & 0x7F) | 0x80)
                    rest >>= 7
                }
                byte(UInt8(rest))
            }
            func string(_ text: String) {
                var text = text
                text.withUTF8 { utf8 in
                    number(utf8.count)
                    guard let source = utf8.baseAddress, !utf8.isEmpty else { return }
                    UnsafeMutableRawPointer(out.baseAddress! + count).copyMemory(from: source, byteCount: utf8.count)
                    count += utf8.count
                }
            }
            byte(Self.version)
            string(kind)
            string(title)
            string(culprit)
            if let message {
                byte(1)
                string(message)
            } else {
                byte(0)
            }
            number(tags.count)
            for (key, value) in tags {
                string(key)
                string(value)
            }
            return try body(UnsafeRawBufferPointer(start: out.baseAddress, count: count))
        }
    }

    /// nil for bytes this version does not read (an unknown version, a cut or corrupt blob): the
    /// caller falls back to deriving the fields from the payload.
    package init?(decoding bytes: some Collection<UInt8>) {
        let bytes = Array(bytes)
        var index = 0
        func number() -> Int? {
            var value = 0
            var shift = 0
            while index < bytes.count, shift < 63 {
                let byte = bytes[index]
                index += 1
                value |= Int(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }
        func string() -> String? {
            guard let count = number(), count >= 0, count <= bytes.count - index else { return nil }
            defer { index += count }
            return String(decoding: bytes[index..<index + count], as: UTF8.self)
        }
        guard bytes.first == Self.version else { return nil }
        index = 1
        guard let kind = string(), let title = string(), let culprit = string(), index < bytes.count else { return nil }
        let hasMessage = bytes[index]
        index += 1
        var message: String?
        if hasMessage == 1 {
            guard let text = string() else { return nil }
            message = text
        }
        guard let count = number(), count >= 0, count <= bytes.count else { return nil }
        var tags: [(key: String, value: String)] = []
        tags.reserveCapacity(count)
        for _ in 0..<count {
            guard let key = string(), let value = string() else { return nil }
            tags.append((key, value))
        }
        guard index == bytes.count else { return nil }
        self.init(kind: kind, title: title, culprit: culprit, message: message, tags: tags)
    }
}

/// An event's stored payload: one zstd frame holding the event's JSON (`payload_size` bytes) and
/// then its encoded read view. Inside the payload's frame, the view's strings (all of them taken
/// from the payload) cost a few bytes of back-references; in a column of their own they cost ~200
/// bytes per event and slowed the writer by 5 % (issue 11's before/after, results/). Events stored
/// while the view had that column (`events.read_view`, migration 8) keep it there; older ones have
/// none and are read the old way.
package enum StoredEventPayload {
    /// Cuts the read view off the end of a decompressed payload, leaving the event's JSON, and
    /// decodes it. nil when the payload has no view after it, or one this version cannot read.
    package static func splitReadView(_ decompressed: inout [UInt8], payloadSize: Int) -> EventReadView? {
        guard payloadSize >= 0, decompressed.count > payloadSize else { return nil }
        let view = EventReadView(decoding: decompressed[payloadSize...])
        decompressed.removeSubrange(payloadSize...)
        return view
    }
}
