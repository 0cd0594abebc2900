import CBrotli
import CZlib
import CZstd
package import NIOCore

/// Why a request body could not be decoded; the caller maps `.corrupt` to 400 and `.tooLarge` to 413.
package struct BodyDecodingError: Error, Hashable, CustomStringConvertible {
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case corrupt, tooLarge
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// Not a valid stream in the declared encoding: bad header, bad data, truncated, or trailing junk.
        package static let corrupt = Code(.corrupt)
        /// The decoded body would exceed the caller's limit.
        package static let tooLarge = Code(.tooLarge)

        package var description: String {
            switch self.base {
            case .corrupt: "corrupt"
            case .tooLarge: "tooLarge"
            }
        }
    }

    package let code: Code
    package let message: String

    package init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    package static func corrupt(_ message: String) -> Self {
        Self(code: .corrupt, message: message)
    }

    package static func tooLarge(limit: Int) -> Self {
        Self(code: .tooLarge, message: "decoded body exceeds \(limit) bytes")
    }

    package var description: String {
        "\(self.code): \(self.message)"
    }
}

package enum BodyDecoder {
    /// Returns the decoded body. Never produces (or allocates for) more than `limit` output bytes: when the
    /// stream would exceed `limit`, throws .tooLarge as soon as limit+1 bytes would be produced.
    /// Corrupt/truncated input throws .corrupt. Concatenated gzip members are valid (gzip allows multi-member);
    /// other trailing junk after a complete stream is .corrupt.
    /// identity: returns input unchanged (but still .tooLarge if input.readableBytes > limit).
    ///
    /// "deflate" in HTTP is zlib-wrapped, but some clients send raw deflate: a body whose first two bytes are
    /// not a valid zlib header is decoded as raw deflate.
    package static func decode(_ input: ByteBuffer, encoding: ContentEncoding, limit: Int) throws -> ByteBuffer {
        let limit = Self.effectiveLimit(limit)
        switch encoding {
        case .identity:
            guard input.readableBytes <= limit else { throw BodyDecodingError.tooLarge(limit: limit) }
            return input
        case .gzip:
            // 16 + MAX_WBITS: gzip wrapper only, so a zlib stream sent as "gzip" is rejected rather than guessed.
            return try Self.run(ZlibInflater(windowBits: 16 + MAX_WBITS), input, limit: limit)
        case .deflate:
            let wrapped = input.withUnsafeReadableBytes(Self.startsWithZlibHeader)
            return try Self.run(ZlibInflater(windowBits: wrapped ? MAX_WBITS : -MAX_WBITS), input, limit: limit)
        case .brotli:
            return try Self.run(BrotliInflater(), input, limit: limit)
        case .zstd:
            return try Self.run(ZstdInflater(), input, limit: limit)
        }
    }

    /// ByteBuffer cannot hold more than UInt32.max bytes, so a larger limit could never be honoured anyway;
    /// clamping turns "would overflow the buffer" into an ordinary .tooLarge instead of a trap.
    static func effectiveLimit(_ limit: Int) -> Int {
        min(max(limit, 0), Int(clamping: UInt32.max))
    }

    /// RFC 1950: CM = 8 (deflate), CINFO ≤ 7 (window ≤ 32 KiB), and the header read big-endian is a multiple of 31.
    /// Raw deflate practically never passes this: CM = 8 would mean a non-final stored block as its first block.
    static func startsWithZlibHeader(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= 2 else { return false }
        let cmf = bytes[0]
        let flg = bytes[1]
        return cmf & 0x0F == 8 && cmf >> 4 <= 7 && (UInt16(cmf) << 8 | UInt16(flg)) % 31 == 0
    }

    private static func run(_ engine: some Inflater, _ input: ByteBuffer, limit: Int) throws -> ByteBuffer {
        try input.withUnsafeReadableBytes { try Self.run(engine, $0, limit: limit) }
    }

    /// Drives `engine` over `input`, growing the output geometrically so that a small body costs a small buffer,
    /// while never handing the engine room beyond `limit`.
    static func run(_ engine: some Inflater, _ input: UnsafeRawBufferPointer, limit: Int) throws -> ByteBuffer {
        let (scaled, overflow) = input.count.multipliedReportingOverflow(by: 4)
        var output = ByteBufferAllocator().buffer(capacity: min(limit, max(4096, overflow ? .max : scaled)))
        var offset = 0
        while true {
            let remaining = UnsafeRawBufferPointer(rebasing: input[offset...])
            let room = limit - output.writerIndex
            let step: InflateStep
            if room == 0 {
                // Output is exactly at the limit. A one-byte probe tells "the stream ends here" apart from "more
                // follows" without growing the buffer: any byte it yields is byte limit+1.
                var probe: UInt8 = 0
                step = withUnsafeMutableBytes(of: &probe) { engine.step(remaining, $0) }
                if step.produced > 0 { throw BodyDecodingError.tooLarge(limit: limit) }
            } else {
                // Doubling keeps the number of reallocations logarithmic; `room` caps the last one near the limit.
                let growth = output.writableBytes == 0 ? min(room, max(output.capacity, 4096)) : 0
                var result: InflateStep?
                output.writeWithUnsafeMutableBytes(minimumWritableBytes: growth) { buffer in
                    let window = UnsafeMutableRawBufferPointer(rebasing: buffer.prefix(room))
                    let stepResult = engine.step(remaining, window)
                    result = stepResult
                    return stepResult.produced
                }
                step = result!
            }
            offset += step.consumed
            switch step.state {
            case .failed(let message):
                throw BodyDecodingError.corrupt(message)
            case .finished:
                if offset == input.count { return output }
                try engine.restart(remaining: UnsafeRawBufferPointer(rebasing: input[offset...]))
            case .inProgress:
                // Every engine makes progress whenever it has input and room; standing still means it is waiting
                // for input that will never come.
                if step.consumed == 0 && step.produced == 0 {
                    throw BodyDecodingError.corrupt(offset == input.count ? "truncated stream" : "decoder stalled")
                }
            }
        }
    }
}

