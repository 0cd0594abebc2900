import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers
import PitModel
import PitStorage

/// Turns credentials into an `Identity`: Bearer tokens for the API (the admin token or an API
/// token), the session cookie for the web UI, and email + password or a token at sign-in.
///
/// Secrets are never stored or compared in plain text: tokens and session ids are looked up by
/// SHA-256, the admin token's hash is compared in constant time, passwords are scrypt hashes.
struct Authenticator: Sendable {
    static let sessionCookie = "pit_session"
    static let loginCSRFCookie = "pit_login_csrf"

    let admin: AdminAccess
    let adminToken: AdminTokenHash
    let sessionLifetimeSeconds: Int64
    /// Set the cookie's Secure flag (the public URL is https).
    let secureCookies: Bool
    /// Failed sign-ins per account (first key) and per client address (second key).
    let throttle: LoginThrottle
    let hasher: PasswordHasher
    /// Reverse proxies whose forwarding headers name the client (`trusted_proxies`).
    var trustedProxies = TrustedProxies()
    /// Session expiry and token expiry read this clock's wall time.
    var clock = PitClock.system

    /// The address failed attempts are charged to: the peer, or behind a trusted proxy the
    /// client it forwarded for.
    func clientAddress(_ request: Request, peer: String) -> String {
        guard !trustedProxies.isEmpty else { return peer }
        return trustedProxies.clientAddress(
            peer: peer, forwardedFor: request.headers[values: Self.forwardedForHeader],
            forwarded: request.headers[values: Self.forwardedHeader])
    }

    private static let forwardedForHeader = HTTPField.Name("X-Forwarded-For")!
    private static let forwardedHeader = HTTPField.Name("Forwarded")!

    /// `Authorization: Bearer <token>` → admin or API-token identity; nil when absent or invalid.
    /// Invalid tokens count against the client address like failed sign-ins (`Refusal`): each
    /// costs a lookup on the admin store's few threads, which a flood would otherwise take from
    /// everyone's sessions.
    /// Unlike a sign-in, a request is charged only when its token fails, so a client's burst
    /// of parallel requests with a good token is never refused.
    func bearer(_ request: Request, client: String) async throws -> Identity? {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else { return nil }
        do {
            try throttle.check([nil, client])
        } catch {
            throw Refusal.throttled(retryAfter: error.retryAfter)
        }
        guard let identity = try await identity(forToken: String(header.dropFirst(7)).trimmingSpaces) else {
            throttle.failed([nil, client])
            return nil
        }
        return identity
    }

    func identity(forToken token: String) async throws -> Identity? {
        // Organization tokens carry their server's URL in base64 JSON: a few hundred bytes.
        guard !token.isEmpty, token.utf8.count <= 1024 else { return nil }
        if AdminToken.matches(token, storedHash: await adminToken.current(admin)) { return Identity(principal: .adminToken) }
        guard let apiToken = try await admin({ try await $0.activeToken(hash: Secret.hash(token), now: clock.wallMilliseconds()) }) else {
            return nil
        }
        return Identity(principal: .apiToken(apiToken))
    }

    /// The session cookie → identity, when the session exists, has not expired, and its user
    /// still exists and is not disabled.
    func session(_ request: Request) async throws -> Identity? {
        guard let value = request.cookies[Self.sessionCookie]?.value, !value.isEmpty, value.utf8.count <= 200 else { return nil }
        guard let session = try await admin({ try await $0.session(tokenHash: Secret.hash(value), now: clock.wallMilliseconds()) }) else {
            return nil
        }
        guard let userID = session.userID else { return Identity(principal: .adminToken, session: session) }
        // Disabling deletes the user's sessions; this also covers one opened in the same instant.
        guard let user = try await admin({ try await $0.user(id: userID) }), user.isActive else { return nil }
        return Identity(principal: .user(user), session: session)
    }

    /// The admin token at the sign-in form. Guessing a 256-bit token is hopeless, but each try
    /// costs a database lookup, so tries count against the client address like passwords do.
    func signIn(token: String, client: String) async throws -> Identity? {
        let charge: LoginThrottle.Charge
        do {
            charge = try throttle.attempt([nil, client])
        } catch {
            throw Refusal.throttled(retryAfter: error.retryAfter)
        }
        guard let identity = try await identity(forToken: token) else { return nil }
        throttle.succeeded(charge)
        return identity
    }

    /// Why a sign-in was not even tried.
    enum Refusal: Error {
        /// Too many failures for this account or from this address; try again after this many seconds.
        case throttled(retryAfter: Int)
        /// Every password-hashing thread is busy and the line is full.
        case busy
    }

