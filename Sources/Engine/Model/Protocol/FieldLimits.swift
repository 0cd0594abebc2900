/// Bounds on the event strings that reach database columns, indexes and in-memory indexes.
///
/// PostgreSQL refuses U+0000 in text (22021) and a btree key over ~2.7 KB (54000); either fails
/// the whole batch, every project's events in it with it. Lengths are Relay's `max_chars`,
/// counted here in UTF-8 bytes so the stored size is bounded whatever the script: a value of
/// one letter and a million combining marks is one `Character` but a megabyte of index key.
/// Oversized values are cut at a scalar boundary (`value_too_long`) and NULs removed
/// (`invalid_data`), each recorded on the event: the event is kept, never the batch failed.
package enum FieldLimits {
    package static let release = 200
    package static let environment = 64
    /// Relay restricts `dist` to `[a-zA-Z0-9_.-]` without a length; 64 bytes as `environment`.
    package static let dist = 64
    package static let transaction = 200
    package static let culprit = 200
    package static let logger = 64
    package static let serverName = 256
    package static let site = 256
    package static let platform = 64
    package static let userID = 128
    package static let userEmail = 75
    package static let username = 128
    /// The longest textual IPv6 address (with an embedded IPv4 part).
    package static let ipAddress = 45
    /// Relay's `symbol` limit for exception types and modules.
    package static let exceptionType = 256
    /// Relay's `message` limit (logentry, exception values).
    package static let message = 8192
    /// Tag keys and values: Relay's 200 characters, counted as Unicode scalars (Rust's `chars`),
    /// so a stored tag is at most 800 bytes and a (key, value, environment) key fits a btree.
    package static let tagKeyScalars = 200
    package static let tagValueScalars = 200
    /// Names of unknown envelope item types, stored per item and indexed.
    package static let itemTypeName = 64

    /// `text` cut to at most `maxBytes` bytes of UTF-8, never inside a scalar.
    package static func prefix(_ text: String, maxBytes: Int) -> String {
        let utf8 = text.utf8
        guard utf8.count > maxBytes else { return text }
        var end = utf8.index(utf8.startIndex, offsetBy: max(0, maxBytes))
        // Continuation bytes are 0b10xxxxxx; back up to the first byte of the scalar cut through.
        while end > utf8.startIndex && utf8[end] & 0xC0 == 0x80 { end = utf8.index(before: end) }
        return String(decoding: utf8[utf8.startIndex..<end], as: UTF8.self)
    }

    package static func containsNUL(_ text: String) -> Bool { text.utf8.contains(0) }

    package static func removingNUL(_ text: String) -> String {
        containsNUL(text) ? String(decoding: text.utf8.filter { $0 != 0 }, as: UTF8.self) : text
    }

    /// Whether a tag key or value is within Relay's limit and may be stored as is.
    package static func isValidTag(_ text: String, maxScalars: Int) -> Bool {
        // A scalar takes at least one byte: the stored UTF-8 count settles almost every tag
        // without walking its scalars.
        !text.isEmpty && (text.utf8.count <= maxScalars || text.unicodeScalars.count <= maxScalars) && !containsNUL(text)
    }
}
