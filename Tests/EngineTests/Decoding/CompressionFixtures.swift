import CBrotli
import CZlib
import CZstd
import PitIngest

/// Encoders for tests only: the server never compresses request bodies, so these live beside the tests.
/// Each is streaming so that decompression bombs can be built from zeros chunk by chunk.
protocol FixtureEncoder: AnyObject {
    func write(_ chunk: UnsafeRawBufferPointer)
    func finish() -> [UInt8]
}

extension FixtureEncoder {
    func encode(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { self.write($0) }
        return self.finish()
    }
}

enum Fixtures {
    static func gzip(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
        ZlibDeflater(windowBits: 16 + MAX_WBITS, level: level).encode(bytes)
    }

    static func zlib(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
        ZlibDeflater(windowBits: MAX_WBITS, level: level).encode(bytes)
    }

    static func rawDeflate(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
        ZlibDeflater(windowBits: -MAX_WBITS, level: level).encode(bytes)
    }

    static func brotli(_ bytes: [UInt8], quality: UInt32 = 5) -> [UInt8] {
        BrotliFixtureEncoder(quality: quality).encode(bytes)
    }

    /// With `knownSize: false` the input is fed before the frame is ended, so the frame header carries no content
    /// size, as a streaming client would send it.
    static func zstd(_ bytes: [UInt8], level: Int32 = 3, knownSize: Bool = true) -> [UInt8] {
        let encoder = ZstdFixtureEncoder(level: level)
        if knownSize {
            encoder.pledge(UInt64(bytes.count))
        }
        return encoder.encode(bytes)
    }

    /// The body as a client would send it with that Content-Encoding.
    static func encode(_ bytes: [UInt8], as encoding: ContentEncoding) -> [UInt8] {
        switch encoding {
        case .identity: bytes
        case .gzip: gzip(bytes)
        case .deflate: zlib(bytes)
        case .brotli: brotli(bytes)
        case .zstd: zstd(bytes)
        }
    }

    /// `zeroCount` zero bytes compressed in 1 MiB chunks, so a 1 GiB bomb never needs 1 GiB of memory.
    /// zlib level 9 reaches deflate's ceiling of ~1030:1 on zeros (level 1 stops near 230:1); brotli and zstd
    /// compress zeros to almost nothing at any level, so they use fast ones.
    static func bomb(_ encoding: ContentEncoding, zeroCount: Int) -> [UInt8] {
        let encoder: any FixtureEncoder =
            switch encoding {
            case .identity: preconditionFailure("identity has no bomb")
            case .gzip: ZlibDeflater(windowBits: 16 + MAX_WBITS, level: 9)
            case .deflate: ZlibDeflater(windowBits: MAX_WBITS, level: 9)
            case .brotli: BrotliFixtureEncoder(quality: 5)
            case .zstd: ZstdFixtureEncoder(level: 1)
            }
        let chunk = [UInt8](repeating: 0, count: 1 << 20)
        var left = zeroCount
        while left > 0 {
            let count = min(left, chunk.count)
            chunk.withUnsafeBytes { encoder.write(UnsafeRawBufferPointer(rebasing: $0.prefix(count))) }
            left -= count
        }
        return encoder.finish()
    }

    /// Deterministic bytes: `compressible` gives repetitive JSON, otherwise SplitMix64 noise.
    static func payload(count: Int, compressible: Bool = true, seed: UInt64 = 42) -> [UInt8] {
        if compressible {
            let line = Array(#"{"event_id":"9ec79c33ec9942ab8353589fcb2e04dc","level":"error","message":"boom"}"#.utf8)
            return (0..<count).map { line[$0 % line.count] }
        }
        var state = seed
        return (0..<count).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return UInt8(truncatingIfNeeded: z ^ (z >> 31))
        }
    }
}

final class ZlibDeflater: FixtureEncoder {
    private let stream: UnsafeMutablePointer<z_stream>
    private var output: [UInt8] = []

    init(windowBits: Int32, level: Int32) {
        self.stream = .allocate(capacity: 1)
        self.stream.initialize(to: z_stream())
        let rc = deflateInit2_(
            self.stream, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
            Int32(MemoryLayout<z_stream>.size)
        )
        precondition(rc == Z_OK)
    }

    deinit {
        deflateEnd(self.stream)
        self.stream.deinitialize(count: 1)
        self.stream.deallocate()
    }

