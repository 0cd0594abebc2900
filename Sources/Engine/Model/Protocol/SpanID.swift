/// A span id: 8 bytes, written as 16 lowercase hex characters. Stored as the signed 64-bit
/// integer with the same bits, so a span row's id costs 8 bytes rather than 17 of text.
package struct SpanID: Hashable, Sendable, CustomStringConvertible {
    package var value: UInt64

    package init(_ value: UInt64) { self.value = value }

    package init(storage: Int64) { value = UInt64(bitPattern: storage) }

    /// 16 hex digits, any case; nil otherwise, or all zero (OpenTelemetry's "no span").
    package init?(hex: UnsafeRawBufferPointer) {
        guard hex.count == 16 else { return nil }
        var value: UInt64 = 0
        for byte in hex {
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt64(nibble)
        }
        guard value != 0 else { return nil }
        self.value = value
    }

    package init?(_ text: String) {
        var text = text
        guard let parsed = text.withUTF8({ SpanID(hex: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = parsed
    }

    package var storage: Int64 { Int64(bitPattern: value) }

    package var hex: String {
        var digits = [UInt8](repeating: 0, count: 16)
        for i in 0..<16 { digits[i] = EventID.hexDigit(value >> (60 - UInt64(i) * 4)) }
        return String(decoding: digits, as: UTF8.self)
    }

    package var description: String { hex }
}

/// A trace id has an event id's form (16 bytes, 32 hex digits) and is stored the same way.
package typealias TraceID = EventID
