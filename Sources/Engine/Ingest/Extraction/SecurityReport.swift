package import NIOCore
package import PitModel

/// A browser's security report (`POST /api/{project_id}/security/`) turned into the event Relay
/// makes of it (`relay-event-schema` `security_report.rs`): CSP from `report-uri` (`{"csp-report":
/// {...}}`) and `report-to` bodies (an array of `{"type": "csp-violation", "body": {...}}`),
/// Expect-CT, Expect-Staple and HPKP. The event carries Relay's title (`logentry`), culprit,
/// tags, request and interface, and a fingerprint of what Sentry groups these by: the directive
/// and the blocked URI for CSP, the hostname for the others.
package struct SecurityReport: Sendable {
    /// The event payload (JSON) to store through the normal event path.
    package var payload: ByteBuffer
    /// The event type: `csp`, `expectct`, `expectstaple` or `hpkp`.
    package var kind: String
    /// The issue metadata Sentry keeps for the type.
    package var metadata: [UInt8]

    /// What the request adds to every report: Relay's `sentry_release` / `sentry_environment`
    /// query parameters and the browser's User-Agent.
    package struct Context: Sendable {
        package var release: String?
        package var environment: String?
        package var userAgent: String?

        package init(release: String? = nil, environment: String? = nil, userAgent: String? = nil) {
            self.release = release
            self.environment = environment
            self.userAgent = userAgent
        }
    }

    /// The content types Relay's security endpoint takes (`is_security_mime`), plus the
    /// Reporting API's `application/reports+json`.
    package static func acceptsContentType(_ header: String?) -> Bool {
        guard let header else { return false }
        let mime = header.split(separator: ";", maxSplits: 1).first.map { String($0).trimmingSpaces.lowercased() } ?? ""
        return [
            "application/json", "application/csp-report", "application/expect-ct-report", "application/expect-ct-report+json",
            "application/expect-staple-report", "application/reports+json",
        ].contains(mime)
    }

    /// The most reports one `report-to` body may carry. Browsers send a few at a time; each
    /// report becomes an event of its own in one write unit, so a megabyte of tiny reports must
    /// not become tens of thousands of events held in the queue at once.
    package static let maxReportsPerRequest = 100

    /// Every report of `body`; empty when it held only report types Sentry does not process (a
    /// `report-to` batch may mix in deprecation or network-error reports, which are not errors of
    /// the sender's).
    package static func parse(_ body: ByteBuffer, context: Context) throws(IngestError) -> [SecurityReport] {
        try body.withUnsafeReadableBytes { (raw) throws(IngestError) -> [SecurityReport] in
            let tape: JSONTape
            do { tape = try JSONTape.parse(raw) } catch { throw .badRequest("invalid security report: \(error)") }
            let json = JSONView(tape: tape, bytes: raw)
            let root = tape.root
            switch json.kind(root) {
            case .array:
                var reports: [SecurityReport] = []
                for element in json.elements(root) {
                    guard json.kind(element) == .object, json.string(json.member(element, "type")) == "csp-violation" else { continue }
                    guard reports.count < maxReportsPerRequest else {
                        throw .tooLarge("security report batch holds more than \(maxReportsPerRequest) CSP violations")
                    }
                    guard let body = json.member(element, "body"), json.kind(body) == .object else {
                        throw .badRequest("invalid security report: csp-violation without a body")
                    }
                    reports.append(try csp(Members(json, body), context: context))
                }
                return reports
            case .object:
                if let report = json.member(root, "csp-report") {
                    guard json.kind(report) == .object else { throw .badRequest("invalid security report: csp-report is not an object") }
                    return [try csp(Members(json, report), context: context)]
                }
                if let type = json.string(json.member(root, "type")) {
                    guard type == "csp-violation" else { return [] }
                    guard let body = json.member(root, "body"), json.kind(body) == .object else {
                        throw .badRequest("invalid security report: csp-violation without a body")
                    }
                    return [try csp(Members(json, body), context: context)]
                }
                if let report = json.member(root, "expect-ct-report"), json.kind(report) == .object {
                    return [try hostReport(Members(json, report), raw: json.source(report), kind: "expectct", context: context)]
                }
                if let report = json.member(root, "expect-staple-report"), json.kind(report) == .object {
                    return [try hostReport(Members(json, report), raw: json.source(report), kind: "expectstaple", context: context)]
                }
                if json.member(root, "known-pins") != nil {
                    return [try hostReport(Members(json, root), raw: json.source(root), kind: "hpkp", context: context)]
                }
                throw .badRequest("invalid security report: not a CSP, Expect-CT, Expect-Staple or HPKP report")
            default:
                throw .badRequest("invalid security report: not a JSON object or array")
            }
        }
    }

    // MARK: CSP

    /// Relay's `CspDirective` names.
    static let directives: Set<String> = [
        "base-uri", "child-src", "connect-src", "default-src", "fenced-frame-src", "font-src", "form-action", "frame-ancestors",
        "frame-src", "img-src", "manifest-src", "media-src", "object-src", "plugin-types", "prefetch-src", "referrer", "script-src",
        "script-src-attr", "script-src-elem", "style-src", "style-src-elem", "style-src-attr", "upgrade-insecure-requests",
        "worker-src", "sandbox", "navigate-to", "report-uri", "report-to", "block-all-mixed-content", "require-sri-for",
        "require-trusted-types-for", "trusted-types",
    ]

    private static func csp(_ report: Members, context: Context) throws(IngestError) -> SecurityReport {
        let effective = report.text("effective-directive", "effectiveDirective", "effective_directive")
        let violated = report.text("violated-directive", "violatedDirective", "violated_directive") ?? ""
        let blocked = report.text("blocked-uri", "blockedURL", "blocked_uri") ?? "self"
        let document = report.text("document-uri", "documentURL", "document_uri")
        let referrer = report.text("referrer")
        func directive(_ text: String?) -> String? {
            guard let name = text?.split(separator: " ", maxSplits: 1).first.map(String.init), directives.contains(name) else { return nil }
            return name
        }
        guard let effectiveDirective = directive(effective) ?? directive(violated) else {
            throw .badRequest("invalid csp report: no known effective-directive or violated-directive")
        }
        let message = cspMessage(directive: effectiveDirective, blockedURI: blocked)
        let uri = normalizeURI(blocked)

        var writer = JSONWriter()
        writer.beginObject()
        writer.field("event_id", EventID.random().hex)
        writer.field("type", "csp")
        writer.field("logger", "csp")
        common(&writer, message: message, culprit: cspCulprit(violated: violated, documentURI: document), context: context)
        writer.key("tags")
        writer.beginArray()
        tag(&writer, "effective-directive", effectiveDirective)
        tag(&writer, "blocked-uri", sanitizedBlockedURI(blocked))
        if let parts = URIParts(blocked), parts.scheme == "http" || parts.scheme == "https", !parts.host.isEmpty {
            tag(&writer, "blocked-host", parts.host)
        }
        writer.endArray()
        request(&writer, url: document, referrer: referrer, userAgent: context.userAgent)
        writer.key("csp")
        writer.beginObject()
        writer.field("effective_directive", effectiveDirective)
        writer.field("blocked_uri", blocked)
        if let document { writer.field("document_uri", document) }
        if let policy = report.text("original-policy", "originalPolicy", "original_policy") { writer.field("original_policy", policy) }
        if let referrer { writer.field("referrer", referrer) }
        if let status = report.number("status-code", "statusCode", "status_code") { writer.field("status_code", status) }
        writer.field("violated_directive", violated)
        if let file = report.text("source-file", "sourceFile", "source_file") { writer.field("source_file", file) }
        if let line = report.number("line-number", "lineNumber", "line_number") { writer.field("line_number", line) }
        if let column = report.number("column-number", "columnNumber", "column_number") { writer.field("column_number", column) }
        if let sample = report.text("script-sample", "scriptSample", "sample") { writer.field("script_sample", sample) }
        if let disposition = report.text("disposition") { writer.field("disposition", disposition) }
        writer.endObject()
        writer.key("fingerprint")
        writer.beginArray()
        writer.value("csp")
        writer.value(effectiveDirective)
        writer.value(uri)
        writer.endArray()
        writer.endObject()

        var metadata = JSONWriter()
        metadata.beginObject()
        metadata.field("directive", effectiveDirective)
        metadata.field("uri", uri)
        metadata.field("message", message)
        metadata.endObject()
        return SecurityReport(payload: ByteBuffer(bytes: writer.bytes), kind: "csp", metadata: metadata.bytes)
    }

    static func isLocal(_ uri: String) -> Bool { uri == "" || uri == "self" || uri == "'self'" }

    /// Relay's `get_message`: what was blocked, from where.
    package static func cspMessage(directive: String, blockedURI: String) -> String {
        if directive == "script-src" {
            if blockedURI == "inline" { return "Blocked unsafe inline 'script'" }
            if blockedURI == "eval" { return "Blocked unsafe eval() 'script'" }
        }
        if isLocal(blockedURI) {
            switch directive {
            case "child-src": return "Blocked inline 'child'"
            case "connect-src": return "Blocked inline 'connect'"
            case "font-src": return "Blocked inline 'font'"
            case "img-src": return "Blocked inline 'image'"
            case "manifest-src": return "Blocked inline 'manifest'"
            case "media-src": return "Blocked inline 'media'"
            case "object-src": return "Blocked inline 'object'"
            case "script-src-attr": return "Blocked unsafe 'script' element"
            case "script-src-elem": return "Blocked inline script attribute"
            case "style-src": return "Blocked inline 'style'"
            case "style-src-elem": return "Blocked 'style' or 'link' element"
            case "style-src-attr": return "Blocked style attribute"
            case "script-src": return "Blocked unsafe (eval() or inline) 'script'"
            default: return "Blocked inline '\(directive)'"
            }
        }
        let uri = normalizeURI(blockedURI)
        switch directive {
        case "child-src": return "Blocked 'child' from '\(uri)'"
        case "connect-src": return "Blocked 'connect' from '\(uri)'"
        case "font-src": return "Blocked 'font' from '\(uri)'"
        case "form-action": return "Blocked 'form' action to '\(uri)'"
        case "img-src": return "Blocked 'image' from '\(uri)'"
        case "manifest-src": return "Blocked 'manifest' from '\(uri)'"
        case "media-src": return "Blocked 'media' from '\(uri)'"
        case "object-src": return "Blocked 'object' from '\(uri)'"
        case "script-src", "script-src-elem": return "Blocked 'script' from '\(uri)'"
        case "script-src-attr": return "Blocked inline script attribute from '\(uri)'"
        case "style-src", "style-src-elem": return "Blocked 'style' from '\(uri)'"
        case "style-src-attr": return "Blocked style attribute from '\(uri)'"
        default: return "Blocked '\(directive)' from '\(uri)'"
        }
    }

    /// Relay's `get_culprit`: the violated directive with each source normalised against the
    /// document (Firefox spells out the document's origin where the policy said `'self'`).
    package static func cspCulprit(violated: String, documentURI: String?) -> String {
        var bits = violated.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init)
        guard !bits.isEmpty else { return "" }
        let name = bits.removeFirst()
        let document = normalizeURI(documentURI ?? "")
        let documentScheme =
            documentURI?.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).count == 2
            ? documentURI?.split(separator: ":", maxSplits: 1).first.map(String.init) : nil
        var culprit = name
        for bit in bits {
            culprit += " " + normalizeValue(bit, document: document, documentScheme: documentScheme)
        }
        return culprit
    }

    private static func normalizeValue(_ value: String, document: String, documentScheme: String?) -> String {
        if ["'none'", "'self'", "'unsafe-inline'", "'unsafe-eval'"].contains(value) { return value }
        let schemes = ["data:", "mediastream:", "blob:", "filesystem:", "http:", "https:", "file:"]
        if schemes.contains(where: { value.hasPrefix($0) }) { return document == normalizeURI(value) ? "'self'" : value }
        if value == document { return "'self'" }
        guard let documentScheme, documentScheme != "http", documentScheme != "https" else { return value }
        return unsplit(scheme: documentScheme, host: value)
    }

    /// Relay's `normalize_uri`: the host (and port) of an http(s) URI, `scheme://host` of others,
    /// `'self'` for the document itself.
    package static func normalizeURI(_ value: String) -> String {
        if isLocal(value) { return "'self'" }
        guard value.contains(":") else { return unsplit(scheme: value, host: "") }
        guard let parts = URIParts(value) else { return value }
        let base = parts.scheme == "http" || parts.scheme == "https" ? parts.host : unsplit(scheme: parts.scheme, host: parts.host)
        return parts.port.map { "\(base):\($0)" } ?? base
    }

    private static let schemesWithHost: Set<String> = [
        "ftp", "http", "gopher", "nntp", "telnet", "imap", "wais", "file", "mms", "https", "shttp", "snews", "prospero", "rtsp",
        "rtspu", "rsync", "svn", "svn+ssh", "sftp", "nfs", "git", "git+ssh", "ws", "wss",
    ]

    /// Python's `urlunsplit` for a scheme and host, as Relay mimics it.
    static func unsplit(scheme: String, host: String) -> String {
        if !host.isEmpty || schemesWithHost.contains(scheme) { return "\(scheme)://\(host)" }
        return scheme.isEmpty ? "" : "\(scheme):\(host)"
    }

    /// Stripe puts secrets in the query strings of blocked URIs (Relay strips them).
    private static func sanitizedBlockedURI(_ uri: String) -> String {
        guard uri.hasPrefix("https://api.stripe.com/"), let cut = uri.firstIndex(where: { $0 == "?" || $0 == "#" }) else { return uri }
        return String(uri[..<cut])
    }

    // MARK: Expect-CT, Expect-Staple, HPKP

    private static func hostReport(_ report: Members, raw: UnsafeRawBufferPointer, kind: String, context: Context) throws(IngestError)
        -> SecurityReport
    {
        guard let hostname = report.text("hostname"), !hostname.isEmpty else {
            throw .badRequest("invalid \(kind) report: missing hostname")
        }
        let message =
            switch kind {
            case "expectct": "Expect-CT failed for '\(hostname)'"
            case "expectstaple": "Expect-Staple failed for '\(hostname)'"
            default: "Public key pinning validation failed for '\(hostname)'"
            }
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("event_id", EventID.random().hex)
        writer.field("type", kind)
        writer.field("logger", kind)
        common(&writer, message: message, culprit: hostname, context: context)
        writer.key("tags")
        writer.beginArray()
        if let port = report.number("port") { tag(&writer, "port", String(port)) }
        tag(&writer, "hostname", hostname)
        if kind == "hpkp", let flag = report.bool("include-subdomains") { tag(&writer, "include-subdomains", String(flag)) }
        if kind == "expectstaple" {
            if let status = report.text("response-status") { tag(&writer, "response-status", status) }
            if let status = report.text("cert-status") { tag(&writer, "cert-status", status) }
        }
        writer.endArray()
        writer.key(kind)
        writer.raw(raw)
        writer.key("fingerprint")
        writer.beginArray()
        writer.value(kind)
        writer.value(hostname)
        writer.endArray()
        writer.endObject()

        var metadata = JSONWriter()
        metadata.beginObject()
        metadata.field("origin", hostname)
        metadata.field("message", message)
        metadata.endObject()
        return SecurityReport(payload: ByteBuffer(bytes: writer.bytes), kind: kind, metadata: metadata.bytes)
    }

    // MARK: Shared parts

    private static func common(_ writer: inout JSONWriter, message: String, culprit: String, context: Context) {
        writer.key("logentry")
        writer.beginObject()
        writer.field("formatted", message)
        writer.endObject()
        writer.field("culprit", culprit)
        if let release = context.release, !release.isEmpty { writer.field("release", release) }
        if let environment = context.environment, !environment.isEmpty { writer.field("environment", environment) }
    }

    private static func request(_ writer: inout JSONWriter, url: String?, referrer: String?, userAgent: String?) {
        writer.key("request")
        writer.beginObject()
        if let url { writer.field("url", url) }
        var headers: [(String, String)] = []
        if let referrer, !referrer.isEmpty { headers.append(("Referer", referrer)) }
        if let userAgent, !userAgent.isEmpty { headers.append(("User-Agent", userAgent)) }
        if !headers.isEmpty {
            writer.key("headers")
            writer.beginArray()
            for (name, value) in headers {
                writer.beginArray()
                writer.value(name)
                writer.value(value)
                writer.endArray()
            }
            writer.endArray()
        }
        writer.endObject()
    }

    private static func tag(_ writer: inout JSONWriter, _ key: String, _ value: String) {
        writer.beginArray()
        writer.value(key)
        writer.value(value)
        writer.endArray()
    }
}

