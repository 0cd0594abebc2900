package import Foundation

/// Everything `run.json` holds: how the run was made and what it measured. `tune` and `report`
/// read these back.
package struct RunRecord: Sendable, Codable, Equatable {
    package init(
        name: String, mode: String, command: String, startedAt: String, commit: String, machine: MachineInfo, target: String,
        settings: [String: String], load: LoadConfig, summary: Summary, steps: [StepResult], knee: KneeRecord?, criteria: Criteria?
    ) {
        self.name = name
        self.mode = mode
        self.command = command
        self.startedAt = startedAt
        self.commit = commit
        self.machine = machine
        self.target = target
        self.settings = settings
        self.load = load
        self.summary = summary
        self.steps = steps
        self.knee = knee
        self.criteria = criteria
    }

    package var name: String
    package var mode: String
    package var command: String
    package var startedAt: String
    package var commit: String
    package var machine: MachineInfo
    package var target: String
    /// pitd settings when spawned (`ingest_batch_size`, `synchronous`, `ack`, ...).
    package var settings: [String: String]
    package var load: LoadConfig
    package var summary: Summary
    package var steps: [StepResult]
    package var knee: KneeRecord?
    package var criteria: Criteria?

    package struct LoadConfig: Sendable, Codable, Equatable {
        package var steps: [RateStep]
        /// Unrecorded seconds at the first step's rate before it (absent in runs without one).
        package var warmUpSeconds: Double?
        package var connections: Int
        package var gzip: Bool
        package var mix: Bool
        /// `--mix`'s weights, e.g. `error=60,session=25,log=15` (absent in runs before it took them).
        package var mixWeights: String?
        package var payload: String?
        package var fingerprints: Int
        package var users: Int
        package var releases: Int
        package var averageBodyBytes: Int

        package init(
            steps: [RateStep], warmUpSeconds: Double? = nil, connections: Int, gzip: Bool, mix: Bool, mixWeights: String? = nil,
            payload: String?, fingerprints: Int, users: Int, releases: Int, averageBodyBytes: Int
        ) {
            self.steps = steps
            self.warmUpSeconds = warmUpSeconds
            self.connections = connections
            self.gzip = gzip
            self.mix = mix
            self.mixWeights = mixWeights
            self.payload = payload
            self.fingerprints = fingerprints
            self.users = users
            self.releases = releases
            self.averageBodyBytes = averageBodyBytes
        }
    }

    package struct Summary: Sendable, Codable, Equatable {
        package init(
            counts: Counts, elapsedSeconds: Double, offeredRate: Double, acceptedRate: Double, latency: LatencySummary, acceptedEvents: Int,
            storedEvents: Int?, missingEvents: Int?, verification: String, generatorLimited: String?, server: ServerSummary?, passed: Bool,
            failures: [String], unavailableWithoutRetryAfter: Int? = nil
        ) {
            self.unavailableWithoutRetryAfter = unavailableWithoutRetryAfter
            self.counts = counts
            self.elapsedSeconds = elapsedSeconds
            self.offeredRate = offeredRate
            self.acceptedRate = acceptedRate
            self.latency = latency
            self.acceptedEvents = acceptedEvents
            self.storedEvents = storedEvents
            self.missingEvents = missingEvents
            self.verification = verification
            self.generatorLimited = generatorLimited
            self.server = server
            self.passed = passed
            self.failures = failures
        }

        package var counts: Counts
        package var elapsedSeconds: Double
        package var offeredRate: Double
        package var acceptedRate: Double
        package var latency: LatencySummary
        /// Error events acknowledged, the warm-up's included: all are verified.
        package var acceptedEvents: Int
        /// Error events found in storage after the run (nil when not verified).
        package var storedEvents: Int?
        package var missingEvents: Int?
        package var verification: String
        package var generatorLimited: String?
        package var server: ServerSummary?
        package var passed: Bool
        package var failures: [String]
        /// 503 answers that lacked an integer `Retry-After` (nil in runs recorded before it was counted).
        package var unavailableWithoutRetryAfter: Int?
    }

    package struct ServerSummary: Sendable, Codable, Equatable {
        package init(
            peakRSSBytes: Int?, meanCPU: Double?, databaseBytes: Int?, walBytes: Int?, bytesPerEvent: Double?, peakQueueDepth: Int?
        ) {
            self.peakRSSBytes = peakRSSBytes
            self.meanCPU = meanCPU
            self.databaseBytes = databaseBytes
            self.walBytes = walBytes
            self.bytesPerEvent = bytesPerEvent
            self.peakQueueDepth = peakQueueDepth
        }

        package var peakRSSBytes: Int?
        package var meanCPU: Double?
        package var databaseBytes: Int?
        package var walBytes: Int?
        /// (database + WAL) / stored events, with the empty database's size subtracted.
        package var bytesPerEvent: Double?
        package var peakQueueDepth: Int?
    }

    package struct KneeRecord: Sendable, Codable, Equatable {
        package init(rate: Double, p99Milliseconds: Double) {
            self.rate = rate
            self.p99Milliseconds = p99Milliseconds
        }

        package var rate: Double
        package var p99Milliseconds: Double
    }

    package struct Criteria: Sendable, Codable, Equatable {
        package init(maximumP99Milliseconds: Double, minimumAcceptedRatio: Double) {
            self.maximumP99Milliseconds = maximumP99Milliseconds
            self.minimumAcceptedRatio = minimumAcceptedRatio
        }

        package var maximumP99Milliseconds: Double
        package var minimumAcceptedRatio: Double
    }
}

