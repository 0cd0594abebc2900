import PitModel

/// What a DSN key's public key, label and rate limit may be, for every back end and caller.
extension ProjectKey {
    package static let defaultLabel = "Default"
    package static let maxLabelLength = 200

    /// 32 random hex characters, the shape of Sentry's public keys.
    package static func generatePublicKey() -> String {
        EventID.random().hex
    }

    /// The public key of a new key: the caller's (kept from Sentry or GlitchTip so SDK configs
    /// need no change) when it could arrive in an `X-Sentry-Auth` header, else a fresh one.
    package static func validatedPublicKey(_ key: String?) throws(AdminError) -> String {
        let key = key ?? generatePublicKey()
        guard SentryAuth.isPlausibleKey(key) else {
            throw .invalid("a public key is 1-64 characters of letters, digits, '-' or '_'")
        }
        return key
    }

    /// A label as stored: at most 200 characters, "Default" when none was given.
    package static func storedLabel(_ label: String?) -> String {
        String((label ?? defaultLabel).prefix(maxLabelLength))
    }

    package static func publicKeyTaken(_ key: String) -> AdminError { .conflict("public key \(key) already exists") }
}

extension ProjectKey.RateLimit {
    /// A limit a client asked for, refused unless inside `countRange` and `windowRange`.
    package static func validated(count: Int64?, windowSeconds: Int64?) throws(AdminError) -> Self {
        guard let count, countRange.contains(count) else {
            throw .invalid("rateLimit.count must be a whole number from \(countRange.lowerBound) to \(countRange.upperBound)")
        }
        guard let windowSeconds, windowRange.contains(windowSeconds) else {
            throw .invalid(
                "rateLimit.window must be a whole number of seconds from \(windowRange.lowerBound) to \(windowRange.upperBound)")
        }
        return Self(count: count, windowSeconds: windowSeconds)
    }

    /// The floor every stored limit keeps, whoever built it: a window of 0 s would never count.
    package func validate() throws(AdminError) {
        guard count >= 0, windowSeconds >= 1 else { throw .invalid("a rate limit is a count >= 0 per window of >= 1 second") }
    }
}
