import NIOCore
import PitStorage
import Testing

/// The error `body` throws, if it is a PayloadCodecError.
private func payloadError(_ body: () throws -> some Any) -> PayloadCodecError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error as? PayloadCodecError
    }
}

@Suite struct PayloadCodecTests {
    @Test func roundTrips() throws {
        for (count, compressible) in [(0, true), (1, true), (10_000, true), (1 << 20, true), (50_000, false)] {
            let payload = Fixtures.payload(count: count, compressible: compressible)
            let compressed = payload.withUnsafeBytes { PayloadCodec.compress($0) }
            #expect(compressed == PayloadCodec.compress(ByteBuffer(bytes: payload)))
            if compressible && count >= 10_000 {
                #expect(compressed.count < count / 10)
            }
            #expect(try PayloadCodec.decompress(compressed, limit: count) == payload)
            guard count > 0 else { continue }
            #expect(payloadError { try PayloadCodec.decompress(compressed, limit: count - 1) }?.code == .tooLarge)
        }
    }

    /// A trailer goes in the same frame, after the bytes, and decodes with them as one array
    /// through every decoding path (plain, with a dictionary).
    @Test func trailerSharesTheFrame() throws {
        let payload = Fixtures.payload(count: 5_000)
        let trailer = Array("a trailer of strings".utf8) + Array(payload[100..<400])
        for (bytes, tail) in [(payload, trailer), (payload, []), ([], trailer)] {
            let compressed = bytes.withUnsafeBytes { head in tail.withUnsafeBytes { PayloadCodec.compress(head, trailer: $0) } }
            let total = bytes.count + tail.count
            #expect(try PayloadCodec.decompress(compressed, limit: total) == bytes + tail)
            #expect(payloadError { try PayloadCodec.decompress(compressed, limit: total - 1) }?.code == .tooLarge)
        }
        // Strings of the payload cost back-references in the trailer, not their length.
        let alone = payload.withUnsafeBytes { PayloadCodec.compress($0) }
        let together = payload.withUnsafeBytes { head in trailer.withUnsafeBytes { PayloadCodec.compress(head, trailer: $0) } }
        #expect(together.count < alone.count + 48)

        let dictionary = try #require(PayloadDictionary(id: 1, bytes: Array(payload.prefix(4_096))))
        let withDictionary = trailer.withUnsafeBytes { dictionary.compress(ByteBuffer(bytes: payload), trailer: $0) }
        #expect(try dictionary.decompress(withDictionary, limit: payload.count + trailer.count) == payload + trailer)
    }

    @Test func levelIsHonoured() throws {
        let payload = Fixtures.payload(count: 100_000, compressible: false) + Fixtures.payload(count: 100_000)
        let fast = PayloadCodec.compress(ByteBuffer(bytes: payload), level: 1)
        let strong = PayloadCodec.compress(ByteBuffer(bytes: payload), level: 19)
        #expect(strong.count <= fast.count)
        #expect(try PayloadCodec.decompress(strong, limit: payload.count) == payload)
    }

    @Test func compressedPayloadIsRightSized() {
        let compressed = PayloadCodec.compress(ByteBuffer(bytes: Fixtures.payload(count: 1 << 20)))
        #expect(compressed.capacity < 2 * compressed.count + 64)
    }

    @Test func framesWithoutSizeOrSeveralFramesUseTheStreamingPath() throws {
        let payload = Fixtures.payload(count: 100_000)
        let unknown = Fixtures.zstd(payload, knownSize: false)
        #expect(try PayloadCodec.decompress(unknown, limit: payload.count) == payload)
        #expect(payloadError { try PayloadCodec.decompress(unknown, limit: payload.count - 1) }?.code == .tooLarge)
        let twoFrames =
            PayloadCodec.compress(ByteBuffer(bytes: payload)) + PayloadCodec.compress(ByteBuffer(bytes: payload))
        #expect(try PayloadCodec.decompress(twoFrames, limit: 2 * payload.count) == payload + payload)
        #expect(
            payloadError { try PayloadCodec.decompress(twoFrames, limit: 2 * payload.count - 1) }?.code == .tooLarge)
    }

    @Test func corruptInputThrows() {
        let compressed = PayloadCodec.compress(ByteBuffer(bytes: Fixtures.payload(count: 10_000, compressible: false)))
        var flipped = compressed
        flipped[flipped.count / 2] ^= 0xFF
        let inputs: [[UInt8]] = [
            [], Array("plain text".utf8), Fixtures.payload(count: 64, compressible: false),
            Array(compressed.dropLast(1)), Array(compressed.prefix(8)), compressed + [1, 2, 3], flipped,
        ]
        for input in inputs {
            #expect(
                payloadError { try PayloadCodec.decompress(input, limit: 1 << 20) }?.code == .corrupt,
                "\(input.prefix(12))")
        }
    }

    @Test func compressionIsSafeFromManyThreads() async throws {
        let payload = Fixtures.payload(count: 50_000)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for level in Int32(1)...8 {
                group.addTask { () throws in
                    for _ in 0..<20 {
                        let compressed = PayloadCodec.compress(ByteBuffer(bytes: payload), level: level)
                        #expect(try PayloadCodec.decompress(compressed, limit: payload.count) == payload)
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
