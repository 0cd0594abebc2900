extension ParameterScanner {
    // MARK: duration  `\b(\d+ms) | (\d+(\.\d+)?s)\b`

    mutating func duration(_ p: Int, _ boundary: Bool) -> Int? {
        let end = digitEnd(p)
        if boundary, byte(end) == 0x6D, byte(end + 1) == 0x73 { return end + 2 }
        var i = end
        if byte(i) == ASCII.dot {
            guard isDigit(byte(i + 1)) else { return nil }
            i = digitEnd(i + 1)
        }
        return byte(i) == 0x73 && !isWord(at: i + 1) ? i + 1 : nil
    }

    // MARK: swift_txn_id  `\btx[0-9a-f]{21}-[0-9a-f]{10}\S*`

    func swiftTxnID(_ p: Int) -> Int? {
        guard byte(p + 1) == 0x78, span(p + 2, limit: 21, isLowerHex) == 21, byte(p + 23) == ASCII.dash,
            span(p + 24, limit: 10, isLowerHex) == 10
        else { return nil }
        var i = p + 34
        while i < n, whitespaceLength(s, i) == 0 { i += scalarLength(s[i]) }
        return i
    }

    // MARK: hex

    /// `(\b0[xX][0-9a-fA-F]+\b) | ((\b|(?<!\w)-)(4-6 mixed digits+letters | 8-128 hex)\b)`
    func hex(_ p: Int, _ b: UInt8, _ boundary: Bool) -> Int? {
        if boundary, b == 0x30, byte(p + 1) | 0x20 == 0x78 {
            var i = p + 2
            while i < n, isHex(s[i]) { i += 1 }
            if i > p + 2, !isWord(at: i) { return i }
        }
        if boundary, let end = hexBody(p) { return end }
        if b == ASCII.dash, !isWord(before: p), let end = hexBody(p + 1) { return end }
        return nil
    }

    func hexBody(_ q: Int) -> Int? {
        // Within a run of same-case hex characters only the full run can be followed by `\b`, and
        // the digit / letter lookaheads then reduce to "the run contains a digit / a letter".
        let lower = span(q, limit: 129, isLowerHex)
        let upper = span(q, limit: 129, isUpperHex)
        let lowerEnds = !isWord(at: q + lower)
        let upperEnds = !isWord(at: q + upper)
        if (4...6).contains(lower), lowerEnds, mixed(q, lower, isLowerHexLetter) { return q + lower }
        if (4...6).contains(upper), upperEnds, mixed(q, upper, isUpperHexLetter) { return q + upper }
        if (8...128).contains(lower), lowerEnds { return q + lower }
        if (8...128).contains(upper), upperEnds { return q + upper }
        return nil
    }

    /// The run contains at least one digit and at least one hex letter.
    func mixed(_ q: Int, _ length: Int, _ isLetter: (UInt8) -> Bool) -> Bool {
        var digit = false
        var letter = false
        for k in q..<(q + length) {
            if isDigit(s[k]) { digit = true } else if isLetter(s[k]) { letter = true }
        }
        return digit && letter
    }

    // MARK: git_sha  `\b(?=[a-f]*[0-9])(?=[0-9]*[a-f])[0-9a-f]{7}\b`

    func gitSHA(_ p: Int) -> Int? {
        let length = span(p, limit: 8, isLowerHex)
        guard length == 7, !isWord(at: p + 7), mixed(p, 7, isLowerHexLetter) else { return nil }
        return p + 7
    }

    // MARK: float  `-\d+\.\d+\b | \b\d+\.\d+\b`

    mutating func float(_ p: Int, _ b: UInt8, _ boundary: Bool) -> Int? {
        let start: Int
        if b == ASCII.dash {
            start = p + 1
        } else if boundary, isDigit(b) {
            start = p
        } else {
            return nil
        }
        let integerEnd = digitEnd(start)
        guard integerEnd > start, byte(integerEnd) == ASCII.dot, isDigit(byte(integerEnd + 1)) else { return nil }
        let end = digitEnd(integerEnd + 1)
        return isWord(at: end) ? nil : end
    }

    // MARK: int  `(\b|(?<!\w)-)\d{1,7}\b`

    mutating func int(_ p: Int, _ b: UInt8, _ boundary: Bool) -> Int? {
        if boundary, isDigit(b) {
            let end = digitEnd(p)
            if end - p <= 7, !isWord(at: end) { return end }
        }
        if b == ASCII.dash, isDigit(byte(p + 1)), !isWord(before: p) {
            let end = digitEnd(p + 1)
            if end - p - 1 <= 7, !isWord(at: end) { return end }
        }
        return nil
    }

    // MARK: quoted_str  `(?<==)('[^']+'|"[^"]+")`   bool  `(?<==)(True|true|False|false)`

    mutating func quotedStr(_ p: Int, _ b: UInt8) -> Int? {
        let close: Int
        if b == ASCII.quote {
            close = singleQuote.find(s, from: p + 1, ASCII.quote, ASCII.quote)
        } else if b == ASCII.doubleQuote {
            close = doubleQuote.find(s, from: p + 1, ASCII.doubleQuote, ASCII.doubleQuote)
        } else {
            return nil
        }
        return close < n && close > p + 1 ? close + 1 : nil
    }

    func bool(_ p: Int) -> Int? {
        let b = s[p]
        if b == 0x54 || b == 0x74, literal(p + 1, 0x72, 0x75, 0x65) { return p + 4 }  // [Tt]rue
        if b == 0x46 || b == 0x66, literal(p + 1, ASCII.alse) { return p + 5 }  // [Ff]alse
        return nil
    }
}
