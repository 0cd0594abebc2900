package import NIOCore
import PitModel

/// `session` and `sessions` items to records, with Relay's rules (PROTOCOL.md §7): a session
/// without a release, one that started more than `maxAge` ago or later than `maxFuture` from now,
/// or one that is not a session at all, is dropped (nil) and the rest of the envelope is kept.
/// Runs in the ingest pipeline, off the writer thread; the writer only applies the records.
package enum SessionParser {
    /// Relay's `max_session_secs_in_past`: updates of older sessions are dropped, and the writer
    /// forgets a session's state after this long.
    package static let maxAgeSeconds = 5.0 * 86400
    /// Relay's `max_secs_in_future`: allowed clock skew.
    package static let maxFutureSeconds = 60.0
    /// A `sid` is a UUID; anything longer is not one.
    package static let maxIDBytes = 64
    /// Relay's limit on buckets per `sessions` item (PROTOCOL.md §2).
    package static let maxAggregates = 100
    /// Counts are Relay's u32.
    static let maxCount = Int64(UInt32.max)

    /// Why an item was dropped, for the `pit_events_rejected_total` reason label.
    package enum Drop: String, Sendable, Error {
        /// Not JSON: refused with the envelope (400), as every other JSON item is.
        case malformed = "invalid_json"
        case invalid = "invalid_session"
        case missingRelease = "session_missing_release"
        case tooOld = "session_too_old"
        case inFuture = "session_in_future"
    }

    /// A `session` item; throws `Drop` when Relay would drop it.
    package static func session(_ payload: ByteBuffer, projectID: Int64, received: Double) throws(Drop) -> SessionUpdate {
        try parse(payload) { (json: JSONView) throws(Drop) -> SessionUpdate in
            let root = json.tape.root
            guard json.kind(root) == .object else { throw .invalid }
            guard let sid = json.scalarText(json.member(root, "sid"))?.lowercased(), !sid.isEmpty,
                sid.utf8.count <= maxIDBytes, !FieldLimits.containsNUL(sid)
            else { throw .invalid }
            let (release, environment) = try attributes(json, root)
            guard var started = timestamp(json, json.member(root, "started")) else { throw .invalid }
            // Relay: an update stamped before its session started moves the start back to it.
            let stamped = timestamp(json, json.member(root, "timestamp"))
            if let stamped, stamped < started { started = stamped }
            try checkAge(started, received: received)
            let statusText = json.string(json.member(root, "status")) ?? "ok"
            guard let status = SessionUpdate.Status(rawValue: statusText) else { throw .invalid }
            var errors = min(max(Int64(json.int(json.member(root, "errors")) ?? 0), 0), maxCount)
            // A crash is an error (PROTOCOL.md §7: crashed sessions have errors of at least 1).
            if status == .crashed { errors = max(errors, 1) }
            var duration = json.double(json.member(root, "duration"))
            if let value = duration, !value.isFinite || value < 0 { duration = nil }
            // Not Relay's: the Python SDK sends no `duration`; a clean exit's own timestamp
            // still says how long the session ran, which p50/p90 would otherwise never see.
            if duration == nil, status == .exited, let stamped { duration = max(0, stamped - started) }
            return SessionUpdate(
                projectID: projectID, sid: sid, did: did(json, json.member(root, "did")), release: release, environment: environment,
                started: Int64(started * 1000), status: status, errors: errors, duration: duration)
        }
    }

    /// A `sessions` item: its buckets that pass the rules (none may remain).
    package static func sessions(_ payload: ByteBuffer, projectID: Int64, received: Double) throws(Drop) -> [SessionAggregate] {
        try parse(payload) { (json: JSONView) throws(Drop) -> [SessionAggregate] in
            let root = json.tape.root
            guard json.kind(root) == .object, let list = json.member(root, "aggregates"), json.kind(list) == .array else {
                throw .invalid
            }
            guard json.count(list) <= maxAggregates else { throw .invalid }
            let (release, environment) = try attributes(json, root)
            var result: [SessionAggregate] = []
            json.forEachElement(list) { bucket in
                guard json.kind(bucket) == .object, let started = timestamp(json, json.member(bucket, "started")),
                    (try? checkAge(started, received: received)) != nil
                else { return }
                func count(_ key: StaticString) -> Int64 { min(max(Int64(json.int(json.member(bucket, key)) ?? 0), 0), maxCount) }
                let aggregate = SessionAggregate(
                    projectID: projectID, did: did(json, json.member(bucket, "did")), release: release, environment: environment,
                    started: Int64(started * 1000), exited: count("exited"), errored: count("errored"), abnormal: count("abnormal"),
                    crashed: count("crashed"))
                if aggregate.total > 0 { result.append(aggregate) }
            }
            return result
        }
    }

    private static func parse<T>(_ payload: ByteBuffer, _ body: (JSONView) throws(Drop) -> T) throws(Drop) -> T {
        let result: Result<T, Drop> = payload.withUnsafeReadableBytes { raw in
            guard let tape = try? JSONTape.parse(raw) else { return .failure(.malformed) }
            do throws(Drop) {
                return .success(try body(JSONView(tape: tape, bytes: raw)))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// `attrs.release` (required, cut to Relay's 200 bytes) and `attrs.environment`.
    private static func attributes(_ json: JSONView, _ root: Int) throws(Drop) -> (String, String) {
        let attrs = json.member(root, "attrs")
        guard let raw = json.string(json.member(attrs, "release")) else { throw .missingRelease }
        let release = FieldLimits.prefix(FieldLimits.removingNUL(raw.trimmingSpaces), maxBytes: FieldLimits.release)
        guard !release.isEmpty else { throw .missingRelease }
        let environment = json.string(json.member(attrs, "environment")).map {
            FieldLimits.prefix(FieldLimits.removingNUL($0.trimmingSpaces), maxBytes: FieldLimits.environment)
        }
        return (release, environment.flatMap { $0.isEmpty ? nil : $0 } ?? "production")
    }

    private static func timestamp(_ json: JSONView, _ index: Int?) -> Double? {
        guard let index else { return nil }
        switch json.kind(index) {
        case .number: return json.double(index).flatMap { $0.isFinite ? $0 : nil }
        case .string: return json.withStringUTF8(index) { Timestamp.parse(utf8: $0) }
        default: return nil
        }
    }

    private static func did(_ json: JSONView, _ index: Int?) -> String? {
        guard let text = json.scalarText(index) else { return nil }
        let did = FieldLimits.prefix(FieldLimits.removingNUL(text), maxBytes: FieldLimits.userID)
        return did.isEmpty ? nil : did
    }

    private static func checkAge(_ started: Double, received: Double) throws(Drop) {
        if started < received - maxAgeSeconds { throw .tooOld }
        if started > received + maxFutureSeconds { throw .inFuture }
    }
}
