import PitModel
import Testing

private func auth(xSentryAuth: String? = nil, authorization: String? = nil, query: String? = nil) throws(IngestError) -> SentryAuth? {
    try SentryAuth.extract(xSentryAuth: xSentryAuth, authorization: authorization, query: query.map { Substring($0) })
}

private func status(xSentryAuth: String? = nil, authorization: String? = nil, query: String? = nil) -> Int? {
    do {
        _ = try auth(xSentryAuth: xSentryAuth, authorization: authorization, query: query)
        return nil
    } catch {
        return error.status
    }
}

@Suite struct SentryAuthTests {
    @Test func xSentryAuthHeader() throws {
        let result = try auth(
            xSentryAuth:
                "Sentry sentry_key=abc123, sentry_version=7, sentry_client=sentry.python/2.68.0, sentry_secret=s, sentry_timestamp=1")
        #expect(result == SentryAuth(publicKey: "abc123", version: 7, client: "sentry.python/2.68.0"))
    }

    @Test(arguments: [
        "sentry sentry_key=abc123", "SENTRY sentry_key=abc123", "  Sentry   sentry_key = abc123 ,sentry_version=7",
        "Sentry sentry_key=abc123,sentry_version=7.0", "Sentry sentry_version=7.1.2,sentry_key=abc123,unknown=x,flag",
    ])
    func headerVariations(header: String) throws {
        let result = try #require(try auth(xSentryAuth: header))
        #expect(result.publicKey == "abc123")
        #expect(result.version == nil || result.version == 7)
    }

    @Test func authorizationSentryHeader() throws {
        let result = try auth(authorization: "Sentry sentry_key=abc, sentry_version=7")
        #expect(result == SentryAuth(publicKey: "abc", version: 7))
    }

    @Test(arguments: ["Basic YWJjOng=", "Basic YWJjOng", "basic  YWJjOng= ", "Basic YWJj"])
    func authorizationBasic(header: String) throws {
        #expect(try auth(authorization: header) == SentryAuth(publicKey: "abc"))
    }

    @Test(arguments: ["DSN https://abc@o1.ingest.example.com/42", "DSN abc", "dsn http://abc:secret@localhost:9000/1"])
    func authorizationDSN(header: String) throws {
        #expect(try auth(authorization: header)?.publicKey == "abc")
    }

    @Test func queryString() throws {
        let result = try auth(query: "sentry_key=abc&sentry_version=7&sentry_client=sentry.javascript.browser%2F7.0.0+x")
        #expect(result == SentryAuth(publicKey: "abc", version: 7, client: "sentry.javascript.browser/7.0.0 x"))
    }

    @Test func queryKeyIsURLDecoded() throws {
        #expect(try auth(query: "sentry_key=ab%63&other=1")?.publicKey == "abc")
    }

    @Test func noCredentials() throws {
        #expect(try auth() == nil)
        #expect(try auth(query: "foo=bar") == nil)
        #expect(try auth(query: "sentry_version=7") == nil)
        // Other schemes (Bearer tokens for the API) are not ingest credentials.
        #expect(try auth(authorization: "Bearer token") == nil)
    }

    @Test func multipleFormsAre401() {
        let sentry = "Sentry sentry_key=abc"
        #expect(status(xSentryAuth: sentry, query: "sentry_key=abc") == 401)
        #expect(status(xSentryAuth: sentry, authorization: sentry) == 401)
        #expect(status(authorization: "Basic YWJjOng=", query: "sentry_key=abc") == 401)
        #expect(status(xSentryAuth: sentry, authorization: "DSN abc") == 401)
    }

    @Test(arguments: ["8", "8.0", "10", "abc"])
    func unsupportedVersionIs400(version: String) {
        #expect(status(xSentryAuth: "Sentry sentry_key=abc, sentry_version=\(version)") == 400)
        #expect(status(query: "sentry_key=abc&sentry_version=\(version)") == 400)
    }

    @Test(arguments: ["7", "7.0", "7.99", "6", "1"])
    func supportedVersions(version: String) throws {
        let expected = Int(version.split(separator: ".")[0])
        #expect(try auth(xSentryAuth: "Sentry sentry_key=abc, sentry_version=\(version)")?.version == expected)
        #expect(try auth(query: "sentry_key=abc&sentry_version=\(version)")?.version == expected)
    }

