// Sentry-compatible message / exception-value parameterization for grouping.
//
// Reference behaviour: getsentry/sentry `src/sentry/grouping/parameterization.py`
// (`DEFAULT_PARAMETERIZATION_REGEXES` + `Parameterizer.parameterize`) and
// `src/sentry/grouping/utils.py` (`normalize_message_for_grouping`, line trimming),
// as of spring 2026, i.e. including the change "fix(grouping): Fix IPv6 parameterization"
// (getsentry/sentry#111979: loose IP-like pattern, validated like Python's `ipaddress`,
// placed after the date pattern, with a sequential fallback pass when a candidate is rejected).
// Only behaviour was ported; no Sentry code was copied.
//
// WHY HAND-WRITTEN: this runs on the ingest hot path for every event without a usable stack
// trace. Sentry compiles one giant alternation regex; a regex engine (NSRegularExpression or
// Swift `Regex`) would cost allocations, Unicode-heavy matching and backtracking on every
// event. Instead we scan the UTF-8 bytes once, left to right. At each position we try the
// token classes in Sentry's priority order, each as a small specialised matcher that
// reproduces the regex's semantics exactly (leftmost match, first alternative wins, greedy /
// lazy quantifiers and the backtracking that matters, `\b` / lookaround boundaries). Unbounded
// sub-scans are memoised so the whole pass stays linear even on adversarial input.
//
// Intentional / known divergences from Sentry (see also the test file):
//  * `\d` is ASCII-only here. Python's `re` also treats other Unicode decimal digits
//    (e.g. Arabic-Indic) as `\d`. `\w`, `\b` and `\s` ARE Unicode-aware, as in Python.
//  * The exact loosened IP regex of #111979 was not available to us, so the IP *candidate*
//    grammar is our own (hex groups and colons with an optional dotted-quad tail, `%zone`,
//    `/prefix`; IPv4 dotted quads at a word boundary), validated with Python `ipaddress`
//    rules. Clear IPs and non-IPs behave like Sentry; exotic near-IPs may differ.
//  * Later upstream changes are not included: the MAC-address pattern (#113129), "dotted
//    ints" (#114776: `1.2.3.4.5` / `1.2.3` handling), and the experimental-pattern rollout
//    (no experiments are defined upstream at the time of writing).

/// Sentry-style grouping normalization for exception values and log messages.
package enum GroupingValueNormalizer {
    /// Sentry-style parameterization of an exception value or message for grouping:
    /// trims to the first two non-empty lines (plus `...` when anything changed), then
    /// replaces variable parts with placeholders such as `<int>` or `<uuid>`.
    package static func normalize(_ value: String) -> String {
        parameterize(trimLines(value))
    }

    /// Only the line trimming part: Sentry keeps the first two non-empty lines (as split by
    /// Python's `str.splitlines()`, "non-empty" meaning not all whitespace), joins them with
    /// `\n`, and appends `...` whenever the result differs from the input - including when only
    /// blank lines, a trailing newline or `\r\n` line endings were changed.
    package static func trimLines(_ value: String) -> String {
        var copy = value
        return copy.withUTF8 { buffer in
            LineTrimmer.trim(buffer) ?? value
        }
    }

    /// Only the placeholder replacement part (no line trimming).
    package static func parameterize(_ value: String) -> String {
        var copy = value
        return copy.withUTF8 { buffer -> String in
            var scanner = Scanner(buffer, patterns: Pattern.all)
            switch scanner.run(stopOnRejectedIP: true) {
            case .unchanged:
                return value
            case .changed(let bytes):
                return String(decoding: bytes, as: UTF8.self)
            case .rejectedIP:
                // Sentry's fallback: an IP-like match was rejected by validation, so the
                // combined regex may have skipped later patterns there. Re-apply each pattern on
                // its own, in order, each pass working on the previous pass's output.
                var current = Array(buffer)
                for pattern in Pattern.allCases {
                    let result = current.withUnsafeBufferPointer { bytes in
                        var single = Scanner(bytes, patterns: pattern.bit)
                        return single.run(stopOnRejectedIP: false)
                    }
                    if case .changed(let bytes) = result { current = bytes }
                }
                return String(decoding: current, as: UTF8.self)
            }
        }
    }
}

// MARK: - Patterns

/// Sentry's pattern names and priority order (the order of the combined regex alternation and
/// of the sequential fallback).
enum Pattern: Int, CaseIterable {
    case email, url, hostname, traceparent, uuid, sha1, md5, date, ip, duration
    case swiftTxnID, hex, gitSHA, float, int, quotedStr, bool

