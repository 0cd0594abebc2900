/// Text for HTML and SVG markup, escaped one way for pitd's web UI and pit-bench's reports.
///
/// It lives in `PitModel`, the lowest target both reach (pitd through the engine, `PitBenchCore`
/// directly, which must not depend on pitd or the storage stack), beside `JSONWriter`, the other
/// writer of a text format; it needs nothing from the layers above.
package enum HTMLEscaping {
    /// Appends `value` with `& < > " '` escaped, safe in element content and in quoted
    /// attributes. Scans bytes first so that the common case (nothing to escape) is one append of
    /// the whole string.
    package static func escape(_ value: some StringProtocol, into out: inout String) {
        var needsEscaping = false
        for byte in value.utf8 where byte == 0x26 || byte == 0x3C || byte == 0x3E || byte == 0x22 || byte == 0x27 {
            needsEscaping = true
            break
        }
        guard needsEscaping else {
            out += value
            return
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
    }

    package static func escaped(_ value: some StringProtocol) -> String {
        var out = ""
        escape(value, into: &out)
        return out
    }
}
