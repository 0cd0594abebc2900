/// Builds JSON output directly into bytes. Used by the read API and for the small JSON documents
/// the writer stores (grouping explanations, metadata), so that responses can splice stored raw
/// event bytes in without re-encoding them.
package struct JSONWriter: Sendable {
    package private(set) var bytes: [UInt8] = []
    /// Whether the next value in the current container needs a leading comma.
    private var needsComma = CommaStack()

    package init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    package var string: String { String(decoding: bytes, as: UTF8.self) }

    private mutating func separator() {
        if needsComma.top { bytes.append(UInt8(ascii: ",")) }
        needsComma.top = true
    }

    // Containers open through `valuePrefix` (not `separator`) so they consume a pending key; with
    // `separator` the key stayed pending and the first scalar after an empty nested container
    // lost its comma (`"a":[[]"x"]`).
    package mutating func beginObject() {
        valuePrefix()
        bytes.append(UInt8(ascii: "{"))
        needsComma.push()
    }
    package mutating func endObject() {
        needsComma.pop()
        bytes.append(UInt8(ascii: "}"))
    }
    package mutating func beginArray() {
        valuePrefix()
        bytes.append(UInt8(ascii: "["))
        needsComma.push()
    }
    package mutating func endArray() {
        needsComma.pop()
        bytes.append(UInt8(ascii: "]"))
    }

    /// Writes `"key":`; the value that follows must not add its own separator.
    package mutating func key(_ key: String) {
        separator()
        Self.appendQuoted(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        needsComma.top = false
        pendingKey = true
    }

    private var pendingKey = false

    private mutating func valuePrefix() {
        if pendingKey {
            pendingKey = false
            needsComma.top = true
        } else {
            separator()
        }
    }

    package mutating func value(_ text: String?) {
        guard let text else { return null() }
        valuePrefix()
        Self.appendQuoted(text, to: &bytes)
    }
    package mutating func value(_ number: Int) {
        valuePrefix()
        bytes.append(contentsOf: String(number).utf8)
    }
    package mutating func value(_ number: Int64) {
        valuePrefix()
        bytes.append(contentsOf: String(number).utf8)
    }
    package mutating func value(_ number: Double) {
        valuePrefix()
        bytes.append(contentsOf: (number.isFinite ? String(number) : "null").utf8)
    }
    package mutating func value(_ flag: Bool) {
        valuePrefix()
        bytes.append(contentsOf: (flag ? "true" : "false").utf8)
    }
    package mutating func null() {
        valuePrefix()
        bytes.append(contentsOf: "null".utf8)
    }
    /// Splices already-valid JSON (for example a stored event member) in as a value.
    package mutating func raw(_ json: UnsafeRawBufferPointer) {
        valuePrefix()
        bytes.append(contentsOf: json)
    }
    package mutating func raw(_ json: [UInt8]) {
        valuePrefix()
        bytes.append(contentsOf: json)
    }
    package mutating func raw(_ json: String) {
        valuePrefix()
        bytes.append(contentsOf: json.utf8)
    }

    // Convenience for `"key": value` pairs.
    package mutating func field(_ name: String, _ text: String?) {
        key(name)
        value(text)
    }
    package mutating func field(_ name: String, _ number: Int) {
        key(name)
        value(number)
    }
    package mutating func field(_ name: String, _ number: Int64) {
        key(name)
        value(number)
    }
    package mutating func field(_ name: String, _ flag: Bool) {
        key(name)
        value(flag)
    }

    /// A string given as UTF-8 bytes, written without a `String` in between.
    package mutating func field(_ name: String, utf8 text: UnsafeRawBufferPointer) {
        key(name)
        valuePrefix()
        Self.appendQuoted(utf8: text, to: &bytes)
    }

    package static func appendQuoted(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { appendQuoted(utf8: UnsafeRawBufferPointer($0), to: &out) }
    }

    package static func appendQuoted(utf8 text: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text {
            switch byte {
            case UInt8(ascii: "\""):
                out.append(0x5C)
                out.append(0x22)
            case UInt8(ascii: "\\"):
                out.append(0x5C)
                out.append(0x5C)
            case 0x0A:
                out.append(0x5C)
                out.append(UInt8(ascii: "n"))
            case 0x0D:
                out.append(0x5C)
                out.append(UInt8(ascii: "r"))
            case 0x09:
                out.append(0x5C)
                out.append(UInt8(ascii: "t"))
            case 0..<0x20:
                out.append(0x5C)
                out.append(UInt8(ascii: "u"))
                out.append(0x30)
                out.append(0x30)
                out.append(hexDigit(byte >> 4))
                out.append(hexDigit(byte & 0xF))
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? nibble + UInt8(ascii: "0") : nibble - 10 + UInt8(ascii: "a")
    }

    package static func quoted(_ text: String) -> String {
        var out: [UInt8] = []
        appendQuoted(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

/// Whether each open container already has a member, as bits: an array of flags was a malloc
/// per writer, and the writer builds a metadata object for every ingested event. Containers
/// nested past 64 levels spill into an array.
private struct CommaStack: Sendable {
    private var bits: UInt64 = 0
    /// The level of the innermost open container; 0 is the top level.
    private var level = 0
    private var spilled: [Bool] = []

    var top: Bool {
        get { level < 64 ? bits & (1 << UInt64(level)) != 0 : spilled[level - 64] }
        set {
            if level < 64 {
                if newValue { bits |= 1 << UInt64(level) } else { bits &= ~(1 << UInt64(level)) }
            } else {
                spilled[level - 64] = newValue
            }
        }
    }

    mutating func push() {
        level += 1
        if level >= 64 { spilled.append(false) } else { top = false }
    }

    mutating func pop() {
        if level >= 64 { spilled.removeLast() }
        level -= 1
    }
}
