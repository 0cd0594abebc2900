import CZstd
package import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Compression of payloads at rest. zstd at a low level: ingestion is write-heavy, and level 3 already gets most
/// of the ratio on JSON while staying far faster than gzip.
package enum PayloadCodec {
    package static func compress(_ bytes: UnsafeRawBufferPointer, level: Int32 = 3, dictionary: OpaquePointer? = nil) -> [UInt8] {
        let context = CompressionContext.current
        let bound = ZSTD_compressBound(bytes.count)
        // Compressed into the thread's scratch buffer and copied out at its exact size: one array
        // per payload, where a bound-sized array would keep compressBound's slack (or need a
        // second array to drop it).
        let scratch = CompressionContext.scratch(capacity: bound)
        // Parameters stick to the context, so the level and dictionary are set on every call (the checksum once,
        // at creation). A referenced CDict carries its own level.
        ZSTD_CCtx_refCDict(context, dictionary)
        if dictionary == nil { ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level) }
        let rc = ZSTD_compress2(context, scratch.baseAddress, scratch.count, bytes.baseAddress, bytes.count)
        // With a bound-sized destination the only failure left is running out of memory.
        precondition(ZSTD_isError(rc) == 0, "ZSTD_compress2 failed: \(String(cString: ZSTD_getErrorName(rc)))")
        let compressed = Array(UnsafeBufferPointer(rebasing: scratch[0..<rc]))
        CompressionContext.release(scratch)
        return compressed
    }

    package static func compress(_ buffer: ByteBuffer, level: Int32 = 3) -> [UInt8] {
        buffer.withUnsafeReadableBytes { compress($0, level: level) }
    }

    /// One frame holding `bytes` followed by `trailer`, without joining them first. An event's
    /// read view goes after its payload this way (`StoredEventPayload`): its title, culprit and
    /// tags are strings of the payload, which the frame then stores as back-references for a few
    /// bytes, where a column of their own cost ~200 bytes per event (results/, issue 11).
    package static func compress(
        _ bytes: UnsafeRawBufferPointer, trailer: UnsafeRawBufferPointer, level: Int32 = 3, dictionary: OpaquePointer? = nil
    ) -> [UInt8] {
        let context = CompressionContext.current
        let total = bytes.count + trailer.count
        let scratch = CompressionContext.scratch(capacity: ZSTD_compressBound(total))
        ZSTD_CCtx_reset(context, ZSTD_reset_session_only)
        ZSTD_CCtx_refCDict(context, dictionary)
        if dictionary == nil { ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level) }
        // The size in the frame header lets `decompress` decode into an exact-size array.
        ZSTD_CCtx_setPledgedSrcSize(context, UInt64(total))
        var output = ZSTD_outBuffer(dst: scratch.baseAddress, size: scratch.count, pos: 0)
        var head = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
        while head.pos < head.size {
            let rc = ZSTD_compressStream2(context, &output, &head, ZSTD_e_continue)
            precondition(ZSTD_isError(rc) == 0, "ZSTD_compressStream2 failed: \(String(cString: ZSTD_getErrorName(rc)))")
        }
        var tail = ZSTD_inBuffer(src: trailer.baseAddress, size: trailer.count, pos: 0)
        // With a bound-sized destination, ending the frame finishes in one call; the loop only
        // guards the contract (a non-zero result means "call again").
        while true {
            let rc = ZSTD_compressStream2(context, &output, &tail, ZSTD_e_end)
            precondition(ZSTD_isError(rc) == 0, "ZSTD_compressStream2 failed: \(String(cString: ZSTD_getErrorName(rc)))")
            if rc == 0 { break }
        }
        let compressed = Array(UnsafeBufferPointer(rebasing: scratch[0..<output.pos]))
        CompressionContext.release(scratch)
        return compressed
    }

    /// Decompresses a stored payload; throws PayloadCodecError.tooLarge above limit, .corrupt on bad input.
    package static func decompress(_ bytes: [UInt8], limit: Int) throws -> [UInt8] {
        let limit = Self.effectiveLimit(limit)
        return try bytes.withUnsafeBytes { raw in
            let declared = ZSTD_getFrameContentSize(raw.baseAddress, raw.count)
            if declared == contentSizeError {
                throw PayloadCodecError.corrupt("not a zstd frame")
            }
            if declared != contentSizeUnknown && declared > UInt64(limit) {
                // zstd verifies the declared size while decoding, so this frame either exceeds the limit or is corrupt.
                throw PayloadCodecError.tooLarge(limit: limit)
            }
            // Our own payloads are one frame with its size in the header: decode straight into an exact-size array.
            if declared != contentSizeUnknown && ZSTD_findFrameCompressedSize(raw.baseAddress, raw.count) == raw.count {
                return try [UInt8](unsafeUninitializedCapacity: Int(declared)) { buffer, count in
                    let rc = ZSTD_decompress(buffer.baseAddress, buffer.count, raw.baseAddress, raw.count)
                    guard ZSTD_isError(rc) == 0 else {
                        throw PayloadCodecError.corrupt("zstd: " + String(cString: ZSTD_getErrorName(rc)))
                    }
                    count = rc
                }
            }
            // Anything else (several frames, unknown size) takes the bounded streaming path.
            return try decompressStreaming(raw, limit: limit)
        }
    }

    /// The same bound as a request body's (`BodyDecoder`): never negative, never past 4 GiB.
    private static func effectiveLimit(_ limit: Int) -> Int {
        min(max(limit, 0), Int(clamping: UInt32.max))
    }

    /// Several frames, or a frame without its size: valid zstd this codec never writes, decoded by
    /// the loop request bodies use, never holding more than `limit` bytes.
    private static func decompressStreaming(_ raw: UnsafeRawBufferPointer, limit: Int) throws -> [UInt8] {
        do {
            let output = try BoundedInflation.run(ZstdInflater(), raw, limit: limit)
            return Array(output.readableBytesView)
        } catch {
            switch error {
            case .tooLarge: throw PayloadCodecError.tooLarge(limit: limit)
            case .corrupt(let message): throw PayloadCodecError.corrupt(message)
            }
        }
    }

    /// Decompresses a payload compressed with a dictionary (a `ZSTD_DDict`).
    static func decompress(_ bytes: [UInt8], limit: Int, dictionary: OpaquePointer) throws -> [UInt8] {
        let limit = Self.effectiveLimit(limit)
        return try bytes.withUnsafeBytes { raw in
            let declared = ZSTD_getFrameContentSize(raw.baseAddress, raw.count)
            guard declared != contentSizeError, declared != contentSizeUnknown else {
                throw PayloadCodecError.corrupt("not a zstd frame with a known size")
            }
            guard declared <= UInt64(limit) else { throw PayloadCodecError.tooLarge(limit: limit) }
            guard let context = ZSTD_createDCtx() else { throw PayloadCodecError.corrupt("out of memory") }
            defer { ZSTD_freeDCtx(context) }
            return try [UInt8](unsafeUninitializedCapacity: Int(declared)) { buffer, count in
                let rc = ZSTD_decompress_usingDDict(context, buffer.baseAddress, buffer.count, raw.baseAddress, raw.count, dictionary)
                guard ZSTD_isError(rc) == 0 else {
                    throw PayloadCodecError.corrupt("zstd: " + String(cString: ZSTD_getErrorName(rc)))
                }
                count = rc
            }
        }
    }

    // zstd.h spells these as `(0ULL - 1)` / `(0ULL - 2)`, which Swift does not import.
    private static let contentSizeUnknown = UInt64.max
    private static let contentSizeError = UInt64.max - 1
}

