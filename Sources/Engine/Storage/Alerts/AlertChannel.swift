import Foundation

/// Where notifications go: a webhook of some flavour, or an email address.
package struct AlertChannel: Sendable, Equatable {
    package enum Kind: String, Sendable, CaseIterable {
        case webhook, slack, discord, mattermost, email
    }

    package var id: Int64
    package var name: String
    package var kind: Kind
    /// The webhook URL; empty for email.
    package var url: String
    /// The email address (email channels only).
    package var recipient: String?
    /// Whether a secret is stored; the secret itself is never read back out.
    package var hasSecret: Bool
    /// 0: every notification is sent on its own; else they are batched into one message per interval.
    package var digestSeconds: Int64
    package var createdAt: Int64

    package init(
        id: Int64, name: String, kind: Kind, url: String, recipient: String?, hasSecret: Bool, digestSeconds: Int64, createdAt: Int64
    ) {
        self.id = id
        self.name = name
        self.kind = kind
        self.url = url
        self.recipient = recipient
        self.hasSecret = hasSecret
        self.digestSeconds = digestSeconds
        self.createdAt = createdAt
    }

    /// A channel as asked for, validated by `validated()` before any back end stores it.
    package struct Draft: Sendable {
        package var name: String
        package var kind: Kind
        package var url: String
        package var recipient: String?
        package var secret: String?
        package var digestSeconds: Int64

        package init(name: String?, kind: Kind, url: String?, recipient: String?, secret: String?, digestSeconds: Int64 = 0) {
            self.name = name ?? ""
            self.kind = kind
            self.url = url ?? ""
            self.recipient = recipient
            self.secret = secret
            self.digestSeconds = digestSeconds
        }

        package func validated() throws(AdminError) -> Draft {
            var draft = self
            draft.name = name.trimmingCharacters(in: .whitespacesAndNewlines)
            draft.url = url.trimmingCharacters(in: .whitespacesAndNewlines)
            if kind == .email {
                // The SMTP server and its credentials are the server's settings, not the channel's.
                let address = try User.validatedEmail(recipient ?? "")
                // Pit's SMTP client does not speak SMTPUTF8: an address it could not send to is refused now.
                guard address.unicodeScalars.allSatisfy(\.isASCII) else { throw .invalid("the email address must be ASCII") }
                draft.url = ""
                draft.secret = nil
                draft.recipient = address
                if draft.name.isEmpty { draft.name = "email \(address)" }
                guard draft.name.count <= 200 else { throw .invalid("the name is longer than 200 characters") }
                guard (0...86400).contains(digestSeconds) else { throw .invalid("the digest interval must be between 0 and 86400 seconds") }
                return draft
            }
            draft.recipient = nil
            guard let parsed = URL(string: draft.url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https",
                parsed.host?.isEmpty == false
            else { throw .invalid("a \(kind.rawValue) channel needs an http:// or https:// URL") }
            guard draft.url.utf8.count <= 2048 else { throw .invalid("the URL is longer than 2048 bytes") }
            if draft.name.isEmpty { draft.name = "\(kind.rawValue) \(parsed.host ?? "")" }
            guard draft.name.count <= 200 else { throw .invalid("the name is longer than 200 characters") }
            if let secret, secret.utf8.count > 1024 { throw .invalid("the secret is longer than 1024 bytes") }
            guard (0...86400).contains(digestSeconds) else { throw .invalid("the digest interval must be between 0 and 86400 seconds") }
            return draft
        }
    }

    package static func missing(_ id: Int64) -> AdminError { .notFound("alert channel \(id) does not exist") }

    package static let noSMTPServer = AdminError.invalid(
        "email channels need an SMTP server: set smtp_host (and smtp_from, smtp_security, smtp_username, smtp_password)")
}
