import PitModel

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
