import Foundation
import Hummingbird
import NIOCore
import PitModel
import PitStorage

/// The request context of every non-ingest route: who is asking (set by the auth middlewares)
/// and, for web forms, the already-parsed form fields.
struct PitRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var identity: Identity?
    var form = FormFields()
    /// The peer of the connection. Behind a reverse proxy this is the proxy; sign-in throttling
    /// keys on `Authenticator.clientAddress`, which looks past proxies listed in `trusted_proxies`.
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The client's IP address as text, without the port; "unknown" when there is none.
    var clientIP: String { remoteAddress?.ipAddress ?? "unknown" }

    /// The caller's identity; throws 401 when the route was reached without one (a wiring bug).
    func requireIdentity() throws -> Identity {
        guard let identity else { throw HTTPError(.unauthorized, message: "Authentication credentials were not provided.") }
        return identity
    }

    /// Throws 403 unless the caller holds `scope`.
    func require(_ scope: TokenScope) throws -> Identity {
        let identity = try requireIdentity()
        guard identity.allows(scope) else {
            throw HTTPError(.forbidden, message: "You do not have permission to perform this action (needs \(scope.rawValue) scope).")
        }
        return identity
    }
}

/// Who a request acts as.
struct Identity: Sendable {
    enum Principal: Sendable {
        /// The admin token from `pitd init`, as a Bearer token or used to sign in.
        case adminToken
        case apiToken(APIToken)
        case user(User)
    }

    var principal: Principal
    /// The browser session, for CSRF checks and sign-out; nil for Bearer requests.
    var session: WebSession?

    var scope: TokenScope {
        switch principal {
        case .adminToken: .admin
        case .apiToken(let token): token.scopes.max() ?? .read
        case .user(let user): user.isAdmin ? .admin : .write
        }
    }

    func allows(_ needed: TokenScope) -> Bool {
        switch principal {
        case .apiToken(let token): token.allows(needed)
        default: scope >= needed
        }
    }

    var displayName: String {
        switch principal {
        case .adminToken: "admin"
        case .apiToken(let token): "token \(token.label)"
        case .user(let user): user.email
        }
    }

    var userID: Int64? {
        if case .user(let user) = principal { return user.id }
        return nil
    }

    /// The account this request acts for: the signed-in user, or the owner of the API token.
    var actingUserID: Int64? {
        switch principal {
        case .user(let user): user.id
        case .apiToken(let token): token.userID
        case .adminToken: nil
        }
    }
}

/// `application/x-www-form-urlencoded` fields in order; repeated names (checkbox lists) kept.
struct FormFields: Sendable {
    var pairs: [(name: String, value: String)] = []

    init() {}

    init(urlEncoded body: String) {
        pairs = URLEncoding.pairs(Substring(body))
    }

    /// The query string of a request, decoded as a form (`+` is a space), which Sentry's clients
    /// and browsers both send; Hummingbird's `queryParameters` leaves `+` as it is.
    init(query request: Request) {
        self.init(urlEncoded: request.uri.query ?? "")
    }

    subscript(_ name: String) -> String? { pairs.first { $0.name == name }?.value }

    func all(_ name: String) -> [String] { pairs.filter { $0.name == name }.map(\.value) }
}