    @Test func missingOrInvalidKeyIs401() {
        #expect(status(xSentryAuth: "Sentry sentry_version=7") == 401)
        #expect(status(xSentryAuth: "sentry_key=abc") == 401)
        #expect(status(xSentryAuth: "Sentry sentry_key=") == 401)
        #expect(status(xSentryAuth: "Sentry sentry_key=a/b") == 401)
        #expect(status(xSentryAuth: "Sentry sentry_key=" + String(repeating: "a", count: 65)) == 401)
        #expect(status(authorization: "Sentry sentry_client=x") == 401)
        #expect(status(authorization: "Basic !!!") == 401)
        #expect(status(authorization: "Basic OngK") == 401)
        #expect(status(query: "sentry_key=") == 401)
        #expect(status(query: "sentry_key=a%20b") == 401)
    }

    @Test func plausibleKeys() {
        #expect(SentryAuth.isPlausibleKey("9ec79c33ec9942ab8353589fcb2e04dc"))
        #expect(SentryAuth.isPlausibleKey("my-key_1"))
        #expect(SentryAuth.isPlausibleKey(String(repeating: "a", count: 64)))
        #expect(!SentryAuth.isPlausibleKey(String(repeating: "a", count: 65)))
        #expect(!SentryAuth.isPlausibleKey(""))
        #expect(!SentryAuth.isPlausibleKey("ké"))
    }
}

@Suite struct URLEncodingTests {
    @Test(arguments: [
        ("plain", "plain"), ("a%20b+c", "a b c"), ("%2F%2f", "//"), ("%C3%A9", "é"), ("100%", "100%"), ("%zz", "%zz"),
        ("%2", "%2"), ("%%41", "%A"), ("a%4", "a%4"), ("%G1x", "%G1x"),
    ])
    func decodes(encoded: String, decoded: String) {
        #expect(URLEncoding.decode(Substring(encoded)) == decoded)
    }

    @Test func queryItems() {
        let items = URLEncoding.queryItems("a=1&b=x%20y&flag&a=2&c=")
        #expect(items == ["a": "2", "b": "x y", "flag": "", "c": ""])
        #expect(URLEncoding.queryItems(nil).isEmpty)
    }

    /// The form decoder of pitd's web forms and query strings.
    @Test func formPairsInOrderWithRepeats() {
        let pairs = URLEncoding.pairs("id=1&id=2&q=is%3Aunresolved+level%3Aerror&empty=&flag&&name=J%C3%BCrgen")
        #expect(pairs.map(\.name) == ["id", "id", "q", "empty", "flag", "name"])
        #expect(pairs.map(\.value) == ["1", "2", "is:unresolved level:error", "", "", "Jürgen"])
        #expect(URLEncoding.pairs("a=100%&b=%zz%41").map(\.value) == ["100%", "%zzA"])
    }
}

@Suite struct DSNTests {
    @Test func simpleDSN() throws {
        let dsn = try #require(DSN("https://abc@o1.ingest.example.com/42"))
        #expect(dsn == DSN(scheme: "https", publicKey: "abc", host: "o1.ingest.example.com", projectID: 42))
        #expect(dsn.description == "https://abc@o1.ingest.example.com/42")
    }

    @Test func pathPrefixPortAndSecret() throws {
        let dsn = try #require(DSN("http://abc:secret@localhost:9000/sentry/sub/7"))
        #expect(dsn.scheme == "http")
        #expect(dsn.publicKey == "abc")
        #expect(dsn.host == "localhost:9000")
        #expect(dsn.pathPrefix == "/sentry/sub")
        #expect(dsn.projectID == 7)
        #expect(dsn.description == "http://abc@localhost:9000/sentry/sub/7")
    }

    @Test func trailingSlash() throws {
        #expect(DSN("http://k@h/3/")?.projectID == 3)
    }

    @Test(arguments: [
        "", "abc", "k@h/1", "http://h/1", "http://k@h", "http://k@h/", "http://k@h/x", "http://k@h/0", "http://k@h/-1",
        "http://@h/1", "http://k@/1", "http://k@h/1/x",
    ])
    func rejectsMalformed(text: String) {
        #expect(DSN(text) == nil)
    }
}
