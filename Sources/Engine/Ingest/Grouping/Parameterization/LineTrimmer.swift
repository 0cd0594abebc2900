enum LineTrimmer {
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
    static func lineBreakLength(_ s: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
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
    static func hasContent(_ s: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        var i = range.lowerBound
        while i < range.upperBound {
            let length = whitespaceLength(s, i)
            if length == 0 { return true }
            i += length
        }
        return false
    }
}