    var name: String {
        switch self {
        case .email: "email"
        case .url: "url"
        case .hostname: "hostname"
        case .traceparent: "traceparent"
        case .uuid: "uuid"
        case .sha1: "sha1"
        case .md5: "md5"
        case .date: "date"
        case .ip: "ip"
        case .duration: "duration"
        case .swiftTxnID: "swift_txn_id"
        case .hex: "hex"
        case .gitSHA: "git_sha"
        case .float: "float"
        case .int: "int"
        case .quotedStr: "quoted_str"
        case .bool: "bool"
        }
    }

    var bit: UInt32 { 1 << UInt32(rawValue) }

    static let all: UInt32 = allCases.reduce(0) { $0 | $1.bit }

    static let placeholders: [[UInt8]] = allCases.map { Array("<\($0.name)>".utf8) }
}

// MARK: - Byte classes (ASCII)

@inline(__always) private func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }
@inline(__always) private func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) &- 0x61 < 26 }
@inline(__always) private func isAlnum(_ b: UInt8) -> Bool { isDigit(b) || isAlpha(b) }
@inline(__always) private func isASCIIWord(_ b: UInt8) -> Bool { isAlnum(b) || b == 0x5F }
@inline(__always) private func isHex(_ b: UInt8) -> Bool { isDigit(b) || (b | 0x20) &- 0x61 < 6 }
@inline(__always) private func isLowerHex(_ b: UInt8) -> Bool { isDigit(b) || b &- 0x61 < 6 }
@inline(__always) private func isUpperHex(_ b: UInt8) -> Bool { isDigit(b) || b &- 0x41 < 6 }
@inline(__always) private func isLowerHexLetter(_ b: UInt8) -> Bool { b &- 0x61 < 6 }
@inline(__always) private func isUpperHexLetter(_ b: UInt8) -> Bool { b &- 0x41 < 6 }
/// `[a-zA-Z0-9-]` (hostname labels, email domains).
@inline(__always) private func isLabelChar(_ b: UInt8) -> Bool { isAlnum(b) || b == 0x2D }
/// Python `str.isspace()` for ASCII: `\t\n\v\f\r`, `\x1c`-`\x1f`, space.
@inline(__always) private func isASCIISpace(_ b: UInt8) -> Bool {
    b == 0x20 || b &- 0x09 < 5 || b &- 0x1C < 4
}
/// Email local part: `[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]`.
@inline(__always) private func isEmailLocal(_ b: UInt8) -> Bool {
    if isAlnum(b) { return true }
    switch b {
    case 0x2E, 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2F, 0x3D, 0x3F, 0x5E, 0x5F,
         0x60, 0x7B, 0x7C, 0x7D, 0x7E, 0x2D:
        return true
    default:
        return false
    }
}
@inline(__always) private func inRange(_ b: UInt8, _ lo: UInt8, _ hi: UInt8) -> Bool { b &- lo <= hi &- lo }

private enum ASCII {
    static let colon: UInt8 = 0x3A
    static let dot: UInt8 = 0x2E
    static let dash: UInt8 = 0x2D
    static let plus: UInt8 = 0x2B
    static let slash: UInt8 = 0x2F
    static let equals: UInt8 = 0x3D
    static let quote: UInt8 = 0x27
    static let doubleQuote: UInt8 = 0x22
    static let newline: UInt8 = 0x0A
    static let closeParen: UInt8 = 0x29
    static let openParen: UInt8 = 0x28
    static let comma: UInt8 = 0x2C
    static let percent: UInt8 = 0x25
    static let http: [UInt8] = Array("http".utf8)
    static let schemeSeparator: [UInt8] = Array("://".utf8)
    static let alse: [UInt8] = Array("alse".utf8)
    static let datetime: [UInt8] = Array("datetime".utf8)
    static let uuidGroups = [8, 4, 4, 4, 12]
}

// MARK: - Unicode helpers (Python `re` semantics for `\w` and `\s` on str patterns)

@inline(__always) private func scalarLength(_ lead: UInt8) -> Int {
    lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
}

/// Python `\w` for a non-ASCII code point: `str.isalnum()` (letters and anything numeric).
private func isUnicodeWord(_ value: UInt32) -> Bool {
    guard let scalar = Unicode.Scalar(value) else { return false }
    let properties = scalar.properties
    switch properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
         .decimalNumber, .letterNumber, .otherNumber:
        return true
    default:
        return properties.numericType != nil
    }
}

