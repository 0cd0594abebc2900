// Byte classes for the parameterization scanner: ASCII tests, and Python `re` semantics for
// the Unicode-aware `\w` and `\s`. Why the scanner is hand-written: GroupingValueNormalizer.swift.

@inline(__always) func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }
@inline(__always) func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) &- 0x61 < 26 }
@inline(__always) func isAlnum(_ b: UInt8) -> Bool { isDigit(b) || isAlpha(b) }
@inline(__always) func isASCIIWord(_ b: UInt8) -> Bool { isAlnum(b) || b == 0x5F }
@inline(__always) func isHex(_ b: UInt8) -> Bool { isDigit(b) || (b | 0x20) &- 0x61 < 6 }
@inline(__always) func isLowerHex(_ b: UInt8) -> Bool { isDigit(b) || b &- 0x61 < 6 }
@inline(__always) func isUpperHex(_ b: UInt8) -> Bool { isDigit(b) || b &- 0x41 < 6 }
@inline(__always) func isLowerHexLetter(_ b: UInt8) -> Bool { b &- 0x61 < 6 }
@inline(__always) func isUpperHexLetter(_ b: UInt8) -> Bool { b &- 0x41 < 6 }
/// `[a-zA-Z0-9-]` (hostname labels, email domains).
@inline(__always) func isLabelChar(_ b: UInt8) -> Bool { isAlnum(b) || b == 0x2D }
/// Python `str.isspace()` for ASCII: `\t\n\v\f\r`, `\x1c`-`\x1f`, space.
@inline(__always) func isASCIISpace(_ b: UInt8) -> Bool {
    b == 0x20 || b &- 0x09 < 5 || b &- 0x1C < 4
}
/// Email local part: `[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]`.
@inline(__always) func isEmailLocal(_ b: UInt8) -> Bool {
    if isAlnum(b) { return true }
    switch b {
    case 0x2E, 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2F, 0x3D, 0x3F, 0x5E, 0x5F,
        0x60, 0x7B, 0x7C, 0x7D, 0x7E, 0x2D:
        return true
    default:
        return false
    }
}
@inline(__always) func inRange(_ b: UInt8, _ lo: UInt8, _ hi: UInt8) -> Bool { b &- lo <= hi &- lo }

enum ASCII {
    static let colon: UInt8 = 0x3A
    static let dot: UInt8 = 0x2E
    static let dash: UInt8 = 0x2D
    static let plus: UInt8 = 0x2B
    static let slash: UInt8 = 0x2F
    static let equals: UInt8 = 0x3D
    static let quote: UInt8 = 0x27
    static let doubleQuote: UInt8 = 0x22
    static let newline: UInt8 = 0x0A
    static let closeParen: UInt8 = 0x29
    static let openParen: UInt8 = 0x28
    static let comma: UInt8 = 0x2C
    static let percent: UInt8 = 0x25
    static let http: [UInt8] = Array("http".utf8)
    static let schemeSeparator: [UInt8] = Array("://".utf8)
    static let alse: [UInt8] = Array("alse".utf8)
    static let datetime: [UInt8] = Array("datetime".utf8)
    static let uuidGroups = [8, 4, 4, 4, 12]
}

// MARK: - Unicode helpers (Python `re` semantics for `\w` and `\s` on str patterns)

@inline(__always) func scalarLength(_ lead: UInt8) -> Int {
    lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
}

/// Python `\w` for a non-ASCII code point: `str.isalnum()` (letters and anything numeric).
func isUnicodeWord(_ value: UInt32) -> Bool {
    guard let scalar = Unicode.Scalar(value) else { return false }
    let properties = scalar.properties
    switch properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
        .decimalNumber, .letterNumber, .otherNumber:
        return true
    default:
        return properties.numericType != nil
    }
}

/// Python `str.isspace()` for a non-ASCII code point.
@inline(__always) func isUnicodeSpace(_ v: UInt32) -> Bool {
    switch v {
    case 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
    default: false
    }
}

/// Decodes the scalar starting at `i` (the buffer always holds valid UTF-8).
@inline(__always) func decodeScalar(_ s: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt32 {
    let b0 = UInt32(s[i])
    if b0 < 0x80 { return b0 }
    if b0 < 0xE0 { return (b0 & 0x1F) << 6 | UInt32(s[i + 1] & 0x3F) }
    if b0 < 0xF0 {
        return (b0 & 0x0F) << 12 | UInt32(s[i + 1] & 0x3F) << 6 | UInt32(s[i + 2] & 0x3F)
    }
    return (b0 & 0x07) << 18 | UInt32(s[i + 1] & 0x3F) << 12 | UInt32(s[i + 2] & 0x3F) << 6
        | UInt32(s[i + 3] & 0x3F)
}

/// Byte length of the whitespace character at `i`, or 0 if it is not whitespace.
@inline(__always) func whitespaceLength(_ s: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
    guard i < s.count else { return 0 }
    let b = s[i]
    if b < 0x80 { return isASCIISpace(b) ? 1 : 0 }
    return isUnicodeSpace(decodeScalar(s, i)) ? scalarLength(b) : 0
}
