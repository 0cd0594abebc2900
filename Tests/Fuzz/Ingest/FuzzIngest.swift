import PitModel
import PitObservability
import PitStorage
import PitIngest
import NIOCore

// The whole CPU side of ingest, as a request reaches it: body decoding, envelope parsing, JSON
// tape, extraction, normalisation, grouping and payload compression (`IngestPipeline.prepare`).
// Nothing is queued or stored: `prepare` stops before the queue.
//
// Input layout: one selector byte, then the request body.
//   bits 0-2  Content-Encoding: identity, gzip, deflate, br, zstd, x-gzip, an unsupported one, none
//   bit 3     endpoint: /envelope/ (0) or /store/ (1)
//   bit 4     credentials: from the request (0) or only the envelope header's dsn (1, the tunnel)
//   bit 5     /store/ with an envelope content type

/// The one key the tunnel pattern can authorise with; seeds carry it in their `dsn`.
let fuzzPublicKey = "fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz"
let fuzzProjectID: Int64 = 1

let pipeline: IngestPipeline = {
    let keys = KeyCache()
    keys.replace(with: [
        ProjectKey(id: 1, projectID: fuzzProjectID, publicKey: fuzzPublicKey, label: "fuzz", enabled: true, createdAt: 0)
    ])
    // A smaller decoded-envelope cap than the server's 200 MiB: the code paths are the same, and a
    // decompression bomb then costs milliseconds per run instead of seconds.
    var limits = IngestLimits()
    limits.maxEnvelopeBytes = 8 * IngestLimits.mib
    return IngestPipeline(
        keys: keys, queue: IngestQueue(maxCount: 1, maxBytes: 1), ack: .queued, limits: limits, metrics: PitMetrics()
    )
}()

let encodings: [String?] = ["identity", "gzip", "deflate", "br", "zstd", "x-gzip", "compress", nil]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzIngest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let selector = data[0]
    let body = ByteBuffer(bytes: UnsafeBufferPointer(start: data + 1, count: size - 1))
    let endpoint: IngestPipeline.Endpoint = selector & 0x08 == 0 ? .envelope : .store
    let request = IngestPipeline.Request(
        projectID: fuzzProjectID,
        auth: selector & 0x10 == 0 ? SentryAuth(publicKey: fuzzPublicKey, version: 7) : nil,
        contentEncoding: encodings[Int(selector & 0x07)],
        contentType: selector & 0x20 == 0 ? "application/json" : "application/x-sentry-envelope",
        body: body,
        authorized: selector & 0x10 == 0
    )
    do {
        _ = try pipeline.prepare(request, endpoint: endpoint)
    } catch {
        // Refusals are the expected answer to most inputs; only traps, leaks and hangs count.
        _ = error.description
    }
    return 0
}
