import PitModel

/// Display forms of numbers and times, shared by the pages.
enum Format {
    /// "12 s ago", "5 min ago", "3 h ago", "2 d ago", "4 mo ago"; "in the future" for clock skew.
    static func relative(_ milliseconds: Int64, now: Int64) -> String {
        let seconds = (now &- milliseconds) / 1000
        if seconds < -5 { return "in the future" }
        if seconds < 60 { return "\(max(seconds, 0)) s ago" }
        if seconds < 3600 { return "\(seconds / 60) min ago" }
        if seconds < 86_400 { return "\(seconds / 3600) h ago" }
        if seconds < 86_400 * 60 { return "\(seconds / 86_400) d ago" }
        if seconds < 86_400 * 730 { return "\(seconds / (86_400 * 30)) mo ago" }
        return "\(seconds / (86_400 * 365)) y ago"
    }

    /// `2026-11-22 06:10:05 UTC`.
    static func exact(_ milliseconds: Int64) -> String {
        let iso = Timestamp.format(milliseconds: milliseconds)
        return String(iso.prefix(10)) + " " + String(iso.dropFirst(11).prefix(8)) + " UTC"
    }

    /// A relative time whose exact time shows on hover; `<time>` keeps it machine-readable.
    static func time(_ milliseconds: Int64, now: Int64) -> HTML {
        "<time datetime=\"\(Timestamp.format(milliseconds: milliseconds))\" title=\"\(exact(milliseconds))\">\(relative(milliseconds, now: now))</time>"
    }

    /// `1,234,567`.
    static func count(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var out = value < 0 ? "-" : ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return out
    }

    static func count(_ value: Int) -> String { count(Int64(value)) }

    /// `12k`, `3.4M`: for tight columns, with the exact figure in a title.
    static func compact(_ value: Int64) -> String {
        switch value {
        case ..<10_000: return String(value)
        case ..<1_000_000: return "\(value / 1000)k"
        default:
            let tenths = value / 100_000
            return "\(tenths / 10).\(tenths % 10)M"
        }
    }

    /// At most `limit` characters, with an ellipsis and the count of what was cut.
    static func truncated(_ text: String, limit: Int) -> String {
        guard text.count > limit else { return text }
        return String(text.prefix(limit)) + "… (\(count(text.count - limit)) more characters)"
    }

    static func percent(_ part: Int64, of total: Int64) -> String {
        guard total > 0 else { return "0%" }
        let tenths = (part * 1000 + total / 2) / total
        if tenths >= 100 || tenths % 10 == 0 { return "\(tenths / 10)%" }
        return "\(tenths / 10).\(tenths % 10)%"
    }
}
