import Crypto
package import PitModel

/// One node of the grouping tree: what Sentry shows under "why are these events grouped".
/// Leaves are the strings that feed the hash when their component contributes.
package struct GroupingComponent: Sendable, Equatable {
    package enum Value: Sendable, Equatable {
        case text(String)
        case component(GroupingComponent)
    }

    package var id: String
    package var name: String?
    package var contributes: Bool
    package var hint: String?
    package var values: [Value]

    package init(id: String, name: String? = nil, contributes: Bool, hint: String? = nil, values: [Value]) {
        self.id = id
        self.name = name
        self.contributes = contributes
        self.hint = hint
        self.values = values
    }

    /// The strings that go into the hash, depth-first, from contributing components only.
    package func contributingValues(into out: inout [String]) {
        guard contributes else { return }
        for value in values {
            switch value {
            case .text(let text): out.append(text)
            case .component(let child): child.contributingValues(into: &out)
            }
        }
    }

    package var contributingValues: [String] {
        var out: [String] = []
        contributingValues(into: &out)
        return out
    }

    package func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", id)
        if let name { writer.field("name", name) }
        writer.field("contributes", contributes)
        if let hint { writer.field("hint", hint) }
        writer.key("values")
        writer.beginArray()
        for value in values {
            switch value {
            case .text(let text): writer.value(text)
            case .component(let child): child.write(to: &writer)
            }
        }
        writer.endArray()
        writer.endObject()
    }
}

/// A 16-byte group hash (md5, as Sentry's `hash_from_values`). Held as two words rather than an
/// array: every ingested event computes one or two, and an array each was two mallocs per event.
package struct GroupHash: Hashable, Sendable, CustomStringConvertible {
    private let high: UInt64
    private let low: UInt64

    /// The first 16 bytes of `bytes`.
    package init(bytes: UnsafeRawBufferPointer) {
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<min(16, bytes.count) {
            if index < 8 { high = high << 8 | UInt64(bytes[index]) } else { low = low << 8 | UInt64(bytes[index]) }
        }
        self.high = high
        self.low = low
    }

    /// Read through `withUnsafeBytes`: iterating a swift-crypto digest copies it into an array.
    init(digest: Insecure.MD5Digest) {
        self = digest.withUnsafeBytes { GroupHash(bytes: $0) }
    }

    package var bytes: [UInt8] {
        (0..<16).map { index in UInt8(truncatingIfNeeded: (index < 8 ? high >> (56 - 8 * index) : low >> (56 - 8 * (index - 8)))) }
    }

    package var description: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(32)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
