import PitModel

/// A validated JSON document as a flat tape of tokens that point into the original bytes.
///
/// Why hand-written: a full `JSONSerialization`/`JSONDecoder` pass builds a DOM of every ~3 KiB
/// event, allocating for each key and value, and dominates ingest CPU. The tape is one
/// allocation, validates the whole document (RFC 8259: UTF-8, escapes, surrogate pairs, control
/// characters, number grammar) in one iterative pass, and lets the extractor jump over subtrees
/// it does not need. It never recurses, so hostile nesting cannot overflow the stack; depth is
/// bounded by `maximumDepth` as serde_json (Relay) bounds it.
package struct JSONTape: Sendable {
    package enum Kind: UInt8, Sendable {
        case object, array, string, number, `true`, `false`, null
    }

    package struct Entry: Sendable {
        package var kind: Kind
        /// The string contains backslash escapes and must be unescaped before use.
        package var escaped: Bool
        /// Byte range of the token. For strings the quotes are excluded; for containers it spans
        /// from the opening to after the closing bracket.
        package var start: UInt32
        package var end: UInt32
        /// Index of the entry after this token's whole subtree (its next sibling).
        package var next: UInt32
    }

    package private(set) var entries: [Entry]

    package static let maximumDepth = 128

    package var root: Int { 0 }

    package subscript(index: Int) -> Entry { entries[index] }
}

package struct JSONError: Error, Hashable, CustomStringConvertible {
    package let offset: Int
    package let reason: String

    package var description: String { "invalid JSON at byte \(offset): \(reason)" }

    @inline(never)
    static func at(_ offset: Int, _ reason: String) -> JSONError {
        JSONError(offset: offset, reason: reason)
    }
}

extension JSONTape {
    /// Parses and validates `bytes` as exactly one JSON value surrounded by optional whitespace.
    package static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONError) -> JSONTape {
        guard bytes.count < Int(UInt32.max) else { throw .at(0, "document too large") }
        // The open-container stack lives on the stack: its depth is bounded, and an array per
        // document (three per envelope) was a measurable share of the ingest path's mallocs.
        let result = withUnsafeTemporaryAllocation(of: Int.self, capacity: JSONTape.maximumDepth) { stack in
            Result { () throws(JSONError) -> JSONTape in
                var parser = Parser(bytes: bytes, open: OpenContainers(storage: stack))
                try parser.run()
                return JSONTape(entries: parser.entries)
            }
        }
        return try result.get()
    }

    package static func parse(_ bytes: [UInt8]) throws(JSONError) -> JSONTape {
        let result = bytes.withUnsafeBytes { raw in Result { () throws(JSONError) in try parse(raw) } }
        return try result.get()
    }
}

private struct Parser {
    let bytes: UnsafeRawBufferPointer
    var position = 0
    var entries: [Entry] = []
    /// Indices of the containers currently open.
    var open: OpenContainers

    typealias Entry = JSONTape.Entry

    init(bytes: UnsafeRawBufferPointer, open: OpenContainers) {
        self.bytes = bytes
        self.open = open
        // Error events run at ~1 token per 6 bytes; reserving for that keeps the tape to one
        // allocation (package-benchmark's allocation stacks showed two regrowths at 1 per 10).
        entries.reserveCapacity(max(16, bytes.count / 5))
    }

    @inline(__always) func peek() -> UInt8? {
        position < bytes.count ? bytes[position] : nil
    }

