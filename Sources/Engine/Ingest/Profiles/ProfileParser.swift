package import NIOCore
package import PitModel
import PitStorage

/// `profile` items in Sentry's sample format v1 (`{"version": "1", "platform", "event_id",
/// "timestamp", "profile": {"samples", "stacks", "frames"}, "transaction" | "transactions"}`)
/// checked with Relay's rules (`relay-profiling` `sample/v1.rs`) and kept as a `ProfileRecord`.
///
/// Not JSON, or not an object, refuses the envelope, as every other JSON item does. A profile
/// that is JSON but one Sentry could not show (another version, fewer than two samples, a sample
/// naming a stack or a stack naming a frame that does not exist, over 30 s, no transaction to
/// attach it to) is dropped and counted as invalid with Relay's reason; the rest of its envelope
/// is kept.
package enum ProfileParser {
    /// Relay's `MAX_PROFILE_DURATION`: longer profiles are dropped.
    package static let maxDurationNanoseconds: Int64 = 30_000_000_000
    /// Fewer samples than this show nothing (Relay's `NotEnoughSamples`).
    package static let minSamples = 2

    /// Relay's discard reasons (`ProfileError::path`).
    package enum Drop: String, Error, Sendable, Equatable {
        case unsupported = "profiling_platform_not_supported"
        case notEnoughSamples = "profiling_not_enough_samples"
        case malformedSamples = "profiling_malformed_samples"
        case malformedStacks = "profiling_malformed_stacks"
        case noTransaction = "profiling_no_transaction_associated"
        case tooLong = "profiling_duration_exceeds_limit"
    }

    /// `transactionID`: the event id of the envelope's transaction, when it has one; a profile's
    /// own `transaction.id` wins over it.
    package static func profile(
        _ payload: ByteBuffer, transactionID: EventID?, projectID: Int64, received: Double
    ) throws(IngestError) -> Result<ProfileRecord, Drop> {
        let parsed = try payload.withUnsafeReadableBytes { (raw) throws(IngestError) -> Result<ProfileRecord, Drop> in
            let tape: JSONTape
            do { tape = try JSONTape.parse(raw) } catch { throw .badRequest("invalid profile item: \(error)") }
            let json = JSONView(tape: tape, bytes: raw)
            guard json.kind(tape.root) == .object else { throw .badRequest("invalid profile item: expected an object") }
            do throws(Drop) {
                return .success(try record(json, root: tape.root, transactionID: transactionID, projectID: projectID, received: received))
            } catch {
                return .failure(error)
            }
        }
        guard case .success(var record) = parsed else { return parsed }
        record.payloadSize = payload.readableBytes
        record.compressedPayload = PayloadCodec.compress(payload)
        return .success(record)
    }

    private static func record(
        _ json: JSONView, root: Int, transactionID: EventID?, projectID: Int64, received: Double
    ) throws(Drop) -> ProfileRecord {
        guard json.string(json.member(root, "version")) == "1",
            let platform = json.string(json.member(root, "platform")).map({ FieldLimits.prefix($0, maxBytes: FieldLimits.platform) }),
            !platform.isEmpty
        else { throw .unsupported }
        guard let profile = json.member(root, "profile"), json.kind(profile) == .object,
            let samples = json.member(profile, "samples"), json.kind(samples) == .array,
            let stacks = json.member(profile, "stacks"), json.kind(stacks) == .array,
            let frames = json.member(profile, "frames"), json.kind(frames) == .array
        else { throw .malformedSamples }
        let frameCount = json.count(frames)
        var stackCount = 0
        var stacksValid = true
        json.forEachElement(stacks) { stack in
            stackCount += 1
            guard stacksValid, json.kind(stack) == .array else {
                stacksValid = false
                return
            }
            json.forEachElement(stack) { frame in
                guard let index = json.int(frame), index >= 0, index < frameCount else {
                    stacksValid = false
                    return
                }
            }
        }
        guard stacksValid else { throw .malformedStacks }
        var sampleCount = 0
        var first = Int64.max
        var last = Int64.min
        var samplesValid = true
        json.forEachElement(samples) { sample in
            guard samplesValid, json.kind(sample) == .object, let stack = json.int(json.member(sample, "stack_id")), stack >= 0,
                stack < stackCount, let elapsed = nanoseconds(json, json.member(sample, "elapsed_since_start_ns"))
            else {
                samplesValid = false
                return
            }
            sampleCount += 1
            first = min(first, elapsed)
            last = max(last, elapsed)
        }
        guard samplesValid else { throw .malformedSamples }
        guard sampleCount >= minSamples else { throw .notEnoughSamples }
        let transaction = transactionMetadata(json, root)
        guard let linked = json.withStringUTF8(json.member(transaction, "id"), { EventID(hex: $0) }) ?? transactionID else {
            throw .noTransaction
        }
        var duration = last - first
        if let start = nanoseconds(json, json.member(transaction, "relative_start_ns")),
            let end = nanoseconds(json, json.member(transaction, "relative_end_ns")), end > start
        {
            duration = max(duration, end - start)
        }
        guard duration <= maxDurationNanoseconds else { throw .tooLong }
        let receivedMilliseconds = Int64(received * 1000)
        let timestamp = TransactionExtractor.microseconds(json, json.member(root, "timestamp")).map { $0 / 1000 } ?? receivedMilliseconds
        return ProfileRecord(
            projectID: projectID,
            profileID: json.withStringUTF8(json.member(root, "event_id"), { EventID(hex: $0) }) ?? EventID.random(),
            transactionID: linked, traceID: json.withStringUTF8(json.member(transaction, "trace_id"), { TraceID(hex: $0) }),
            platform: platform, timestamp: timestamp, duration: duration / 1000, sampleCount: sampleCount, received: receivedMilliseconds)
    }

    /// The transaction the profile was recorded in: `transaction`, or the first of
    /// `transactions` (the Python SDK's form).
    package static func transactionMetadata(_ json: JSONView, _ root: Int) -> Int? {
        if let one = json.member(root, "transaction"), json.kind(one) == .object { return one }
        guard let list = json.member(root, "transactions"), json.kind(list) == .array else { return nil }
        var first: Int?
        json.forEachElement(list) { element in
            if first == nil { first = element }
        }
        return first.flatMap { json.kind($0) == .object ? $0 : nil }
    }

    /// A non-negative count of nanoseconds, as a number or as a string of digits (SDKs send
    /// both: Python writes `"elapsed_since_start_ns": "10264"`).
    static func nanoseconds(_ json: JSONView, _ index: Int?) -> Int64? {
        guard let index else { return nil }
        switch json.kind(index) {
        case .number:
            guard let value = json.int(index), value >= 0 else { return nil }
            return Int64(value)
        case .string:
            return json.withStringUTF8(index) { digits -> Int64? in
                guard (1...19).contains(digits.count) else { return nil }
                var value: Int64 = 0
                for byte in digits {
                    guard byte >= 0x30 && byte <= 0x39 else { return nil }
                    let (product, overflow) = value.multipliedReportingOverflow(by: 10)
                    guard !overflow else { return nil }
                    value = product + Int64(byte - 0x30)
                }
                return value
            }
        default:
            return nil
        }
    }
}
