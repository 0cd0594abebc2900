package import NIOCore
package import PitModel
package import PitStorage

/// A `client_report` item: what the SDK dropped itself and why (Relay's `ClientReport`,
/// `{"timestamp", "discarded_events": [{"reason", "category", "quantity"}], "rate_limited_events",
/// "filtered_events", "filtered_sampling_events"}`), as outcome counts. `discarded_events` are
/// `client_discard` outcomes; the older lists (sent by Relays) are counted as Relay counts them:
/// `rate_limited_events` as `rate_limited`, `filtered_events` and `filtered_sampling_events` as
/// `filtered`.
package enum ClientReportParser {
    /// Entries in one report (the Python SDK sends one per reason and category it saw).
    package static let maxEntries = 1000
    /// A report's `timestamp` further from its receipt than this (or in the future by more than
    /// a minute) is counted at its receipt instead.
    package static let maxAgeSeconds = 5 * 86400.0
    package static let maxFutureSeconds = 60.0
    package static let maxQuantity = Int(UInt32.max)

    package static func parse(_ payload: ByteBuffer, projectID: Int64, received: Double) throws(IngestError) -> [OutcomeCount] {
        try payload.withUnsafeReadableBytes { (raw) throws(IngestError) -> [OutcomeCount] in
            let tape: JSONTape
            do { tape = try JSONTape.parse(raw) } catch { throw .badRequest("invalid client_report item: \(error)") }
            let json = JSONView(tape: tape, bytes: raw)
            let root = tape.root
            guard json.kind(root) == .object else { throw .badRequest("invalid client_report item: not a JSON object") }
            var at = received
            if let member = json.member(root, "timestamp"), !json.isNull(member) {
                guard let timestamp = EventExtractor.timestamp(json, member) else {
                    throw .badRequest("invalid client_report item: timestamp is not a timestamp")
                }
                if timestamp <= received + maxFutureSeconds && timestamp >= received - maxAgeSeconds { at = timestamp }
            }
            let hour = HourlyCounts.hour(ofMilliseconds: Int64(at * 1000))
            var counts: [OutcomeCount] = []
            let lists: [(StaticString, OutcomeKind)] = [
                ("discarded_events", .clientDiscard), ("rate_limited_events", .rateLimited), ("filtered_events", .filtered),
                ("filtered_sampling_events", .filtered),
            ]
            for (name, outcome) in lists {
                guard let list = json.member(root, name), !json.isNull(list) else { continue }
                guard json.kind(list) == .array else { throw .badRequest("invalid client_report item: \(name) is not an array") }
                var index = 0
                for element in json.elements(list) {
                    defer { index += 1 }
                    let path = "\(name)[\(index)]"
                    guard json.kind(element) == .object else { throw .badRequest("invalid client_report item: \(path) is not an object") }
                    let reason = try validName(json, json.member(element, "reason"), field: "\(path).reason")
                    let category = try validName(json, json.member(element, "category"), field: "\(path).category")
                    // Relay's quantities are u32: a larger one is no SDK's count.
                    guard let quantity = json.int(json.member(element, "quantity")), (0...maxQuantity).contains(quantity) else {
                        throw .badRequest("invalid client_report item: \(path).quantity must be an integer from 0 to \(maxQuantity)")
                    }
                    guard counts.count < maxEntries else {
                        throw .badRequest("invalid client_report item: more than \(maxEntries) entries")
                    }
                    guard quantity > 0 else { continue }
                    counts.append(
                        OutcomeCount(
                            OutcomeKey(projectID: projectID, hour: hour, outcome: outcome, category: category, reason: reason),
                            quantity: Int64(quantity)))
                }
            }
            return counts
        }
    }

    /// A reason or category: a non-empty string of lowercase letters, digits, `_`, `-`, `.`
    /// and `:` (Relay's reasons and category names), at most `OutcomeCategory.maxNameBytes`.
    private static func validName(_ json: JSONView, _ index: Int?, field: String) throws(IngestError) -> String {
        guard let text = json.string(index) else { throw .badRequest("invalid client_report item: \(field) must be a string") }
        let bytes = text.utf8
        guard !bytes.isEmpty, bytes.count <= OutcomeCategory.maxNameBytes,
            bytes.allSatisfy({
                ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
                    || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: ":")
            })
        else {
            throw .badRequest(
                "invalid client_report item: \(field) must be 1 to \(OutcomeCategory.maxNameBytes) characters of a-z, 0-9, _ - . :")
        }
        return text
    }
}
