/// A Sentry event id: 16 bytes, written as 32 lowercase hex characters.
package struct EventID: Hashable, Sendable, CustomStringConvertible {
    package var high: UInt64
    package var low: UInt64

    package init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Accepts 32 hex characters or the dashed UUID form (Relay tolerates both), any case.
    /// Concrete, for the ingest path (envelope headers, event payloads): the generic form below,
    /// called from the ingest modules, ran unspecialised through witness tables on every request
    /// (perf, results/2026-12-02T044000Z-issue11-cpu-per-event-alternated).
    package init?(hex: UnsafeRawBufferPointer) {
        var high: UInt64 = 0
        var low: UInt64 = 0
        var digits = 0
        var dashes = 0
        for byte in hex {
            let nibble: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): nibble = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): nibble = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): nibble = byte - UInt8(ascii: "A") + 10
            case UInt8(ascii: "-"):
                // Dashes only at the UUID positions 8-4-4-4-12, one at each (a membership test let
                // "9ec79c33----ec99…" through).
                guard dashes < 4, digits == [8, 12, 16, 20][dashes] else { return nil }
                dashes += 1
                continue
            default: return nil
            }
            if digits < 16 { high = high << 4 | UInt64(nibble) } else if digits < 32 { low = low << 4 | UInt64(nibble) }
            digits += 1
        }
        guard digits == 32, dashes == 0 || dashes == 4 else { return nil }
        self.init(high: high, low: low)
    }

    package init?<Bytes: Collection<UInt8>>(hex: Bytes) {
        let parsed =
            hex.withContiguousStorageIfAvailable { EventID(hex: UnsafeRawBufferPointer($0)) }
            ?? Array(hex).withUnsafeBytes { EventID(hex: $0) }
        guard let parsed else { return nil }
        self = parsed
    }

    package init?(_ text: String) { self.init(hex: text.utf8) }

    package static func random() -> EventID {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    package static func random(using generator: inout some RandomNumberGenerator) -> EventID {
        // Version 4 / variant 1 bits, as uuid4().hex would give.
        let high = (generator.next() & ~UInt64(0xF000)) | 0x4000
        let low = (generator.next() & ~(UInt64(0xC) << 60)) | (UInt64(0x8) << 60)
        return EventID(high: high, low: low)
    }

    package var description: String { hex }

    package var hex: String {
        withHexUTF8 { String(decoding: $0, as: UTF8.self) }
    }

    /// `body` on the 32 hex digits, written on the stack: every ingest answer carries the id, and
    /// the digit table, the array and the String were three mallocs per request.
    @inlinable
    package func withHexUTF8<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { out in
            for i in 0..<16 {
                out[i] = Self.hexDigit(high >> (60 - UInt64(i) * 4))
                out[16 + i] = Self.hexDigit(low >> (60 - UInt64(i) * 4))
            }
            return try body(UnsafeRawBufferPointer(out))
        }
    }

    @inlinable @inline(__always)
    package static func hexDigit(_ value: UInt64) -> UInt8 {
        let nibble = UInt8(truncatingIfNeeded: value & 0xF)
        return nibble < 10 ? nibble + UInt8(ascii: "0") : nibble - 10 + UInt8(ascii: "a")
    }

    /// Big-endian bytes, the form stored in the database.
    package var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            out[i] = UInt8(truncatingIfNeeded: high >> (56 - UInt64(i) * 8))
            out[8 + i] = UInt8(truncatingIfNeeded: low >> (56 - UInt64(i) * 8))
        }
        return out
    }

    package init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (i, byte) in bytes.enumerated() {
            if i < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
        }
        self.init(high: high, low: low)
    }
}
