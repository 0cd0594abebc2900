extension ParameterScanner {
    // MARK: date

    static let dateStarts: [Bool] = (0..<128).map { b in
        "SMTWFJAONDd".utf8.contains(UInt8(b)) || (0x30...0x39).contains(b)
    }

    mutating func date(_ p: Int, _ b: UInt8, _ boundary: Bool) -> Int? {
        guard Self.dateStarts[Int(b)] else { return nil }
        if isDigit(b) {
            if let end = rfc3339(p) { return end }
            if let end = datetime(p) { return end }
            if let end = kitchen12(p) { return end }
            if let end = kitchen24(p) { return end }
            if let end = plainDate(p) { return end }
            if let end = plainTime(p) { return end }
            if boundary, let end = oldNumericDate(p) { return end }
            return nil
        }
        if let end = rfc822(p) { return end }
        if let end = monthDayYear(p) { return end }
        if let end = rfc850(p) { return end }
        if let end = javascriptDate(p) { return end }
        if boundary {
            if let end = oldMonthDate(p) { return end }
            if let end = oldNumericDate(p) { return end }
        }
        return pythonDatetime(p)
    }

    /// `[-+]\d{2}[0-5]\d | UT | GMT | [ECMP](ST|DT) | [A-IK-Z]`
    func timezone(_ i: Int) -> Int? {
        let b = byte(i)
        if b == ASCII.plus || b == ASCII.dash {
            return digits(i + 1, 2) && inRange(byte(i + 3), 0x30, 0x35) && isDigit(byte(i + 4)) ? i + 5 : nil
        }
        return timezoneName(i)
    }

    /// `UT | GMT | [ECMP](ST|DT) | [A-IK-Z]`
    func timezoneName(_ i: Int) -> Int? {
        let b = byte(i)
        if literal(i, 0x55, 0x54) { return i + 2 }  // UT
        if literal(i, 0x47, 0x4D, 0x54) { return i + 3 }  // GMT
        if b == 0x45 || b == 0x43 || b == 0x4D || b == 0x50,
            literal(i + 1, 0x53, 0x54) || literal(i + 1, 0x44, 0x54)
        {
            return i + 3
        }
        if inRange(b, 0x41, 0x5A), b != 0x4A { return i + 1 }  // [A-IK-Z]
        return nil
    }

    /// RFC822 / RFC1123(Z):
    /// `Day,\s\d{1,2}\sMon\s\d{2,4}\s\d{1,2}:\d{1,2}(:\d{1,2})?\s(tz)`
    mutating func rfc822(_ p: Int) -> Int? {
        guard isDay(p), byte(p + 3) == ASCII.comma, let w1 = space(p + 4) else { return nil }
        var i = p + 4 + w1
        var count = digitCount(i)
        guard (1...2).contains(count), let w2 = space(i + count) else { return nil }
        i += count + w2
        guard isMonth(i), let w3 = space(i + 3) else { return nil }
        i += 3 + w3
        count = digitCount(i)
        guard (2...4).contains(count), let w4 = space(i + count) else { return nil }
        i += count + w4
        count = digitCount(i)
        guard (1...2).contains(count), byte(i + count) == ASCII.colon else { return nil }
        i += count + 1
        count = digitCount(i)
        guard (1...2).contains(count) else { return nil }
        i += count
        if byte(i) == ASCII.colon {
            let seconds = digitCount(i + 1)
            guard (1...2).contains(seconds) else { return nil }
            i += 1 + seconds
        }
        guard let w5 = space(i) else { return nil }
        return timezone(i + w5)
    }

    /// `((Day)\s)?Mon\s[0-3]\d,\s\d{2,4}` ("Mon Jan 02, 1999", "Jan 02, 1999")
    mutating func monthDayYear(_ p: Int) -> Int? {
        if isDay(p), let w = space(p + 3), let end = monthDayYearTail(p + 3 + w) { return end }
        return monthDayYearTail(p)
    }

    mutating func monthDayYearTail(_ start: Int) -> Int? {
        guard isMonth(start), let w1 = space(start + 3) else { return nil }
        var i = start + 3 + w1
        guard inRange(byte(i), 0x30, 0x33), isDigit(byte(i + 1)), byte(i + 2) == ASCII.comma,
            let w2 = space(i + 3)
        else { return nil }
        i += 3 + w2
        let count = digitCount(i)
        return count >= 2 ? i + min(count, 4) : nil
    }

    /// RFC850: `(Day|Dayname),\s\d{2}-Mon-\d{2}\s\d{2}:\d{2}:\d{2}\s(tz name)`
    func rfc850(_ p: Int) -> Int? {
        var i: Int
        if isDay(p), byte(p + 3) == ASCII.comma {
            i = p + 4
        } else if let name = DateAndHostNames.fullDays.first(where: { literal(p, $0) }),
            byte(p + name.count) == ASCII.comma
        {
            i = p + name.count + 1
        } else {
            return nil
        }
        guard let w1 = space(i) else { return nil }
        i += w1
        guard digits(i, 2), byte(i + 2) == ASCII.dash, isMonth(i + 3), byte(i + 6) == ASCII.dash,
            digits(i + 7, 2), let w2 = space(i + 9)
        else { return nil }
        i += 9 + w2
        guard digits(i, 2), byte(i + 2) == ASCII.colon, digits(i + 3, 2), byte(i + 5) == ASCII.colon,
            digits(i + 6, 2), let w3 = space(i + 8)
        else { return nil }
        return timezoneName(i + 8 + w3)
    }

    /// RFC3339(Nano): `\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?([+-]?\d{2}:\d{2})?`
    mutating func rfc3339(_ p: Int) -> Int? {
        guard digits(p, 4), byte(p + 4) == ASCII.dash, digits(p + 5, 2), byte(p + 7) == ASCII.dash,
            digits(p + 8, 2), byte(p + 10) == 0x54, digits(p + 11, 2), byte(p + 13) == ASCII.colon,
            digits(p + 14, 2), byte(p + 16) == ASCII.colon, digits(p + 17, 2)
        else { return nil }
        var i = p + 19
        if byte(i) == ASCII.dot, isDigit(byte(i + 1)) { i = digitEnd(i + 1) }
        if byte(i) == 0x5A { i += 1 }
        let sign = byte(i) == ASCII.plus || byte(i) == ASCII.dash ? 1 : 0
        if digits(i + sign, 2), byte(i + sign + 2) == ASCII.colon, digits(i + sign + 3, 2) {
            i += sign + 5
        }
        return i
    }

    /// JavaScript `Date.toString()`:
    /// `Day\sMon\s\d{2}\s\d{4}\s\d{2}:\d{2}:\d{2}\sGMT[+-]\d{4}(\s\([^)]+\))?`
    mutating func javascriptDate(_ p: Int) -> Int? {
        guard isDay(p), let w1 = space(p + 3) else { return nil }
        var i = p + 3 + w1
        guard isMonth(i), let w2 = space(i + 3) else { return nil }
        i += 3 + w2
        guard digits(i, 2), let w3 = space(i + 2) else { return nil }
        i += 2 + w3
        guard digits(i, 4), let w4 = space(i + 4) else { return nil }
        i += 4 + w4
        guard digits(i, 2), byte(i + 2) == ASCII.colon, digits(i + 3, 2), byte(i + 5) == ASCII.colon,
            digits(i + 6, 2), let w5 = space(i + 8)
        else { return nil }
        i += 8 + w5
        guard literal(i, 0x47, 0x4D, 0x54), byte(i + 3) == ASCII.plus || byte(i + 3) == ASCII.dash,
            digits(i + 4, 4)
        else { return nil }
        i += 8
        if let w6 = space(i), byte(i + w6) == ASCII.openParen {
            let contentStart = i + w6 + 1
            let close = closeParen.find(s, from: contentStart, ASCII.closeParen, ASCII.closeParen)
            if close < n, close > contentStart { return close + 1 }
        }
        return i
    }

    /// Compressed or separated datetime, with (first) or without a timezone suffix:
    /// `\d{4}-?[01]\d-?[0-3]\d[\sT][0-2]\d:?[0-5]\d(:?[0-5]\d(\.\d+)?)?` + `([+-][0-2]\d:?[0-5]\d|Z)`
    mutating func datetime(_ p: Int) -> Int? {
        guard digits(p, 4) else { return nil }
        var i = p + 4
        if byte(i) == ASCII.dash { i += 1 }
        guard inRange(byte(i), 0x30, 0x31), isDigit(byte(i + 1)) else { return nil }
        i += 2
        if byte(i) == ASCII.dash { i += 1 }
        guard inRange(byte(i), 0x30, 0x33), isDigit(byte(i + 1)) else { return nil }
        i += 2
        if byte(i) == 0x54 {
            i += 1
        } else if let w = space(i) {
            i += w
        } else {
            return nil
        }
        guard inRange(byte(i), 0x30, 0x32), isDigit(byte(i + 1)) else { return nil }
        i += 2
        if byte(i) == ASCII.colon { i += 1 }
        guard inRange(byte(i), 0x30, 0x35), isDigit(byte(i + 1)) else { return nil }
        let afterMinutes = i + 2
        var afterSeconds: Int?
        var afterFraction: Int?
        var j = afterMinutes
        if byte(j) == ASCII.colon { j += 1 }
        if inRange(byte(j), 0x30, 0x35), isDigit(byte(j + 1)) {
            afterSeconds = j + 2
            if byte(j + 2) == ASCII.dot, isDigit(byte(j + 3)) { afterFraction = digitEnd(j + 3) }
        }
        // With timezone offset: decimal seconds, seconds, no seconds.
        if let f = afterFraction, let end = timezoneOffset(f) { return end }
        if let sec = afterSeconds, let end = timezoneOffset(sec) { return end }
        if let end = timezoneOffset(afterMinutes) { return end }
        // Without: decimal seconds, seconds, no seconds.
        return afterFraction ?? afterSeconds ?? afterMinutes
    }

    /// `[+-][0-2]\d:?[0-5]\d | Z`
    func timezoneOffset(_ i: Int) -> Int? {
        let b = byte(i)
        if b == 0x5A { return i + 1 }
        guard b == ASCII.plus || b == ASCII.dash, inRange(byte(i + 1), 0x30, 0x32), isDigit(byte(i + 2)) else {
            return nil
        }
        let j = byte(i + 3) == ASCII.colon ? i + 4 : i + 3
        return inRange(byte(j), 0x30, 0x35) && isDigit(byte(j + 1)) ? j + 2 : nil
    }

    /// Shared tail of the kitchen patterns: `:[0-5]\d(:[0-5]\d)?(?![\d:])` after the hour.
    func kitchenMinutes(_ colon: Int) -> Int? {
        guard byte(colon) == ASCII.colon, inRange(byte(colon + 1), 0x30, 0x35), isDigit(byte(colon + 2)) else {
            return nil
        }
        var i = colon + 3
        if byte(i) == ASCII.colon, inRange(byte(i + 1), 0x30, 0x35), isDigit(byte(i + 2)) { i += 3 }
        let next = byte(i)
        return isDigit(next) || next == ASCII.colon ? nil : i
    }

    /// Kitchen, 12-hr: `(?<!\d)([1-9]|1[0-2]):[0-5]\d(:[0-5]\d)?(?![\d:])(\s?[aApP][Mm])?`
    func kitchen12(_ p: Int) -> Int? {
        guard p == 0 || !isDigit(s[p - 1]) else { return nil }
        let colon: Int
        if inRange(s[p], 0x31, 0x39), byte(p + 1) == ASCII.colon {
            colon = p + 1
        } else if s[p] == 0x31, inRange(byte(p + 1), 0x30, 0x32), byte(p + 2) == ASCII.colon {
            colon = p + 2
        } else {
            return nil
        }
        guard let end = kitchenMinutes(colon) else { return nil }
        func meridiem(_ i: Int) -> Bool {
            let a = byte(i) | 0x20
            return (a == 0x61 || a == 0x70) && byte(i + 1) | 0x20 == 0x6D
        }
        if let w = space(end), meridiem(end + w) { return end + w + 2 }
        if meridiem(end) { return end + 2 }
        return end
    }

    /// Kitchen, 24-hr: `(?<!\d)(0?\d|1\d|2[0-3]):[0-5]\d(:[0-5]\d)?(?![\d:])`
    func kitchen24(_ p: Int) -> Int? {
        guard p == 0 || !isDigit(s[p - 1]) else { return nil }
        let b0 = s[p]
        let b1 = byte(p + 1)
        if b1 == ASCII.colon { return kitchenMinutes(p + 1) }
        guard isDigit(b1), byte(p + 2) == ASCII.colon,
            b0 == 0x30 || b0 == 0x31 || (b0 == 0x32 && b1 <= 0x33)
        else { return nil }
        return kitchenMinutes(p + 2)
    }

    /// `\d{4}-[01]\d-[0-3]\d`
    func plainDate(_ p: Int) -> Int? {
        guard digits(p, 4), byte(p + 4) == ASCII.dash, inRange(byte(p + 5), 0x30, 0x31), isDigit(byte(p + 6)),
            byte(p + 7) == ASCII.dash, inRange(byte(p + 8), 0x30, 0x33), isDigit(byte(p + 9))
        else { return nil }
        return p + 10
    }

    /// `[0-2]\d:[0-5]\d:[0-5]\d`
    func plainTime(_ p: Int) -> Int? {
        guard inRange(s[p], 0x30, 0x32), isDigit(byte(p + 1)), byte(p + 2) == ASCII.colon,
            inRange(byte(p + 3), 0x30, 0x35), isDigit(byte(p + 4)), byte(p + 5) == ASCII.colon,
            inRange(byte(p + 6), 0x30, 0x35), isDigit(byte(p + 7))
        else { return nil }
        return p + 8
    }

    /// Old format: `\b((Day)\s+)?Mon\s+\d{1,2}\s+\d{2}:\d{2}:\d{2}\s+\d{4}`
    mutating func oldMonthDate(_ p: Int) -> Int? {
        if isDay(p), let w = spaces(p + 3), let end = oldMonthDateTail(p + 3 + w) { return end }
        return oldMonthDateTail(p)
    }

    mutating func oldMonthDateTail(_ start: Int) -> Int? {
        guard isMonth(start), let w1 = spaces(start + 3) else { return nil }
        var i = start + 3 + w1
        let count = digitCount(i)
        guard (1...2).contains(count), let w2 = spaces(i + count) else { return nil }
        i += count + w2
        guard digits(i, 2), byte(i + 2) == ASCII.colon, digits(i + 3, 2), byte(i + 5) == ASCII.colon,
            digits(i + 6, 2), let w3 = spaces(i + 8)
        else { return nil }
        i += 8 + w3
        return digits(i, 4) ? i + 4 : nil
    }

    /// Old format: `\b((Day),\s+)?(0[1-9]|[1-2]?\d|3[01])\s+Mon\s+(19\d{2}|[2-9]\d{3})\s+`
    /// `(2[0-3]|[0-1]\d):[0-5]\d(:(60|[0-5]\d))?\s+(tz)`
    mutating func oldNumericDate(_ p: Int) -> Int? {
        var i = p
        if isDay(p), byte(p + 3) == ASCII.comma, let w = spaces(p + 4) { i = p + 4 + w }
        let count = digitCount(i)
        switch count {
        case 1: break
        case 2:
            let d0 = s[i]
            let d1 = s[i + 1]
            let ok = (d0 == 0x30 && d1 != 0x30) || d0 == 0x31 || d0 == 0x32 || (d0 == 0x33 && d1 <= 0x31)
            guard ok else { return nil }
        default: return nil
        }
        guard let w1 = spaces(i + count) else { return nil }
        i += count + w1
        guard isMonth(i), let w2 = spaces(i + 3) else { return nil }
        i += 3 + w2
        guard digitCount(i) == 4, (s[i] == 0x31 && s[i + 1] == 0x39) || inRange(s[i], 0x32, 0x39),
            let w3 = spaces(i + 4)
        else { return nil }
        i += 4 + w3
        let h0 = byte(i)
        let h1 = byte(i + 1)
        guard (h0 == 0x32 && inRange(h1, 0x30, 0x33)) || (inRange(h0, 0x30, 0x31) && isDigit(h1)),
            byte(i + 2) == ASCII.colon, inRange(byte(i + 3), 0x30, 0x35), isDigit(byte(i + 4))
        else {
            return nil
        }
        i += 5
        if byte(i) == ASCII.colon {
            let a = byte(i + 1)
            let b = byte(i + 2)
            guard (a == 0x36 && b == 0x30) || (inRange(a, 0x30, 0x35) && isDigit(b)) else { return nil }
            i += 3
        }
        guard let w4 = spaces(i) else { return nil }
        return timezone(i + w4)
    }

    /// `datetime.datetime\(.*?\)` (the `.` between the words is a wildcard, as in Sentry).
    mutating func pythonDatetime(_ p: Int) -> Int? {
        let word = ASCII.datetime
        guard literal(p, word), p + 8 < n, s[p + 8] != ASCII.newline else { return nil }
        let i = p + 8 + scalarLength(s[p + 8])
        guard literal(i, word), byte(i + 8) == ASCII.openParen else { return nil }
        let close = closeParenOrNewline.find(s, from: i + 9, ASCII.closeParen, ASCII.newline)
        return close < n && s[close] == ASCII.closeParen ? close + 1 : nil
    }
}
