import HTTPTypes
import Hummingbird
import Logging
import PitIngest
import PitModel

/// The ingest URLs' rare requests, which the event-loop fast path (`IngestHTTPHandler`) passes
/// on to Hummingbird: the legacy `GET /api/{pid}/store/?sentry_data=` and methods other than
/// POST and OPTIONS.
struct IngestEndpoint: Sendable {
    let pipeline: IngestPipeline
    let logger: Logger

    func handle(_ request: Request, route: IngestRoute) async -> Response {
        guard request.method == .get, route.endpoint == .store else {
            return response(.failure(.methodNotAllowed("method not allowed")))
        }
        return await legacyGet(request, route: route)
    }

    /// `GET /api/{pid}/store/?sentry_data=...`: very old browser clients; answered with a 1×1 GIF.
    private func legacyGet(_ request: Request, route: IngestRoute) async -> Response {
        let query = URLEncoding.queryItems(request.uri.query.map { Substring($0) })
        guard let data = query["sentry_data"] else {
            return response(.failure(.methodNotAllowed("method not allowed")))
        }
        do throws(IngestError) {
            let auth = try SentryAuth.extract(
                xSentryAuth: request.headers[.xSentryAuth], authorization: nil,
                query: request.uri.query.map { Substring($0) })
            let projectID = try IngestHTTPHandler.resolveProject(route, auth: auth, keys: pipeline.keys)
            _ = try await pipeline.store(
                .init(
                    projectID: projectID, auth: auth, contentEncoding: nil, contentType: nil,
                    body: ByteBuffer(string: data)))
            var answer = IngestAnswer(status: 200, headers: IngestAnswer.corsHeaders, body: Self.transparentGIF)
            answer.headers.append(("Content-Type", "image/gif"))
            return response(answer)
        } catch {
            IngestAnswer.log(error, logger: logger)
            return response(.failure(error))
        }
    }

    func response(_ answer: IngestAnswer) -> Response {
        var headers = HTTPFields()
        for (name, value) in answer.headers {
            if let name = HTTPField.Name(name) { headers.append(HTTPField(name: name, value: value)) }
        }
        return Response(
            status: HTTPResponse.Status(code: answer.status), headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)))
    }

    static let transparentGIF: [UInt8] = [
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF,
        0x21, 0xF9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02,
        0x02, 0x44, 0x01, 0x00, 0x3B,
    ]
}
