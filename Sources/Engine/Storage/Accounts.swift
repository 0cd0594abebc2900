import Crypto
import Foundation
import _CryptoExtras

/// A person who signs in to the web UI with an email and a password.
package struct User: Sendable, Equatable {
    package var id: Int64
    package var email: String
    /// `PasswordHash` string; never leaves the store except to be verified.
    package var passwordHash: String
    package var isAdmin: Bool
    package var createdAt: Int64
    /// When an administrator disabled the account; nil while it may sign in.
    package var disabledAt: Int64?

    package init(id: Int64, email: String, passwordHash: String, isAdmin: Bool, createdAt: Int64, disabledAt: Int64? = nil) {
        self.id = id
        self.email = email
        self.passwordHash = passwordHash
        self.isAdmin = isAdmin
        self.createdAt = createdAt
        self.disabledAt = disabledAt
    }

    package var isActive: Bool { disabledAt == nil }
}

/// A signed-in browser. The cookie carries a random token; the store keeps only its SHA-256.
/// `userID == nil` is a session opened with the admin token.
package struct WebSession: Sendable, Equatable {
    package var tokenHash: [UInt8]
    package var userID: Int64?
    /// Per-session CSRF token, echoed by every form (synchronizer-token pattern).
    package var csrfToken: String
    package var createdAt: Int64
    package var expiresAt: Int64

    package init(tokenHash: [UInt8], userID: Int64?, csrfToken: String, createdAt: Int64, expiresAt: Int64) {
        self.tokenHash = tokenHash
        self.userID = userID
        self.csrfToken = csrfToken
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// What an API token may do. Ordered: each scope includes the ones before it.
package enum TokenScope: String, Sendable, CaseIterable, Comparable {
    case read, write, admin

    package static func < (a: TokenScope, b: TokenScope) -> Bool { a.order < b.order }

    private var order: Int {
        switch self {
        case .read: 0
        case .write: 1
        case .admin: 2
        }
    }

    /// Parses Sentry-style scope lists too: `project:read`, `event:write`, `org:admin`.
    package static func parse(_ text: String) -> TokenScope? {
        let name = text.split(separator: ":").last.map(String.init) ?? text
        return TokenScope(rawValue: name.lowercased())
    }
}

package struct APIToken: Sendable, Equatable {
    package var id: Int64
    package var label: String
    package var scopes: [TokenScope]
    /// The first characters of the token, shown in lists so a person can tell tokens apart.
    package var prefix: String
    package var userID: Int64?
    package var createdAt: Int64
    package var lastUsedAt: Int64?
    package var revokedAt: Int64?

    package init(
        id: Int64, label: String, scopes: [TokenScope], prefix: String, userID: Int64?, createdAt: Int64,
        lastUsedAt: Int64?, revokedAt: Int64?
    ) {
        self.id = id
        self.label = label
        self.scopes = scopes
        self.prefix = prefix
        self.userID = userID
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }

    package var isRevoked: Bool { revokedAt != nil }

    package func allows(_ scope: TokenScope) -> Bool { scopes.contains { $0 >= scope } }
}

/// Random secrets (session cookies, API tokens) and their stored form.
package enum Secret {
    /// `prefix` followed by 64 hex characters (256 random bits).
    package static func generate(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        var text = prefix
        for _ in 0..<32 {
            let byte = UInt8.random(in: 0...255, using: &generator)
            text += String(byte, radix: 16).leftPadded(to: 2)
        }
        return text
    }

    /// The stored form of a secret: SHA-256. Lookups by this hash leak nothing useful about the
    /// secret, so an indexed lookup is as safe as a constant-time compare of the plain value.
    package static func hash(_ secret: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(secret.utf8)))
    }

    package static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}

/// Password hashes with scrypt (RFC 7914, via swift-crypto's BoringSSL), stored as
/// `scrypt$<log2 N>$<r>$<p>$<salt b64>$<hash b64>` so the cost can rise later without
/// invalidating existing hashes.
package enum PasswordHash {
    /// OWASP's scrypt parameters (Password Storage Cheat Sheet): N = 2^17, r = 8, p = 1, which is
    /// 128 MiB and a few tenths of a second per hash. That is why hashing runs on its own small
    /// pool (`PasswordHasher`) and sign-ins are throttled (`LoginThrottle`). Hashes made with
    /// other parameters still verify, and are replaced at the next successful sign-in
    /// (`needsRehash`).
    package static let defaultLogN = 17
    package static let defaultR = 8
    package static let defaultP = 1

    package static func make(_ password: String, logN: Int = defaultLogN) throws -> String {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let derived = try derive(password, salt: salt, logN: logN, r: defaultR, p: defaultP)
        return "scrypt$\(logN)$\(defaultR)$\(defaultP)$\(Data(salt).base64EncodedString())$\(Data(derived).base64EncodedString())"
    }

    package static func verify(_ password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "scrypt", let logN = Int(parts[1]), (10...20).contains(logN),
            let r = Int(parts[2]), (1...32).contains(r), let p = Int(parts[3]), (1...16).contains(p),
            let salt = Data(base64Encoded: String(parts[4])), let expected = Data(base64Encoded: String(parts[5])),
            let derived = try? derive(password, salt: Array(salt), logN: logN, r: r, p: p)
        else { return false }
        return Secret.constantTimeEqual(derived, Array(expected))
    }

    /// Whether `stored` was made with weaker parameters than today's (or is not a hash this
    /// version makes), so a successful sign-in should store a fresh one.
    package static func needsRehash(_ stored: String, logN wanted: Int = defaultLogN) -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "scrypt", let logN = Int(parts[1]), let r = Int(parts[2]), let p = Int(parts[3]) else {
            return true
        }
        return logN < wanted || r != defaultR || p != defaultP
    }

    private static func derive(_ password: String, salt: [UInt8], logN: Int, r: Int, p: Int) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(
            from: Array(password.utf8), salt: salt, outputByteCount: 32,
            rounds: 1 << logN, blockSize: r, parallelism: p)
        return key.withUnsafeBytes { Array($0) }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

extension User {
    /// A light check (something@something.tld, no spaces, ≤ 254 bytes); delivery is not our job.
    package static func isPlausibleEmail(_ text: String) -> Bool {
        guard text.utf8.count <= 254, !text.contains(where: { $0.isWhitespace || $0 == "<" || $0 == ">" }) else { return false }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !parts[1].hasPrefix(".")
            && !parts[1].hasSuffix(".")
    }
}