struct InflateStep {
    enum State {
        case inProgress
        /// The stream (or, for zstd, the current frame) is complete.
        case finished
        case failed(String)
    }

    var consumed: Int
    var produced: Int
    var state: State
}

/// One incremental decompressor; `BodyDecoder.run` owns the buffers and enforces the limit.
protocol Inflater: AnyObject {
    func step(_ input: UnsafeRawBufferPointer, _ output: UnsafeMutableRawBufferPointer) -> InflateStep
    /// Called when a stream finished but input remains: either prepare for the next member or reject the rest.
    func restart(remaining: UnsafeRawBufferPointer) throws
}

/// zlib's inflate for gzip (windowBits 16+15), zlib-wrapped (15) or raw (-15) deflate.
final class ZlibInflater: Inflater {
    // zlib keeps a back-pointer to the z_stream and rejects calls through a moved copy, so it lives on the heap.
    private let stream: UnsafeMutablePointer<z_stream>
    private let isGzip: Bool

    init(windowBits: Int32) {
        self.isGzip = windowBits > MAX_WBITS
        self.stream = .allocate(capacity: 1)
        self.stream.initialize(to: z_stream())
        let rc = inflateInit2_(self.stream, windowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        // Only fails on allocation failure or a header/library mismatch; Swift traps on OOM everywhere else too.
        precondition(rc == Z_OK, "inflateInit2 failed: \(rc)")
    }

    deinit {
        inflateEnd(self.stream)
        self.stream.deinitialize(count: 1)
        self.stream.deallocate()
    }

    func step(_ input: UnsafeRawBufferPointer, _ output: UnsafeMutableRawBufferPointer) -> InflateStep {
        // avail_in/avail_out are 32-bit; larger spans are simply fed over several steps.
        let inCount = UInt32(clamping: input.count)
        let outCount = UInt32(clamping: output.count)
        // zlib never writes through next_in; the mutable type is only an artefact of building without z_const.
        self.stream.pointee.next_in = input.baseAddress.map {
            UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self))
        }
        self.stream.pointee.avail_in = inCount
        self.stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
        self.stream.pointee.avail_out = outCount
        let rc = inflate(self.stream, Z_NO_FLUSH)
        let consumed = Int(inCount - self.stream.pointee.avail_in)
        let produced = Int(outCount - self.stream.pointee.avail_out)
        let state: InflateStep.State
        switch rc {
        case Z_OK, Z_BUF_ERROR:
            // Z_BUF_ERROR only means "no progress possible now"; the driver decides whether that is truncation.
            state = .inProgress
        case Z_STREAM_END:
            state = .finished
        case Z_NEED_DICT:
            state = .failed("zlib stream requires a preset dictionary")
        default:
            let detail = self.stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
            state = .failed(detail)
        }
        return InflateStep(consumed: consumed, produced: produced, state: state)
    }

    func restart(remaining: UnsafeRawBufferPointer) throws {
        // RFC 1952 allows several members back to back; anything else after the trailer is junk.
        guard self.isGzip, remaining.count >= 2, remaining[0] == 0x1F, remaining[1] == 0x8B else {
            throw BodyDecodingError.corrupt("trailing data after end of stream")
        }
        inflateReset(self.stream)
    }
}

