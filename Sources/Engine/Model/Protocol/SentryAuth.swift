/// Credentials a Sentry SDK sends with an ingest request.
///
/// Relay accepts them from `X-Sentry-Auth`, `Authorization: Sentry|Basic|DSN`, the query string
/// (`?sentry_key=`, used by the browser SDK to avoid a CORS preflight) and, for envelopes only, the
/// envelope header `dsn` (the tunnel pattern). More than one request-level form is a 401.
package struct SentryAuth: Sendable, Equatable {
    package var publicKey: String
    package var version: Int?
    package var client: String?

    package init(publicKey: String, version: Int? = nil, client: String? = nil) {
        self.publicKey = publicKey
        self.version = version
        self.client = client
    }

    /// The highest protocol version Relay accepts.
    package static let maximumVersion = 7

    /// Auth from the request's headers and query; nil when the request carries none.
    package static func extract(
        xSentryAuth: String?, authorization: String?, query: Substring?
    ) throws(IngestError) -> SentryAuth? {
        var found: [SentryAuth] = []
        if let header = xSentryAuth {
            guard let auth = parseSentryHeader(header) else { throw .unauthorized("invalid X-Sentry-Auth header") }
            found.append(auth)
        }
        if let header = authorization {
            let trimmed = header.drop(while: { $0 == " " })
            if trimmed.lowercased().hasPrefix("sentry ") {
                guard let auth = parseSentryHeader(String(trimmed)) else { throw .unauthorized("invalid Authorization header") }
                found.append(auth)
            } else if trimmed.lowercased().hasPrefix("basic ") {
                // Basic base64(key:secret): newer Relay accepts it.
                guard let decoded = Base64.decode(String(trimmed.dropFirst(6)).trimmingSpaces),
                    let key = String(decoding: decoded, as: UTF8.self).split(separator: ":", omittingEmptySubsequences: false).first,
                    !key.isEmpty
                else { throw .unauthorized("invalid Basic authorization") }
                found.append(SentryAuth(publicKey: String(key)))
            } else if trimmed.lowercased().hasPrefix("dsn ") {
                // sentry-cli 2.11–2.2x sent `Authorization: DSN <key>`.
                let value = String(trimmed.dropFirst(4)).trimmingSpaces
                if let dsn = DSN(value) {
                    found.append(SentryAuth(publicKey: dsn.publicKey))
                } else {
                    found.append(SentryAuth(publicKey: value))
                }
            }
        }
        if let query, query.contains("sentry_") {
            var key: String?
            var version: String?
            var client: String?
            for pair in query.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let name = parts[0]
                let value = parts.count > 1 ? URLEncoding.decode(parts[1]) : ""
                switch name {
                case "sentry_key": key = value
                case "sentry_version": version = value
                case "sentry_client": client = value
                default: break
                }
            }
            if let key {
                found.append(SentryAuth(publicKey: key, version: try parseVersion(version), client: client))
            }
        }
        guard found.count <= 1 else { throw .unauthorized("multiple authorization payloads detected") }
        guard let auth = found.first else { return nil }
        try validate(auth)
        return auth
    }

    static func validate(_ auth: SentryAuth) throws(IngestError) {
        if let version = auth.version, version > maximumVersion {
            throw .badRequest("client requested unsupported protocol version (\(version))")
        }
        guard isPlausibleKey(auth.publicKey) else { throw .unauthorized("invalid public key") }
    }

    package static func isPlausibleKey(_ key: String) -> Bool {
        !key.isEmpty && key.utf8.count <= 64
            && key.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F
            }
    }

    /// `Sentry sentry_key=K, sentry_version=7, sentry_client=...`: pairs split on `,` and `=`.
    static func parseSentryHeader(_ header: String) -> SentryAuth? {
        let trimmed = header.trimmingSpaces
        guard trimmed.lowercased().hasPrefix("sentry ") else { return nil }
        var key: String?
        var version: String?
        var client: String?
        for pair in trimmed.dropFirst(7).split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { continue }
            let value = String(parts[1]).trimmingSpaces
            switch String(parts[0]).trimmingSpaces {
            case "sentry_key": key = value
            case "sentry_version": version = value
            case "sentry_client": client = value
            default: break
            }
        }
        guard let key else { return nil }
        // Not `try?`: it flattens the `Int?` result, so a header without `sentry_version` (nil,
        // valid) was treated like an unparsable one and answered 400. Only a parse error maps to
        // an unsupported version.
        let parsedVersion: Int?
        do { parsedVersion = try parseVersion(version) } catch { return SentryAuth(publicKey: key, version: Int.max, client: client) }
        return SentryAuth(publicKey: key, version: parsedVersion, client: client)
    }

    /// Only the part before the first `.` counts ("7.0" is 7).
    static func parseVersion(_ text: String?) throws(IngestError) -> Int? {
        guard let text, !text.isEmpty else { return nil }
        let major = text.split(separator: ".", maxSplits: 1).first.map(String.init) ?? text
        guard let value = Int(major) else { throw .badRequest("invalid sentry_version") }
        return value
    }
}

extension String {
    package var trimmingSpaces: String {
        var scalars = Substring(self)
        while let first = scalars.first, first == " " || first == "\t" { scalars.removeFirst() }
        while let last = scalars.last, last == " " || last == "\t" { scalars.removeLast() }
        return String(scalars)
    }
}

/// Percent-decoding for query strings (`+` is a space there).
package enum URLEncoding {
    package static func decode(_ text: Substring) -> String {
        guard text.contains("%") || text.contains("+") else { return String(text) }
        var out: [UInt8] = []
        // Indexed rather than an iterator: a malformed escape ("%zz", "%2" at the end) is kept
        // as-is, as form-urlencoded decoders do; the iterator version consumed and dropped the
        // two bytes after a lone `%`.
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "+") {
                out.append(0x20)
                i += 1
            } else if b == UInt8(ascii: "%"), i + 2 < bytes.count, let hv = hexValue(bytes[i + 1]), let lv = hexValue(bytes[i + 2]) {
                out.append(hv << 4 | lv)
                i += 3
            } else {
                out.append(b)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - 48
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - 87
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - 55
        default: nil
        }
    }

    /// Parses `a=1&b=2` into decoded pairs (last one wins).
    package static func queryItems(_ query: Substring?) -> [String: String] {
        guard let query else { return [:] }
        var items: [String: String] = [:]
        for (name, value) in pairs(query) { items[name] = value }
        return items
    }

    /// `application/x-www-form-urlencoded` fields (a form body or a query string) decoded, in
    /// order, repeated names kept: the one form decoder of pitd and the ingest endpoint.
    package static func pairs(_ encoded: Substring) -> [(name: String, value: String)] {
        encoded.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }
}
