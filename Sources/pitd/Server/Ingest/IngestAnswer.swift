import Logging
import PitModel
import PitObservability
import PitQuery

/// What an ingest request is answered, apart from the HTTP machinery that writes it (the event
/// loop fast path and the Hummingbird route for legacy GETs both use it).
struct IngestAnswer {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    /// Relay's CORS answer (`middlewares/cors.rs`), so browser SDKs can post from any origin.
    static let corsHeaders: [(name: String, value: String)] = [
        ("Access-Control-Allow-Origin", "*"),
        ("Access-Control-Expose-Headers", "x-sentry-error, x-sentry-rate-limits, retry-after"),
    ]

    static let preflight = IngestAnswer(
        status: 200,
        headers: corsHeaders + [
            ("Access-Control-Allow-Methods", "POST"),
            (
                "Access-Control-Allow-Headers",
                "x-sentry-auth, x-requested-with, x-forwarded-for, origin, referer, accept, content-type, authentication, authorization, content-encoding, transfer-encoding"
            ),
            ("Access-Control-Max-Age", "3600"),
        ], body: [])

    /// `{"id": "<32 hex>"}`, or `{}` when the envelope named no event.
    static func success(_ id: EventID?) -> IngestAnswer {
        IngestAnswer(status: 200, headers: corsHeaders + [("Content-Type", "application/json")], body: successBody(id))
    }

    static func successBody(_ id: EventID?) -> [UInt8] {
        var writer = JSONWriter(capacity: 48)
        writer.beginObject()
        if let id { writer.field("id", id.hex) }
        writer.endObject()
        return writer.bytes
    }

    static func failure(_ error: IngestError) -> IngestAnswer {
        var headers = corsHeaders + [("Content-Type", "application/json")]
        if let retryAfter = error.retryAfter { headers.append(("Retry-After", String(retryAfter))) }
        // Relay's format, `retry_after:categories:scope:reason_code`; empty categories = all.
        // SDKs read it and stop sending until then. On 503 too: the official SDKs honour
        // `Retry-After` alone only on 429 (sentry-python 2.75 `_update_rate_limits`), but this
        // header on any status, and an overloaded server wants them to back off, not to retry.
        if let retryAfter = error.retryAfter {
            if error.code == .rateLimited {
                headers.append(("X-Sentry-Rate-Limits", "\(retryAfter)::key:key_quota"))
            } else if error.code == .overloaded {
                headers.append(("X-Sentry-Rate-Limits", "\(retryAfter)::organization:overloaded"))
            }
        }
        return IngestAnswer(status: error.status, headers: headers, body: SentryAPIRenderer.detail(error.detail))
    }

    private static let refusalLog = LogGate(intervalSeconds: 1)

    /// Refusals worth an operator's attention (5xx) are logged at warning, at most one a second
    /// (while storage is down every request is refused), the rest at debug.
    static func log(_ error: IngestError, logger: Logger) {
        if error.status >= 500 {
            guard let heldBack = refusalLog.pass() else { return }
            logger.warning(
                "ingest refused",
                metadata: [
                    "http.status": "\(error.status)", "pit.reason": "\(error.detail)", "pit.similar_lines_dropped": "\(heldBack)",
                ])
        } else {
            logger.debug("ingest rejected", metadata: ["http.status": "\(error.status)", "pit.reason": "\(error.detail)"])
        }
    }
}
