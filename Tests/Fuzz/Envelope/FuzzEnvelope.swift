import NIOCore
import PitIngest
import PitModel

// The envelope parser on raw (already decoded) bodies, twice: with the server's limits, and with
// limits small enough that fuzzed inputs reach every "too many / too large" branch.

let serverLimits = EnvelopeParser()
let tightLimits: EnvelopeParser = {
    var limits = IngestLimits()
    limits.maxItemCount = 4
    limits.maxHeaderLineBytes = 96
    limits.maxEventBytes = 128
    limits.maxAttachmentBytes = 64
    limits.maxAttachmentsBytes = 96
    limits.maxAttachmentCount = 2
    limits.maxSessionItems = 2
    limits.maxSessionsBytes = 64
    limits.maxCheckInBytes = 64
    limits.maxClientReportBytes = 64
    return EnvelopeParser(limits: limits)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEnvelope(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let body = ByteBuffer(bytes: UnsafeBufferPointer(start: data, count: data == nil ? 0 : size))
    for parser in [serverLimits, tightLimits] {
        do {
            let envelope = try parser.parse(body)
            // Payloads are slices of the body: check that the parser never hands out more than
            // it was given or more than the item's limit allows.
            var total = 0
            for item in envelope.items {
                let bytes = item.payload.readableBytes
                precondition(bytes <= parser.limits.maxItemBytes(item.type), "item over its limit")
                total += bytes
                _ = item.type.description
            }
            precondition(total <= body.readableBytes, "items larger than the body")
            precondition(envelope.items.count <= parser.limits.maxItemCount, "more items than the cap")
        } catch {
            _ = error.description
        }
    }
    return 0
}
