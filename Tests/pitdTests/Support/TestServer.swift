import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PitBackends
import PitIngest
import PitModel
import PitObservability
import PitQuery
import PitStorage
import Synchronization
import Testing

@testable import PitdServer

/// A clock the tests move by hand: sessions expire and sign-in throttles refill without sleeping.
final class TestClock: Sendable {
    private let offset = Mutex<Double>(0)

    func advance(seconds: Double) { offset.withLock { $0 += seconds } }

    var pitClock: PitClock {
        PitClock(
            wallMilliseconds: { [self] in ClockTime.nowMilliseconds + Int64(offset.withLock { $0 } * 1000) },
            monotonicSeconds: { [self] in ClockTime.monotonicSeconds + offset.withLock { $0 } })
    }
}

/// A fresh data directory under the temporary directory, initialised as `pitd init` does (SQLite,
/// the default organisation `pit`, project `default` and its DSN key, an admin token), and the
/// real application built over it.
struct TestServer {
    static let publicURL = "http://pit.test"

    let directory: String
    let settings: PitSettings
    let setup: DataDirectory.Setup
    let adminToken: String
    let clock = TestClock()
    let app: PitServer.PitApplication

    var store: any AdminStore { setup.store }
    var project: Project { setup.project }
    var key: ProjectKey { setup.key }

    init(_ overrides: [String: String] = [:], artifacts: (any ArtifactLookup)? = nil) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("pitd-tests-\(UUID().uuidString)").path
        var values = ["public_url": Self.publicURL, "min_free_disk_bytes": "0", "payload_dictionary_samples": "0", "log_level": "warning"]
        values.merge(overrides) { _, new in new }
        settings = try await PitSettings.load(dataDirectory: directory, overrides: values)
        var logger = Logger(label: "pitd-tests")
        logger.logLevel = .warning
        setup = try await DataDirectory(settings: settings).initialise(logger: logger)
        adminToken = try #require(setup.adminToken)
        let hash = try #require(try await setup.store.setting(DataDirectory.adminTokenHashSetting))
        app = try await PitServer.application(
            settings: settings, setup: setup, adminTokenHash: hash, logger: logger, clock: clock.pitClock, artifacts: artifacts)
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    /// Runs `body` against the application through its router (`.router`), or through a real
    /// socket and pitd's own HTTP channel (`.live`: the ingest fast path lives there), then
    /// removes the data directory.
    func test<Value: Sendable>(_ setup: TestingSetup = .router, _ body: @Sendable (any TestClientProtocol) async throws -> Value)
        async throws -> Value
    {
        defer { remove() }
        return try await app.test(setup, body)
    }

    // MARK: Data

    /// Writes error events straight into the database through the writer's own store, as the
    /// ingest path would have: the router cannot reach the ingest fast path, and this keeps the
    /// API tests independent of it. Returns the issue ids in order of `events`.
    @discardableResult
    func seed(_ events: [TestEvent], projectID: Int64? = nil) throws -> [EventID] {
        let pipeline = IngestPipeline(
            keys: KeyCache(), queue: IngestQueue(maxCount: 1, maxBytes: 1), ack: .queued, limits: IngestLimits(),
            metrics: PitMetrics())
        let store = try settings.backend.makeBatchStore(logger: Logger(label: "pitd-tests"))
        defer { store.close() }
        let now = ClockTime.nowSeconds
        let records = try events.map { event in
            try pipeline.makeEventRecord(
                ByteBuffer(string: event.json(now: now)), header: nil, projectID: projectID ?? project.id, received: now)
        }
        _ = try store.write(records.map { .write(WriteUnit(event: $0, items: [])) })
        try store.writeDeferredWork()
        return records.map(\.eventID)
    }

