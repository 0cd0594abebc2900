import Foundation

/// A `pitd` started by pit-bench in a temporary data directory with the settings under test,
/// stopped (SIGTERM, then SIGKILL) afterwards.
///
/// With a `database_url` setting the URL names a PostgreSQL server: the first instance of a run
/// has `pitd database create` make a fresh database on it (dropped by `removeData`), and further
/// instances of the same run (`sharing:`) use that database too. pit-bench itself never connects
/// to a database.
package final class SpawnedServer: @unchecked Sendable {
    package let dataDirectory: String
    package let port: Int
    package let dsn: String
    /// The admin token `pitd init` printed (read scope for verification).
    package let adminToken: String?
    package let settings: [String: String]
    /// The run's PostgreSQL database URL, nil with SQLite.
    package let database: String?
    private let databaseServer: String?
    private let ownsDatabase: Bool
    private let pitd: String
    private let process: Process
    private let log: FileHandle

    /// `@unchecked Sendable`: the fields are immutable; `Process` is only signalled and waited on.
    package init(pitd: String, settings: [String: String], port: Int? = nil, sharing other: SpawnedServer? = nil) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pit-bench-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let port = try port ?? Self.freePort()
        self.dataDirectory = directory
        self.port = port
        self.pitd = pitd
        var settings = settings
        if let other, let database = other.database {
            self.database = database
            databaseServer = other.databaseServer
            ownsDatabase = false
        } else if let server = settings["database_url"], !server.isEmpty {
            let created = try Self.runCapturing(pitd, ["database", "create", "--url", server])
                .split(separator: "\n").last.map { String($0).trimmingCharacters(in: .whitespaces) }
            guard let created, !created.isEmpty else { throw BenchError("pitd database create printed no URL") }
            database = created
            databaseServer = server
            ownsDatabase = true
        } else {
            database = nil
            databaseServer = nil
            ownsDatabase = false
        }
        if let database { settings["database_url"] = database }
        self.settings = settings
        let bind = "127.0.0.1:\(port)"
        let overrides = settings.sorted { $0.key < $1.key }.flatMap { ["--set", "\($0.key)=\($0.value)"] }
        let initOutput = try Self.runCapturing(pitd, ["init", "--data-dir", directory, "--bind", bind, "--json"] + overrides)
        guard let line = initOutput.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let dsn = object["dsn"] as? String
        else { throw BenchError("pitd init printed no DSN: \(initOutput)") }
        self.dsn = dsn
        adminToken = object["admin_token"] as? String
        let logPath = directory + "/pitd.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process = Process()
        process.executableURL = URL(fileURLWithPath: pitd)
        process.arguments = ["serve", "--data-dir", directory, "--bind", bind] + overrides
        process.standardOutput = log
        process.standardError = log
        try process.run()
        try waitUntilHealthy()
    }

    package var pid: Int32 { process.processIdentifier }
    package var databasePath: String { dataDirectory + "/pit.sqlite" }

    private func waitUntilHealthy() throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if !process.isRunning { throw BenchError("pitd exited during start-up; see \(dataDirectory)/pitd.log") }
            if (try? SimpleHTTP.get(host: "127.0.0.1", port: port, path: "/health"))?.status == 200 { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw BenchError("pitd did not become healthy within 30 s")
    }

    /// SIGTERM (pitd drains and commits), then SIGKILL after `grace` seconds.
    package func stop(grace: Double = 30) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(grace)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try? log.close()
    }

    package func removeData() {
        try? FileManager.default.removeItem(atPath: dataDirectory)
        if ownsDatabase, let database, let databaseServer {
            _ = try? Self.runCapturing(pitd, ["database", "drop", "--url", database, "--via", databaseServer])
        }
    }

    /// The database's size: the SQLite file and its WAL (their sizes on disk, the database is
    /// not opened), or PostgreSQL's size of the database as `pitd database size` reports it.
    package var databaseBytes: (database: Int, wal: Int) {
        if let database {
            let text = (try? Self.runCapturing(pitd, ["database", "size", "--url", database])) ?? ""
            return (Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, 0)
        }
        return (ProcSampler.size(databasePath) ?? 0, ProcSampler.size(databasePath + "-wal") ?? 0)
    }

    static func runCapturing(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchError("\(executable) \(arguments.joined(separator: " ")) failed") }
        return String(decoding: data, as: UTF8.self)
    }

    /// Asks the kernel for a free loopback port.
    package static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BenchError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw BenchError("bind() failed") }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

package struct BenchError: Error, CustomStringConvertible {
    package let description: String
    /// Messages quote DSNs, URLs and pitd's output, and they end up on the terminal and in CI logs.
    package init(_ description: String) { self.description = Redaction.text(description) }
}

/// Samples a local process from /proc: RSS, CPU since the last sample, database and WAL sizes.
package final class ProcSampler: ServerSampling, @unchecked Sendable {
    private let pid: Int32
    private let databasePath: String?
    private let lock = NSLock()
    private var lastCPU: Double?
    private var lastTime: Double?

    /// `@unchecked Sendable`: the mutable fields are guarded by `lock`.
    package init(pid: Int32, databasePath: String?) {
        self.pid = pid
        self.databasePath = databasePath
    }

    package func sample(queueDepth: Int?, storedTotal: Int?) -> ServerSample {
        var sample = ServerSample(queueDepth: queueDepth, storedTotal: storedTotal)
        if let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        {
            let kib = line.split(separator: " ").compactMap { Int($0) }.first
            sample.rssBytes = kib.map { $0 * 1024 }
        }
        if let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        {
            // Fields after the command name; utime and stime are the 12th and 13th of them.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 13, let utime = Double(fields[11]), let stime = Double(fields[12]) {
                let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
                let cpu = (utime + stime) / ticks
                let now = ProcessInfo.processInfo.systemUptime
                lock.lock()
                if let lastCPU, let lastTime, now > lastTime { sample.cpu = (cpu - lastCPU) / (now - lastTime) }
                lastCPU = cpu
                lastTime = now
                lock.unlock()
            }
        }
        if let databasePath {
            sample.databaseBytes = Self.size(databasePath)
            sample.walBytes = Self.size(databasePath + "-wal")
        }
        return sample
    }

    static func size(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue
    }
}
