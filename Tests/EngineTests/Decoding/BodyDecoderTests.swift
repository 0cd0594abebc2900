import CZstd
import PitStorage
import PitIngest
import NIOCore
import Testing

private let compressedEncodings: [ContentEncoding] = [.gzip, .deflate, .brotli, .zstd]

private func decode(_ bytes: [UInt8], _ encoding: ContentEncoding, limit: Int) throws -> [UInt8] {
    let decoded = try BodyDecoder.decode(ByteBuffer(bytes: bytes), encoding: encoding, limit: limit)
    return Array(decoded.readableBytesView)
}

/// The error `body` throws, if it is a PayloadCodecError.
private func payloadError(_ body: () throws -> some Any) -> PayloadCodecError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error as? PayloadCodecError
    }
}

/// The error `body` throws, if it is a BodyDecodingError.
private func decodingError(_ body: () throws -> some Any) -> BodyDecodingError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error as? BodyDecodingError
    }
}

@Suite struct ContentEncodingTests {
    @Test(arguments: [
        ("", ContentEncoding.identity), ("identity", .identity), ("IDENTITY", .identity), ("utf-8", .identity),
        ("UTF-8", .identity), ("gzip", .gzip), ("GZip", .gzip), ("x-gzip", .gzip), ("  gzip\t", .gzip),
        ("deflate", .deflate), ("Deflate ", .deflate), ("br", .brotli), ("BR", .brotli), ("zstd", .zstd),
        (" ZSTD", .zstd), ("   ", .identity),
    ])
    func parsesKnownValues(value: String, expected: ContentEncoding) {
        #expect(ContentEncoding(headerValue: value) == expected)
    }

    @Test(arguments: ["compress", "x-compress", "gzip, br", "gzip;q=1", "brotli", "lz4", "gz ip", "utf8", "*"])
    func rejectsUnknownValues(value: String) {
        #expect(ContentEncoding(headerValue: value) == nil)
    }
}

@Suite struct BodyDecoderTests {
    @Test(arguments: compressedEncodings)
    func roundTrips(encoding: ContentEncoding) throws {
        for (count, compressible) in [(0, true), (1, true), (5_000, true), (300_000, true), (70_000, false)] {
            let payload = Fixtures.payload(count: count, compressible: compressible)
            let encoded = Fixtures.encode(payload, as: encoding)
            #expect(try decode(encoded, encoding, limit: 1 << 20) == payload, "\(encoding) \(count)")
        }
    }

    @Test func identityReturnsInputUnlessTooLarge() throws {
        let payload = Fixtures.payload(count: 100)
        #expect(try decode(payload, .identity, limit: 100) == payload)
        #expect(decodingError { try decode(payload, .identity, limit: 99) }?.code == .tooLarge)
    }

    @Test func decodesOnlyTheReadableBytes() throws {
        let payload = Fixtures.payload(count: 1000)
        var buffer = ByteBuffer(bytes: [0xFF, 0xFF, 0xFF] + Fixtures.gzip(payload))
        buffer.moveReaderIndex(forwardBy: 3)
        let decoded = try BodyDecoder.decode(buffer, encoding: .gzip, limit: 1000)
        #expect(Array(decoded.readableBytesView) == payload)
    }

    @Test(arguments: compressedEncodings)
    func exactlyLimitIsAcceptedOneMoreIsNot(encoding: ContentEncoding) throws {
        // Sizes straddle the 4 KiB starting capacity and the power-of-two growth steps.
        for count in [1, 4095, 4096, 4097, 65_536, 100_001, 1 << 20] {
            let payload = Fixtures.payload(count: count, compressible: count % 2 == 0)
            let encoded = Fixtures.encode(payload, as: encoding)
            #expect(try decode(encoded, encoding, limit: count) == payload, "\(encoding) \(count)")
            let error = decodingError { try decode(encoded, encoding, limit: count - 1) }
            #expect(error?.code == .tooLarge, "\(encoding) \(count)")
        }
    }

    @Test(arguments: compressedEncodings)
    func zeroLimitAcceptsOnlyEmptyOutput(encoding: ContentEncoding) throws {
        #expect(try decode(Fixtures.encode([], as: encoding), encoding, limit: 0) == [])
        #expect(decodingError { try decode(Fixtures.encode([7], as: encoding), encoding, limit: 0) }?.code == .tooLarge)
    }

    @Test(arguments: compressedEncodings)
    func smallBodyDoesNotAllocateTheLimit(encoding: ContentEncoding) throws {
        let encoded = Fixtures.encode(Fixtures.payload(count: 2_000), as: encoding)
        let decoded = try BodyDecoder.decode(ByteBuffer(bytes: encoded), encoding: encoding, limit: 100 << 20)
        #expect(decoded.readableBytes == 2_000)
        #expect(decoded.capacity <= 4096)
    }

    @Test(arguments: compressedEncodings)
    func oneGibibyteBombIsRejectedQuickly(encoding: ContentEncoding) throws {
        let bomb = Fixtures.bomb(encoding, zeroCount: 1 << 30)
        var error: BodyDecodingError?
        let elapsed = ContinuousClock().measure {
            error = decodingError {
                try BodyDecoder.decode(ByteBuffer(bytes: bomb), encoding: encoding, limit: 1 << 20)
            }
        }
        #expect(error?.code == .tooLarge)
        #expect(elapsed < .seconds(1), "\(encoding) bomb of \(bomb.count) bytes took \(elapsed)")
    }

