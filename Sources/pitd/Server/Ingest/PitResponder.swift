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
        return try await fallback.respond(to: request, context: context)
    }
}
