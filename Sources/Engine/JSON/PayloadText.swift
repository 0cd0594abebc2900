package import NIOCore

/// A string from an event payload, kept as the payload's own bytes where it can be.
///
/// Stack frames are most of an event's strings (a Python error carries ~35 frame strings longer
/// than Swift's 15-byte small-string limit), and grouping only hashes or compares them. A `String`
/// per frame field was a third of the mallocs of an ingested envelope (package-benchmark
/// allocation stacks, results/). A `PayloadText` shares the payload's `ByteBuffer` storage (a
/// retain, no copy); only strings with JSON escapes, which need decoding, own a `String`.
package struct PayloadText: Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    private enum Storage: Sendable {
        /// The string's bytes in the payload: valid UTF-8 (the tape validated it), no escapes.
        case bytes(ByteBuffer)
        case string(String)
    }

    private var storage: Storage

    package init(_ string: String) { storage = .string(string) }

    package init(stringLiteral value: String) { storage = .string(value) }

    /// `bytes` must be valid UTF-8.
    package init(utf8 bytes: ByteBuffer) { storage = .bytes(bytes) }

    package var string: String {
        switch storage {
        case .bytes(let buffer): return String(buffer: buffer)
        case .string(let string): return string
        }
    }

    package var description: String { string }

    package var utf8Count: Int {
        switch storage {
        case .bytes(let buffer): return buffer.readableBytes
        case .string(let string): return string.utf8.count
        }
    }

    package var isEmpty: Bool { utf8Count == 0 }

    package func withUTF8<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .bytes(let buffer):
            return try buffer.withUnsafeReadableBytes(body)
        case .string(var string):
            return try string.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
        }
    }

    package func contains(_ byte: UInt8) -> Bool {
        withUTF8 { $0.contains(byte) }
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
        lhs.withUTF8 { a in rhs.withUTF8 { b in a.elementsEqual(b) } }
    }

    package func hash(into hasher: inout Hasher) {
        withUTF8 { hasher.combine(bytes: $0) }
    }
}
