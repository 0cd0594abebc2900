import PitModel

/// A span's description as the span summary groups it: the literals of a SQL statement and the
/// ids in a URL path masked, so the thousand `SELECT … WHERE id = 42` of an N+1 loop are one row
/// (`SELECT … WHERE id = %s`) and `GET /users/17/orders` is `GET /users/*/orders`, as Sentry's
/// span grouping shows them.
package enum SpanDescription {
    /// Longest description kept, in bytes (cut at a character boundary).
    package static let maxBytes = 2048

    package static func normalize(op: String, description: String) -> String {
        let bounded = FieldLimits.prefix(FieldLimits.removingNUL(description), maxBytes: maxBytes * 2)
        let normalized: String
        if op.hasPrefix("db") && !op.hasPrefix("db.redis") {
            normalized = maskSQL(bounded)
        } else if op.hasPrefix("http") {
            normalized = maskURL(bounded)
        } else {
            normalized = bounded
        }
        return FieldLimits.prefix(normalized, maxBytes: maxBytes)
    }

    /// String and number literals become `%s`; a parenthesised list of them collapses to one
    /// (`IN (%s, %s, %s)` → `IN (%s)`); runs of whitespace become one space.
    package static func maskSQL(_ sql: String) -> String {
        let bytes = Array(sql.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        func previousIsWordByte() -> Bool {
            guard let last = out.last else { return false }
            return isWordByte(last) || last == UInt8(ascii: ".") || last == UInt8(ascii: "$")
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "'") {
                // A string literal, '' being a quote inside it.
                index += 1
                while index < bytes.count {
                    if bytes[index] == UInt8(ascii: "'") {
                        if index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "'") {
                            index += 2
                            continue
                        }
                        index += 1
                        break
                    }
                    index += 1
                }
                out.append(contentsOf: placeholder)
            } else if isDigit(byte) && !previousIsWordByte() {
                // A number not inside an identifier (`t0`, `col_1` stay): digits, a fraction, an
                // exponent, or a hex literal.
                index += 1
                while index < bytes.count && (isWordByte(bytes[index]) || bytes[index] == UInt8(ascii: ".")) { index += 1 }
                out.append(contentsOf: placeholder)
            } else if isSpace(byte) {
                while index < bytes.count && isSpace(bytes[index]) { index += 1 }
                if !out.isEmpty { out.append(UInt8(ascii: " ")) }
            } else {
                out.append(byte)
                index += 1
            }
        }
        while out.last == UInt8(ascii: " ") { out.removeLast() }
        return collapseLists(String(decoding: out, as: UTF8.self))
    }

    /// `(%s, %s, …)` → `(%s)`.
    private static func collapseLists(_ sql: String) -> String {
        guard sql.contains("%s,") || sql.contains("%s ,") else { return sql }
        var result = ""
        result.reserveCapacity(sql.utf8.count)
        var rest = Substring(sql)
        while let open = rest.firstIndex(of: "(") {
            result += rest[...open]
            rest = rest[rest.index(after: open)...]
            guard let close = rest.firstIndex(of: ")") else { continue }
            let inside = rest[..<close].split(separator: ",").map { $0.trimmingCharacters(in: " ") }
            if inside.count > 1 && inside.allSatisfy({ $0 == "%s" }) {
                result += "%s"
                rest = rest[close...]
            }
        }
        return result + rest
    }

    /// The method and URL of an HTTP span with its query string and fragment dropped and the
    /// path segments that are ids (numbers, UUIDs, long hex strings) replaced by `*`.
    package static func maskURL(_ description: String) -> String {
        var method = ""
        var url = Substring(description)
        if let space = description.firstIndex(of: " ") {
            method = String(description[..<space]) + " "
            url = description[description.index(after: space)...].drop { $0 == " " }
        }
        if let cut = url.firstIndex(where: { $0 == "?" || $0 == "#" }) { url = url[..<cut] }
        // The origin (scheme and host) stays as written; only the path's segments are masked.
        var origin = Substring("")
        if let colon = url.firstIndex(of: ":"), url[colon...].hasPrefix("://") {
            let afterScheme = url[url.index(colon, offsetBy: 3)...]
            let pathStart = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
            origin = url[..<pathStart]
            url = url[pathStart...]
        }
        let segments = url.split(separator: "/", omittingEmptySubsequences: false).map { isIdentifierSegment($0) ? "*" : String($0) }
        return method + origin + segments.joined(separator: "/")
    }

    static func isIdentifierSegment(_ segment: Substring) -> Bool {
        guard !segment.isEmpty else { return false }
        let utf8 = segment.utf8
        if utf8.allSatisfy(isDigit) { return true }
        let hexOrDash = utf8.allSatisfy { isHexDigit($0) || $0 == UInt8(ascii: "-") }
        let digits = utf8.filter(isHexDigit).count
        // A UUID (32 hex digits, dashed or not) or a hash-like id (long hex with a digit in it,
        // so words such as "deadbeef" written in letters only are not taken for ids).
        if hexOrDash && digits == 32 { return true }
        return hexOrDash && digits >= 12 && utf8.contains(where: isDigit)
    }

    private static let placeholder: [UInt8] = Array("%s".utf8)

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    private static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "f"))
    }
    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
    private static func isWordByte(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z")) || byte == UInt8(ascii: "_")
            || byte >= 0x80
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: Character) -> Substring {
        var text = self
        while text.first == set { text = text.dropFirst() }
        while text.last == set { text = text.dropLast() }
        return text
    }
}
