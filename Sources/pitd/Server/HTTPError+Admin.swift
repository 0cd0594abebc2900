import HTTPTypes
import Hummingbird
import PitStorage

/// The one place admin-domain errors become HTTP answers. Routes let an `AdminError` propagate;
/// the API's (`APIAuthMiddleware`) and the web UI's (`WebErrorMiddleware`) error handling answer
/// it through this, as Sentry's `{"detail"}` or as an error page.
extension HTTPError {
    init(_ error: AdminError) {
        let status = Self.status(for: error.code)
        let headers: HTTPFields = status == .serviceUnavailable ? [.retryAfter: "1"] : [:]
        self.init(status, headers: headers, message: error.message)
    }

    /// A refused value and a name already taken are both the client's to fix: 400, as Pit has
    /// always answered (Sentry answers 409 for a taken slug, which Pit never refuses: it adds a
    /// suffix).
    static func status(for code: AdminError.Code) -> HTTPResponse.Status {
        switch code {
        case .invalid, .conflict: .badRequest
        case .notFound: .notFound
        case .unavailable: .serviceUnavailable
        default: .internalServerError
        }
    }
}
