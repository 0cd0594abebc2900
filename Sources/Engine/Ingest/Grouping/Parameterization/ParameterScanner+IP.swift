extension ParameterScanner {
    // MARK: ip (IP-like candidate + Python `ipaddress` validation)

    mutating func ip(_ p: Int, _ b: UInt8, _ boundary: Bool) -> IPMatch {
        if isHex(b) || b == ASCII.colon, p == 0 || !isASCIIWord(s[p - 1]),
            let candidate = ipv6Candidate(p)
        {
            return isValidIPv6(candidate) ? .valid(candidate.end) : .rejected(candidate.end)
        }
        if isDigit(b), boundary, let end = ipv4Candidate(p) { return .valid(end) }
        return .none
    }

    struct IPv6Candidate {
        var start: Int
        var addressEnd: Int
        var zone: Bool
        var prefixStart: Int?
        var end: Int
    }

    /// Hex groups of 1-4 digits separated by colons (at least two colons), optionally ending in
    /// a dotted quad, then an optional `%zone` or `/prefix`; not followed by `[0-9a-zA-Z]`.
    /// A leading colon must be exactly `::`; a single trailing colon is left out; a run of 3+
    /// trailing colons is not IP-like (mirrors getsentry/sentry#112995).
    mutating func ipv6Candidate(_ p: Int) -> IPv6Candidate? {
        if s[p] == ASCII.colon {
            guard byte(p + 1) == ASCII.colon, byte(p + 2) != ASCII.colon,
                p == 0 || s[p - 1] != ASCII.colon
            else { return nil }
        }
        var i = p
        var colons = 0
        while true {
            let groupStart = i
            let length = span(i, limit: 5, isHex)
            guard length <= 4 else { return nil }
            i += length
            if byte(i) == ASCII.colon {
                colons += 1
                guard colons <= 8 else { return nil }
                i += 1
                continue
            }
            if byte(i) == ASCII.dot, (1...3).contains(length), digits(groupStart, length),
                let end = dottedQuadEnd(groupStart)
            {
                i = end
            }
            break
        }
        var trailing = 0
        while i - trailing - 1 >= p, s[i - trailing - 1] == ASCII.colon { trailing += 1 }
        if trailing == 1 {
            i -= 1
            colons -= 1
        } else if trailing >= 3 {
            return nil
        }
        guard colons >= 2 else { return nil }
        var candidate = IPv6Candidate(start: p, addressEnd: i, zone: false, prefixStart: nil, end: i)
        if byte(i) == ASCII.percent, isAlnum(byte(i + 1)) {
            var j = i + 1
            while isAlnum(byte(j)) { j += 1 }
            candidate.zone = true
            candidate.end = j
        } else if byte(i) == ASCII.slash, isDigit(byte(i + 1)) {
            let count = digitCount(i + 1)
            if count <= 3, !isAlnum(byte(i + 1 + count)) {
                candidate.prefixStart = i + 1
                candidate.end = i + 1 + count
            }
        }
        return isAlnum(byte(candidate.end)) ? nil : candidate
    }

    /// `\b` dotted quad of valid octets (0-255, no leading zeros), optional `/prefix`, `\b`.
    mutating func ipv4Candidate(_ p: Int) -> Int? {
        guard let quadEnd = dottedQuadEnd(p), isValidIPv4(p, quadEnd) else { return nil }
        var end = quadEnd
        if byte(end) == ASCII.slash, isDigit(byte(end + 1)) {
            let count = digitCount(end + 1)
            if count <= 2, decimal(end + 1, end + 1 + count) <= 32, !isWord(at: end + 1 + count) {
                end += 1 + count
            }
        }
        return isWord(at: end) ? nil : end
    }

    /// End of `\d{1,3}(\.\d{1,3}){3}` made of whole digit runs, or nil.
    mutating func dottedQuadEnd(_ p: Int) -> Int? {
        var i = p
        for octet in 0..<4 {
            if octet > 0 {
                guard byte(i) == ASCII.dot else { return nil }
                i += 1
            }
            let count = digitCount(i)
            guard (1...3).contains(count) else { return nil }
            i += count
        }
        return i
    }

    func decimal(_ start: Int, _ end: Int) -> Int {
        var value = 0
        for k in start..<end { value = value * 10 + Int(s[k] &- 0x30) }
        return value
    }

    /// Python `ipaddress.IPv4Address` rules: four decimal octets, 0-255, no leading zeros.
    func isValidIPv4(_ start: Int, _ end: Int) -> Bool {
        var octets = 0
        var i = start
        while i <= end {
            var j = i
            while j < end, s[j] != ASCII.dot { j += 1 }
            let length = j - i
            guard (1...3).contains(length), digits(i, length) else { return false }
            if length > 1, s[i] == 0x30 { return false }
            guard decimal(i, j) <= 255 else { return false }
            octets += 1
            i = j + 1
        }
        return octets == 4
    }

    /// Python `ipaddress.IPv6Address` / `ip_network(strict=False)` acceptance.
    func isValidIPv6(_ c: IPv6Candidate) -> Bool {
        if let prefixStart = c.prefixStart, decimal(prefixStart, c.end) > 128 { return false }
        var parts: [Range<Int>] = []
        var partStart = c.start
        for k in c.start..<c.addressEnd where s[k] == ASCII.colon {
            parts.append(partStart..<k)
            partStart = k + 1
        }
        parts.append(partStart..<c.addressEnd)
        guard parts.count >= 3 else { return false }
        var hextets = parts.map { Optional($0) }
        if let last = parts.last, s[last].contains(ASCII.dot) {
            guard isValidIPv4(last.lowerBound, last.upperBound) else { return false }
            hextets.removeLast()
            hextets.append(nil)  // two synthetic, always-valid hextets
            hextets.append(nil)
        }
        guard hextets.count <= 9 else { return false }
        func isEmpty(_ index: Int) -> Bool { hextets[index].map { $0.isEmpty } ?? false }
        var skipIndex: Int?
        if hextets.count > 2 {
            for index in 1..<(hextets.count - 1) where isEmpty(index) {
                guard skipIndex == nil else { return false }
                skipIndex = index
            }
        }
        var high = hextets.count
        var low = 0
        if let skip = skipIndex {
            high = skip
            low = hextets.count - skip - 1
            if isEmpty(0) {
                high -= 1
                if high != 0 { return false }
            }
            if isEmpty(hextets.count - 1) {
                low -= 1
                if low != 0 { return false }
            }
            if 8 - (high + low) < 1 { return false }
        } else {
            guard hextets.count == 8, !isEmpty(0), !isEmpty(hextets.count - 1) else { return false }
        }
        func validHextet(_ index: Int) -> Bool {
            guard let range = hextets[index] else { return true }
            return (1...4).contains(range.count) && s[range].allSatisfy(isHex)
        }
        for index in 0..<high where !validHextet(index) { return false }
        for index in (hextets.count - low)..<hextets.count where !validHextet(index) { return false }
        return true
    }
}
