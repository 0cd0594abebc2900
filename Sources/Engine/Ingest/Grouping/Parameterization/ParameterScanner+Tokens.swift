extension ParameterScanner {
    // MARK: email  `[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*`

    mutating func email(_ p: Int) -> Int? {
        guard p >= emailFailUntil, isEmailLocal(s[p]) else { return nil }
        var i = p + 1
        while i < n, isEmailLocal(s[i]) { i += 1 }
        // The local run cannot contain '@', so every start inside this run fails the same way.
        guard i < n, s[i] == 0x40, i + 1 < n, isLabelChar(s[i + 1]) else {
            emailFailUntil = i
            return nil
        }
        var j = i + 2
        while j < n, isLabelChar(s[j]) { j += 1 }
        while j + 1 < n, s[j] == ASCII.dot, isLabelChar(s[j + 1]) {
            j += 2
            while j < n, isLabelChar(s[j]) { j += 1 }
        }
        return j
    }

    // MARK: url  `\b(wss?|https?|ftp)://[^\s/$.?#].[^\s]*`

    func url(_ p: Int) -> Int? {
        var i: Int
        if literal(p, 0x77, 0x73) {  // ws
            i = p + 2
        } else if literal(p, ASCII.http) {
            i = p + 4
        } else if literal(p, 0x66, 0x74, 0x70) {  // ftp
            i = p + 3
        } else {
            return nil
        }
        if s[p] != 0x66, byte(i) == 0x73, literal(i + 1, ASCII.schemeSeparator) { i += 1 }  // optional 's'
        guard literal(i, ASCII.schemeSeparator) else { return nil }
        i += 3
        // [^\s/$.?#]
        guard i < n else { return nil }
        switch s[i] {
        case ASCII.slash, 0x24, ASCII.dot, 0x3F, 0x23: return nil
        default: break
        }
        if whitespaceLength(s, i) > 0 { return nil }
        i += scalarLength(s[i])
        // `.` (anything but a newline)
        guard i < n, s[i] != ASCII.newline else { return nil }
        i += scalarLength(s[i])
        // [^\s]*
        while i < n, whitespaceLength(s, i) == 0 { i += scalarLength(s[i]) }
        return i
    }

    // MARK: hostname  `\b([a-zA-Z0-9\-]{1,63}\.)+?(TLD)\b`

    mutating func hostname(_ p: Int) -> Int? {
        guard p >= hostnameFailUntil else { return nil }
        var labelStart = p
        while true {
            let length = span(labelStart, limit: 64, isLabelChar)
            let dot = labelStart + length
            guard length >= 1, length <= 63, dot < n, s[dot] == ASCII.dot else {
                // Any start before this label sees the same dots / TLD checks and fails here too.
                hostnameFailUntil = max(hostnameFailUntil, labelStart)
                return nil
            }
            if let end = tld(dot + 1) { return end }
            labelStart = dot + 1
        }
    }

    /// A TLD from the list (all-lowercase or all-uppercase) followed by `\b`.
    func tld(_ t: Int) -> Int? {
        let length = span(t, limit: DateAndHostNames.maxTLDLength + 1, isAlpha)
        guard length >= 2, length <= DateAndHostNames.maxTLDLength, !isWord(at: t + length) else { return nil }
        let letters = UnsafeBufferPointer(rebasing: s[t..<(t + length)])
        let allLower = letters.allSatisfy { $0 &- 0x61 < 26 }
        let allUpper = letters.allSatisfy { $0 &- 0x41 < 26 }
        guard allLower || allUpper else { return nil }
        let key = DateAndHostNames.pack(letters.lazy.map { $0 | 0x20 })
        return DateAndHostNames.tlds.contains(key) ? t + length : nil
    }

    // MARK: traceparent  W3C `00-{32}-{16}-0[01]` or AWS `1-{8}-{24}`, lowercase hex, `\b` both ends

    func traceparent(_ p: Int) -> Int? {
        func hexRun(_ i: Int, _ count: Int) -> Bool {
            guard i + count <= n else { return false }
            for k in i..<(i + count) where !isLowerHex(s[k]) { return false }
            return true
        }
        if literal(p, 0x30, 0x30, ASCII.dash), hexRun(p + 3, 32), byte(p + 35) == ASCII.dash,
            hexRun(p + 36, 16), byte(p + 52) == ASCII.dash, byte(p + 53) == 0x30,
            byte(p + 54) == 0x30 || byte(p + 54) == 0x31, !isWord(at: p + 55)
        {
            return p + 55
        }
        if literal(p, 0x31, ASCII.dash), hexRun(p + 2, 8), byte(p + 10) == ASCII.dash,
            hexRun(p + 11, 24), !isWord(at: p + 35)
        {
            return p + 35
        }
        return nil
    }

    // MARK: uuid  `\b8-4-4-4-12\b` (either case)

    func uuid(_ p: Int) -> Int? {
        var i = p
        for (index, count) in ASCII.uuidGroups.enumerated() {
            if index > 0 {
                guard byte(i) == ASCII.dash else { return nil }
                i += 1
            }
            guard span(i, limit: count + 1, isHex) == count else { return nil }
            i += count
        }
        return isWord(at: i) ? nil : i
    }
}