/// One zstd compression context per thread: creating a context costs more than compressing a typical event,
/// and threads here (NIO event loops, the cooperative pool) are long-lived.
private enum CompressionContext {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let rc = pthread_key_create(&key) { _ = ZSTD_freeCCtx(OpaquePointer($0)) }
        precondition(rc == 0, "pthread_key_create failed: \(rc)")
        return key
    }()

    /// Per-thread output space for `compress`, kept between calls up to `keptScratchBytes`.
    private static let scratchKey: pthread_key_t = {
        var key = pthread_key_t()
        let rc = pthread_key_create(&key) { free($0) }
        precondition(rc == 0, "pthread_key_create failed: \(rc)")
        return key
    }()
    private static let keptScratchBytes = 64 * 1024

    /// At least `capacity` bytes; hand it back with `release` (the thread keeps small ones).
    static func scratch(capacity: Int) -> UnsafeMutableBufferPointer<UInt8> {
        if capacity <= keptScratchBytes {
            if let kept = pthread_getspecific(scratchKey) {
                return UnsafeMutableBufferPointer(start: kept.assumingMemoryBound(to: UInt8.self), count: keptScratchBytes)
            }
            guard let fresh = malloc(keptScratchBytes) else { preconditionFailure("out of memory") }
            pthread_setspecific(scratchKey, fresh)
            return UnsafeMutableBufferPointer(start: fresh.assumingMemoryBound(to: UInt8.self), count: keptScratchBytes)
        }
        return UnsafeMutableBufferPointer<UInt8>.allocate(capacity: capacity)
    }

    static func release(_ scratch: UnsafeMutableBufferPointer<UInt8>) {
        if scratch.count > keptScratchBytes { scratch.deallocate() }
    }

    static var current: OpaquePointer {
        if let existing = pthread_getspecific(key) {
            return OpaquePointer(existing)
        }
        guard let context = ZSTD_createCCtx() else { preconditionFailure("ZSTD_createCCtx failed") }
        // A 4-byte content checksum per payload: zstd does not otherwise notice a flipped bit inside a raw block,
        // and stored payloads outlive the process that wrote them.
        ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1)
        pthread_setspecific(key, UnsafeRawPointer(context))
        return context
    }
}

/// A stored payload that cannot be read back: its own error, not a request-decoding one, since
/// it comes from the database rather than from a client.
package struct PayloadCodecError: Error, Hashable, CustomStringConvertible {
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case corrupt, tooLarge
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// Not a payload this codec wrote, or one damaged since.
        package static let corrupt = Code(.corrupt)
        /// The payload decompresses to more than the caller's limit.
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
        Self(code: .tooLarge, message: "decoded payload exceeds \(limit) bytes")
    }

    package var description: String {
        "\(self.code): \(self.message)"
    }
}