final class BrotliInflater: Inflater {
    private let state: OpaquePointer

    init() {
        guard let state = BrotliDecoderCreateInstance(nil, nil, nil) else {
            preconditionFailure("BrotliDecoderCreateInstance failed")
        }
        self.state = state
    }

    deinit {
        BrotliDecoderDestroyInstance(self.state)
    }

    func step(_ input: UnsafeRawBufferPointer, _ output: UnsafeMutableRawBufferPointer) -> InflateStep {
        var availableIn = input.count
        var nextIn = input.baseAddress?.assumingMemoryBound(to: UInt8.self)
        var availableOut = output.count
        var nextOut = output.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let rc = BrotliDecoderDecompressStream(self.state, &availableIn, &nextIn, &availableOut, &nextOut, nil)
        let state: InflateStep.State =
            switch rc {
            case BROTLI_DECODER_RESULT_SUCCESS: .finished
            case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT, BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT: .inProgress
            default:
                .failed("brotli: " + String(cString: BrotliDecoderErrorString(BrotliDecoderGetErrorCode(self.state))))
            }
        return InflateStep(consumed: input.count - availableIn, produced: output.count - availableOut, state: state)
    }

    func restart(remaining: UnsafeRawBufferPointer) throws {
        // A brotli stream has no framing for concatenation, so bytes after its last meta-block are junk.
        throw BodyDecodingError.corrupt("trailing data after end of brotli stream")
    }
}

final class ZstdInflater: Inflater {
    private let context: OpaquePointer

    init() {
        // Window size stays at zstd's default cap (2^27). The window is allocated but only touched as output is
        // produced, and output stops at the limit, so resident memory tracks the limit, not the declared window.
        guard let context = ZSTD_createDCtx() else { preconditionFailure("ZSTD_createDCtx failed") }
        self.context = context
    }

    deinit {
        ZSTD_freeDCtx(self.context)
    }

    func step(_ input: UnsafeRawBufferPointer, _ output: UnsafeMutableRawBufferPointer) -> InflateStep {
        var inBuffer = ZSTD_inBuffer(src: input.baseAddress, size: input.count, pos: 0)
        var outBuffer = ZSTD_outBuffer(dst: output.baseAddress, size: output.count, pos: 0)
        let rc = ZSTD_decompressStream(self.context, &outBuffer, &inBuffer)
        let state: InflateStep.State =
            if ZSTD_isError(rc) != 0 {
                .failed("zstd: " + String(cString: ZSTD_getErrorName(rc)))
            } else {
                // 0 means the current frame is fully decoded and flushed.
                rc == 0 ? .finished : .inProgress
            }
        return InflateStep(consumed: inBuffer.pos, produced: outBuffer.pos, state: state)
    }

    func restart(remaining: UnsafeRawBufferPointer) throws {
        // Concatenated (and skippable) frames are valid zstd; the context starts the next frame by itself and
        // rejects junk as an unknown frame magic.
    }
}
