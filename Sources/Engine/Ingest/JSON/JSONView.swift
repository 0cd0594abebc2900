import Foundation
package import NIOCore
import PitModel

/// Read access to a parsed document: the tape plus the bytes it points into.
///
/// Only valid while `bytes` is (inside the `withUnsafeReadableBytes` scope that parsed it).
package struct JSONView {
    package let tape: JSONTape
    package let bytes: UnsafeRawBufferPointer
    /// The buffer `bytes` are the readable bytes of, when there is one: `text` then shares it.
    package let source: ByteBuffer?

    package init(tape: JSONTape, bytes: UnsafeRawBufferPointer, source: ByteBuffer? = nil) {
        self.tape = tape
        self.bytes = bytes
        self.source = source
    }

    package func kind(_ index: Int) -> JSONTape.Kind { tape[index].kind }

    /// The raw bytes of a token (strings without quotes, containers with brackets).
    package func raw(_ index: Int) -> UnsafeRawBufferPointer {
        let entry = tape[index]
        return UnsafeRawBufferPointer(rebasing: bytes[Int(entry.start)..<Int(entry.end)])
    }

    /// The full source span of a value, including the quotes of a string.
    package func source(_ index: Int) -> UnsafeRawBufferPointer {
        let entry = tape[index]
        if entry.kind == .string {
            return UnsafeRawBufferPointer(rebasing: bytes[Int(entry.start) - 1..<Int(entry.end) + 1])
        }
        return raw(index)
    }

    // MARK: Objects and arrays

    /// Calls `body(keyIndex, valueIndex)` for each member of an object.
    package func forEachMember<E: Error>(_ object: Int, _ body: (Int, Int) throws(E) -> Void) throws(E) {
        guard tape[object].kind == .object else { return }
        var key = object + 1
        let end = Int(tape[object].next)
        while key < end {
            let value = key + 1
            try body(key, value)
            key = Int(tape[value].next)
        }
    }

    /// Calls `body(elementIndex)` for each element of an array.
    package func forEachElement<E: Error>(_ array: Int, _ body: (Int) throws(E) -> Void) throws(E) {
        guard tape[array].kind == .array else { return }
        var element = array + 1
        let end = Int(tape[array].next)
        while element < end {
            try body(element)
            element = Int(tape[element].next)
        }
    }

    package func elements(_ array: Int) -> [Int] {
        var result: [Int] = []
        forEachElement(array) { result.append($0) }
        return result
    }

    package func count(_ container: Int) -> Int {
        var n = 0
        if tape[container].kind == .array { forEachElement(container) { _ in n += 1 } }
        if tape[container].kind == .object { forEachMember(container) { _, _ in n += 1 } }
        return n
    }

    /// The value of member `key`, or nil when absent or `object` is not an object.
    package func member(_ object: Int?, _ key: StaticString) -> Int? {
        guard let object, tape[object].kind == .object else { return nil }
        var found: Int?
        key.withUTF8Buffer { wanted in
            forEachMemberUntil(object) { k, v in
                if keyEquals(k, wanted) {
                    found = v
                    return true
                }
                return false
            }
        }
        return found
    }

    /// The value at a dotted path of object members, e.g. `path(root, "contexts", "trace")`.
    package func path(_ start: Int?, _ keys: StaticString...) -> Int? {
        var current = start
        for key in keys { current = member(current, key) }
        return current
    }

    /// Whether the member name at `key` is `wanted`, without building a String.
    package func keyIs(_ key: Int, _ wanted: StaticString) -> Bool {
        wanted.withUTF8Buffer { keyEquals(key, $0) }
    }

    private func forEachMemberUntil(_ object: Int, _ body: (Int, Int) -> Bool) {
        var key = object + 1
        let end = Int(tape[object].next)
        while key < end {
            let value = key + 1
            if body(key, value) { return }
            key = Int(tape[value].next)
        }
    }

    private func keyEquals(_ key: Int, _ wanted: UnsafeBufferPointer<UInt8>) -> Bool {
        let entry = tape[key]
        if entry.escaped { return string(key) == String(decoding: wanted, as: UTF8.self) }
        let length = Int(entry.end - entry.start)
        guard length == wanted.count else { return false }
        let base = Int(entry.start)
        for i in 0..<length where bytes[base + i] != wanted[i] { return false }
        return true
    }

    // MARK: Scalars

    package func isNull(_ index: Int?) -> Bool { index.map { tape[$0].kind == .null } ?? true }

    /// The decoded string of a string token, or nil for any other kind.
    package func string(_ index: Int?) -> String? {
        guard let index, tape[index].kind == .string else { return nil }
        let entry = tape[index]
        let span = raw(index)
        if !entry.escaped { return String(decoding: span, as: UTF8.self) }
        return Self.unescape(span)
    }

    /// `body` on a string token's UTF-8 (decoded only when it has escapes); nil for other kinds.
    package func withStringUTF8<R>(_ index: Int?, _ body: (UnsafeRawBufferPointer) -> R?) -> R? {
        guard let index, tape[index].kind == .string else { return nil }
        if !tape[index].escaped { return body(raw(index)) }
        guard var text = string(index) else { return nil }
        return text.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }

    /// A string token as a `PayloadText`: a slice of `source` (no copy) unless it has escapes.
    package func text(_ index: Int?) -> PayloadText? {
        guard let index, tape[index].kind == .string else { return nil }
        let entry = tape[index]
        if !entry.escaped, let source,
            let slice = source.getSlice(at: source.readerIndex + Int(entry.start), length: Int(entry.end - entry.start))
        {
            return PayloadText(utf8: slice)
        }
        return string(index).map { PayloadText($0) }
    }

    /// A string, or the source text of a number/bool (Sentry coerces scalar tag values to strings).
    package func scalarText(_ index: Int?) -> String? {
        guard let index else { return nil }
        switch tape[index].kind {
        case .string: return string(index)
        case .number, .true, .false: return String(decoding: raw(index), as: UTF8.self)
        default: return nil
        }
    }

    package func bool(_ index: Int?) -> Bool? {
        guard let index else { return nil }
        switch tape[index].kind {
        case .true: return true
        case .false: return false
        default: return nil
        }
    }

    /// A number as Double; strings are not coerced. Overflowing literals (1e400) give ±infinity,
    /// which callers treat as invalid.
    package func double(_ index: Int?) -> Double? {
        guard let index, tape[index].kind == .number else { return nil }
        let digits = raw(index)
        // The tape validated JSON's number grammar (no spaces, `inf`, `nan` or hex), on which
        // C's `strtod` and `Double(String)` agree; a NUL-terminated copy on the stack spares the
        // String an epoch timestamp with a fraction (over 15 bytes) would allocate.
        guard digits.count < 64 else { return Double(String(decoding: digits, as: UTF8.self)) }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: digits.count + 1) { buffer -> Double? in
            for i in 0..<digits.count { buffer[i] = CChar(bitPattern: digits[i]) }
            buffer[digits.count] = 0
            return strtod(buffer.baseAddress!, nil)
        }
    }

    package func int(_ index: Int?) -> Int? {
        guard let index, tape[index].kind == .number else { return nil }
        // Plain integers (line numbers, levels) are read from the bytes: no String on the way.
        let digits = raw(index)
        if (1...18).contains(digits.count) {
            var value = 0
            var plain = true
            for (offset, byte) in digits.enumerated() {
                if byte >= 0x30 && byte <= 0x39 {
                    value = value * 10 + Int(byte - 0x30)
                } else if byte == 0x2D && offset == 0 && digits.count > 1 {
                    continue
                } else {
                    plain = false
                    break
                }
            }
            if plain { return digits[0] == 0x2D ? -value : value }
        }
        let text = String(decoding: raw(index), as: UTF8.self)
        if let value = Int(text) { return value }
        if let value = Double(text), value.isFinite, value.rounded() == value, abs(value) < 9.0e18 { return Int(value) }
        return nil
    }

    static func unescape(_ span: UnsafeRawBufferPointer) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(span.count)
        var i = 0
        while i < span.count {
            let b = span[i]
            guard b == UInt8(ascii: "\\") else {
                out.append(b)
                i += 1
                continue
            }
            let e = span[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(span, i)
                i += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    // The tape validated the pair, so a low surrogate escape follows.
                    let low = hex4(span, i + 2)
                    i += 6
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                appendUTF8(scalar, to: &out)
            default: out.append(e)  // \" \\ \/
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hex4(_ span: UnsafeRawBufferPointer, _ offset: Int) -> UInt32 {
        var value: UInt32 = 0
        for k in 0..<4 {
            let c = span[offset + k]
            let digit: UInt32 = c <= UInt8(ascii: "9") ? UInt32(c - 48) : UInt32((c | 0x20) - 87)
            value = value << 4 | digit
        }
        return value
    }

    private static func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
        switch scalar {
        case 0..<0x80: out.append(UInt8(scalar))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | scalar >> 6))
            out.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | scalar >> 12))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        default:
            out.append(UInt8(0xF0 | scalar >> 18))
            out.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        }
    }
}
