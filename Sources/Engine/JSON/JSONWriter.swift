/// Builds JSON output directly into bytes. Used by the read API and for the small JSON documents
/// the writer stores (grouping explanations, metadata), so that responses can splice stored raw
/// event bytes in without re-encoding them.
package struct JSONWriter: Sendable {
    package private(set) var bytes: [UInt8] = []
    /// Whether the next value in the current container needs a leading comma.
    private var needsComma: [Bool] = [false]

    package init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    package var string: String { String(decoding: bytes, as: UTF8.self) }

    private mutating func separator() {
        if needsComma[needsComma.count - 1] { bytes.append(UInt8(ascii: ",")) }
        needsComma[needsComma.count - 1] = true
    }

    // Containers open through `valuePrefix` (not `separator`) so they consume a pending key; with
    // `separator` the key stayed pending and the first scalar after an empty nested container
    // lost its comma (`"a":[[]"x"]`).
    package mutating func beginObject() { valuePrefix(); bytes.append(UInt8(ascii: "{")); needsComma.append(false) }
    package mutating func endObject() { needsComma.removeLast(); bytes.append(UInt8(ascii: "}")) }
    package mutating func beginArray() { valuePrefix(); bytes.append(UInt8(ascii: "[")); needsComma.append(false) }
    package mutating func endArray() { needsComma.removeLast(); bytes.append(UInt8(ascii: "]")) }

    /// Writes `"key":`; the value that follows must not add its own separator.
    package mutating func key(_ key: String) {
        separator()
        Self.appendQuoted(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        needsComma[needsComma.count - 1] = false
        pendingKey = true
    }

    private var pendingKey = false

    private mutating func valuePrefix() {
        if pendingKey {
            pendingKey = false
            needsComma[needsComma.count - 1] = true
        } else {
            separator()
        }
    }

    package mutating func value(_ text: String?) {
        guard let text else { return null() }
        valuePrefix(); Self.appendQuoted(text, to: &bytes)
    }
    package mutating func value(_ number: Int) { valuePrefix(); bytes.append(contentsOf: String(number).utf8) }
    package mutating func value(_ number: Int64) { valuePrefix(); bytes.append(contentsOf: String(number).utf8) }
    package mutating func value(_ number: Double) {
        valuePrefix()
        bytes.append(contentsOf: (number.isFinite ? String(number) : "null").utf8)
    }
    package mutating func value(_ flag: Bool) { valuePrefix(); bytes.append(contentsOf: (flag ? "true" : "false").utf8) }
    package mutating func null() { valuePrefix(); bytes.append(contentsOf: "null".utf8) }
    /// Splices already-valid JSON (for example a stored event member) in as a value.
    package mutating func raw(_ json: UnsafeRawBufferPointer) { valuePrefix(); bytes.append(contentsOf: json) }
    package mutating func raw(_ json: [UInt8]) { valuePrefix(); bytes.append(contentsOf: json) }
    package mutating func raw(_ json: String) { valuePrefix(); bytes.append(contentsOf: json.utf8) }

    // Convenience for `"key": value` pairs.
    package mutating func field(_ name: String, _ text: String?) { key(name); value(text) }
    package mutating func field(_ name: String, _ number: Int) { key(name); value(number) }
    package mutating func field(_ name: String, _ number: Int64) { key(name); value(number) }
    package mutating func field(_ name: String, _ flag: Bool) { key(name); value(flag) }

    package static func appendQuoted(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    package static func quoted(_ text: String) -> String {
        var out: [UInt8] = []
        appendQuoted(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