    @Test(arguments: compressedEncodings)
    func emptyBodyIsCorrupt(encoding: ContentEncoding) {
        #expect(decodingError { try decode([], encoding, limit: 1 << 20) }?.code == .corrupt)
    }

    @Test(arguments: compressedEncodings)
    func truncatedBodyIsCorrupt(encoding: ContentEncoding) {
        let encoded = Fixtures.encode(Fixtures.payload(count: 50_000, compressible: false), as: encoding)
        for cut in [1, 2, encoded.count / 2, encoded.count - 4, encoded.count - 1] {
            let error = decodingError { try decode(Array(encoded.prefix(cut)), encoding, limit: 1 << 20) }
            #expect(error?.code == .corrupt, "\(encoding) cut at \(cut) of \(encoded.count)")
        }
    }

    @Test(arguments: compressedEncodings)
    func trailingJunkIsCorrupt(encoding: ContentEncoding) {
        let encoded = Fixtures.encode(Fixtures.payload(count: 1000), as: encoding) + Array("junk".utf8)
        #expect(decodingError { try decode(encoded, encoding, limit: 1 << 20) }?.code == .corrupt)
    }

    @Test func plainBodyLabelledGzipIsCorrupt() {
        let json = Array(#"{"message":"not compressed"}"#.utf8)
        #expect(decodingError { try decode(json, .gzip, limit: 1 << 20) }?.code == .corrupt)
        // A valid gzip header followed by plain text instead of deflate data.
        let header: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]
        #expect(decodingError { try decode(header + json, .gzip, limit: 1 << 20) }?.code == .corrupt)
    }

    @Test func gzipWithFlippedBitFailsTheChecksum() {
        var encoded = Fixtures.gzip(Fixtures.payload(count: 10_000))
        encoded[encoded.count - 6] ^= 0x01
        let error = decodingError { try decode(encoded, .gzip, limit: 1 << 20) }
        #expect(error?.code == .corrupt)
    }

    @Test func doubleGzipIsDecodedOnce() throws {
        let payload = Fixtures.payload(count: 10_000)
        let inner = Fixtures.gzip(payload)
        #expect(try decode(Fixtures.gzip(inner), .gzip, limit: 1 << 20) == inner)
    }

    @Test func zlibStreamLabelledGzipIsCorrupt() {
        let encoded = Fixtures.zlib(Fixtures.payload(count: 100))
        #expect(decodingError { try decode(encoded, .gzip, limit: 1 << 20) }?.code == .corrupt)
    }

    @Test func concatenatedGzipMembersAreOneBody() throws {
        let first = Fixtures.payload(count: 3_000)
        let second = Fixtures.payload(count: 5_000, compressible: false)
        let body = Fixtures.gzip(first) + Fixtures.gzip([]) + Fixtures.gzip(second)
        #expect(try decode(body, .gzip, limit: 8_000) == first + second)
        #expect(decodingError { try decode(body, .gzip, limit: 7_999) }?.code == .tooLarge)
        // A second member cut short is still truncation.
        let truncated = Fixtures.gzip(first) + Fixtures.gzip(second).dropLast(3)
        #expect(decodingError { try decode(truncated, .gzip, limit: 1 << 20) }?.code == .corrupt)
        // Only the magic of a second member, nothing after it.
        #expect(
            decodingError { try decode(Fixtures.gzip(first) + [0x1F, 0x8B], .gzip, limit: 1 << 20) }?.code == .corrupt)
    }

    @Test func deflateAcceptsZlibWrappedAndRaw() throws {
        for count in [0, 1, 2, 10_000] {
            let payload = Fixtures.payload(count: count, compressible: count != 2)
            #expect(try decode(Fixtures.zlib(payload), .deflate, limit: 1 << 20) == payload)
            #expect(try decode(Fixtures.rawDeflate(payload), .deflate, limit: 1 << 20) == payload)
        }
        let payload = Fixtures.payload(count: 9_000)
        #expect(decodingError { try decode(Fixtures.rawDeflate(payload), .deflate, limit: 8_999) }?.code == .tooLarge)
        #expect(
            decodingError { try decode(Fixtures.rawDeflate(payload) + [0], .deflate, limit: 1 << 20) }?.code == .corrupt
        )
    }

    @Test func zstdFrameWithUnknownContentSize() throws {
        let payload = Fixtures.payload(count: 200_000)
        let encoded = Fixtures.zstd(payload, knownSize: false)
        let declared = encoded.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, $0.count) }
        #expect(declared == UInt64.max)  // ZSTD_CONTENTSIZE_UNKNOWN
        #expect(try decode(encoded, .zstd, limit: 200_000) == payload)
        #expect(decodingError { try decode(encoded, .zstd, limit: 199_999) }?.code == .tooLarge)
    }

    @Test func concatenatedZstdFramesAreOneBody() throws {
        let first = Fixtures.payload(count: 1_000)
        let second = Fixtures.payload(count: 2_000, compressible: false)
        #expect(
            try decode(Fixtures.zstd(first) + Fixtures.zstd(second, knownSize: false), .zstd, limit: 3_000) == first
                + second)
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
