import PitIngest
import NIOCore

// The brotli request-body decoder on arbitrary bytes, with a limit small enough that fuzzed
// inputs (bombs included) reach it: every input must decode, or be refused as corrupt or too
// large, within the limit.

let limits = [0, 1, 4096, 256 * 1024]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBrotli(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    // A selector byte in front of the stream picks the limit, so the corpus keeps inputs that end
    // exactly at one as well as ones that run past it.
    let limit = limits[Int(data[0]) % limits.count]
    let body = ByteBuffer(bytes: UnsafeBufferPointer(start: data + 1, count: size - 1))
    do {
        let decoded = try BodyDecoder.decode(body, encoding: .brotli, limit: limit)
        precondition(decoded.readableBytes <= limit, "decoded past the limit")
    } catch {
        // Refusing is the expected answer to most inputs; the message must still render.
        _ = String(describing: error)
    }
    return 0
}