    func write(_ chunk: UnsafeRawBufferPointer) {
        self.run(chunk, flush: Z_NO_FLUSH)
    }

    func finish() -> [UInt8] {
        self.run(UnsafeRawBufferPointer(start: nil, count: 0), flush: Z_FINISH)
        return self.output
    }

    private func run(_ chunk: UnsafeRawBufferPointer, flush: Int32) {
        self.stream.pointee.next_in = chunk.baseAddress.map {
            UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self))
        }
        self.stream.pointee.avail_in = UInt32(chunk.count)
        var scratch = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let rc = scratch.withUnsafeMutableBufferPointer { out in
                self.stream.pointee.next_out = out.baseAddress
                self.stream.pointee.avail_out = UInt32(out.count)
                return deflate(self.stream, flush)
            }
            precondition(rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR)
            self.output += scratch[..<(scratch.count - Int(self.stream.pointee.avail_out))]
            if flush == Z_FINISH ? rc == Z_STREAM_END : self.stream.pointee.avail_out != 0 {
                return
            }
        }
    }
}

final class BrotliFixtureEncoder: FixtureEncoder {
    private let state: OpaquePointer
    private var output: [UInt8] = []

    init(quality: UInt32) {
        self.state = BrotliEncoderCreateInstance(nil, nil, nil)!
        precondition(BrotliEncoderSetParameter(self.state, BROTLI_PARAM_QUALITY, quality) == BROTLI_TRUE)
    }

    deinit {
        BrotliEncoderDestroyInstance(self.state)
    }

    func write(_ chunk: UnsafeRawBufferPointer) {
        self.run(chunk, operation: BROTLI_OPERATION_PROCESS)
    }

    func finish() -> [UInt8] {
        self.run(UnsafeRawBufferPointer(start: nil, count: 0), operation: BROTLI_OPERATION_FINISH)
        return self.output
    }

    private func run(_ chunk: UnsafeRawBufferPointer, operation: BrotliEncoderOperation) {
        var availableIn = chunk.count
        var nextIn = chunk.baseAddress?.assumingMemoryBound(to: UInt8.self)
        var scratch = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            var availableOut = scratch.count
            scratch.withUnsafeMutableBufferPointer { out in
                var nextOut = out.baseAddress
                let ok = BrotliEncoderCompressStream(
                    self.state, operation, &availableIn, &nextIn, &availableOut, &nextOut, nil
                )
                precondition(ok == BROTLI_TRUE)
            }
            self.output += scratch[..<(scratch.count - availableOut)]
            let done =
                operation == BROTLI_OPERATION_FINISH
                ? BrotliEncoderIsFinished(self.state) == BROTLI_TRUE
                : availableIn == 0 && BrotliEncoderHasMoreOutput(self.state) == BROTLI_FALSE
            if done { return }
        }
    }
}

final class ZstdFixtureEncoder: FixtureEncoder {
    private let context: OpaquePointer
    private var output: [UInt8] = []

    init(level: Int32) {
        self.context = ZSTD_createCCtx()!
        ZSTD_CCtx_setParameter(self.context, ZSTD_c_compressionLevel, level)
    }

    deinit {
        ZSTD_freeCCtx(self.context)
    }

    func pledge(_ size: UInt64) {
        precondition(ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(self.context, size)) == 0)
    }

    func write(_ chunk: UnsafeRawBufferPointer) {
        self.run(chunk, directive: ZSTD_e_continue)
    }

    func finish() -> [UInt8] {
        self.run(UnsafeRawBufferPointer(start: nil, count: 0), directive: ZSTD_e_end)
        return self.output
    }

    private func run(_ chunk: UnsafeRawBufferPointer, directive: ZSTD_EndDirective) {
        var input = ZSTD_inBuffer(src: chunk.baseAddress, size: chunk.count, pos: 0)
        var scratch = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            var produced = 0
            let remaining = scratch.withUnsafeMutableBytes { out in
                var outBuffer = ZSTD_outBuffer(dst: out.baseAddress, size: out.count, pos: 0)
                let rc = ZSTD_compressStream2(self.context, &outBuffer, &input, directive)
                precondition(ZSTD_isError(rc) == 0)
                produced = outBuffer.pos
                return rc
            }
            self.output += scratch[..<produced]
            let done = directive == ZSTD_e_end ? remaining == 0 : input.pos == input.size
            if done { return }
        }
    }
}
