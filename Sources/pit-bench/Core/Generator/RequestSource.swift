import Foundation
package import NIOCore
package import PitModel
package import PitPayloads

/// Produces request bodies with unique event ids cheaply: envelopes are generated once as
/// templates, and each request copies a template and overwrites the 32 hex characters of the
/// event id where they occur. Generating 2.9 KiB of JSON per request would cost the load
/// generator more CPU than the server spends parsing it.
///
/// The templates' numeric times (`SyntheticEvents.seconds`, fixed width) are moved to the send
/// time the same way. Left at the generation time, every span of a 5-minute run started within
/// the same second, so each span landed mid-index in `spans (project_id, start_us)` instead of at
/// its end as an SDK's do: measured 455 of a commit's 642 WAL pages in that one index, which
/// made transactions look 1.5-2× dearer to store than they are.
package final class RequestSource: @unchecked Sendable {
    package struct Template {
        var bytes: [UInt8]
        /// Offsets of every occurrence of the placeholder event id.
        var idOffsets: [Int]
        /// Offsets of the template's numeric times (17 bytes each, `1796271067.892005`).
        var timeOffsets: [Int]
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
    /// When the templates' times were taken, in microseconds since 1970.
    private let templateMicros: Int64

    /// `@unchecked Sendable`: immutable after init; `next` only reads.
    package init(mode: Mode, generator: SyntheticEvents, templateCount: Int = 512, gzip: Bool) {
        self.gzip = gzip
        let placeholder = EventID(high: 0xFEED_FACE_CAFE_BEEF, low: 0x0123_4567_89AB_CDEF)
        let now = Date().timeIntervalSince1970
        templateMicros = Int64((now * 1_000_000).rounded())
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
            templates.append(Template(bytes: bytes, idOffsets: offsets, timeOffsets: [], kind: .error))
        case .errors, .mix:
            let kinds: [SyntheticEvents.Kind] = if case .mix(let mix) = mode { mix.cycle() } else { [.error] }
            // Whole cycles of the mix, so that `next`'s round over the templates keeps its shares.
            let count = (templateCount + kinds.count - 1) / kinds.count * kinds.count
            for index in 0..<count {
                let kind = kinds[index % kinds.count]
                let bytes = generator.envelope(kind: kind, index: index, eventID: placeholder, timestamp: now)
                templates.append(
                    Template(
                        bytes: bytes, idOffsets: Self.occurrences(of: Array(placeholder.hex.utf8), in: bytes),
                        timeOffsets: Self.timeOffsets(in: bytes, near: templateMicros), kind: kind))
            }
        }
        self.templates = templates
    }

    package var averageBodyBytes: Int {
        templates.reduce(0) { $0 + $1.bytes.count } / max(1, templates.count)
    }

    static let timeWidth = 17

    /// Where `bytes` hold a JSON number `dddddddddd.dddddd` (after a colon, not part of a longer
    /// number) within a day of `micros`: the times `SyntheticEvents.seconds` wrote.
    static func timeOffsets(in bytes: [UInt8], near micros: Int64) -> [Int] {
        var result: [Int] = []
        var i = 1
        while i + timeWidth < bytes.count {
            defer { i += 1 }
            guard bytes[i - 1] == UInt8(ascii: ":"), let value = Self.micros(in: bytes, at: i) else { continue }
            guard !isDigit(bytes[i + timeWidth]), abs(value - micros) < 86_400_000_000 else { continue }
            result.append(i)
            i += timeWidth - 1
        }
        return result
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// The microseconds of a `dddddddddd.dddddd` at `offset`, or nil.
    private static func micros(in bytes: some RandomAccessCollection<UInt8>, at offset: Int) -> Int64? {
        var value: Int64 = 0
        for position in 0..<timeWidth {
            let byte = bytes[bytes.index(bytes.startIndex, offsetBy: offset + position)]
            if position == 10 {
                guard byte == UInt8(ascii: ".") else { return nil }
                continue
            }
            guard isDigit(byte) else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
        }
        return value
    }

    /// Adds `delta` microseconds to each time at `offsets` of `bytes`, in place.
    static func shiftTimes(_ bytes: UnsafeMutableRawBufferPointer, offsets: [Int], by delta: Int64) {
        guard delta != 0 else { return }
        for offset in offsets {
            guard var value = micros(in: UnsafeRawBufferPointer(bytes), at: offset) else { continue }
            value += delta
            for position in stride(from: timeWidth - 1, through: 0, by: -1) where position != 10 {
                bytes[offset + position] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
        }
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
        index: Int, allocator: ByteBufferAllocator, random: inout some RandomNumberGenerator,
        now: Double = Date().timeIntervalSince1970
    ) -> (body: ByteBuffer, eventID: EventID, isError: Bool) {
        let template = templates[index % templates.count]
        let id = EventID.random(using: &random)
        let delta = template.timeOffsets.isEmpty ? 0 : Int64((now * 1_000_000).rounded()) - templateMicros
        if gzip {
            var bytes = template.bytes
            id.withHexUTF8 { hex in
                for offset in template.idOffsets { bytes.replaceSubrange(offset..<offset + 32, with: hex) }
            }
            bytes.withUnsafeMutableBytes { Self.shiftTimes($0, offsets: template.timeOffsets, by: delta) }
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
        buffer.withUnsafeMutableReadableBytes { Self.shiftTimes($0, offsets: template.timeOffsets, by: delta) }
        return (buffer, id, template.kind == .error && !template.idOffsets.isEmpty)
    }

}