    /// Email and password → user identity, nil when they do not match. Throws `Refusal` before
    /// any hashing when the account or the client address is out of attempts, or when too many
    /// hashes are in progress.
    ///
    /// Hashing runs on `hasher`'s own threads (scrypt takes a few tenths of a second and 128 MiB);
    /// an unknown email still costs one hash, and is throttled like a real one, so neither timing
    /// nor throttling tells which emails exist. A disabled account is hashed and refused the same
    /// way, with the answer of a wrong password, so it does not tell which accounts are disabled.
    func signIn(email: String, password: String, client: String) async throws -> Identity? {
        let charge: LoginThrottle.Charge
        do {
            charge = try throttle.attempt([Self.accountKey(email), client])
        } catch {
            throw Refusal.throttled(retryAfter: error.retryAfter)
        }
        let user = try await admin({ try await $0.user(email: email) })
        let valid: Bool
        do {
            valid = try await hasher.verify(password, against: user?.passwordHash)
        } catch {
            throttle.refund(charge)
            throw Refusal.busy
        }
        guard valid, let user, user.isActive else { return nil }
        throttle.succeeded(charge)
        if PasswordHash.needsRehash(user.passwordHash) { await upgradeHash(of: user, password: password) }
        return Identity(principal: .user(user))
    }

    /// The password was right but its hash is older than today's parameters: store a new one.
    /// Best effort; a busy hasher or a failed write leaves the old hash, which still works.
    private func upgradeHash(of user: User, password: String) async {
        guard let fresh = try? await hasher.make(password) else { return }
        _ = try? await admin({ try await $0.upgradePasswordHash(userID: user.id, from: user.passwordHash, to: fresh) })
    }

    /// Emails are case-insensitive in practice; one account, one bucket. Bounded so a huge
    /// field cannot make a huge key.
    static func accountKey(_ email: String) -> String {
        String(email.trimmingSpaces.lowercased().utf8.prefix(254)) ?? ""
    }

    /// Cookies get the Secure flag when the public URL is https, or when a TLS-terminating proxy
    /// says the browser used https (`X-Forwarded-Proto`). Trusting the header can only make a
    /// cookie stricter.
    func isSecure(_ request: Request) -> Bool {
        secureCookies || request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
    }

    /// Opens a browser session; returns the cookie to set.
    func openSession(for identity: Identity, secure: Bool) async throws -> Cookie {
        let token = Secret.generate(prefix: "")
        let now = clock.wallMilliseconds()
        let session = WebSession(
            tokenHash: Secret.hash(token), userID: identity.userID, csrfToken: Secret.generate(prefix: ""),
            createdAt: now, expiresAt: now + sessionLifetimeSeconds * 1000)
        try await admin({ try await $0.createSession(session) })
        _ = try? await admin({ try await $0.deleteExpiredSessions(now: now) })
        return Cookie(
            name: Self.sessionCookie, value: token, maxAge: Int(sessionLifetimeSeconds), path: "/",
            secure: secure || secureCookies, httpOnly: true, sameSite: .lax)
    }

    func closeSession(_ identity: Identity) async throws {
        if let session = identity.session { try await admin({ try await $0.deleteSession(tokenHash: session.tokenHash) }) }
    }

    func expiredSessionCookie() -> Cookie {
        Cookie(name: Self.sessionCookie, value: "", maxAge: 0, path: "/", secure: secureCookies, httpOnly: true, sameSite: .lax)
    }

    func loginCSRFCookie(_ value: String, secure: Bool) -> Cookie {
        Cookie(
            name: Self.loginCSRFCookie, value: value, maxAge: 3600, path: "/login", secure: secure || secureCookies, httpOnly: true,
            sameSite: .strict)
    }

}

/// The admin token's hash as the server checks it. `pitd token rotate-admin` replaces it in the
/// database, possibly from another process or another instance, so it is read again when the
/// copy here is more than `maxAge` seconds old: the old token stops working within that time
/// everywhere, at the cost of one small read per second at most.
final class AdminTokenHash: Sendable {
    static let maxAge = 1.0
    private let state: NIOLockedValueBox<(hash: String, loadedAt: Double)>

    init(_ hash: String) {
        state = NIOLockedValueBox((hash, ClockTime.monotonicSeconds))
    }

    func current(_ admin: AdminAccess) async -> String {
        let (hash, loadedAt) = state.withLockedValue { $0 }
        let now = ClockTime.monotonicSeconds
        guard now - loadedAt > Self.maxAge else { return hash }
        // While the database does not answer, the admin token keeps working as it was (it never
        // needed the database before rotation existed); the next read is a second later. A
        // missing setting would mean no admin token at all: keep the last one, not an empty hash.
        let fresh = (try? await admin({ try await $0.setting(DataDirectory.adminTokenHashSetting) })).flatMap { $0 } ?? hash
        state.withLockedValue { $0 = (fresh, now) }
        return fresh
    }
}