/// Writes and reads `results/<UTC date>-<name>/`.
package enum ResultsStore {
    package static func directoryName(name: String, date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HHmmss'Z'"
        let safe = String(name.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "-" })
        return "\(formatter.string(from: date))-\(safe)"
    }

    package static func write(record: RunRecord, timeline: [SecondSample], to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // Redacted here too, so no caller can record a secret by building its own record.
        let record = Redaction.run(record)
        try encoder.encode(record).write(to: directory.appendingPathComponent("run.json"))
        try TimelineCSV.render(timeline).write(to: directory.appendingPathComponent("timeline.csv"), atomically: true, encoding: .utf8)
        try ChartSVG.render(title: record.name, timeline: timeline, steps: record.steps)
            .write(to: directory.appendingPathComponent("chart.svg"), atomically: true, encoding: .utf8)
    }

    /// Every `run.json` under `results`, oldest first.
    package static func readAll(results: URL) throws -> [(URL, RunRecord)] {
        let entries = try FileManager.default.contentsOfDirectory(at: results, includingPropertiesForKeys: nil)
        var records: [(URL, RunRecord)] = []
        for directory in entries.sorted(by: { $0.lastPathComponent < $1.lastPathComponent }) {
            let file = directory.appendingPathComponent("run.json")
            guard let data = try? Data(contentsOf: file) else { continue }
            records.append((directory, try JSONDecoder().decode(RunRecord.self, from: data)))
        }
        return records
    }
}

package enum TimelineCSV {
    /// Reads a `timeline.csv` back (for `report`, which re-renders charts from recorded runs).
    package static func parse(_ text: String) -> [SecondSample] {
        var samples: [SecondSample] = []
        var storedTotal = 0
        for line in text.split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 18 else { continue }
            func int(_ i: Int) -> Int { Int(f[i]) ?? 0 }
            func double(_ i: Int) -> Double { Double(f[i]) ?? 0 }
            func optional(_ i: Int) -> Int? { i < f.count ? Int(f[i]) : nil }
            var counts = Counts()
            counts.due = int(2)
            counts.sent = int(3)
            counts.ok = int(4)
            counts.tooManyRequests = int(5)
            counts.unavailable = int(6)
            counts.otherClientErrors = int(7)
            counts.serverErrors = int(8)
            counts.timeouts = int(9)
            counts.connectionErrors = int(10)
            let hasServer = (18..<min(f.count, 24)).contains { !f[$0].isEmpty }
            let stored = optional(23).map {
                storedTotal += $0
                return storedTotal
            }
            let server =
                hasServer
                ? ServerSample(
                    rssBytes: optional(18), cpu: f.count > 19 ? Double(f[19]) : nil, databaseBytes: optional(20),
                    walBytes: optional(21), queueDepth: optional(22), storedTotal: stored)
                : nil
            samples.append(
                SecondSample(
                    second: int(0), targetRate: double(1), counts: counts, p50Milliseconds: double(11), p99Milliseconds: double(12),
                    maxMilliseconds: double(13), inFlight: int(14), pending: int(15), generatorCPU: double(16),
                    tickLagMilliseconds: double(17), server: server))
        }
        return samples
    }

    package static let header =
        "second,target_rate,due,sent,ok,429,503,other_4xx,5xx,timeouts,connection_errors,p50_ms,p99_ms,max_ms,in_flight,pending,generator_cpu,tick_lag_ms,server_rss_bytes,server_cpu,db_bytes,wal_bytes,queue_depth,stored"

    package static func render(_ timeline: [SecondSample]) -> String {
        var lines = [header]
        let stored = ChartSVG.storedPerSecond(timeline)
        for (index, s) in timeline.enumerated() {
            let c = s.counts
            func opt<T>(_ value: T?) -> String { value.map { "\($0)" } ?? "" }
            lines.append(
                [
                    "\(s.second)", String(format: "%.0f", s.targetRate), "\(c.due)", "\(c.sent)", "\(c.ok)", "\(c.tooManyRequests)",
                    "\(c.unavailable)", "\(c.otherClientErrors)", "\(c.serverErrors)", "\(c.timeouts)", "\(c.connectionErrors)",
                    String(format: "%.3f", s.p50Milliseconds), String(format: "%.3f", s.p99Milliseconds),
                    String(format: "%.3f", s.maxMilliseconds), "\(s.inFlight)", "\(s.pending)", String(format: "%.3f", s.generatorCPU),
                    String(format: "%.3f", s.tickLagMilliseconds), opt(s.server?.rssBytes),
                    s.server?.cpu.map { String(format: "%.3f", $0) } ?? "", opt(s.server?.databaseBytes), opt(s.server?.walBytes),
                    opt(s.server?.queueDepth), stored.map { String(Int($0[index])) } ?? "",
                ].joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
