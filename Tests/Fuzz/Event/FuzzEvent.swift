import PitModel
import PitObservability
import PitIngest
import NIOCore

// An event payload as ingest handles an event item: JSON tape, extraction, normalisation,
// grouping and compression, through `IngestPipeline.makeEventRecord` (the function the envelope
// and /store/ paths share), so the target follows whatever those steps become. On top of "no
// trap", one oracle: the grouper's fast path must hash as its component tree does
// (`GrouperFastPathTests` checks the same on hand-picked events; here on whatever the fuzzer finds).

let pipeline = IngestPipeline(
    keys: KeyCache(), queue: IngestQueue(maxCount: 1, maxBytes: 1), ack: .queued, limits: IngestLimits(), metrics: PitMetrics()
)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEvent(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let raw = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    do {
        _ = try pipeline.makeEventRecord(ByteBuffer(bytes: raw), header: nil, projectID: 1, received: 1_764_547_200)
        let event = try EventExtractor.extract(payload: raw)
        let fast = Grouper.group(event).hashes
        precondition(!fast.isEmpty, "an accepted event has no group hash")
        precondition(fast == Grouper.explain(event).hashes, "grouping fast path disagrees with the component tree")
    } catch {
        // Not an event: the tape alone still has to hold, as it does for every JSON item type.
        _ = try? JSONTape.parse(raw)
        _ = error.description
    }
    return 0
}
