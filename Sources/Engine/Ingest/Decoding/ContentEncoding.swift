/// A request body's `Content-Encoding`, as far as the ingestion endpoints accept one.
package enum ContentEncoding: Sendable, Equatable {
    case identity, gzip, deflate, brotli, zstd

    /// Parses a Content-Encoding header value as Sentry's Relay does: case-insensitive, trimmed;
    /// "" and "identity" and "utf-8" (sentry-ruby/old Android send that) → .identity; "gzip"/"x-gzip" → .gzip;
    /// "deflate" → .deflate; "br" → .brotli; "zstd" → .zstd. Anything else → nil (caller answers 415).
    package init?(headerValue: String) {
        // Header values are ASCII in practice; trimming only HTTP's optional whitespace (SP, HTAB) and
        // stray line breaks keeps this free of Foundation.
        let trimmed = headerValue.utf8.drop(while: Self.isWhitespace).reversed().drop(while: Self.isWhitespace)
        switch String(decoding: trimmed.reversed(), as: UTF8.self).lowercased() {
        case "", "identity", "utf-8":
            self = .identity
        case "gzip", "x-gzip":
            self = .gzip
        case "deflate":
            self = .deflate
        case "br":
            self = .brotli
        case "zstd":
            self = .zstd
        default:
            return nil
        }
    }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
            || byte == UInt8(ascii: "\n")
    }
}