    /// An API token with `scopes`, created as `POST /api/0/api-tokens/` does; returns the secret.
    func token(_ scopes: [TokenScope], userID: Int64? = nil) async throws -> String {
        let plain = Secret.generate(prefix: "pit_tok_")
        _ = try await store.createToken(
            hash: Secret.hash(plain), prefix: String(plain.prefix(12)), label: "test", scopes: scopes, userID: userID)
        return plain
    }
}

/// One error event as an SDK would send it.
struct TestEvent: Sendable {
    var id = EventID.random()
    var type = "ValueError"
    var value = "bad input"
    var release: String?
    var environment: String?
    var level = "error"

    func json(now: Double) -> String {
        var members = [
            "\"event_id\":\"\(id)\"", "\"timestamp\":\(now - 60)", "\"level\":\"\(level)\"", "\"platform\":\"python\"",
            "\"exception\":{\"values\":[{\"type\":\"\(type)\",\"value\":\"\(value)\",\"stacktrace\":{\"frames\":[{\"module\":\"app.views\",\"function\":\"index\",\"in_app\":true}]}}]}",
        ]
        if let release { members.append("\"release\":\"\(release)\"") }
        if let environment { members.append("\"environment\":\"\(environment)\"") }
        return "{" + members.joined(separator: ",") + "}"
    }
}

extension TestClientProtocol {
    /// A request with `Authorization: Bearer <token>` and, when given, a JSON body.
    func api(_ uri: String, _ method: HTTPRequest.Method = .get, token: String?, json: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        if json != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }

    /// A form POST, `application/x-www-form-urlencoded`, with cookies.
    func form(_ uri: String, _ fields: [(String, String)], cookies: [String: String] = [:]) async throws -> TestResponse {
        var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
        if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ") }
        let body = fields.map { "\(WebResponses.queryEscape($0.0))=\(WebResponses.queryEscape($0.1))" }.joined(separator: "&")
        return try await execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body))
    }

    /// A GET with cookies.
    func page(_ uri: String, cookies: [String: String] = [:]) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ") }
        return try await execute(uri: uri, method: .get, headers: headers, body: nil)
    }

    /// Signs in at `/login` with the admin token (or email and password) and returns the session
    /// cookie, with the session's CSRF token read from a page's form.
    func signIn(token: String? = nil, email: String? = nil, password: String? = nil) async throws -> WebSessionCookie {
        var fields = [("csrf", "login-csrf"), ("next", "/")]
        if let token { fields.append(("token", token)) }
        if let email { fields += [("email", email), ("password", password ?? "")] }
        let response = try await form("/login", fields, cookies: [Authenticator.loginCSRFCookie: "login-csrf"])
        try #require(response.status == .seeOther, "sign-in answered \(response.status): \(response.text)")
        let session = try #require(response.cookie(Authenticator.sessionCookie))
        let projects = try await page("/organizations/pit/projects/", cookies: [Authenticator.sessionCookie: session])
        let csrf = try #require(projects.text.firstMatch(of: /name="csrf" value="([^"]+)"/)?.1)
        return WebSessionCookie(value: session, csrf: String(csrf))
    }
}

struct WebSessionCookie: Sendable {
    var value: String
    var csrf: String
    var cookies: [String: String] { [Authenticator.sessionCookie: value] }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    /// The value of the `Set-Cookie` named `name`.
    func cookie(_ name: String) -> String? {
        for header in headers[values: .setCookie] {
            let pair = header.prefix { $0 != ";" }
            guard let equals = pair.firstIndex(of: "="), pair[..<equals] == name else { continue }
            return String(pair[pair.index(after: equals)...])
        }
        return nil
    }

    /// The body as a JSON value (objects as `[String: Any]`, arrays as `[Any]`).
    func json() throws -> Any { try JSONSerialization.jsonObject(with: Data(body.readableBytesView), options: [.fragmentsAllowed]) }

    func object() throws -> [String: Any] { try #require(try json() as? [String: Any], "not a JSON object: \(text)") }

    func array() throws -> [[String: Any]] { try #require(try json() as? [[String: Any]], "not a JSON array: \(text)") }
}