/// Python `str.isspace()` for a non-ASCII code point.
@inline(__always) private func isUnicodeSpace(_ v: UInt32) -> Bool {
    switch v {
    case 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
    default: false
    }
}

/// Decodes the scalar starting at `i` (the buffer always holds valid UTF-8).
@inline(__always) private func decodeScalar(_ s: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt32 {
    let b0 = UInt32(s[i])
    if b0 < 0x80 { return b0 }
    if b0 < 0xE0 { return (b0 & 0x1F) << 6 | UInt32(s[i + 1] & 0x3F) }
    if b0 < 0xF0 {
        return (b0 & 0x0F) << 12 | UInt32(s[i + 1] & 0x3F) << 6 | UInt32(s[i + 2] & 0x3F)
    }
    return (b0 & 0x07) << 18 | UInt32(s[i + 1] & 0x3F) << 12 | UInt32(s[i + 2] & 0x3F) << 6
        | UInt32(s[i + 3] & 0x3F)
}

/// Byte length of the whitespace character at `i`, or 0 if it is not whitespace.
@inline(__always) private func whitespaceLength(_ s: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
    guard i < s.count else { return 0 }
    let b = s[i]
    if b < 0x80 { return isASCIISpace(b) ? 1 : 0 }
    return isUnicodeSpace(decodeScalar(s, i)) ? scalarLength(b) : 0
}

// MARK: - Name tables

private enum Names {
    static func pack(_ bytes: some Sequence<UInt8>) -> UInt64 {
        bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    static let days: [UInt64] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].map { pack($0.utf8) }
    static let months: [UInt64] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ].map { pack($0.utf8) }
    static let fullDays: [[UInt8]] = [
        "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
    ].map { Array($0.utf8) }

    /// Sentry's "top 100" TLD list (each accepted either all-lowercase or all-uppercase).
    static let tlds: Set<UInt64> = Set(
        """
        com net org jp de uk fr br it ru es me gov pl ca au cn co in nl edu info eu ch id at kr cz \
        mx be tv se tr tw al ua ir vn cl sk ly cc to no fi us pt dk ar hu tk gr il news ro my biz \
        ie za nz sg ee th io xyz pe bg hk rs lt link ph club si site mobi by cat wiki la ga xxx cf \
        hr ng jobs online kz ug gq ae is lv pro fm tips ms sa app
        """.split(separator: " ").map { pack($0.utf8) }
    )
    static let maxTLDLength = 6
}

// MARK: - Memo for "next occurrence of a byte"

/// Remembers the last search so repeated searches from increasing positions stay linear.
private struct NextByteCache {
    var searchedFrom = Int.max
    var foundAt = 0

    @inline(__always)
    mutating func find(_ s: UnsafeBufferPointer<UInt8>, from start: Int, _ a: UInt8, _ b: UInt8) -> Int {
        if start >= searchedFrom && start <= foundAt { return foundAt }
        var i = start
        while i < s.count, s[i] != a, s[i] != b { i += 1 }
        searchedFrom = start
        foundAt = i
        return i
    }
}

// MARK: - Scanner

enum PassResult {
    case unchanged
    case changed([UInt8])
    /// An IP-like candidate failed validation (only reported when asked to stop on it).
    case rejectedIP
}

private enum IPMatch {
    case none
    case valid(Int)
    case rejected(Int)
}

private enum Match {
    case hit(Pattern, Int)
    case rejectedIP(Int)
}

struct Scanner {
    private let s: UnsafeBufferPointer<UInt8>
    private let n: Int
    private let patterns: UInt32

    // Memoised facts about the input (valid for the whole pass, positions only increase).
    private var emailFailUntil = 0
    private var hostnameFailUntil = 0
    private var digitRunStart = 0
    private var digitRunEnd = 0
    private var closeParen = NextByteCache()
    private var closeParenOrNewline = NextByteCache()
    private var singleQuote = NextByteCache()
    private var doubleQuote = NextByteCache()

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
                out.append(contentsOf: Pattern.placeholders[pattern.rawValue])
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

    @inline(__always) private func byte(_ i: Int) -> UInt8 { i < n ? s[i] : 0 }

    @inline(__always) private func enabled(_ pattern: Pattern) -> Bool { patterns & pattern.bit != 0 }

    /// Python `\w` test for the character starting at `i` (false at the end).
    @inline(__always) private func isWord(at i: Int) -> Bool {
        guard i < n else { return false }
        let b = s[i]
        return b < 0x80 ? isASCIIWord(b) : isUnicodeWord(decodeScalar(s, i))
    }

