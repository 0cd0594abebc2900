/// Sentry timestamps: RFC 3339 strings (with or without fraction, `Z`, an offset, or no zone
/// meaning UTC) or epoch seconds. Parsed by hand because Foundation's date formatters are slow
/// and locale-dependent on the ingest path.
package enum Timestamp {
    /// Seconds since the epoch, or nil when the text is not a timestamp Sentry accepts.
    package static func parse(_ text: String) -> Double? {
        var text = text
        return text.withUTF8 { parse(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// `parse` on UTF-8 bytes; works on a copy on the stack (a String or an array per timestamp
    /// were two of an envelope's mallocs).
    package static func parse(utf8 text: UnsafeRawBufferPointer) -> Double? {
        if text.count > 64 { return nil }
        // Epoch seconds sent as a string ("1700000000.5") are accepted by Relay too.
        if let first = text.first, first != UInt8(ascii: "-"), !text.contains(UInt8(ascii: "-")) {
            if let value = Double(String(decoding: text, as: UTF8.self)), value.isFinite { return value }
            return nil
        }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: text.count + 1) { utf8 in
            for index in 0..<text.count { utf8[index] = text[index] }
            utf8[text.count] = 0  // sentinel so lookahead never goes out of bounds
            return parseRFC3339(utf8)
        }
    }

    private static func parseRFC3339(_ utf8: UnsafeMutableBufferPointer<UInt8>) -> Double? {
        var i = 0
        func digits(_ count: Int) -> Int? {
            var value = 0
            for _ in 0..<count {
                let d = utf8[i] &- UInt8(ascii: "0")
                guard d < 10 else { return nil }
                value = value * 10 + Int(d)
                i += 1
            }
            return value
        }
        func expect(_ c: Character) -> Bool {
            guard utf8[i] == c.asciiValue! else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect("-"), let month = digits(2), expect("-"), let day = digits(2) else { return nil }
        // Days are checked against the month: `daysFromCivil` would silently roll "02-30" into March.
        guard (1...12).contains(month), (1...daysInMonth(year: year, month: month)).contains(day) else { return nil }
        var hour = 0
        var minute = 0
        var second = 0
        var fraction = 0.0
        if utf8[i] == UInt8(ascii: "T") || utf8[i] == UInt8(ascii: "t") || utf8[i] == UInt8(ascii: " ") {
            i += 1
            guard let h = digits(2), expect(":"), let m = digits(2) else { return nil }
            hour = h
            minute = m
            if expect(":") {
                guard let s = digits(2) else { return nil }
                second = s
                if utf8[i] == UInt8(ascii: ".") || utf8[i] == UInt8(ascii: ",") {
                    i += 1
                    var scale = 0.1
                    var any = false
                    while utf8[i] &- UInt8(ascii: "0") < 10 {
                        fraction += Double(utf8[i] - UInt8(ascii: "0")) * scale
                        scale /= 10
                        i += 1
                        any = true
                    }
                    guard any else { return nil }
                }
            }
            guard hour < 24, minute < 60, second < 61 else { return nil }
        }
        var offsetSeconds = 0
        switch utf8[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"): i += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            let sign = utf8[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            guard let oh = digits(2) else { return nil }
            // `±hh`, `±hhmm` or `±hh:mm`. The minutes used to be `digits(2) ?? 0`, which accepted
            // "+05:" and "+05:3" (a failed `digits` still advances) as "+05:00".
            let colon = expect(":")
            var om = 0
            if colon || utf8[i] != 0 {
                guard let minutes = digits(2) else { return nil }
                om = minutes
            }
            offsetSeconds = sign * (oh * 3600 + om * 60)
        default: break
        }
        guard utf8[i] == 0, i == utf8.count - 1 else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        return Double(days * 86400 + hour * 3600 + minute * 60 + second - offsetSeconds) + fraction
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// RFC 3339 in UTC with milliseconds, the form Sentry's API returns.
    package static func format(_ seconds: Double) -> String {
        let millis = Int64((seconds * 1000).rounded(.down))
        return format(milliseconds: millis)
    }

    package static func format(milliseconds: Int64) -> String {
        let (days, rest) = splitDays(milliseconds)
        let (y, m, d) = civilFromDays(Int(days))
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        let secs = Int(rest / 1000)
        let frac = Int(rest % 1000)
        return
            "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(secs / 3600, 2)):\(pad(secs / 60 % 60, 2)):\(pad(secs % 60, 2)).\(pad(frac, 3))Z"
    }

    private static func splitDays(_ value: Int64) -> (days: Int64, rest: Int64) {
        let perDay: Int64 = 86_400_000
        var days = value / perDay
        var rest = value % perDay
        if rest < 0 {
            rest += perDay
            days -= 1
        }
        return (days, rest)
    }

    /// Howard Hinnant's days_from_civil.
    package static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    package static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
