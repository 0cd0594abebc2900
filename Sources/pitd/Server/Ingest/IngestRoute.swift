import PitIngest

/// An ingest URL: `[/prefix]/api/{project_id}/envelope|store|security|csp-report|minidump[/]` or
/// `[/prefix]/api/store[/]` (`csp-report` is Sentry's older name of the security endpoint).
/// Matched by hand before any router: it is the hot path, and DSNs may carry any path prefix.
struct IngestRoute: Equatable {
    enum Endpoint: Equatable { case envelope, store, security, minidump }

    var projectID: Int64?
    var endpoint: Endpoint

    /// From a request target (`path?query`); the query is ignored.
    init?(uri: String) {
        guard let end = uri.utf8.firstIndex(of: UInt8(ascii: "?")) else {
            self.init(path: Substring(uri))
            return
        }
        self.init(path: uri[..<end])
    }

    init?(path: Substring) {
        var trimmed = path
        if trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        // Cheap refusal of every other URL before splitting: ingest paths end in one of these.
        guard
            trimmed.hasSuffix("/envelope") || trimmed.hasSuffix("/store") || trimmed.hasSuffix("/security")
                || trimmed.hasSuffix("/csp-report") || trimmed.hasSuffix("/minidump")
        else { return nil }
        let segments = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        guard segments.count >= 3, let last = segments.last else { return nil }
        switch last {
        case "envelope": endpoint = .envelope
        case "store": endpoint = .store
        case "security", "csp-report": endpoint = .security
        case "minidump": endpoint = .minidump
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

    var pipelineEndpoint: IngestPipeline.Endpoint {
        switch endpoint {
        case .envelope: .envelope
        case .store: .store
        case .security: .security
        case .minidump: .minidump
        }
    }
}
