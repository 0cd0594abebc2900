import CZlib
package import NIOCore
package import PitModel
import PitStorage

/// Finds an envelope's first line while its body is still arriving, for requests that carry no
/// credentials in their headers (the tunnel pattern: the DSN is in the envelope header).
///
/// Without it such a request was read whole (up to `max_request_bytes`), decompressed (up to
/// `max_envelope_bytes`) and parsed before its key was known to be bad: anyone could make the
/// server spend hundreds of MiB and seconds of CPU per request. The probe looks at each chunk as
/// it comes: an identity body is scanned for `\n`; a compressed one is streamed through its
/// decoder into a fixed buffer of `maximumLineBytes`, so the work per request is bounded by that
/// buffer, never by the body. The body itself is still collected by the caller and decoded in
/// full only once the credentials are good.
package final class EnvelopeHeaderProbe {
    package enum Outcome {
        /// No line yet: feed the next chunk.
        case needMore
        /// The first line (without its `\n`).
        case found(ByteBuffer)
        /// The body cannot yield a first line worth reading: answer this.
        case refused(IngestError)
    }

    /// The longest first line looked for: far above any real envelope header (an event id, a
    /// DSN, `sent_at`, a trace context: a few hundred bytes), and small enough to be cheap.
    package static let maximumLineBytes = 64 * 1024

    private let encoding: ContentEncoding
    private var inflater: (any Inflater)?
    /// Decoded bytes so far (identity: the body's first bytes), at most `maximumLineBytes`.
    private var line: [UInt8] = []
    /// Input held back while fewer than two bytes have come (deflate's wrapper is told by them).
    private var pendingInput: [UInt8] = []
    private var streamEnded = false

    package init(encoding: ContentEncoding) {
        self.encoding = encoding
        switch encoding {
        case .identity, .deflate: inflater = nil
        case .gzip: inflater = ZlibInflater(windowBits: 16 + MAX_WBITS)
        case .brotli: inflater = BrotliInflater()
        case .zstd: inflater = ZstdInflater()
        }
    }

    /// Looks at the next chunk of the body.
    package func feed(_ chunk: ByteBuffer) -> Outcome {
        guard !streamEnded else { return .needMore }
        return chunk.withUnsafeReadableBytes { bytes in
            if encoding == .identity { return take(decoded: bytes) }
            if encoding == .deflate && inflater == nil {
                // Whether "deflate" is zlib-wrapped or raw is told by its first two bytes, as
                // `BodyDecoder` tells it.
                let head = pendingInput + bytes.prefix(2 - pendingInput.count)
                guard head.count == 2 else {
                    pendingInput = head
                    return .needMore
                }
                let wrapped = head.withUnsafeBytes { BodyDecoder.startsWithZlibHeader($0) }
                inflater = ZlibInflater(windowBits: wrapped ? MAX_WBITS : -MAX_WBITS)
                let earlier = pendingInput
                pendingInput = []
                if !earlier.isEmpty {
                    let outcome = earlier.withUnsafeBytes { inflate($0) }
                    guard case .needMore = outcome else { return outcome }
                }
            }
            return inflate(bytes)
        }
    }

    /// The body ended: its first line is all of what was decoded (an envelope may be a lone
    /// header without a newline).
    package func finish() -> Outcome {
        if encoding != .identity && !streamEnded {
            return .refused(.badRequest("could not decode \(encoding) body: truncated stream"))
        }
        return .found(ByteBuffer(bytes: line))
    }

    private func take(decoded bytes: UnsafeRawBufferPointer) -> Outcome {
        let room = Self.maximumLineBytes - line.count
        let window = UnsafeRawBufferPointer(rebasing: bytes.prefix(room))
        if let newline = window.firstIndex(of: UInt8(ascii: "\n")) {
            line += window[..<newline]
            return .found(ByteBuffer(bytes: line))
        }
        line += window
        if bytes.count > room || line.count == Self.maximumLineBytes {
            return .refused(.unauthorized("missing authorization information: no envelope header within \(Self.maximumLineBytes) bytes"))
        }
        return .needMore
    }

    /// Decodes `input` into the line buffer. Each step's output is bounded by the room left, so
    /// a bomb costs at most `maximumLineBytes` of output before it is refused.
    private func inflate(_ input: UnsafeRawBufferPointer) -> Outcome {
        guard let inflater else { return .needMore }
        var offset = 0
        var output = [UInt8](repeating: 0, count: Self.maximumLineBytes - line.count + 1)
        while true {
            let remaining = UnsafeRawBufferPointer(rebasing: input[offset...])
            let step = output.withUnsafeMutableBytes { inflater.step(remaining, $0) }
            offset += step.consumed
            if step.produced > 0 {
                let outcome = output.withUnsafeBytes { take(decoded: UnsafeRawBufferPointer(rebasing: $0[..<step.produced])) }
                guard case .needMore = outcome else { return outcome }
            }
            switch step.state {
            case .failed(let message):
                return .refused(.badRequest("could not decode \(encoding) body: \(message)"))
            case .finished:
                // The first line lies in the first member or frame; what follows is the full
                // decoder's business.
                streamEnded = true
                return .needMore
            case .inProgress:
                // No progress: the decoder wants the next chunk.
                if step.consumed == 0 && step.produced == 0 { return .needMore }
            }
        }
    }
}