    /// Python `\w` test for the character ending just before `i` (false at the start).
    @inline(__always) private func isWord(before i: Int) -> Bool {
        guard i > 0 else { return false }
        let b = s[i - 1]
        if b < 0x80 { return isASCIIWord(b) }
        var j = i - 1
        while j > 0, s[j] & 0xC0 == 0x80 { j -= 1 }
        return isUnicodeWord(decodeScalar(s, j))
    }

    /// `\b`
    @inline(__always) private func isBoundary(_ i: Int) -> Bool { isWord(before: i) != isWord(at: i) }

    @inline(__always) private func space(_ i: Int) -> Int? {
        let length = whitespaceLength(s, i)
        return length > 0 ? length : nil
    }

    /// `\s+`: total length of the whitespace run at `i` (nil if none).
    private func spaces(_ i: Int) -> Int? {
        var j = i
        while true {
            let length = whitespaceLength(s, j)
            if length == 0 { break }
            j += length
        }
        return j > i ? j - i : nil
    }

    /// End of the run of ASCII digits starting at `i` (memoised; `i` itself when no digit).
    @inline(__always) private mutating func digitEnd(_ i: Int) -> Int {
        if i >= digitRunStart && i < digitRunEnd { return digitRunEnd }
        var j = i
        while j < n, isDigit(s[j]) { j += 1 }
        digitRunStart = i
        digitRunEnd = j
        return j
    }

    @inline(__always) private mutating func digitCount(_ i: Int) -> Int { digitEnd(i) - i }

    @inline(__always) private func digits(_ i: Int, _ count: Int) -> Bool {
        guard i + count <= n else { return false }
        for k in i..<(i + count) where !isDigit(s[k]) { return false }
        return true
    }

    /// Length of a run of bytes matching `predicate` at `i`, counting at most `limit`.
    @inline(__always) private func span(_ i: Int, limit: Int, _ predicate: (UInt8) -> Bool) -> Int {
        var j = i
        while j < n, j - i < limit, predicate(s[j]) { j += 1 }
        return j - i
    }

    private func literal(_ i: Int, _ bytes: [UInt8]) -> Bool {
        guard i + bytes.count <= n else { return false }
        for (k, b) in bytes.enumerated() where s[i + k] != b { return false }
        return true
    }

    @inline(__always) private func literal(_ i: Int, _ a: UInt8, _ b: UInt8) -> Bool {
        i + 1 < n && s[i] == a && s[i + 1] == b
    }

    @inline(__always) private func literal(_ i: Int, _ a: UInt8, _ b: UInt8, _ c: UInt8) -> Bool {
        i + 2 < n && s[i] == a && s[i + 1] == b && s[i + 2] == c
    }

    @inline(__always) private func packed3(_ i: Int) -> UInt64 {
        guard i + 3 <= n else { return 0 }
        return UInt64(s[i]) << 16 | UInt64(s[i + 1]) << 8 | UInt64(s[i + 2])
    }

    @inline(__always) private func isDay(_ i: Int) -> Bool { Names.days.contains(packed3(i)) }
    @inline(__always) private func isMonth(_ i: Int) -> Bool { Names.months.contains(packed3(i)) }

    // MARK: Dispatch

