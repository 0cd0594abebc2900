import Foundation

/// `{scheme}://{public_key}[:{secret}]@{host}[:{port}]/{optional/path/}{project_id}`.
package struct DSN: Sendable, Equatable, CustomStringConvertible {
    package var scheme: String
    package var publicKey: String
    package var host: String
    package var pathPrefix: String
    package var projectID: Int64

    package init(scheme: String, publicKey: String, host: String, pathPrefix: String = "", projectID: Int64) {
        self.scheme = scheme
        self.publicKey = publicKey
        self.host = host
        self.pathPrefix = pathPrefix
        self.projectID = projectID
    }

    package init?(_ text: String) {
        guard let schemeEnd = text.range(of: "://") else { return nil }
        scheme = String(text[..<schemeEnd.lowerBound])
        let rest = text[schemeEnd.upperBound...]
        guard let at = rest.firstIndex(of: "@") else { return nil }
        let credentials = rest[..<at]
        publicKey = String(credentials.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)[0])
        let location = rest[rest.index(after: at)...]
        guard let slash = location.firstIndex(of: "/") else { return nil }
        host = String(location[..<slash])
        var path = location[location.index(after: slash)...]
        if path.hasSuffix("/") { path = path.dropLast() }
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        guard let last = segments.last, let id = Int64(last), id > 0, !publicKey.isEmpty, !host.isEmpty else { return nil }
        projectID = id
        pathPrefix = segments.dropLast().map { "/" + $0 }.joined()
    }

    package var description: String { "\(scheme)://\(publicKey)@\(host)\(pathPrefix)/\(projectID)" }
}
