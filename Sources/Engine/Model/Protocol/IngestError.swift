/// Why an ingest request was refused, with the HTTP status Relay answers for it.
///
/// A struct with a code (as `PSQLError` and `ServiceGroupError` do) so the cold construction
/// code stays out of the inlined hot path and tests can match on the code alone.
package struct IngestError: Error, Hashable, CustomStringConvertible {
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case badRequest, unauthorized, forbidden, notFound, methodNotAllowed, payloadTooLarge
            case unsupportedMediaType, rateLimited, overloaded, internalError
        }
        private let base: Base
        package static let badRequest = Code(base: .badRequest)
        package static let unauthorized = Code(base: .unauthorized)
        package static let forbidden = Code(base: .forbidden)
        package static let notFound = Code(base: .notFound)
        package static let methodNotAllowed = Code(base: .methodNotAllowed)
        package static let payloadTooLarge = Code(base: .payloadTooLarge)
        package static let unsupportedMediaType = Code(base: .unsupportedMediaType)
        package static let rateLimited = Code(base: .rateLimited)
        package static let overloaded = Code(base: .overloaded)
        package static let internalError = Code(base: .internalError)

        package var status: Int {
            switch base {
            case .badRequest: 400
            case .unauthorized: 401
            case .forbidden: 403
            case .notFound: 404
            case .methodNotAllowed: 405
            case .payloadTooLarge: 413
            case .unsupportedMediaType: 415
            case .rateLimited: 429
            case .overloaded: 503
            case .internalError: 500
            }
        }

        /// Short label used as the `reason` dimension of the rejected-events metric.
        package var description: String { base.rawValue }
    }

    package let code: Code
    package let detail: String
    /// Seconds for `Retry-After` (429 and 503).
    package let retryAfter: Int?

    package var status: Int { code.status }
    package var description: String { "\(code.status) \(detail)" }

    @inline(never) package static func badRequest(_ detail: String) -> IngestError {
        IngestError(code: .badRequest, detail: detail, retryAfter: nil)
    }
    @inline(never) package static func unauthorized(_ detail: String) -> IngestError {
        IngestError(code: .unauthorized, detail: detail, retryAfter: nil)
    }
    @inline(never) package static func forbidden(_ detail: String) -> IngestError {
        IngestError(code: .forbidden, detail: detail, retryAfter: nil)
    }
    @inline(never) package static func methodNotAllowed(_ detail: String) -> IngestError {
        IngestError(code: .methodNotAllowed, detail: detail, retryAfter: nil)
    }
    @inline(never) package static func notFound(_ detail: String) -> IngestError {
        IngestError(code: .notFound, detail: detail, retryAfter: nil)
    }
    @inline(never) package static func tooLarge(_ detail: String) -> IngestError {
        IngestError(code: .payloadTooLarge, detail: detail, retryAfter: nil)
    }
    @inline(never) package static func unsupportedMediaType(_ detail: String) -> IngestError {
        IngestError(code: .unsupportedMediaType, detail: detail, retryAfter: nil)
    }
    @inline(never) package static func rateLimited(_ detail: String, retryAfter: Int) -> IngestError {
        IngestError(code: .rateLimited, detail: detail, retryAfter: retryAfter)
    }
    @inline(never) package static func overloaded(_ detail: String, retryAfter: Int) -> IngestError {
        IngestError(code: .overloaded, detail: detail, retryAfter: retryAfter)
    }
    @inline(never) package static func internalError(_ detail: String) -> IngestError {
        IngestError(code: .internalError, detail: detail, retryAfter: nil)
    }
}
