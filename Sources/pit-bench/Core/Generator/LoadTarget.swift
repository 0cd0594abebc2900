import Foundation
import PitModel

/// Where the load goes.
package struct LoadTarget: Sendable {
    package var host: String
    package var port: Int
    /// The ingest path, e.g. `/api/1/envelope/`.
    package var path: String
    package var headers: [(String, String)]
    /// Polled once a second for the server's queue depth and stored-event counter (pitd's
    /// Prometheus `/metrics`); nil to skip.
    package var metricsPath: String?
    /// More servers behind the same path (several pitd instances on one database): connections
    /// are spread over `host:port` and these, round robin.
    package var alternates: [(host: String, port: Int)] = []

    /// Where connection number `id` connects.
    func endpoint(for id: Int) -> (host: String, port: Int) {
        guard !alternates.isEmpty, id >= 0 else { return (host, port) }
        let index = id % (alternates.count + 1)
        return index == 0 ? (host, port) : alternates[index - 1]
    }

    package init(host: String, port: Int, path: String, headers: [(String, String)], metricsPath: String? = "/metrics") {
        self.host = host
        self.port = port
        self.path = path
        self.headers = headers
        self.metricsPath = metricsPath
    }

    /// From a DSN: `http://KEY@host:port[/prefix]/PROJECT`.
    package init?(dsn text: String, gzip: Bool) {
        guard let dsn = DSN(text) else { return nil }
        let hostPort = dsn.host.split(separator: ":", maxSplits: 1)
        host = String(hostPort[0])
        port = hostPort.count > 1 ? Int(hostPort[1]) ?? 80 : (dsn.scheme == "https" ? 443 : 80)
        path = "\(dsn.pathPrefix)/api/\(dsn.projectID)/envelope/"
        headers = [
            ("X-Sentry-Auth", "Sentry sentry_key=\(dsn.publicKey), sentry_version=7, sentry_client=pit-bench/1.0"),
            ("Content-Type", "application/x-sentry-envelope"),
            ("User-Agent", "pit-bench/1.0"),
        ]
        if gzip { headers.append(("Content-Encoding", "gzip")) }
        metricsPath = "\(dsn.pathPrefix)/metrics"
    }
}
