import Foundation

/// Where `pit-bench --rate R --duration D` sends its load when given neither `--dsn` nor
/// `--spawn`: the server of `PIT_DSN`, else the pitd already serving `./pit-data` (what the
/// README's set-up leaves running), else a pitd of its own, so the documented command runs as it
/// is written.
package enum DefaultTarget {
    package enum Choice: Sendable, Equatable {
        case environment(dsn: String)
        case local(LocalServer)
        case spawn
    }

    package struct LocalServer: Sendable, Equatable {
        package var dsn: String
        package var url: String
        /// Verifies stored events through the read API; nil when the token file was removed.
        package var adminToken: String?

        package init(dsn: String, url: String, adminToken: String?) {
            self.dsn = dsn
            self.url = url
            self.adminToken = adminToken
        }
    }

    package static let environmentVariable = "PIT_DSN"
    package static let dataDirectory = "pit-data"

    /// `findLocal` is only asked when `PIT_DSN` is unset, as it may start `pitd init`.
    package static func choose(environment: [String: String], findLocal: () -> LocalServer?) -> Choice {
        if let dsn = environment[environmentVariable], !dsn.isEmpty { return .environment(dsn: dsn) }
        if let server = findLocal() { return .local(server) }
        return .spawn
    }

    /// The first line pit-bench prints, so a run against the wrong server is noticed at once.
    package static func describe(_ choice: Choice) -> String {
        switch choice {
        case .environment(let dsn):
            "target: \(Redaction.text(dsn)) (from \(environmentVariable))"
        case .local(let server):
            "target: pitd serving ./\(dataDirectory) at \(server.url) (no \(environmentVariable))"
        case .spawn:
            "target: spawned pitd (no \(environmentVariable), no pitd serving ./\(dataDirectory))"
        }
    }

    /// The pitd serving `dataDirectory`, if one answers within `timeout` seconds.
    ///
    /// `pitd init --json` gives the DSN and URL as that directory's settings make them (`pit.json`,
    /// `PIT_*`; SQLite or PostgreSQL alike) and is idempotent on an initialised directory. A server
    /// that accepts the directory's admin token is the one serving it, not just any pitd on the
    /// same port.
    package static func findServer(dataDirectory: String, pitd: String, timeout: Double = 2) -> LocalServer? {
        let files = FileManager.default
        // `pitd init` would create a data directory; only an existing one can have a server.
        guard ["pit.sqlite", "pit.json", "admin-token"].contains(where: { files.fileExists(atPath: dataDirectory + "/" + $0) }),
            files.isExecutableFile(atPath: pitd),
            let output = run(pitd, ["init", "--data-dir", dataDirectory, "--json"], timeout: 10),
            // The JSON object is the last line; log lines may come before it.
            let line = output.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
            let info = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let dsn = info["dsn"] as? String, let url = info["url"] as? String,
            let components = URLComponents(string: url), components.scheme == "http", let host = components.host
        else { return nil }
        let port = components.port ?? 80
        let prefix = components.path.hasSuffix("/") ? String(components.path.dropLast()) : components.path
        guard (try? SimpleHTTP.get(host: host, port: port, path: prefix + "/health", timeout: timeout))?.status == 200 else { return nil }
        let token = info["admin_token"] as? String
        if let token {
            let projects = try? SimpleHTTP.get(
                host: host, port: port, path: prefix + "/api/0/projects/",
                headers: ["Authorization": "Bearer \(token)"], timeout: timeout)
            guard projects?.status == 200 else { return nil }
        }
        return LocalServer(dsn: dsn, url: url, adminToken: token)
    }

    /// stdout of a command that succeeded within `timeout` seconds.
    static func run(_ executable: String, _ arguments: [String], timeout: Double) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            return nil
        }
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }
}
