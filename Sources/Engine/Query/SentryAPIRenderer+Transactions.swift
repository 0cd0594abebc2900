import PitIngest
package import PitModel
package import PitStorage

extension SentryAPIRenderer {
    /// A transaction as Sentry's event detail returns it (`GET /api/0/projects/{org}/{project}/
    /// events/{event_id}/`): `type: "transaction"`, its start and end, and its spans as an entry
    /// `{"type": "spans", "data": [...]}` (the spans as the SDK sent them), with the rest of its
    /// JSON (contexts, measurements, request, sdk, ...) as stored.
    package static func transactionEvent(_ stored: StoredTransaction, into writer: inout JSONWriter) {
        let row = stored.row
        stored.payload.withUnsafeBytes { raw in
            let tape = try? JSONTape.parse(raw)
            let json = tape.map { JSONView(tape: $0, bytes: raw) }
            let root = tape.flatMap { $0[0].kind == .object ? 0 : nil }
            writer.beginObject()
            writer.field("id", row.eventID.hex)
            writer.field("eventID", row.eventID.hex)
            writer.field("event_id", row.eventID.hex)
            writer.key("groupID")
            writer.null()
            writer.field("projectID", String(row.projectID))
            writer.field("type", "transaction")
            writer.field("title", row.name)
            writer.field("transaction", row.name)
            writer.field("culprit", row.name)
            writer.field("message", "")
            writer.field("platform", row.platform ?? "other")
            writer.field("dateCreated", Timestamp.format(milliseconds: (row.start + row.duration) / 1000))
            writer.field("dateReceived", Timestamp.format(milliseconds: row.received))
            writer.key("startTimestamp")
            writer.value(Double(row.start) / 1_000_000)
            writer.key("endTimestamp")
            writer.value(Double(row.start + row.duration) / 1_000_000)
            writer.field("environment", row.environment)
            writer.field("release", row.release)
            writer.key("tags")
            writer.beginArray()
            for (key, value) in transactionTags(row, json: json, root: root) {
                writer.beginObject()
                writer.field("key", key)
                writer.field("value", value)
                writer.endObject()
            }
            writer.endArray()
            writer.key("entries")
            writer.beginArray()
            writer.beginObject()
            writer.field("type", "spans")
            writer.key("data")
            if let json, let spans = json.member(root, "spans"), json.kind(spans) == .array {
                writer.raw(json.source(spans))
            } else {
                writer.beginArray()
                writer.endArray()
            }
            writer.endObject()
            if let json, let request = json.member(root, "request"), json.kind(request) == .object {
                writer.beginObject()
                writer.field("type", "request")
                writer.key("data")
                writer.raw(json.source(request))
                writer.endObject()
            }
            writer.endArray()
            if let error = stored.payloadError {
                writer.key("errors")
                writer.beginArray()
                writer.beginObject()
                writer.field("type", "stored_payload")
                writer.field("message", error)
                writer.endObject()
                writer.endArray()
            }
            if let json, let root {
                json.forEachMember(root) { key, value in
                    guard let name = json.string(key), !transactionOverriddenKeys.contains(name) else { return }
                    writer.key(name)
                    writer.raw(json.source(value))
                }
            }
            writer.endObject()
        }
    }

    /// Keys written above rather than copied from the payload.
    private static let transactionOverriddenKeys: Set<String> = [
        "id", "eventID", "event_id", "groupID", "projectID", "type", "title", "transaction", "culprit", "message", "platform",
        "dateCreated", "dateReceived", "startTimestamp", "endTimestamp", "environment", "release", "tags", "entries", "errors",
        "spans", "request", "timestamp", "start_timestamp",
    ]

    /// The transaction's own tags (an object or Sentry's list of pairs) with the environment,
    /// release and transaction Sentry adds, sorted by key.
    static func transactionTags(_ row: TransactionRow, json: JSONView?, root: Int?) -> [(key: String, value: String)] {
        var tags: [(key: String, value: String)] = []
        if let json, let object = json.member(root, "tags") {
            switch json.kind(object) {
            case .object:
                json.forEachMember(object) { key, value in
                    if let name = json.string(key), let text = json.scalarText(value) { tags.append((name, text)) }
                }
            case .array:
                json.forEachElement(object) { pair in
                    let parts = json.elements(pair)
                    if parts.count == 2, let name = json.string(parts[0]), let text = json.scalarText(parts[1]) {
                        tags.append((name, text))
                    }
                }
            default: break
            }
        }
        func add(_ key: String, _ value: String?) {
            guard let value, !tags.contains(where: { $0.key == key }) else { return }
            tags.append((key, value))
        }
        add("environment", row.environment)
        add("release", row.release)
        add("transaction", row.name)
        return tags.sorted { $0.key < $1.key }
    }
}
