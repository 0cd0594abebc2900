import Foundation
import NIOCore
package import NIOSSL
import PitStorage
package import PostgresNIO

/// `postgres://user:password@host:port/database?sslmode=…&sslrootcert=…`, the libpq URL form (also
/// `postgresql://`).
///
/// `sslmode` as libpq reads it: `disable` (plain text), `allow` and `prefer` (TLS when the server
/// offers it, else plain text; `allow` is taken as `prefer`), `require` (TLS or no connection;
/// the certificate is not checked), `verify-ca` (TLS with a certificate signed by a trusted CA)
/// and `verify-full` (that, and the certificate names the host). Trusted CAs are the system's,
/// or the PEM file `sslrootcert` names.
///
/// Without `sslmode`, a loopback host connects in plain text (the connection never leaves the
/// machine) and any other host `require`s TLS. libpq's default there is `prefer`, which a
/// man-in-the-middle downgrades to plain text by answering that TLS is not offered: the password
/// exchange and every event would then cross the network readable.
package struct PostgresDatabaseURL: Sendable, Equatable, CustomStringConvertible {
    package enum TLSMode: String, Sendable, CaseIterable {
        case disable, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    package var host: String
    package var port: Int
    package var username: String
    package var password: String?
    package var database: String
    package var tls: TLSMode
    /// PEM file of the CAs to trust for `verify-ca` / `verify-full`; nil: the system's.
    package var rootCertificatePath: String?

    package init(_ text: String) throws {
        guard let components = URLComponents(string: text),
            let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql"
        else { throw AdminError("database_url must look like postgres://user:password@host:5432/database") }
        var host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host
        port = components.port ?? 5432
        username = components.user?.removingPercentEncoding ?? "postgres"
        password = components.password?.removingPercentEncoding
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? username : path
        let query = components.queryItems ?? []
        if let mode = query.last(where: { $0.name == "sslmode" })?.value {
            switch mode {
            case "disable": tls = .disable
            case "allow", "prefer": tls = .prefer
            case "require": tls = .require
            case "verify-ca": tls = .verifyCA
            case "verify-full": tls = .verifyFull
            default: throw AdminError("sslmode \(mode) is not one of disable, allow, prefer, require, verify-ca, verify-full")
            }
        } else {
            tls = Self.isLoopback(host) ? .disable : .require
        }
        if let root = query.last(where: { $0.name == "sslrootcert" })?.value, !root.isEmpty, root != "system" {
            rootCertificatePath = root
        }
    }

    /// 127.0.0.0/8, ::1 and `localhost`: traffic that stays on this machine.
    package static func isLoopback(_ host: String) -> Bool {
        let name = host.lowercased()
        if name == "localhost" || name.hasSuffix(".localhost") || name == "::1" || name == "0:0:0:0:0:0:0:1" { return true }
        let octets = name.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// What NIOSSL is asked for: nil for plain text; no certificate check for `prefer` and
    /// `require`, as libpq.
    package var tlsConfiguration: TLSConfiguration? {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch tls {
        case .disable: return nil
        case .prefer, .require: configuration.certificateVerification = .none
        case .verifyCA: configuration.certificateVerification = .noHostnameVerification
        case .verifyFull: configuration.certificateVerification = .fullVerification
        }
        if let rootCertificatePath, tls == .verifyCA || tls == .verifyFull { configuration.trustRoots = .file(rootCertificatePath) }
        return configuration
    }

    /// The URL itself, password and TLS mode included.
    package var url: String {
        let credentials = password.map { ":" + ($0.addingPercentEncoding(withAllowedCharacters: .urlPasswordAllowed) ?? $0) } ?? ""
        let user = username.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed) ?? username
        let hostPart = host.contains(":") ? "[\(host)]" : host
        let root =
            rootCertificatePath.map { "&sslrootcert=" + ($0.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? $0) } ?? ""
        return "postgres://\(user)\(credentials)@\(hostPart):\(port)/\(database)?sslmode=\(tls.rawValue)\(root)"
    }

    /// The URL without its password, for logs.
    package var description: String { "postgres://\(username)@\(host):\(port)/\(database)" }

    package func connectionConfiguration(
        connectTimeout: TimeAmount = .seconds(5), parameters: [(String, String)] = sessionParameters
    ) throws -> PostgresConnection.Configuration {
        let mode: PostgresConnection.Configuration.TLS
        if let configuration = tlsConfiguration {
            let context = try NIOSSLContext(configuration: configuration)
            mode = tls == .prefer ? .prefer(context) : .require(context)
        } else {
            mode = .disable
        }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password,
            database: database, tls: mode)
        configuration.options.connectTimeout = connectTimeout
        configuration.options.additionalStartupParameters = parameters
        return configuration
    }

    /// Server-side limits for every session Pit opens. Without them a statement stuck behind a
    /// lock (or a pathological query plan) holds a writer, a pool connection or a request forever;
    /// with them the server cancels it and the caller gets an error it already knows how to handle
    /// (the writer retries the batch, a request answers 503).
    package static let statementTimeoutSeconds = 30
    package static let sessionParameters: [(String, String)] = [
        ("statement_timeout", "\(statementTimeoutSeconds)s"),
        ("lock_timeout", "\(statementTimeoutSeconds)s"),
        ("idle_in_transaction_session_timeout", "\(2 * statementTimeoutSeconds)s"),
    ]

    /// The batch writers' sessions. Their prepared statements (`PostgresPreparedSQL`) only
    /// insert, so no plan of theirs depends on a table's size, and each runs with one generic plan,
    /// made without the bound arrays. Left to choose, PostgreSQL kept planning afresh every such
    /// statement whose batch held fewer rows than the ten a generic plan assumes (sessions,
    /// releases), as if it were not prepared. The writers' unnamed statements, those that read a
    /// table, are still planned on every call, from the table sizes of that moment.
    package static let writerSessionParameters: [(String, String)] = sessionParameters + [("plan_cache_mode", "force_generic_plan")]

    package func clientConfiguration(maximumConnections: Int) -> PostgresClient.Configuration {
        let mode: PostgresClient.Configuration.TLS
        if let configuration = tlsConfiguration {
            mode = tls == .prefer ? .prefer(configuration) : .require(configuration)
        } else {
            mode = .disable
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password,
            database: database, tls: mode)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters = PostgresDatabaseURL.sessionParameters
        return configuration
    }
}
