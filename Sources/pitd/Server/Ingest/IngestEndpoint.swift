import Engine
import HTTPTypes
import Hummingbird
import Logging

/// An ingest URL: `[/prefix]/api/{project_id}/envelope|store[/]` or `[/prefix]/api/store[/]`.
/// Matched by hand before the router: it is the hot path, and DSNs may carry any path prefix.
struct IngestRoute: Equatable {
    enum Endpoint: Equatable { case envelope, store }

    var projectID: Int64?
    var endpoint: Endpoint

    init?(path: String) {
        var trimmed = Substring(path)
        if trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        let segments = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count >= 3, let last = segments.last else { return nil }
        switch last {
        case "envelope": endpoint = .envelope
        case "store": endpoint = .store
        default: return nil
        }
        let beforeLast = segments[segments.count - 2]
        if beforeLast == "api" {
            guard endpoint == .store else { return nil }
            projectID = nil
        } else {
            guard segments.count >= 4, segments[segments.count - 3] == "api" else { return nil }
            // A non-numeric project segment is still an ingest URL, answered 400 (Relay: bad project).
            projectID = Int64(beforeLast) ?? -1
        }
    }
}

/// The HTTP face of `IngestPipeline`: methods, CORS, auth headers, body collection, and the
/// mapping of `IngestError` to Sentry-compatible responses.
struct IngestEndpoint: Sendable {
    let pipeline: IngestPipeline
    let logger: Logger

    /// Relay's CORS answer (`middlewares/cors.rs`), so browser SDKs can post from any origin.
    static let corsHeaders: HTTPFields = [
        .accessControlAllowOrigin: "*",
        .accessControlExposeHeaders: "x-sentry-error, x-sentry-rate-limits, retry-after",
    ]

    static let preflightHeaders: HTTPFields = {
        var headers = corsHeaders
        headers[.accessControlAllowMethods] = "POST"
        headers[.accessControlAllowHeaders] =
            "x-sentry-auth, x-requested-with, x-forwarded-for, origin, referer, accept, content-type, authentication, authorization, content-encoding, transfer-encoding"
        headers[.accessControlMaxAge] = "3600"
        return headers
    }()

    func handle(_ request: Request, route: IngestRoute) async -> Response {
        switch request.method {
        case .options:
            return Response(status: .ok, headers: Self.preflightHeaders)
        case .post:
            break
        case .get where route.endpoint == .store:
            return await legacyGet(request, route: route)
        default:
            return failure(.methodNotAllowed("method not allowed"))
        }
        do throws(IngestError) {
            let auth = try SentryAuth.extract(
                xSentryAuth: request.headers[.xSentryAuth], authorization: request.headers[.authorization],
                query: request.uri.query.map { Substring($0) }
            )
            let projectID = try resolveProject(route, auth: auth)
            let body: ByteBuffer
            do {
                body = try await request.body.collect(upTo: pipeline.limits.maxRequestBytes)
            } catch {
                throw IngestError.tooLarge("request body exceeds \(pipeline.limits.maxRequestBytes) bytes")
            }
            let ingestRequest = IngestPipeline.Request(
                projectID: projectID, auth: auth, contentEncoding: request.headers[.contentEncoding],
                contentType: request.headers[.contentType], body: body
            )
            switch route.endpoint {
            case .envelope:
                let id = try await pipeline.envelope(ingestRequest)
                return success(id)
            case .store:
                return success(try await pipeline.store(ingestRequest))
            }
        } catch {
            return failure(error)
        }
    }

    private func resolveProject(_ route: IngestRoute, auth: SentryAuth?) throws(IngestError) -> Int64 {
        if let projectID = route.projectID {
            guard projectID > 0 else { throw .badRequest("invalid project id in URL") }
            return projectID
        }
        // `/api/store/` names no project: the key decides.
        guard let auth else { throw .unauthorized("missing authorization information") }
        guard let entry = pipeline.keys.lookup(auth.publicKey) else { throw .forbidden("unknown public key") }
        return entry.projectID
    }

    /// `GET /api/{pid}/store/?sentry_data=...`: very old browser clients; answered with a 1×1 GIF.
    private func legacyGet(_ request: Request, route: IngestRoute) async -> Response {
        let query = URLEncoding.queryItems(request.uri.query.map { Substring($0) })
        guard let data = query["sentry_data"] else {
            return failure(.methodNotAllowed("method not allowed"))
        }
        do throws(IngestError) {
            let auth = try SentryAuth.extract(xSentryAuth: request.headers[.xSentryAuth], authorization: nil,
                                              query: request.uri.query.map { Substring($0) })
            let projectID = try resolveProject(route, auth: auth)
            _ = try await pipeline.store(.init(projectID: projectID, auth: auth, contentEncoding: nil, contentType: nil,
                                               body: ByteBuffer(string: data)))
            var headers = Self.corsHeaders
            headers[.contentType] = "image/gif"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: Self.transparentGIF)))
        } catch {
            return failure(error)
        }
    }

    static let transparentGIF: [UInt8] = [
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
        0x21, 0xF9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02,
        0x02, 0x44, 0x01, 0x00, 0x3B,
    ]

    private func success(_ id: EventID?) -> Response {
        var writer = JSONWriter(capacity: 48)
        writer.beginObject()
        if let id { writer.field("id", id.hex) }
        writer.endObject()
        return HTTPResponses.json(writer, headers: Self.corsHeaders)
    }

    private func failure(_ error: IngestError) -> Response {
        var headers = Self.corsHeaders
        if let retryAfter = error.retryAfter { headers[.retryAfter] = String(retryAfter) }
        if error.code == .rateLimited, let retryAfter = error.retryAfter {
            // Relay's format, `retry_after:categories:scope:reason_code`; empty categories = all.
            // SDKs read it and stop sending until then.
            headers[.xSentryRateLimits] = "\(retryAfter)::key:key_quota"
        }
        if error.status >= 500 {
            logger.warning("ingest refused", metadata: ["http.status": "\(error.status)", "pit.reason": "\(error.detail)"])
        } else {
            logger.debug("ingest rejected", metadata: ["http.status": "\(error.status)", "pit.reason": "\(error.detail)"])
        }
        return HTTPResponses.detail(error.detail, status: HTTPResponse.Status(code: error.status), headers: headers)
    }
}
