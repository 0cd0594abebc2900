package import NIOCore

/// A string from an event payload, kept as the payload's own bytes.
///
/// Stack frames are most of an event's strings (a Python error carries ~35 frame strings longer
/// than Swift's 15-byte small-string limit), and grouping only hashes or compares them. A `String`
/// per frame field was a third of the mallocs of an ingested envelope (package-benchmark
/// allocation stacks, results/). A `PayloadText` is a slice of the payload's `ByteBuffer` (a
/// retain, no copy); only strings with JSON escapes, which need decoding, get a buffer of their
/// own. One stored buffer rather than an enum of buffer or `String`: reading a borrowed text then
/// needs no retain, where a `switch` over the enum copied its payload out (perf).
package struct PayloadText: Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    private let buffer: ByteBuffer

    package init(_ string: String) { buffer = ByteBuffer(string: string) }

    package init(stringLiteral value: String) { self.init(value) }

    /// `bytes` must be valid UTF-8.
    package init(utf8 bytes: ByteBuffer) { buffer = bytes }

    package var string: String { String(buffer: buffer) }

    package var description: String { string }

    package var utf8Count: Int { buffer.readableBytes }

    package var isEmpty: Bool { buffer.readableBytes == 0 }

    package func withUTF8<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeReadableBytes(body)
    }

    package func contains(_ byte: UInt8) -> Bool {
        buffer.readableBytesView.contains(byte)
    }

    package func hasPrefix(_ prefix: StaticString) -> Bool {
        prefix.withUTF8Buffer { wanted in
            withUTF8 { bytes in bytes.count >= wanted.count && bytes.prefix(wanted.count).elementsEqual(wanted) }
        }
    }

    package func equals(_ other: StaticString) -> Bool {
        other.withUTF8Buffer { wanted in withUTF8 { $0.elementsEqual(wanted) } }
    }

    package static func == (lhs: PayloadText, rhs: PayloadText) -> Bool {
        lhs.buffer.readableBytesView == rhs.buffer.readableBytesView
    }

    package func hash(into hasher: inout Hasher) {
        withUTF8 { hasher.combine(bytes: $0) }
    }
}