/// API routes: a Bearer token is required; reads need the `read` scope, anything else `write`
/// (admin-only handlers check `admin` themselves). Errors keep Sentry's `{"detail": ...}` body.
struct APIAuthMiddleware: RouterMiddleware {
    typealias Context = PitRequestContext
    let authenticator: Authenticator

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        do {
            guard
                let identity = try await authenticator.bearer(request, client: authenticator.clientAddress(request, peer: context.clientIP))
            else {
                let presented = request.headers[.authorization] != nil
                return HTTPResponses.detail(
                    presented ? "Invalid token." : "Authentication credentials were not provided.",
                    status: .unauthorized)
            }
            context.identity = identity
            let needed: TokenScope = request.method == .get || request.method == .head || APIRoutes.isReadOnlyPost(request) ? .read : .write
            _ = try context.require(needed)
            return try await next(request, context)
        } catch let error as HTTPError {
            return HTTPResponses.detail(error.body ?? "\(error.status)", status: error.status, headers: error.headers)
        } catch let error as AdminError {
            let error = HTTPError(error)
            return HTTPResponses.detail(error.body ?? "\(error.status)", status: error.status, headers: error.headers)
        } catch Authenticator.Refusal.throttled(let seconds) {
            return HTTPResponses.detail(
                "Too many requests with invalid credentials; retry in \(seconds) s.", status: .tooManyRequests,
                headers: [.retryAfter: String(seconds)])
        }
    }
}

/// Web pages: a session cookie is required (else a redirect to the sign-in page), and every
/// POST must carry the session's CSRF token in its `csrf` field. The form is parsed once here
/// and handed to the handler in the context.
struct WebAuthMiddleware: RouterMiddleware {
    typealias Context = PitRequestContext
    let authenticator: Authenticator
    static let maxFormBytes = 256 * 1024

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        guard let identity = try await authenticator.session(request) else {
            if request.method == .get || request.method == .head {
                let target = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
                return WebResponses.redirect("/login?next=" + WebResponses.queryEscape(target))
            }
            return WebResponses.plain("Your session has expired. Sign in again.", status: .unauthorized)
        }
        context.identity = identity
        if request.method == .post {
            let body = try await request.body.collect(upTo: Self.maxFormBytes)
            context.form = FormFields(urlEncoded: String(buffer: body))
            guard let session = identity.session, let presented = context.form["csrf"],
                Secret.constantTimeEqual(Array(presented.utf8), Array(session.csrfToken.utf8))
            else {
                return WebResponses.plain(
                    "The form's security token is missing or wrong. Reload the page and try again.",
                    status: .forbidden)
            }
        }
        return try await next(request, context)
    }
}

/// Small response helpers for the web side.
enum WebResponses {
    static func redirect(_ location: String, cookies: [Cookie] = []) -> Response {
        var response = Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
        for cookie in cookies { response.setCookie(cookie) }
        return response
    }

    static func plain(_ text: String, status: HTTPResponse.Status) -> Response {
        HTTPResponses.text(text, status: status)
    }

    /// Percent-encodes everything but unreserved characters (RFC 3986).
    static func queryEscape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// A `next` target after sign-in: only local paths, so the login form is not an open redirect.
    ///
    /// Browsers drop TAB, CR and LF anywhere in a URL and read `\\` as `/`, so `/\t/evil.example`
    /// or `/\\evil.example` becomes the protocol-relative `//evil.example`. Rather than list such
    /// tricks, anything but printable, non-space characters after exactly one leading slash is
    /// refused. The same holds once more after another round of percent-decoding (spaces aside,
    /// which a decoded query may hold), for whatever decodes the target again downstream.
    static func safeNext(_ text: String?) -> String {
        guard let text, isLocalPath(text, spacesAllowed: false),
            isLocalPath(text.removingPercentEncoding ?? text, spacesAllowed: true)
        else { return "/" }
        return text
    }

    private static func isLocalPath(_ text: String, spacesAllowed: Bool) -> Bool {
        let scalars = text.unicodeScalars
        guard scalars.first == "/", scalars.dropFirst().first != "/" else { return false }
        return scalars.allSatisfy { scalar in
            scalar != "\\" && (scalar == " " ? spacesAllowed : !scalar.properties.isWhitespace)
                && scalar.properties.generalCategory != .control && scalar.properties.generalCategory != .format
        }
    }
}
