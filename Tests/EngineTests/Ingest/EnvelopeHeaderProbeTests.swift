import PitIngest
import NIOCore
import Testing
import PitModel

/// The tunnel pattern's credentials are read from the envelope's first line while the body
/// arrives: found however the body is split and encoded, refused within a bounded amount of
/// work when it is not there.
@Suite struct EnvelopeHeaderProbeTests {
    static let header = #"{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","dsn":"https://key@host/42"}"#
    static let body = Array((header + "\n" + #"{"type":"event"}"# + "\n" + #"{"message":"m"}"# + "\n").utf8)

    /// Feeds `bytes` in chunks of `size` and returns the first decided outcome (or `finish`'s).
    private func probe(_ bytes: [UInt8], encoding: ContentEncoding, chunk size: Int) -> EnvelopeHeaderProbe.Outcome {
        let probe = EnvelopeHeaderProbe(encoding: encoding)
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + size)
            let outcome = probe.feed(ByteBuffer(bytes: bytes[offset..<end]))
            if case .needMore = outcome {} else { return outcome }
            offset = end
        }
        return probe.finish()
    }

    private func line(_ outcome: EnvelopeHeaderProbe.Outcome) -> String? {
        if case .found(let line) = outcome { return String(decoding: line.readableBytesView, as: UTF8.self) }
        return nil
    }

    private func status(_ outcome: EnvelopeHeaderProbe.Outcome) -> Int? {
        if case .refused(let error) = outcome { return error.status }
        return nil
    }

    @Test(arguments: [ContentEncoding.identity, .gzip, .deflate, .brotli, .zstd], [1, 7, 4096])
    func findsTheFirstLine(encoding: ContentEncoding, chunk: Int) {
        #expect(line(probe(Fixtures.encode(Self.body, as: encoding), encoding: encoding, chunk: chunk)) == Self.header)
    }

    @Test func rawDeflateAndALoneHeader() {
        #expect(line(probe(Fixtures.rawDeflate(Self.body), encoding: .deflate, chunk: 1)) == Self.header)
        // A body that is only a header, without a newline: the header is all of it.
        #expect(line(probe(Array(Self.header.utf8), encoding: .identity, chunk: 10)) == Self.header)
        #expect(line(probe(Fixtures.gzip(Array(Self.header.utf8)), encoding: .gzip, chunk: 10)) == Self.header)
    }

    @Test(arguments: [ContentEncoding.gzip, .deflate, .brotli, .zstd])
    func aBombWithoutANewlineIsRefusedAfterTheWindow(encoding: ContentEncoding) {
        // 64 MiB of zeros: refused (401) once 64 KiB are inflated, long before the end.
        let bomb = Fixtures.bomb(encoding, zeroCount: 64 << 20)
        let probe = EnvelopeHeaderProbe(encoding: encoding)
        var offset = 0
        var outcome = EnvelopeHeaderProbe.Outcome.needMore
        while offset < bomb.count, case .needMore = outcome {
            let end = min(bomb.count, offset + 16 * 1024)
            outcome = probe.feed(ByteBuffer(bytes: bomb[offset..<end]))
            offset = end
        }
        #expect(status(outcome) == 401)
        // The first 16 KiB inflate far past the window: decided on the first chunk.
        #expect(offset <= 16 * 1024, "read \(offset) of \(bomb.count) bytes")
    }

    @Test func plainLongLineAndCorruptStreams() {
        #expect(status(probe([UInt8](repeating: UInt8(ascii: "a"), count: 100_000), encoding: .identity, chunk: 8192)) == 401)
        #expect(status(probe([0x1F, 0x8B, 0x08, 0x00] + [UInt8](repeating: 0xFF, count: 5000), encoding: .gzip, chunk: 1000)) == 400)
        // A compressed body that ends mid-stream is truncated.
        let gzipped = Fixtures.gzip(Self.body)
        #expect(status(probe(Array(gzipped.prefix(10)), encoding: .gzip, chunk: 100)) == 400)
    }
}
