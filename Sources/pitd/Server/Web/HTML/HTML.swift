import PitModel

/// A fragment of HTML. Interpolating a `String`, `Substring` or number escapes it; interpolating
/// `HTML` appends it as is. So the only way to put unescaped text on a page is to build an `HTML`
/// value from a literal in this module or through `HTML(trusted:)`, and the type system keeps data
/// from the store out of markup by default. Attribute values are escaped the same way (quotes
/// included), so every attribute must be written in double quotes.
struct HTML: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The markup. Pages are built by appending into one growing string, not into a node tree.
    private(set) var text: String

    init() { text = "" }

    init(stringLiteral value: String) { text = value }

    init(stringInterpolation: StringInterpolation) { text = stringInterpolation.text }

    /// Markup that is known to be safe (constants of this module, output of the renderers).
    init(trusted markup: String) { text = markup }

    /// Escaped text.
    init(text value: some StringProtocol) {
        text = ""
        HTML.escape(value, into: &text)
    }

    var description: String { text }
    var isEmpty: Bool { text.isEmpty }
    var utf8Count: Int { text.utf8.count }

    mutating func append(_ other: HTML) { text += other.text }

    mutating func reserveCapacity(_ bytes: Int) { text.reserveCapacity(bytes) }

    static func += (lhs: inout HTML, rhs: HTML) { lhs.text += rhs.text }

    static func + (lhs: HTML, rhs: HTML) -> HTML { HTML(trusted: lhs.text + rhs.text) }

    struct StringInterpolation: StringInterpolationProtocol {
        fileprivate var text: String

        init(literalCapacity: Int, interpolationCount: Int) {
            text = ""
            text.reserveCapacity(literalCapacity + interpolationCount * 16)
        }

        mutating func appendLiteral(_ literal: String) { text += literal }

        mutating func appendInterpolation(_ value: String) { HTML.escape(value, into: &text) }
        mutating func appendInterpolation(_ value: Substring) { HTML.escape(value, into: &text) }
        /// Nothing for nil, so optional fields can be interpolated directly.
        mutating func appendInterpolation(_ value: String?) { if let value { HTML.escape(value, into: &text) } }
        mutating func appendInterpolation(_ value: Int) { text += String(value) }
        mutating func appendInterpolation(_ value: Int64) { text += String(value) }
        mutating func appendInterpolation(_ value: Double) { text += String(value) }
        mutating func appendInterpolation(_ value: HTML) { text += value.text }
        mutating func appendInterpolation(_ value: HTML?) { if let value { text += value.text } }
        mutating func appendInterpolation(_ values: [HTML]) { for value in values { text += value.text } }
        /// An already checked URL (see `SafeURL`), escaped for the attribute it goes into.
        mutating func appendInterpolation(_ url: SafeURL) { HTML.escape(url.value, into: &text) }
    }

    static func escape(_ value: some StringProtocol, into out: inout String) { HTMLEscaping.escape(value, into: &out) }

    static func escaped(_ value: some StringProtocol) -> String { HTMLEscaping.escaped(value) }

    /// A link when `href` is a safe URL, otherwise the label as text: event data may carry
    /// `javascript:` or `data:` URLs, which must never become clickable.
    static func link(_ href: String, _ label: HTML, rel: String = "nofollow noopener noreferrer") -> HTML {
        guard let url = SafeURL(href) else { return label }
        return "<a href=\"\(url)\" rel=\"\(rel)\">\(label)</a>"
    }

    /// Joins fragments, with `separator` between them.
    static func join(_ parts: [HTML], separator: HTML = "") -> HTML {
        var out = HTML()
        for (index, part) in parts.enumerated() {
            if index > 0 { out += separator }
            out += part
        }
        return out
    }

    /// `markup` when `condition` holds, else nothing: for attributes such as ` class="current"`.
    /// (A ternary of two literals inside an interpolation would be typed `String` and escaped.)
    static func when(_ condition: Bool, _ markup: HTML) -> HTML { condition ? markup : "" }

    /// `checked`, `selected`, `disabled`, `open`: an attribute present only when `condition` holds.
    static func attribute(_ name: StaticString, if condition: Bool) -> HTML {
        condition ? HTML(trusted: " \(name)") : ""
    }
}

/// A URL that may go into `href`/`action`: http, https, or relative. Anything with another
/// scheme (`javascript:`, `data:`, `vbscript:`), control characters or leading whitespace — which
/// browsers strip before reading the scheme — is refused.
struct SafeURL: Sendable {
    let value: String

    init?(_ candidate: String) {
        guard !candidate.isEmpty, candidate.first != " " else { return nil }
        for scalar in candidate.unicodeScalars where scalar.value < 0x20 || scalar.value == 0x7F { return nil }
        if let colon = candidate.firstIndex(of: ":") {
            let before = candidate[..<colon]
            if !before.contains(where: { $0 == "/" || $0 == "?" || $0 == "#" }) {
                let scheme = before.lowercased()
                guard scheme == "http" || scheme == "https" else { return nil }
            }
        }
        // `\` is read as `/` by browsers, so `\\evil` could become a protocol-relative URL.
        guard !candidate.hasPrefix("\\"), !candidate.hasPrefix("/\\") else { return nil }
        value = candidate
    }

    /// Paths this module builds from escaped parts; not checked again.
    init(path: String) { value = path }
}

/// Percent-encoding of data that goes into our own URLs.
enum PercentEncoding {
    /// Everything except RFC 3986 unreserved characters is encoded, so a value can never end a
    /// path segment or a query parameter early.
    static func component(_ value: some StringProtocol) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                bytes.append(byte)
            default:
                bytes.append(UInt8(ascii: "%"))
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0xF)])
            }
        }
        out += String(decoding: bytes, as: UTF8.self)
        return out
    }

    /// `?a=1&b=2`, skipping nil and empty values; "" when nothing is left.
    static func query(_ items: [(String, String?)]) -> String {
        var out = ""
        for (name, value) in items {
            guard let value, !value.isEmpty else { continue }
            out += out.isEmpty ? "?" : "&"
            out += component(name)
            out += "="
            out += component(value)
        }
        return out
    }
}
