import PitModel

/// What accounts, passwords and API tokens may be, for every back end and caller.
extension User {
    /// An email as stored: trimmed, and plausible (`isPlausibleEmail`).
    package static func validatedEmail(_ email: String) throws(AdminError) -> String {
        let email = email.trimmingSpaces
        guard isPlausibleEmail(email) else { throw .invalid("\(email) is not an email address") }
        return email
    }

    /// Emails compare without case (SQLite `COLLATE NOCASE`, PostgreSQL `lower()`).
    package static func emailTaken(_ email: String) -> AdminError { .conflict("a user with email \(email) already exists") }

    /// At least 8 characters; at most 1,024 bytes, which bounds what scrypt is handed.
    package static func validatePassword(_ password: String) throws(AdminError) {
        guard password.count >= 8 else { throw .invalid("a password has at least 8 characters") }
        guard password.utf8.count <= 1024 else { throw .invalid("a password has at most 1,024 bytes") }
    }
}

extension APIToken {
    package static let maxLabelLength = 200
    /// Last use is stamped at minute precision: enough for "last used", and it spares a write
    /// per request.
    package static let usageStampMilliseconds: Int64 = 60_000

    package static func storedLabel(_ label: String) -> String { String(label.prefix(maxLabelLength)) }

    /// The scopes as stored: space-separated names, at least one.
    package static func storedScopes(_ scopes: [TokenScope]) throws(AdminError) -> String {
        guard !scopes.isEmpty else { throw .invalid("a token needs at least one scope (read, write, admin)") }
        return scopes.map(\.rawValue).joined(separator: " ")
    }

    /// The scopes a client asked for by name (the API, the CLI and the web form alike): Sentry's
    /// `project:read` spellings too, duplicates dropped, `read` when none is named.
    package static func requestedScopes(_ names: [String]) throws(AdminError) -> [TokenScope] {
        var scopes: [TokenScope] = []
        for name in names {
            guard let scope = TokenScope.parse(name) else { throw .invalid("unknown scope \(name) (read, write, admin)") }
            if !scopes.contains(scope) { scopes.append(scope) }
        }
        return scopes.isEmpty ? [.read] : scopes
    }

    package static func scopes(stored: String) -> [TokenScope] {
        stored.split(separator: " ").compactMap { TokenScope(rawValue: String($0)) }
    }

    /// Whether a use at `now` should be written down (see `usageStampMilliseconds`).
    package func needsUsageStamp(now: Int64) -> Bool {
        (lastUsedAt ?? 0) < now - Self.usageStampMilliseconds
    }
}
