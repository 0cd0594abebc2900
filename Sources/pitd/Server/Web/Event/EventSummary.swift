import PitIngest
import PitModel

/// The one-line view of an event for lists: who and what, without reading the whole payload
/// into an `EventView`.
struct EventSummary: Sendable {
    var title: String?
    var user: String?

    init(payload: [UInt8]) {
        payload.withUnsafeBytes { raw in
            guard let tape = try? JSONTape.parse(raw) else { return }
            let json = JSONView(tape: tape, bytes: raw)
            if let user = json.member(0, "user") {
                self.user =
                    json.scalarText(json.member(user, "email")) ?? json.scalarText(json.member(user, "username"))
                    ?? json.scalarText(json.member(user, "id")) ?? json.scalarText(json.member(user, "ip_address"))
            }
            var exceptions: [Int] = []
            if let exception = json.member(0, "exception") {
                exceptions =
                    json.kind(exception) == .array ? json.elements(exception) : json.elementsIfArray(json.member(exception, "values"))
            }
            if let last = exceptions.last {
                let type = json.scalarText(json.member(last, "type"))
                let value = json.scalarText(json.member(last, "value"))
                title = [type, value].compactMap { $0 }.joined(separator: ": ")
            }
            if title == nil || title == "" {
                title =
                    json.string(json.path(0, "logentry", "formatted")) ?? json.string(json.path(0, "logentry", "message"))
                    ?? json.string(json.member(0, "message")) ?? json.string(json.path(0, "message", "formatted"))
                    ?? json.string(json.path(0, "message", "message")) ?? json.string(json.member(0, "transaction"))
            }
            title = title.map { Format.truncated($0, limit: 200) }
            user = user.map { Format.truncated($0, limit: 100) }
        }
    }
}