    private mutating func matchAt(_ p: Int) -> Match? {
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

    // MARK: email  `[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*`

    private mutating func email(_ p: Int) -> Int? {
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

    private func url(_ p: Int) -> Int? {
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

    private mutating func hostname(_ p: Int) -> Int? {
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
    private func tld(_ t: Int) -> Int? {
        let length = span(t, limit: Names.maxTLDLength + 1, isAlpha)
        guard length >= 2, length <= Names.maxTLDLength, !isWord(at: t + length) else { return nil }
        let letters = UnsafeBufferPointer(rebasing: s[t..<(t + length)])
        let allLower = letters.allSatisfy { $0 &- 0x61 < 26 }
        let allUpper = letters.allSatisfy { $0 &- 0x41 < 26 }
        guard allLower || allUpper else { return nil }
        let key = Names.pack(letters.lazy.map { $0 | 0x20 })
        return Names.tlds.contains(key) ? t + length : nil
    }

    // MARK: traceparent  W3C `00-{32}-{16}-0[01]` or AWS `1-{8}-{24}`, lowercase hex, `\b` both ends

    private func traceparent(_ p: Int) -> Int? {
        func hexRun(_ i: Int, _ count: Int) -> Bool {
            guard i + count <= n else { return false }
            for k in i..<(i + count) where !isLowerHex(s[k]) { return false }
            return true
        }
        if literal(p, 0x30, 0x30, ASCII.dash), hexRun(p + 3, 32), byte(p + 35) == ASCII.dash,
           hexRun(p + 36, 16), byte(p + 52) == ASCII.dash, byte(p + 53) == 0x30,
           byte(p + 54) == 0x30 || byte(p + 54) == 0x31, !isWord(at: p + 55) {
            return p + 55
        }
        if literal(p, 0x31, ASCII.dash), hexRun(p + 2, 8), byte(p + 10) == ASCII.dash,
           hexRun(p + 11, 24), !isWord(at: p + 35) {
            return p + 35
        }
        return nil
    }

    // MARK: uuid  `\b8-4-4-4-12\b` (either case)

    private func uuid(_ p: Int) -> Int? {
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

    // MARK: date

    private static let dateStarts: [Bool] = (0..<128).map { b in
        "SMTWFJAONDd".utf8.contains(UInt8(b)) || (0x30...0x39).contains(b)
    }

    private mutating func date(_ p: Int, _ b: UInt8, _ boundary: Bool) -> Int? {
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
    private func timezone(_ i: Int) -> Int? {
        let b = byte(i)
        if b == ASCII.plus || b == ASCII.dash {
            return digits(i + 1, 2) && inRange(byte(i + 3), 0x30, 0x35) && isDigit(byte(i + 4)) ? i + 5 : nil
        }
        return timezoneName(i)
    }

    /// `UT | GMT | [ECMP](ST|DT) | [A-IK-Z]`
    private func timezoneName(_ i: Int) -> Int? {
        let b = byte(i)
        if literal(i, 0x55, 0x54) { return i + 2 }  // UT
        if literal(i, 0x47, 0x4D, 0x54) { return i + 3 }  // GMT
        if b == 0x45 || b == 0x43 || b == 0x4D || b == 0x50,
           literal(i + 1, 0x53, 0x54) || literal(i + 1, 0x44, 0x54) {
            return i + 3
        }
        if inRange(b, 0x41, 0x5A), b != 0x4A { return i + 1 }  // [A-IK-Z]
        return nil
    }

    /// RFC822 / RFC1123(Z):
    /// `Day,\s\d{1,2}\sMon\s\d{2,4}\s\d{1,2}:\d{1,2}(:\d{1,2})?\s(tz)`
    private mutating func rfc822(_ p: Int) -> Int? {
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
    private mutating func monthDayYear(_ p: Int) -> Int? {
        if isDay(p), let w = space(p + 3), let end = monthDayYearTail(p + 3 + w) { return end }
        return monthDayYearTail(p)
    }

    private mutating func monthDayYearTail(_ start: Int) -> Int? {
        guard isMonth(start), let w1 = space(start + 3) else { return nil }
        var i = start + 3 + w1
        guard inRange(byte(i), 0x30, 0x33), isDigit(byte(i + 1)), byte(i + 2) == ASCII.comma,
              let w2 = space(i + 3) else { return nil }
        i += 3 + w2
        let count = digitCount(i)
        return count >= 2 ? i + min(count, 4) : nil
    }

    /// RFC850: `(Day|Dayname),\s\d{2}-Mon-\d{2}\s\d{2}:\d{2}:\d{2}\s(tz name)`
    private func rfc850(_ p: Int) -> Int? {
        var i: Int
        if isDay(p), byte(p + 3) == ASCII.comma {
            i = p + 4
        } else if let name = Names.fullDays.first(where: { literal(p, $0) }),
                  byte(p + name.count) == ASCII.comma {
            i = p + name.count + 1
        } else {
            return nil
        }
        guard let w1 = space(i) else { return nil }
        i += w1
        guard digits(i, 2), byte(i + 2) == ASCII.dash, isMonth(i + 3), byte(i + 6) == ASCII.dash,
              digits(i + 7, 2), let w2 = space(i + 9) else { return nil }
        i += 9 + w2
        guard digits(i, 2), byte(i + 2) == ASCII.colon, digits(i + 3, 2), byte(i + 5) == ASCII.colon,
              digits(i + 6, 2), let w3 = space(i + 8) else { return nil }
        return timezoneName(i + 8 + w3)
    }

    /// RFC3339(Nano): `\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?([+-]?\d{2}:\d{2})?`
    private mutating func rfc3339(_ p: Int) -> Int? {
        guard digits(p, 4), byte(p + 4) == ASCII.dash, digits(p + 5, 2), byte(p + 7) == ASCII.dash,
              digits(p + 8, 2), byte(p + 10) == 0x54, digits(p + 11, 2), byte(p + 13) == ASCII.colon,
              digits(p + 14, 2), byte(p + 16) == ASCII.colon, digits(p + 17, 2) else { return nil }
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
    private mutating func javascriptDate(_ p: Int) -> Int? {
        guard isDay(p), let w1 = space(p + 3) else { return nil }
        var i = p + 3 + w1
        guard isMonth(i), let w2 = space(i + 3) else { return nil }
        i += 3 + w2
        guard digits(i, 2), let w3 = space(i + 2) else { return nil }
        i += 2 + w3
        guard digits(i, 4), let w4 = space(i + 4) else { return nil }
        i += 4 + w4
        guard digits(i, 2), byte(i + 2) == ASCII.colon, digits(i + 3, 2), byte(i + 5) == ASCII.colon,
              digits(i + 6, 2), let w5 = space(i + 8) else { return nil }
        i += 8 + w5
        guard literal(i, 0x47, 0x4D, 0x54), byte(i + 3) == ASCII.plus || byte(i + 3) == ASCII.dash,
              digits(i + 4, 4) else { return nil }
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
    private mutating func datetime(_ p: Int) -> Int? {
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
    private func timezoneOffset(_ i: Int) -> Int? {
        let b = byte(i)
        if b == 0x5A { return i + 1 }
        guard b == ASCII.plus || b == ASCII.dash, inRange(byte(i + 1), 0x30, 0x32), isDigit(byte(i + 2)) else {
            return nil
        }
        let j = byte(i + 3) == ASCII.colon ? i + 4 : i + 3
        return inRange(byte(j), 0x30, 0x35) && isDigit(byte(j + 1)) ? j + 2 : nil
    }

    /// Shared tail of the kitchen patterns: `:[0-5]\d(:[0-5]\d)?(?![\d:])` after the hour.
    private func kitchenMinutes(_ colon: Int) -> Int? {
        guard byte(colon) == ASCII.colon, inRange(byte(colon + 1), 0x30, 0x35), isDigit(byte(colon + 2)) else {
            return nil
        }
        var i = colon + 3
        if byte(i) == ASCII.colon, inRange(byte(i + 1), 0x30, 0x35), isDigit(byte(i + 2)) { i += 3 }
        let next = byte(i)
        return isDigit(next) || next == ASCII.colon ? nil : i
    }

    /// Kitchen, 12-hr: `(?<!\d)([1-9]|1[0-2]):[0-5]\d(:[0-5]\d)?(?![\d:])(\s?[aApP][Mm])?`
    private func kitchen12(_ p: Int) -> Int? {
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
    private func kitchen24(_ p: Int) -> Int? {
        guard p == 0 || !isDigit(s[p - 1]) else { return nil }
        let b0 = s[p]
        let b1 = byte(p + 1)
        if b1 == ASCII.colon { return kitchenMinutes(p + 1) }
        guard isDigit(b1), byte(p + 2) == ASCII.colon,
              b0 == 0x30 || b0 == 0x31 || (b0 == 0x32 && b1 <= 0x33) else { return nil }
        return kitchenMinutes(p + 2)
    }

    /// `\d{4}-[01]\d-[0-3]\d`
    private func plainDate(_ p: Int) -> Int? {
        guard digits(p, 4), byte(p + 4) == ASCII.dash, inRange(byte(p + 5), 0x30, 0x31), isDigit(byte(p + 6)),
              byte(p + 7) == ASCII.dash, inRange(byte(p + 8), 0x30, 0x33), isDigit(byte(p + 9)) else { return nil }
        return p + 10
    }

    /// `[0-2]\d:[0-5]\d:[0-5]\d`
    private func plainTime(_ p: Int) -> Int? {
        guard inRange(s[p], 0x30, 0x32), isDigit(byte(p + 1)), byte(p + 2) == ASCII.colon,
              inRange(byte(p + 3), 0x30, 0x35), isDigit(byte(p + 4)), byte(p + 5) == ASCII.colon,
              inRange(byte(p + 6), 0x30, 0x35), isDigit(byte(p + 7)) else { return nil }
        return p + 8
    }

    /// Old format: `\b((Day)\s+)?Mon\s+\d{1,2}\s+\d{2}:\d{2}:\d{2}\s+\d{4}`
    private mutating func oldMonthDate(_ p: Int) -> Int? {
        if isDay(p), let w = spaces(p + 3), let end = oldMonthDateTail(p + 3 + w) { return end }
        return oldMonthDateTail(p)
    }

    private mutating func oldMonthDateTail(_ start: Int) -> Int? {
        guard isMonth(start), let w1 = spaces(start + 3) else { return nil }
        var i = start + 3 + w1
        let count = digitCount(i)
        guard (1...2).contains(count), let w2 = spaces(i + count) else { return nil }
        i += count + w2
        guard digits(i, 2), byte(i + 2) == ASCII.colon, digits(i + 3, 2), byte(i + 5) == ASCII.colon,
              digits(i + 6, 2), let w3 = spaces(i + 8) else { return nil }
        i += 8 + w3
        return digits(i, 4) ? i + 4 : nil
    }

    /// Old format: `\b((Day),\s+)?(0[1-9]|[1-2]?\d|3[01])\s+Mon\s+(19\d{2}|[2-9]\d{3})\s+`
    /// `(2[0-3]|[0-1]\d):[0-5]\d(:(60|[0-5]\d))?\s+(tz)`
    private mutating func oldNumericDate(_ p: Int) -> Int? {
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
              let w3 = spaces(i + 4) else { return nil }
        i += 4 + w3
        let h0 = byte(i)
        let h1 = byte(i + 1)
        guard (h0 == 0x32 && inRange(h1, 0x30, 0x33)) || (inRange(h0, 0x30, 0x31) && isDigit(h1)),
              byte(i + 2) == ASCII.colon, inRange(byte(i + 3), 0x30, 0x35), isDigit(byte(i + 4)) else {
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
    private mutating func pythonDatetime(_ p: Int) -> Int? {
        let word = ASCII.datetime
        guard literal(p, word), p + 8 < n, s[p + 8] != ASCII.newline else { return nil }
        let i = p + 8 + scalarLength(s[p + 8])
        guard literal(i, word), byte(i + 8) == ASCII.openParen else { return nil }
        let close = closeParenOrNewline.find(s, from: i + 9, ASCII.closeParen, ASCII.newline)
        return close < n && s[close] == ASCII.closeParen ? close + 1 : nil
    }

    // MARK: ip (IP-like candidate + Python `ipaddress` validation)

    private mutating func ip(_ p: Int, _ b: UInt8, _ boundary: Bool) -> IPMatch {
        if isHex(b) || b == ASCII.colon, p == 0 || !isASCIIWord(s[p - 1]),
           let candidate = ipv6Candidate(p) {
            return isValidIPv6(candidate) ? .valid(candidate.end) : .rejected(candidate.end)
        }
        if isDigit(b), boundary, let end = ipv4Candidate(p) { return .valid(end) }
        return .none
    }

    private struct IPv6Candidate {
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
    private mutating func ipv6Candidate(_ p: Int) -> IPv6Candidate? {
        if s[p] == ASCII.colon {
            guard byte(p + 1) == ASCII.colon, byte(p + 2) != ASCII.colon,
                  p == 0 || s[p - 1] != ASCII.colon else { return nil }
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
               let end = dottedQuadEnd(groupStart) {
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
    private mutating func ipv4Candidate(_ p: Int) -> Int? {
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
    private mutating func dottedQuadEnd(_ p: Int) -> Int? {
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

    private func decimal(_ start: Int, _ end: Int) -> Int {
        var value = 0
        for k in start..<end { value = value * 10 + Int(s[k] &- 0x30) }
        return value
    }

    /// Python `ipaddress.IPv4Address` rules: four decimal octets, 0-255, no leading zeros.
    private func isValidIPv4(_ start: Int, _ end: Int) -> Bool {
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
    private func isValidIPv6(_ c: IPv6Candidate) -> Bool {
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

    // MARK: duration  `\b(\d+ms) | (\d+(\.\d+)?s)\b`

    private mutating func duration(_ p: Int, _ boundary: Bool) -> Int? {
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

    private func swiftTxnID(_ p: Int) -> Int? {
        guard byte(p + 1) == 0x78, span(p + 2, limit: 21, isLowerHex) == 21, byte(p + 23) == ASCII.dash,
              span(p + 24, limit: 10, isLowerHex) == 10 else { return nil }
        var i = p + 34
        while i < n, whitespaceLength(s, i) == 0 { i += scalarLength(s[i]) }
        return i
    }

    // MARK: hex

    /// `(\b0[xX][0-9a-fA-F]+\b) | ((\b|(?<!\w)-)(4-6 mixed digits+letters | 8-128 hex)\b)`
    private func hex(_ p: Int, _ b: UInt8, _ boundary: Bool) -> Int? {
        if boundary, b == 0x30, byte(p + 1) | 0x20 == 0x78 {
            var i = p + 2
            while i < n, isHex(s[i]) { i += 1 }
            if i > p + 2, !isWord(at: i) { return i }
        }
        if boundary, let end = hexBody(p) { return end }
        if b == ASCII.dash, !isWord(before: p), let end = hexBody(p + 1) { return end }
        return nil
    }

    private func hexBody(_ q: Int) -> Int? {
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
    private func mixed(_ q: Int, _ length: Int, _ isLetter: (UInt8) -> Bool) -> Bool {
        var digit = false
        var letter = false
        for k in q..<(q + length) {
            if isDigit(s[k]) { digit = true } else if isLetter(s[k]) { letter = true }
        }
        return digit && letter
    }

    // MARK: git_sha  `\b(?=[a-f]*[0-9])(?=[0-9]*[a-f])[0-9a-f]{7}\b`

    private func gitSHA(_ p: Int) -> Int? {
        let length = span(p, limit: 8, isLowerHex)
        guard length == 7, !isWord(at: p + 7), mixed(p, 7, isLowerHexLetter) else { return nil }
        return p + 7
    }

    // MARK: float  `-\d+\.\d+\b | \b\d+\.\d+\b`

    private mutating func float(_ p: Int, _ b: UInt8, _ boundary: Bool) -> Int? {
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

    private mutating func int(_ p: Int, _ b: UInt8, _ boundary: Bool) -> Int? {
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

    private mutating func quotedStr(_ p: Int, _ b: UInt8) -> Int? {
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

    private func bool(_ p: Int) -> Int? {
        let b = s[p]
        if b == 0x54 || b == 0x74, literal(p + 1, 0x72, 0x75, 0x65) { return p + 4 }  // [Tt]rue
        if b == 0x46 || b == 0x66, literal(p + 1, ASCII.alse) { return p + 5 }  // [Ff]alse
        return nil
    }
}

// MARK: - Line trimming

private enum LineTrimmer {
    /// Returns nil when the input is returned unchanged.
    static func trim(_ s: UnsafeBufferPointer<UInt8>) -> String? {
        let n = s.count
        var kept: [Range<Int>] = []
        var lineStart = 0
        var i = 0
        while i < n, kept.count < 2 {
            let breakLength = lineBreakLength(s, i)
            if breakLength > 0 {
                if hasContent(s, lineStart..<i) { kept.append(lineStart..<i) }
                i += breakLength
                lineStart = i
            } else {
                i += scalarLength(s[i])
            }
        }
        if i >= n, kept.count < 2, lineStart < n, hasContent(s, lineStart..<n) {
            kept.append(lineStart..<n)
        }
        // Fast path: a single line that is the whole input.
        if kept.count == 1, kept[0] == 0..<n { return nil }
        if n == 0 { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(kept.reduce(0) { $0 + $1.count } + 4)
        for (index, range) in kept.enumerated() {
            if index > 0 { out.append(ASCII.newline) }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: s[range]))
        }
        if out.elementsEqual(s) { return nil }
        out.append(contentsOf: [ASCII.dot, ASCII.dot, ASCII.dot])
        return String(decoding: out, as: UTF8.self)
    }

    /// Python `str.splitlines()` boundaries: \n \r \r\n \v \f \x1c \x1d \x1e \x85 \u2028 \u2029.
    private static func lineBreakLength(_ s: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
        let b = s[i]
        switch b {
        case 0x0D:
            return i + 1 < s.count && s[i + 1] == ASCII.newline ? 2 : 1
        case 0x0A, 0x0B, 0x0C, 0x1C, 0x1D, 0x1E:
            return 1
        case 0xC2:
            return s[i + 1] == 0x85 ? 2 : 0
        case 0xE2:
            return s[i + 1] == 0x80 && (s[i + 2] == 0xA8 || s[i + 2] == 0xA9) ? 3 : 0
        default:
            return 0
        }
    }

    /// `line.strip()` is non-empty.
    private static func hasContent(_ s: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        var i = range.lowerBound
        while i < range.upperBound {
            let length = whitespaceLength(s, i)
            if length == 0 { return true }
            i += length
        }
        return false
    }
}
