/// Remembers the last search so repeated searches from increasing positions stay linear.
struct NextByteCache {
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
