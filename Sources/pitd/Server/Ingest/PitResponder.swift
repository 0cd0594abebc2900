import HTTPTypes
import Hummingbird

/// Routes ingest URLs straight to the ingest endpoint (no trie walk on the hot path, any DSN path
/// prefix) and everything else to the router.
struct PitResponder<Fallback: HTTPResponder>: HTTPResponder where Fallback.Context == PitRequestContext {
    typealias Context = PitRequestContext
    let ingest: IngestEndpoint
    let fallback: Fallback

    func respond(to request: Request, context: Context) async throws -> Response {
        if let route = IngestRoute(path: Substring(request.uri.path)) {
            return await ingest.handle(request, route: route)
        }
        if let unprefixed = Self.checkInWithoutDSNPrefix(request) {
            return try await fallback.respond(to: unprefixed, context: context)
        }
        return try await fallback.respond(to: request, context: context)
    }

    /// Sentry's HTTP check-in URL under a DSN's path prefix, `/prefix/api/{pid}/cron/{slug}/{key}[/]`,
    /// as the request the router knows (without the prefix; the query kept). The router's route
    /// has no prefix since a DSN's prefix can be any number of segments.
    static func checkInWithoutDSNPrefix(_ request: Request) -> Request? {
        let path = request.uri.path
        guard !path.hasPrefix("/api/"), path.contains("/cron/") else { return nil }
        let segments = path.split(separator: "/")
        let count = segments.count
        guard count > 5, segments[count - 5] == "api", segments[count - 3] == "cron" else { return nil }
        var head = request.head
        let trailingSlash = path.hasSuffix("/") ? "/" : ""
        let query = request.uri.query.map { "?\($0)" } ?? ""
        head.path = "/" + segments[(count - 5)...].joined(separator: "/") + trailingSlash + query
        return Request(head: head, body: request.body)
    }
}
