import Foundation
import NIOCore
import NIOSSL
package import PostgresNIO

/// `postgres://user:password@host:port/database?sslmode=disable|prefer|require`, the libpq URL
/// form (also `postgresql://`). Without `sslmode`, loopback hosts connect in plain text and other
/// hosts prefer TLS, as libpq does.
package struct PostgresDatabaseURL: Sendable, Equatable, CustomStringConvertible {
    package enum TLSMode: String, Sendable { case disable, prefer, require }

    package var host: String
    package var port: Int
    package var username: String
    package var password: String?
    package var database: String
    package var tls: TLSMode

    package init(_ text: String) throws {
        guard let components = URLComponents(string: text),
              let scheme = components.scheme?.lowercased(), scheme == "postgres" || scheme == "postgresql"
        else { throw AdminError("database_url must look like postgres://user:password@host:5432/database") }
        host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        port = components.port ?? 5432
        username = components.user?.removingPercentEncoding ?? "postgres"
        password = components.password?.removingPercentEncoding
        let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        database = path.isEmpty ? username : path
        let loopback = ["127.0.0.1", "localhost", "::1"].contains(host)
        if let mode = components.queryItems?.first(where: { $0.name == "sslmode" })?.value {
            switch mode {
            case "disable", "allow": tls = .disable
            case "prefer": tls = .prefer
            case "require", "verify-ca", "verify-full": tls = .require
            default: throw AdminError("sslmode \(mode) is not one of disable, prefer, require")
            }
        } else {
            tls = loopback ? .disable : .prefer
        }
    }

    /// The URL itself, password and TLS mode included.
    package var url: String {
        let credentials = password.map { ":" + ($0.addingPercentEncoding(withAllowedCharacters: .urlPasswordAllowed) ?? $0) } ?? ""
        let user = username.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed) ?? username
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(user)\(credentials)@\(hostPart):\(port)/\(database)?sslmode=\(tls.rawValue)"
    }

    /// The URL without its password, for logs.
    package var description: String { "postgres://\(username)@\(host):\(port)/\(database)" }

    package func connectionConfiguration(connectTimeout: TimeAmount = .seconds(5)) throws -> PostgresConnection.Configuration {
        let mode: PostgresConnection.Configuration.TLS
        switch tls {
        case .disable: mode = .disable
        case .prefer: mode = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: mode = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        var configuration = PostgresConnection.Configuration(host: host, port: port, username: username, password: password,
                                                             database: database, tls: mode)
        configuration.options.connectTimeout = connectTimeout
        configuration.options.additionalStartupParameters = Self.sessionParameters
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

    package func clientConfiguration(maximumConnections: Int) -> PostgresClient.Configuration {
        let mode: PostgresClient.Configuration.TLS
        switch tls {
        case .disable: mode = .disable
        case .prefer: mode = .prefer(.makeClientConfiguration())
        case .require: mode = .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(host: host, port: port, username: username, password: password,
                                                         database: database, tls: mode)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters = PostgresDatabaseURL.sessionParameters
        return configuration
    }
}
