// The one left-to-right pass over a value's UTF-8 bytes that replaces Sentry's combined
// parameterization regex; each token class is a matcher in a ParameterScanner+*.swift file.
// Why hand-written: GroupingValueNormalizer.swift.

enum PassResult {
    case unchanged
    case changed([UInt8])
    /// An IP-like candidate failed validation (only reported when asked to stop on it).
    case rejectedIP
}

enum IPMatch {
    case none
    case valid(Int)
    case rejected(Int)
}

enum Match {
    case hit(ParameterPattern, Int)
    case rejectedIP(Int)
}

struct ParameterScanner {
    let s: UnsafeBufferPointer<UInt8>
    let n: Int
    let patterns: UInt32

    // Memoised facts about the input (valid for the whole pass, positions only increase).
    var emailFailUntil = 0
    var hostnameFailUntil = 0
    var digitRunStart = 0
    var digitRunEnd = 0
    var closeParen = NextByteCache()
    var closeParenOrNewline = NextByteCache()
    var singleQuote = NextByteCache()
    var doubleQuote = NextByteCache()

    init(_ s: UnsafeBufferPointer<UInt8>, patterns: UInt32) {
        self.s = s
        self.n = s.count
        self.patterns = patterns
    }

    /// One left-to-right pass: at each position the first pattern (in priority order) that
    /// matches wins, and scanning resumes after the match - like Python's `re.sub`.
    mutating func run(stopOnRejectedIP: Bool) -> PassResult {
        var out: [UInt8] = []
        var changed = false
        var copied = 0
        var i = 0
        while i < n {
            // Every pattern starts with an ASCII character (or the `=` lookbehind).
            if s[i] >= 0x80 {
                i += 1
                continue
            }
            guard let match = matchAt(i) else {
                i += 1
                continue
            }
            switch match {
            case .hit(let pattern, let end):
                if !changed {
                    changed = true
                    out.reserveCapacity(n)
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: s[copied..<i]))
                out.append(contentsOf: ParameterPattern.placeholders[pattern.rawValue])
                i = end
                copied = end
            case .rejectedIP(let end):
                // Sentry's callback returns the candidate unchanged and the regex moves past it.
                if stopOnRejectedIP { return .rejectedIP }
                i = end
            }
        }
        guard changed else { return .unchanged }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: s[copied..<n]))
        return .changed(out)
    }

    // MARK: Primitive helpers

    @inline(__always) func byte(_ i: Int) -> UInt8 { i < n ? s[i] : 0 }

    @inline(__always) func enabled(_ pattern: ParameterPattern) -> Bool { patterns & pattern.bit != 0 }

    /// Python `\w` test for the character starting at `i` (false at the end).
    @inline(__always) func isWord(at i: Int) -> Bool {
        guard i < n else { return false }
        let b = s[i]
        return b < 0x80 ? isASCIIWord(b) : isUnicodeWord(decodeScalar(s, i))
    }

    /// Python `\w` test for the character ending just before `i` (false at the start).
    @inline(__always) func isWord(before i: Int) -> Bool {
        guard i > 0 else { return false }
        let b = s[i - 1]
        if b < 0x80 { return isASCIIWord(b) }
        var j = i - 1
        while j > 0, s[j] & 0xC0 == 0x80 { j -= 1 }
        return isUnicodeWord(decodeScalar(s, j))
    }

    @inline(__always) func space(_ i: Int) -> Int? {
        let length = whitespaceLength(s, i)
        return length > 0 ? length : nil
    }

    /// `\s+`: total length of the whitespace run at `i` (nil if none).
    func spaces(_ i: Int) -> Int? {
        var j = i
        while true {
            let length = whitespaceLength(s, j)
            if length == 0 { break }
            j += length
        }
        return j > i ? j - i : nil
    }

    /// End of the run of ASCII digits starting at `i` (memoised; `i` itself when no digit).
    @inline(__always) mutating func digitEnd(_ i: Int) -> Int {
        if i >= digitRunStart && i < digitRunEnd { return digitRunEnd }
        var j = i
        while j < n, isDigit(s[j]) { j += 1 }
        digitRunStart = i
        digitRunEnd = j
        return j
    }

    @inline(__always) mutating func digitCount(_ i: Int) -> Int { digitEnd(i) - i }

    @inline(__always) func digits(_ i: Int, _ count: Int) -> Bool {
        guard i + count <= n else { return false }
        for k in i..<(i + count) where !isDigit(s[k]) { return false }
        return true
    }

    /// Length of a run of bytes matching `predicate` at `i`, counting at most `limit`.
    @inline(__always) func span(_ i: Int, limit: Int, _ predicate: (UInt8) -> Bool) -> Int {
        var j = i
        while j < n, j - i < limit, predicate(s[j]) { j += 1 }
        return j - i
    }

    func literal(_ i: Int, _ bytes: [UInt8]) -> Bool {
        guard i + bytes.count <= n else { return false }
        for (k, b) in bytes.enumerated() where s[i + k] != b { return false }
        return true
    }

    @inline(__always) func literal(_ i: Int, _ a: UInt8, _ b: UInt8) -> Bool {
        i + 1 < n && s[i] == a && s[i + 1] == b
    }

    @inline(__always) func literal(_ i: Int, _ a: UInt8, _ b: UInt8, _ c: UInt8) -> Bool {
        i + 2 < n && s[i] == a && s[i + 1] == b && s[i + 2] == c
    }

    @inline(__always) func packed3(_ i: Int) -> UInt64 {
        guard i + 3 <= n else { return 0 }
        return UInt64(s[i]) << 16 | UInt64(s[i + 1]) << 8 | UInt64(s[i + 2])
    }

    @inline(__always) func isDay(_ i: Int) -> Bool { DateAndHostNames.days.contains(packed3(i)) }
    @inline(__always) func isMonth(_ i: Int) -> Bool { DateAndHostNames.months.contains(packed3(i)) }

    // MARK: Dispatch

    mutating func matchAt(_ p: Int) -> Match? {
        let b = s[p]
        let boundary = isWord(before: p) != isASCIIWord(b)

        if enabled(.email), let end = email(p) { return .hit(.email, end) }
        if boundary {
            if enabled(.url), let end = url(p) { return .hit(.url, end) }
            if enabled(.hostname), isLabelChar(b), let end = hostname(p) { return .hit(.hostname, end) }
            if enabled(.traceparent), b == 0x30 || b == 0x31, let end = traceparent(p) {
                return .hit(.traceparent, end)
            }
            if isHex(b) {
                if enabled(.uuid), let end = uuid(p) { return .hit(.uuid, end) }
                if enabled(.sha1) || enabled(.md5) {
                    // `\b[0-9a-fA-F]{40}\b` / `\b[0-9a-fA-F]{32}\b`
                    let length = span(p, limit: 41, isHex)
                    if !isWord(at: p + length) {
                        if length == 40, enabled(.sha1) { return .hit(.sha1, p + 40) }
                        if length == 32, enabled(.md5) { return .hit(.md5, p + 32) }
                    }
                }
            }
        }
        if enabled(.date), let end = date(p, b, boundary) { return .hit(.date, end) }
        if enabled(.ip) {
            switch ip(p, b, boundary) {
            case .none: break
            case .valid(let end): return .hit(.ip, end)
            case .rejected(let end): return .rejectedIP(end)
            }
        }
        if enabled(.duration), isDigit(b), let end = duration(p, boundary) { return .hit(.duration, end) }
        if enabled(.swiftTxnID), boundary, b == 0x74, let end = swiftTxnID(p) { return .hit(.swiftTxnID, end) }
        if enabled(.hex), let end = hex(p, b, boundary) { return .hit(.hex, end) }
        if enabled(.gitSHA), boundary, isLowerHex(b), let end = gitSHA(p) { return .hit(.gitSHA, end) }
        if enabled(.float), let end = float(p, b, boundary) { return .hit(.float, end) }
        if enabled(.int), let end = int(p, b, boundary) { return .hit(.int, end) }
        if p > 0, s[p - 1] == ASCII.equals {
            if enabled(.quotedStr), let end = quotedStr(p, b) { return .hit(.quotedStr, end) }
            if enabled(.bool), let end = bool(p) { return .hit(.bool, end) }
        }
        return nil
    }
}