    @inline(__always) mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    mutating func run() throws(JSONError) {
        // States of the iterative parser: what the next token may be.
        enum Expect { case value, firstKeyOrEnd, key, colon, commaOrEnd, firstValueOrEnd }
        var expect = Expect.value
        skipWhitespace()
        while true {
            skipWhitespace()
            guard let byte = peek() else {
                if open.isEmpty && !entries.isEmpty && expect == .commaOrEnd { return }
                throw .at(position, "unexpected end of input")
            }
            switch expect {
            case .value, .firstValueOrEnd:
                if expect == .firstValueOrEnd && byte == UInt8(ascii: "]") {
                    try close(array: true)
                    expect = .commaOrEnd
                    continue
                }
                try value(byte)
                // A container just opened: the next token is its first member.
                if let last = entries.last, last.end == 0, last.kind == .object || last.kind == .array,
                    open.last == entries.count - 1
                {
                    expect = last.kind == .object ? .firstKeyOrEnd : .firstValueOrEnd
                } else {
                    expect = .commaOrEnd
                }
            case .firstKeyOrEnd, .key:
                if expect == .firstKeyOrEnd && byte == UInt8(ascii: "}") {
                    try close(array: false)
                    expect = .commaOrEnd
                    continue
                }
                guard byte == UInt8(ascii: "\"") else { throw .at(position, "expected a string key") }
                try string()
                expect = .colon
            case .colon:
                guard byte == UInt8(ascii: ":") else { throw .at(position, "expected ':'") }
                position += 1
                expect = .value
            case .commaOrEnd:
                guard let container = open.last else {
                    throw .at(position, "trailing characters after the document")
                }
                let isArray = entries[container].kind == .array
                if byte == UInt8(ascii: ",") {
                    position += 1
                    expect = isArray ? .value : .key
                } else if byte == UInt8(ascii: isArray ? "]" : "}") {
                    try close(array: isArray)
                    expect = .commaOrEnd
                } else {
                    throw .at(position, isArray ? "expected ',' or ']'" : "expected ',' or '}'")
                }
            }
            if open.isEmpty && expect == .commaOrEnd {
                skipWhitespace()
                guard position == bytes.count else { throw .at(position, "trailing characters after the document") }
                return
            }
        }
    }

    mutating func value(_ byte: UInt8) throws(JSONError) {
        switch byte {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            guard open.count < JSONTape.maximumDepth else { throw .at(position, "nesting deeper than \(JSONTape.maximumDepth)") }
            open.append(entries.count)
            entries.append(
                Entry(
                    kind: byte == UInt8(ascii: "{") ? .object : .array, escaped: false,
                    start: UInt32(position), end: 0, next: 0))
            position += 1
        case UInt8(ascii: "\""):
            try string()
        case UInt8(ascii: "t"): try literal("true", .true)
        case UInt8(ascii: "f"): try literal("false", .false)
        case UInt8(ascii: "n"): try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try number()
        default:
            throw .at(position, "unexpected character")
        }
    }

    mutating func close(array: Bool) throws(JSONError) {
        guard let index = open.popLast() else { throw .at(position, "unbalanced bracket") }
        position += 1
        entries[index].end = UInt32(position)
        entries[index].next = UInt32(entries.count)
    }

