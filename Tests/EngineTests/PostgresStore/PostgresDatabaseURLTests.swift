import NIOSSL
import PitStorage
import PostgresNIO
import PostgresStore
import Testing

@Suite struct PostgresDatabaseURLTests {
    /// Issue 10: without `sslmode` a remote host used to `prefer` TLS, which an attacker on the
    /// path downgrades to plain text. Remote hosts now require it; loopback stays plain.
    @Test(arguments: [
        ("postgres://pit:pw@db.example.com:5432/pit", PostgresDatabaseURL.TLSMode.require),
        ("postgres://pit@10.0.0.7/pit", .require),
        ("postgresql://pit@[2001:db8::1]:5433/pit", .require),
        ("postgres://pit@127.0.0.1/pit", .disable),
        ("postgres://pit@127.0.0.2:55451/pit", .disable),
        ("postgres://pit@localhost/pit", .disable),
        ("postgres://pit@[::1]/pit", .disable),
        ("postgres://pit@/pit", .disable),
    ])
    func defaultTLSModeDependsOnTheHost(url: String, expected: PostgresDatabaseURL.TLSMode) throws {
        #expect(try PostgresDatabaseURL(url).tls == expected)
    }

    @Test(arguments: [
        ("disable", PostgresDatabaseURL.TLSMode.disable),
        ("allow", .prefer),
        ("prefer", .prefer),
        ("require", .require),
        ("verify-ca", .verifyCA),
        ("verify-full", .verifyFull),
    ])
    func explicitModesAreHonouredOnEveryHost(mode: String, expected: PostgresDatabaseURL.TLSMode) throws {
        #expect(try PostgresDatabaseURL("postgres://pit@db.example.com/pit?sslmode=\(mode)").tls == expected)
        #expect(try PostgresDatabaseURL("postgres://pit@127.0.0.1/pit?sslmode=\(mode)").tls == expected)
    }

    @Test func unknownModeIsRefused() {
        #expect(throws: AdminError.self) { try PostgresDatabaseURL("postgres://pit@db.example.com/pit?sslmode=maybe") }
    }

    /// libpq checks no certificate for prefer and require, the CA for verify-ca, and the CA and
    /// host name for verify-full.
    @Test func certificateChecksFollowTheMode() throws {
        #expect(try PostgresDatabaseURL("postgres://pit@db.example.com/pit?sslmode=disable").tlsConfiguration == nil)
        #expect(
            try PostgresDatabaseURL("postgres://pit@db.example.com/pit").tlsConfiguration?.certificateVerification
                == CertificateVerification.none)
        #expect(
            try PostgresDatabaseURL("postgres://pit@db.example.com/pit?sslmode=prefer").tlsConfiguration?.certificateVerification
                == CertificateVerification.none)
        #expect(
            try PostgresDatabaseURL("postgres://pit@db.example.com/pit?sslmode=verify-ca").tlsConfiguration?.certificateVerification
                == .noHostnameVerification)
        let full = try PostgresDatabaseURL("postgres://pit@db.example.com/pit?sslmode=verify-full&sslrootcert=/etc/pit/ca.pem")
        #expect(full.tlsConfiguration?.certificateVerification == .fullVerification)
        #expect(full.tlsConfiguration?.trustRoots == .file("/etc/pit/ca.pem"))
    }

    /// The URL handed to other processes (pit-bench spawns pitd with it) keeps the mode.
    @Test func urlRoundTripsTheMode() throws {
        for mode in PostgresDatabaseURL.TLSMode.allCases {
            let url = try PostgresDatabaseURL("postgres://pit:secret@db.example.com:6432/pit?sslmode=\(mode.rawValue)&sslrootcert=/ca.pem")
            let again = try PostgresDatabaseURL(url.url)
            #expect(again == url)
        }
        #expect(try PostgresDatabaseURL("postgres://pit:secret@db.example.com/pit").description == "postgres://pit@db.example.com:5432/pit")
    }

    /// Issue 10 (Medium): the PostgreSQL writer had no statement timeout, so a statement stuck
    /// behind a lock held a writer for ever. Every session Pit opens carries server-side limits.
    @Test func sessionsCarryStatementAndLockTimeouts() throws {
        let url = try PostgresDatabaseURL("postgres://pit@127.0.0.1/pit")
        let parameters = try url.connectionConfiguration().options.additionalStartupParameters
        #expect(parameters.contains { $0.0 == "statement_timeout" && $0.1 == "30s" })
        #expect(parameters.contains { $0.0 == "lock_timeout" })
        #expect(url.clientConfiguration(maximumConnections: 2).options.additionalStartupParameters.count == parameters.count)
    }

    @Test(.enabled(if: PostgresTestDatabase.adminURL != nil, "PIT_TEST_DATABASE_URL is not set"))
    func aLiveSessionHasTheTimeouts() throws {
        let session = try PostgresSession(
            url: try PostgresDatabaseURL(try #require(PostgresTestDatabase.adminURL)),
            logger: PostgresTestDatabase.logger)
        defer { session.close() }
        var timeout = ""
        for row in try session.query("SHOW statement_timeout") { timeout = try row.decode(String.self) }
        #expect(timeout == "30s")
    }
}
