import HTTPTypes
import Hummingbird
import PitIngest
import PitModel
import PitStorage

/// `POST /api/0/projects/{org}/{project}/events/verify/` with `{"event_ids": ["<32 hex>", …]}`
/// (at most `maxIDs`): answers `{"checked": N, "missing": [ids the project has no event for]}`.
///
/// Not a Sentry API: it is how pit-bench checks that every event id pitd acknowledged is stored,
/// millions of them, without opening the database. One indexed lookup per id; read-only, so a
/// token with `read` scope may use it although it is a POST (the ids do not fit in a URL).
extension APIRoutes {
    static let maxVerifyIDs = 10_000
    /// 32 hex characters, quotes and a comma per id, and room for whitespace.
    static let maxVerifyBodyBytes = maxVerifyIDs * 40 + 4096

    func registerVerify(on api: RouterGroup<PitRequestContext>) {
        api.post("projects/:org/:project/events/verify") { request, context in try await verifyEvents(request, context) }
    }

    /// POST routes that only read, for `APIAuthMiddleware`'s scope check.
    static func isReadOnlyPost(_ request: Request) -> Bool {
        let path = request.uri.path
        return request.method == .post && path.hasPrefix("/api/0/projects/")
            && (path.hasSuffix("/events/verify/") || path.hasSuffix("/events/verify"))
    }

    func verifyEvents(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.read)
        let project = try await project(context)
        let buffer = try await request.body.collect(upTo: Self.maxVerifyBodyBytes)
        let ids: [EventID] = try buffer.withUnsafeReadableBytes { raw in
            guard let tape = try? JSONTape.parse(raw), tape[0].kind == .object else {
                throw HTTPError(.badRequest, message: "body must be a JSON object")
            }
            let json = JSONView(tape: tape, bytes: raw)
            guard let list = json.member(0, "event_ids"), json.kind(list) == .array else {
                throw HTTPError(.badRequest, message: "event_ids must be an array of event ids")
            }
            guard json.count(list) <= Self.maxVerifyIDs else {
                throw HTTPError(.badRequest, message: "at most \(Self.maxVerifyIDs) event ids per request")
            }
            var ids: [EventID] = []
            ids.reserveCapacity(json.count(list))
            try json.forEachElement(list) { (element: Int) throws(HTTPError) in
                guard let id = json.withStringUTF8(element, { EventID(hex: $0) }) else {
                    throw HTTPError(.badRequest, message: "event_ids holds something that is not an event id")
                }
                ids.append(id)
            }
            return ids
        }
        let missing = try await reader.missingEvents(projectID: project.id, eventIDs: ids)
        var writer = JSONWriter(capacity: 64 + 35 * missing.count)
        writer.beginObject()
        writer.field("checked", ids.count)
        writer.key("missing")
        writer.beginArray()
        for id in missing { writer.value(id.hex) }
        writer.endArray()
        writer.endObject()
        return HTTPResponses.json(writer)
    }
}
