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
        !text.isEmpty && text.unicodeScalars.count <= maxScalars && !containsNUL(text)
    }
}

/// Applies `FieldLimits` to one event's strings and collects the processing errors.
struct FieldLimiter {
    var errors: [(type: String, name: String)] = []

    /// `name` is an autoclosure: names like `exception.values.0.type` are built only for an error.
    mutating func bound(_ value: inout String?, _ name: @autoclosure () -> String, maxBytes: Int?) {
        guard var text = value else { return }
        if FieldLimits.containsNUL(text) {
            text = FieldLimits.removingNUL(text)
            errors.append(("invalid_data", name()))
        }
        if let maxBytes, text.utf8.count > maxBytes {
            text = FieldLimits.prefix(text, maxBytes: maxBytes)
            errors.append(("value_too_long", name()))
        }
        value = text.isEmpty ? nil : text
    }

    /// Strings used only to group and title the event: NULs go (they would reach the issue's
    /// title and culprit), without an error per frame.
    static func clean(_ value: inout String?) {
        if let text = value, FieldLimits.containsNUL(text) { value = FieldLimits.removingNUL(text) }
    }
}

extension ExtractedEvent {
    /// Bounds every string that is stored or indexed, recording what was changed in `errors`.
    mutating func applyFieldLimits() {
        var limiter = FieldLimiter()
        limiter.bound(&release, "release", maxBytes: FieldLimits.release)
        limiter.bound(&dist, "dist", maxBytes: FieldLimits.dist)
        limiter.bound(&environment, "environment", maxBytes: FieldLimits.environment)
        limiter.bound(&transaction, "transaction", maxBytes: FieldLimits.transaction)
        limiter.bound(&culprit, "culprit", maxBytes: FieldLimits.culprit)
        limiter.bound(&logger, "logger", maxBytes: FieldLimits.logger)
        limiter.bound(&serverName, "server_name", maxBytes: FieldLimits.serverName)
        limiter.bound(&site, "site", maxBytes: FieldLimits.site)
        var platformValue: String? = platform
        limiter.bound(&platformValue, "platform", maxBytes: FieldLimits.platform)
        platform = platformValue ?? "other"
        if var user {
            limiter.bound(&user.id, "user.id", maxBytes: FieldLimits.userID)
            limiter.bound(&user.email, "user.email", maxBytes: FieldLimits.userEmail)
            limiter.bound(&user.username, "user.username", maxBytes: FieldLimits.username)
            limiter.bound(&user.ipAddress, "user.ip_address", maxBytes: FieldLimits.ipAddress)
            self.user = user
        }
        if var message {
            limiter.bound(&message.template, "logentry.message", maxBytes: FieldLimits.message)
            limiter.bound(&message.formatted, "logentry.formatted", maxBytes: FieldLimits.message)
            message.params = message.params.map { FieldLimits.prefix(FieldLimits.removingNUL($0), maxBytes: FieldLimits.message) }
            self.message = message.template == nil && message.formatted == nil ? nil : message
        }
        for index in exceptions.indices {
            limiter.bound(&exceptions[index].type, "exception.values.\(index).type", maxBytes: FieldLimits.exceptionType)
            limiter.bound(&exceptions[index].value, "exception.values.\(index).value", maxBytes: FieldLimits.message)
            limiter.bound(&exceptions[index].module, "exception.values.\(index).module", maxBytes: FieldLimits.exceptionType)
            FieldLimiter.clean(&exceptions[index].mechanismType)
        }
        // Frame strings lose their NULs as they are extracted (`EventExtractor.frameText`).
        errors.append(contentsOf: limiter.errors)
    }
}
