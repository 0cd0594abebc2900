import HTTPTypes
import Hummingbird
import PitModel
import PitQuery

/// Response helpers shared by the ingest endpoints and the API.
enum HTTPResponses {
    static let jsonContentType = "application/json"

    static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = jsonContentType
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func json(_ writer: JSONWriter, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        json(writer.bytes, status: status, headers: headers)
    }

    /// Sentry's error body: `{"detail": "..."}`.
    static func detail(_ message: String, status: HTTPResponse.Status, headers: HTTPFields = [:]) -> Response {
        json(SentryAPIRenderer.detail(message), status: status, headers: headers)
    }

    static func text(_ body: String, status: HTTPResponse.Status = .ok, contentType: String = "text/plain; charset=utf-8") -> Response {
        Response(status: status, headers: [.contentType: contentType], body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}

extension HTTPField.Name {
    static let xSentryAuth = HTTPField.Name("X-Sentry-Auth")!
    static let retryAfter = HTTPField.Name("Retry-After")!
    static let link = HTTPField.Name("Link")!
}
