import CBrotli
import CZlib
package import NIOCore
import PitStorage

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

    /// `BoundedInflation.run`, with its failures told as a request body's.
    static func run(_ engine: some Inflater, _ input: UnsafeRawBufferPointer, limit: Int) throws -> ByteBuffer {
        do {
            return try BoundedInflation.run(engine, input, limit: limit)
        } catch {
            switch error {
            case .tooLarge: throw BodyDecodingError.tooLarge(limit: limit)
            case .corrupt(let message): throw BodyDecodingError.corrupt(message)
            }
        }
    }
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

    func restart(remaining: UnsafeRawBufferPointer) throws(InflationFailure) {
        // RFC 1952 allows several members back to back; anything else after the trailer is junk.
        guard self.isGzip, remaining.count >= 2, remaining[0] == 0x1F, remaining[1] == 0x8B else {
            throw InflationFailure.corrupt("trailing data after end of stream")
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

    func restart(remaining: UnsafeRawBufferPointer) throws(InflationFailure) {
        // A brotli stream has no framing for concatenation, so bytes after its last meta-block are junk.
        throw InflationFailure.corrupt("trailing data after end of brotli stream")
    }
}
