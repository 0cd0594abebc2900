package import NIOCore
package import PitModel
import PitStorage

/// User feedback from its envelope item: the new `feedback` item (an event whose
/// `contexts.feedback` holds `message`, `contact_email`, `name`, `associated_event_id`, `url`)
/// and the legacy `user_report` (`event_id`, `name`, `email`, `comments`).
package enum FeedbackExtractor {
    /// Sentry's `UserReport` column sizes; the feedback message is capped as Sentry's is.
    package static let maxName = 128
    package static let maxEmail = 75
    package static let maxComments = 4096
    package static let maxURL = 2048

    package static func extract(
        _ payload: ByteBuffer, type: ItemType, headerEventID: EventID?, projectID: Int64, received: Double
    ) throws(IngestError) -> FeedbackRecord {
        try payload.withUnsafeReadableBytes { (raw) throws(IngestError) -> FeedbackRecord in
            let tape: JSONTape
            do { tape = try JSONTape.parse(raw) } catch { throw .badRequest("invalid \(type) item: \(error)") }
            let json = JSONView(tape: tape, bytes: raw)
            let root = tape.root
            guard json.kind(root) == .object else { throw .badRequest("invalid \(type) item: not a JSON object") }
            let receivedMilliseconds = Int64(received * 1000)
            var record: FeedbackRecord
            if type == .userReport {
                guard let eventID = json.withStringUTF8(json.member(root, "event_id"), { EventID(hex: $0) }) ?? headerEventID else {
                    throw .badRequest("invalid user_report item: missing or invalid event_id")
                }
                record = FeedbackRecord(
                    projectID: projectID, feedbackID: eventID, eventID: eventID, kind: .userReport,
                    name: text(json, json.member(root, "name"), maxName),
                    email: text(json, json.member(root, "email"), maxEmail),
                    comments: text(json, json.member(root, "comments"), maxComments),
                    timestamp: receivedMilliseconds, received: receivedMilliseconds)
            } else {
                let context = json.path(root, "contexts", "feedback")
                let message = text(json, json.member(context, "message"), maxComments)
                guard !message.trimmingSpaces.isEmpty else {
                    throw .badRequest("invalid feedback item: missing contexts.feedback.message")
                }
                let user = json.member(root, "user")
                var name = text(json, json.member(context, "name"), maxName)
                if name.isEmpty { name = text(json, json.member(user, "name") ?? json.member(user, "username"), maxName) }
                var email = text(json, json.member(context, "contact_email"), maxEmail)
                if email.isEmpty { email = text(json, json.member(user, "email"), maxEmail) }
                let ownID = json.withStringUTF8(json.member(root, "event_id"), { EventID(hex: $0) }) ?? headerEventID ?? EventID.random()
                let url = text(json, json.member(context, "url"), maxURL)
                let timestamp = json.member(root, "timestamp").flatMap { EventExtractor.timestamp(json, $0) }
                record = FeedbackRecord(
                    projectID: projectID, feedbackID: ownID,
                    eventID: json.withStringUTF8(json.member(context, "associated_event_id"), { EventID(hex: $0) }),
                    kind: .feedback, name: name, email: email, comments: message, url: url.isEmpty ? nil : url,
                    user: userJSON(json, user),
                    timestamp: timestamp.map { Int64($0 * 1000) } ?? receivedMilliseconds, received: receivedMilliseconds)
            }
            record.payloadSize = payload.readableBytes
            record.compressedPayload = PayloadCodec.compress(payload)
            return record
        }
    }

    /// A string member, NUL-free and cut to `limit` bytes; "" when absent or not a string.
    private static func text(_ json: JSONView, _ index: Int?, _ limit: Int) -> String {
        guard let index, let value = json.string(index) else { return "" }
        return FieldLimits.prefix(FieldLimits.removingNUL(value), maxBytes: limit)
    }

    /// Sentry's user object (`id`, `email`, `username`, `ip_address`, `name`) from the payload's
    /// `user`, or nil when it names nobody.
    private static func userJSON(_ json: JSONView, _ user: Int?) -> String? {
        guard let user, json.kind(user) == .object else { return nil }
        var writer = JSONWriter()
        writer.beginObject()
        var any = false
        for (key, limit) in [("id", FieldLimits.userID), ("email", FieldLimits.userEmail), ("username", FieldLimits.username)] {
            var value: String?
            json.forEachMember(user) { name, member in
                if json.string(name) == key { value = json.scalarText(member) }
            }
            guard let value, !value.isEmpty else { continue }
            writer.field(key, FieldLimits.prefix(FieldLimits.removingNUL(value), maxBytes: limit))
            any = true
        }
        if let ip = json.string(json.member(user, "ip_address")), !ip.isEmpty {
            writer.field("ip_address", FieldLimits.prefix(ip, maxBytes: FieldLimits.ipAddress))
            any = true
        }
        writer.endObject()
        return any ? writer.string : nil
    }
}