    mutating func literal(_ word: StaticString, _ kind: JSONTape.Kind) throws(JSONError) {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw .at(position, "invalid literal") }
        let matches = word.withUTF8Buffer { literal in
            for i in 0..<count where bytes[position + i] != literal[i] { return false }
            return true
        }
        guard matches else { throw .at(position, "invalid literal") }
        entries.append(
            Entry(
                kind: kind, escaped: false, start: UInt32(position), end: UInt32(position + count),
                next: UInt32(entries.count + 1)))
        position += count
    }

    mutating func number() throws(JSONError) {
        let start = position
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard let first = peek(), isDigit(first) else { throw .at(position, "invalid number") }
        position += 1
        if first != UInt8(ascii: "0") {
            while let b = peek(), isDigit(b) { position += 1 }
        }
        if peek() == UInt8(ascii: ".") {
            position += 1
            guard let b = peek(), isDigit(b) else { throw .at(position, "invalid number fraction") }
            while let b = peek(), isDigit(b) { position += 1 }
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            position += 1
            if let sign = peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { position += 1 }
            guard let b = peek(), isDigit(b) else { throw .at(position, "invalid number exponent") }
            while let b = peek(), isDigit(b) { position += 1 }
        }
        entries.append(
            Entry(
                kind: .number, escaped: false, start: UInt32(start), end: UInt32(position),
                next: UInt32(entries.count + 1)))
    }

    @inline(__always) func isDigit(_ b: UInt8) -> Bool { b &- UInt8(ascii: "0") < 10 }

    mutating func string() throws(JSONError) {
        position += 1  // opening quote
        let start = position
        var escaped = false
        while true {
            // Fast path: plain ASCII without quotes, backslashes or control characters.
            while position < bytes.count {
                let b = bytes[position]
                if b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b < 0x20 || b >= 0x80 { break }
                position += 1
            }
            guard position < bytes.count else { throw .at(start - 1, "unterminated string") }
            let b = bytes[position]
            if b == UInt8(ascii: "\"") {
                entries.append(
                    Entry(
                        kind: .string, escaped: escaped, start: UInt32(start), end: UInt32(position),
                        next: UInt32(entries.count + 1)))
                position += 1
                return
            } else if b == UInt8(ascii: "\\") {
                escaped = true
                try escape()
            } else if b < 0x20 {
                throw .at(position, "control character in string")
            } else {
                try utf8Sequence()
            }
        }
    }

    mutating func escape() throws(JSONError) {
        position += 1
        guard let b = peek() else { throw .at(position, "unterminated escape") }
        switch b {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
            UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            position += 1
        case UInt8(ascii: "u"):
            let unit = try hex4(at: position + 1)
            position += 5
            if (0xD800...0xDBFF).contains(unit) {
                // A high surrogate must be followed by an escaped low surrogate.
                guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                    bytes[position + 1] == UInt8(ascii: "u")
                else { throw .at(position, "lone leading surrogate in hex escape") }
                let low = try hex4(at: position + 2)
                guard (0xDC00...0xDFFF).contains(low) else { throw .at(position, "invalid low surrogate") }
                position += 6
            } else if (0xDC00...0xDFFF).contains(unit) {
                throw .at(position, "lone trailing surrogate in hex escape")
            }
        default:
            throw .at(position, "invalid escape")
        }
    }

    func hex4(at offset: Int) throws(JSONError) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw .at(offset, "truncated unicode escape") }
        var value: UInt32 = 0
        for i in 0..<4 {
            let b = bytes[offset + i]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: throw .at(offset + i, "invalid unicode escape")
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Validates one multi-byte UTF-8 sequence (RFC 3629: no overlongs, no surrogates, ≤ U+10FFFF).
    mutating func utf8Sequence() throws(JSONError) {
        let lead = bytes[position]
        let length: Int
        var lowerBound: UInt8 = 0x80
        var upperBound: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0:
            length = 3
            lowerBound = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED:
            length = 3
            upperBound = 0x9F
        case 0xF0:
            length = 4
            lowerBound = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4:
            length = 4
            upperBound = 0x8F
        default: throw .at(position, "invalid UTF-8")
        }
        guard position + length <= bytes.count else { throw .at(position, "truncated UTF-8") }
        let second = bytes[position + 1]
        guard second >= lowerBound && second <= upperBound else { throw .at(position, "invalid UTF-8") }
        for i in 2..<max(2, length) where bytes[position + i] & 0xC0 != 0x80 {
            throw .at(position + i, "invalid UTF-8")
        }
        position += length
    }
}

/// A stack of at most `JSONTape.maximumDepth` container indices in caller-provided storage.
private struct OpenContainers {
    let storage: UnsafeMutableBufferPointer<Int>
    private(set) var count = 0

    init(storage: UnsafeMutableBufferPointer<Int>) { self.storage = storage }

    var isEmpty: Bool { count == 0 }
    var last: Int? { count > 0 ? storage[count - 1] : nil }

    /// The caller checks `count < JSONTape.maximumDepth` first.
    mutating func append(_ index: Int) {
        storage[count] = index
        count += 1
    }

    mutating func popLast() -> Int? {
        guard count > 0 else { return nil }
        count -= 1
        return storage[count]
    }
}