/// The members of one report object by name, looked up under any of the spellings browsers use
/// (`blocked-uri` in `report-uri` bodies, `blockedURL` in the Reporting API's).
private struct Members {
    let json: JSONView
    var byName: [String: Int] = [:]

    init(_ json: JSONView, _ object: Int) {
        self.json = json
        var byName: [String: Int] = [:]
        json.forEachMember(object) { key, value in
            if let name = json.string(key) { byName[name] = value }
        }
        self.byName = byName
    }

    func text(_ names: String...) -> String? {
        for name in names {
            if let index = byName[name], let value = json.scalarText(index) { return FieldLimits.removingNUL(value) }
        }
        return nil
    }

    /// A number, or a numeric string as Relay's `de_opt_num_or_str` takes it.
    func number(_ names: String...) -> Int64? {
        for name in names {
            guard let index = byName[name] else { continue }
            if let value = json.int(index) { return Int64(value) }
            if let value = json.string(index).flatMap({ Int64($0) }) { return value }
        }
        return nil
    }

    func bool(_ name: String) -> Bool? { byName[name].flatMap { json.bool($0) } }
}

/// Scheme, host and port of an absolute URI, as far as the title and tags need them.
private struct URIParts {
    var scheme: String
    var host: String
    var port: Int?

    init?(_ uri: String) {
        guard let colon = uri.firstIndex(of: ":") else { return nil }
        let scheme = uri[..<colon].lowercased()
        guard let first = scheme.first, first.isLetter, scheme.allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }) else {
            return nil
        }
        self.scheme = scheme
        var rest = uri[uri.index(after: colon)...]
        guard rest.hasPrefix("//") else {
            host = ""
            return
        }
        rest = rest.dropFirst(2)
        var authority = rest.prefix(while: { $0 != "/" && $0 != "?" && $0 != "#" })
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = String(authority[...close]).lowercased()
            let after = authority[authority.index(after: close)...]
            port = after.hasPrefix(":") ? Int(after.dropFirst()) : nil
        } else if let portColon = authority.lastIndex(of: ":") {
            host = authority[..<portColon].lowercased()
            port = Int(authority[authority.index(after: portColon)...])
        } else {
            host = authority.lowercased()
        }
        // The URL standard leaves out a scheme's default port, as Relay's `url` crate does.
        if (scheme == "http" && port == 80) || (scheme == "https" && port == 443) { port = nil }
    }
}
