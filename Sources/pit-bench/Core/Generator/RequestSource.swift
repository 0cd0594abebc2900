import Foundation
package import NIOCore
package import PitModel
package import PitPayloads

/// Produces request bodies with unique event ids cheaply: envelopes are generated once as
/// templates, and each request copies a template and overwrites the 32 hex characters of the
/// event id where they occur. Generating 2.9 KiB of JSON per request would cost the load
/// generator more CPU than the server spends parsing it.
package final class RequestSource: @unchecked Sendable {
    package struct Template {
        var bytes: [UInt8]
        /// Offsets of every occurrence of the placeholder event id.
        var idOffsets: [Int]
        var kind: SyntheticEvents.Kind
    }

    package enum Mode: Sendable {
        case errors
        /// Kinds of request in the proportions of a `TrafficMix` (`--mix`).
        case mix(TrafficMix)
        /// A user's own envelope, sent as is (`--payload FILE`); its event id is replaced when present.
        case file([UInt8])
    }

    private let templates: [Template]
    package let gzip: Bool

    /// `@unchecked Sendable`: immutable after init; `next` only reads.
    package init(mode: Mode, generator: SyntheticEvents, templateCount: Int = 512, gzip: Bool) {
        self.gzip = gzip
        let placeholder = EventID(high: 0xFEED_FACE_CAFE_BEEF, low: 0x0123_4567_89AB_CDEF)
        let now = Date().timeIntervalSince1970
        var templates: [Template] = []
        switch mode {
        case .file(let bytes):
            // Find the envelope's event id, if any, so each request gets a fresh one.
            let text = String(decoding: bytes.prefix(4096), as: UTF8.self)
            var offsets: [Int] = []
            if let range = text.range(of: #""event_id":""#) {
                let start = text.utf8.distance(from: text.utf8.startIndex, to: range.upperBound)
                if let id = EventID(hex: bytes[start..<min(bytes.count, start + 32)]) {
                    offsets = Self.occurrences(of: Array(id.hex.utf8), in: bytes)
                }
            }
            templates.append(Template(bytes: bytes, idOffsets: offsets, kind: .error))
        case .errors, .mix:
            let kinds: [SyntheticEvents.Kind] = if case .mix(let mix) = mode { mix.cycle() } else { [.error] }
            // Whole cycles of the mix, so that `next`'s round over the templates keeps its shares.
            let count = (templateCount + kinds.count - 1) / kinds.count * kinds.count
            for index in 0..<count {
                let kind = kinds[index % kinds.count]
                let bytes = generator.envelope(kind: kind, index: index, eventID: placeholder, timestamp: now)
                templates.append(
                    Template(bytes: bytes, idOffsets: Self.occurrences(of: Array(placeholder.hex.utf8), in: bytes), kind: kind))
            }
        }
        self.templates = templates
    }

    package var averageBodyBytes: Int {
        templates.reduce(0) { $0 + $1.bytes.count } / max(1, templates.count)
    }

    static func occurrences(of needle: [UInt8], in haystack: [UInt8]) -> [Int] {
        guard needle.count <= haystack.count else { return [] }
        var result: [Int] = []
        var i = 0
        while i <= haystack.count - needle.count {
            if haystack[i] == needle[0] && Array(haystack[i..<i + needle.count]) == needle {
                result.append(i)
                i += needle.count
            } else {
                i += 1
            }
        }
        return result
    }

    /// The body for request `index`, its event id, and whether it is an error event. The template
    /// is written straight into the request's buffer and the id patched there: copying it into an
    /// array first, and drawing each id from the kernel (`getrandom`), cost the generator CPU the
    /// server it shares the machine with needs (perf: 2 % of pit-bench in `getrandom` alone).
    package func next(
        index: Int, allocator: ByteBufferAllocator, random: inout some RandomNumberGenerator
    ) -> (body: ByteBuffer, eventID: EventID, isError: Bool) {
        let template = templates[index % templates.count]
        let id = EventID.random(using: &random)
        if gzip {
            var bytes = template.bytes
            id.withHexUTF8 { hex in
                for offset in template.idOffsets { bytes.replaceSubrange(offset..<offset + 32, with: hex) }
            }
            bytes = Gzip.compress(bytes)
            var buffer = allocator.buffer(capacity: bytes.count)
            buffer.writeBytes(bytes)
            return (buffer, id, template.kind == .error && !template.idOffsets.isEmpty)
        }
        var buffer = allocator.buffer(capacity: template.bytes.count)
        buffer.writeBytes(template.bytes)
        id.withHexUTF8 { hex in
            for offset in template.idOffsets { buffer.setBytes(hex, at: buffer.readerIndex + offset) }
        }
        return (buffer, id, template.kind == .error && !template.idOffsets.isEmpty)
    }

}
