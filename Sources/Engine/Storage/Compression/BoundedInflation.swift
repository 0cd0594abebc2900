import CZstd
package import NIOCore

/// Streaming decompression that never produces (or allocates for) more than a limit: request
/// bodies in every Content-Encoding (`BodyDecoder`, `EnvelopeHeaderProbe`) and stored payloads
/// that are not one sized zstd frame (`PayloadCodec`) go through this one loop.
package enum BoundedInflation {
    /// Drives `engine` over `input`, growing the output geometrically so that a small body costs a small buffer,
    /// while never handing the engine room beyond `limit`.
    /// Throws `.tooLarge` as soon as byte limit+1 would be produced, `.corrupt` on bad,
    /// truncated or trailing input (what counts as trailing is the engine's `restart`).
    package static func run(_ engine: some Inflater, _ input: UnsafeRawBufferPointer, limit: Int) throws(InflationFailure)
        -> ByteBuffer
    {
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
                if step.produced > 0 { throw .tooLarge }
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
                throw .corrupt(message)
            case .finished:
                if offset == input.count { return output }
                try engine.restart(remaining: UnsafeRawBufferPointer(rebasing: input[offset...]))
            case .inProgress:
                // Every engine makes progress whenever it has input and room; standing still means it is waiting
                // for input that will never come.
                if step.consumed == 0 && step.produced == 0 {
                    throw .corrupt(offset == input.count ? "truncated stream" : "decoder stalled")
                }
            }
        }
    }
}

/// Why `BoundedInflation.run` stopped; each caller tells it in its own error type.
package enum InflationFailure: Error {
    case tooLarge
    case corrupt(String)
}

package struct InflateStep {
    package enum State {
        case inProgress
        /// The stream (or, for zstd, the current frame) is complete.
        case finished
        case failed(String)
    }

    package var consumed: Int
    package var produced: Int
    package var state: State

    package init(consumed: Int, produced: Int, state: State) {
        self.consumed = consumed
        self.produced = produced
        self.state = state
    }
}

/// One incremental decompressor; `BoundedInflation.run` owns the buffers and enforces the limit.
package protocol Inflater: AnyObject {
    func step(_ input: UnsafeRawBufferPointer, _ output: UnsafeMutableRawBufferPointer) -> InflateStep
    /// Called when a stream finished but input remains: either prepare for the next member or reject the rest.
    func restart(remaining: UnsafeRawBufferPointer) throws(InflationFailure)
}

package final class ZstdInflater: Inflater {
    private let context: OpaquePointer

    package init() {
        // Window size stays at zstd's default cap (2^27). The window is allocated but only touched as output is
        // produced, and output stops at the limit, so resident memory tracks the limit, not the declared window.
        guard let context = ZSTD_createDCtx() else { preconditionFailure("ZSTD_createDCtx failed") }
        self.context = context
    }

    deinit {
        ZSTD_freeDCtx(self.context)
    }

    package func step(_ input: UnsafeRawBufferPointer, _ output: UnsafeMutableRawBufferPointer) -> InflateStep {
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

    package func restart(remaining: UnsafeRawBufferPointer) throws(InflationFailure) {
        // Concatenated (and skippable) frames are valid zstd; the context starts the next frame by itself and
        // rejects junk as an unknown frame magic.
    }
}
