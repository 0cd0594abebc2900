package import Foundation
import PitModel
import PitPayloads

/// One pit-bench invocation: target (spawned pitd or a DSN), load, progress, verification and
/// the record in `results/`.
package struct BenchRunner: Sendable {
    package enum TargetSpec: Sendable {
        /// `instances` > 1 starts that many pitd on one PostgreSQL database (`database_url`) and
        /// spreads the connections over them.
        case spawn(pitd: String, settings: [String: String], instances: Int = 1)
        case dsn(String, token: String?, organization: String, project: String)
    }

    package struct Options: Sendable {
        package var name: String
        package var mode: String
        package var command: String
        package var target: TargetSpec
        package var connections: Int?
        package var gzip = false
        package var mix = false
        package var payloadFile: String?
        package var fingerprints = 100
        package var users = 1000
        package var releases = 5
        package var maximumP99Milliseconds = 50.0
        /// For an overload run: the capacity measured before it; the run fails if it accepts
        /// less than 90 % of it (a server that collapses past its knee).
        package var capacity: Double?
        package var resultsDirectory: URL?
        package var quiet = false

        package init(name: String, mode: String, command: String, target: TargetSpec) {
            self.name = name
            self.mode = mode
            self.command = command
            self.target = target
        }
    }

    package struct Outcome: Sendable {
        package var record: RunRecord
        package var directory: URL?
    }

    let options: Options

    package init(options: Options) {
        self.options = options
    }

    /// Runs `phases` back to back against one server. After each phase `stopWhen` may end the run
    /// early, which is how a ramp stops once it is past the knee.
    package func run(
        phases: [RateStep], stopWhen: (@Sendable (StepResult) -> Bool)? = nil
    ) async throws -> Outcome {
        let startedAt = Date()
        let generator = SyntheticEvents(fingerprints: options.fingerprints, users: options.users, releases: options.releases)
        let mode: RequestSource.Mode
        if let file = options.payloadFile {
            mode = .file([UInt8](try Data(contentsOf: URL(fileURLWithPath: file))))
        } else {
            mode = options.mix ? .mix : .errors
        }
        // One template per distinct issue (and user), up to 20,000 (~64 MB): with fewer templates
        // than `--fingerprints`, only as many issues as templates could ever be created.
        let templates = min(20_000, max(512, options.fingerprints, options.users))
        let source = RequestSource(mode: mode, generator: generator, templateCount: templates, gzip: options.gzip)

        var spawned: SpawnedServer?
        var others: [SpawnedServer] = []
        let target: LoadTarget
        var settings: [String: String] = [:]
        switch options.target {
        case .spawn(let pitd, let values, let instances):
            let server = try SpawnedServer(pitd: pitd, settings: values)
            spawned = server
            if instances > 1 {
                guard server.database != nil else {
                    server.stop()
                    server.removeData()
                    throw BenchError("--instances needs --set database_url=postgres://… (instances share one database)")
                }
                for _ in 1..<instances { others.append(try SpawnedServer(pitd: pitd, settings: values, sharing: server)) }
            }
            settings = server.settings
            if instances > 1 { settings["instances"] = "\(instances)" }
            guard var t = LoadTarget(dsn: server.dsn, gzip: options.gzip) else { throw BenchError("bad DSN \(server.dsn)") }
            t.alternates = others.map { (host: "127.0.0.1", port: $0.port) }
            target = t
        case .dsn(let text, _, _, _):
            guard let t = LoadTarget(dsn: text, gzip: options.gzip) else { throw BenchError("not a DSN: \(text)") }
            target = t
        }
        let emptyDatabaseBytes = spawned.map { $0.databaseBytes.database + $0.databaseBytes.wal } ?? 0
        let sampler = spawned.map { ProcSampler(pid: $0.pid, databasePath: $0.database == nil ? $0.databasePath : nil) }
        let loadGenerator = LoadGenerator()
        let progress = ProgressPrinter(quiet: options.quiet, totalSeconds: phases.reduce(0) { $0 + $1.duration })

        var timeline: [SecondSample] = []
        var steps: [StepResult] = []
        var totals = Counts()
        var accepted: [EventID] = []
        var unavailableWithoutRetryAfter = 0
        var limited: String?
        var elapsed = 0.0
        var histogramsLatency: [LatencySummary] = []
        let maxRate = phases.map(\.rate).max() ?? 1
        let generatorOptions = options.connections.map { GeneratorOptions(maxConnections: $0) } ?? .automatic(rate: maxRate)
        do {
            for phase in phases {
                let offset = timeline.count
                let result = try await loadGenerator.run(
                    target: target, steps: [phase], source: source, options: generatorOptions, sampler: sampler
                ) { sample in
                    progress.update(sample, secondOffset: offset)
                }
                timeline += result.timeline.map {
                    var s = $0
                    s.second += offset
                    return s
                }
                steps += result.steps
                totals.add(result.totals)
                accepted += result.acceptedEventIDs
                unavailableWithoutRetryAfter += result.unavailableWithoutRetryAfter
                limited = limited ?? result.generatorLimited
                elapsed += result.elapsedSeconds
                histogramsLatency.append(result.latency)
                if let stopWhen, let step = result.steps.last, stopWhen(step) { break }
            }
        } catch {
            await loadGenerator.shutdown()
            for server in others {
                server.stop()
                server.removeData()
            }
            spawned?.stop()
            spawned?.removeData()
            throw error
        }
        await loadGenerator.shutdown()
        progress.finish()

        // Verified through the server's API while it still runs: an acknowledged event is
        // committed before its 200 (ack=committed) or held until it is (ack=queued), so what the
        // API finds is what a restart would find. Then SIGTERM drains the rest.
        var verification = Verifier.Outcome(stored: 0, missing: 0, method: "not verified")
        var verified = false
        let prefix = target.path.components(separatedBy: "/api/").first ?? ""
        var api: Verifier.API?
        switch options.target {
        case .spawn:
            if let server = spawned, let token = server.adminToken {
                api = Verifier.API(
                    host: "127.0.0.1", port: server.port, pathPrefix: prefix, organization: "pit", project: "default",
                    token: token)
            }
        case .dsn(_, let token?, let organization, let project):
            api = Verifier.API(
                host: target.host, port: target.port, pathPrefix: prefix, organization: organization, project: project,
                token: token)
        case .dsn:
            break
        }
        var verificationError: (any Error)?
        if let api {
            do {
                verification = try Verifier.verify(api, accepted: accepted)
                verified = true
            } catch {
                verificationError = error
            }
        }
        for server in others { server.stop() }
        spawned?.stop()
        if let verificationError {
            for server in others { server.removeData() }
            spawned?.removeData()
            throw verificationError
        }

        var server: RunRecord.ServerSummary?
        if let spawned {
            let samples = timeline.compactMap(\.server)
            let (database, wal) = spawned.databaseBytes
            let cpus = samples.compactMap(\.cpu)
            server = RunRecord.ServerSummary(
                peakRSSBytes: samples.compactMap(\.rssBytes).max(),
                meanCPU: cpus.isEmpty ? nil : cpus.reduce(0, +) / Double(cpus.count),
                databaseBytes: database, walBytes: wal,
                bytesPerEvent: verification.stored > 0 ? Double(database + wal - emptyDatabaseBytes) / Double(verification.stored) : nil,
                peakQueueDepth: samples.compactMap(\.queueDepth).max()
            )
            for server in others { server.removeData() }
            spawned.removeData()
        }

        let criteria = Knee.Criteria(maximumP99Milliseconds: options.maximumP99Milliseconds)
        let knee = steps.count > 1 ? Knee.find(steps, criteria: criteria) : nil
        var failures: [String] = []
        let overall = Self.combine(steps)
        if options.mode == "soak" || options.mode == "run" {
            if totals.unavailable > 0 { failures.append("\(totals.unavailable) requests answered 503") }
            if totals.errors > 0 { failures.append("\(totals.errors) errors (4xx/5xx/timeouts/connection)") }
            if overall.p99 > options.maximumP99Milliseconds {
                failures.append(String(format: "p99 %.2f ms above %.2f ms", overall.p99, options.maximumP99Milliseconds))
            }
        }
        if options.mode == "chaos" {
            // The server is killed and restarted under load: refused connections, requests cut
            // off and timeouts are what a crash looks like to clients, and none of them was
            // acknowledged. What must not happen: an acknowledged event missing, an answer that
            // is neither 2xx/429 nor an honest 503 (with Retry-After), nothing verified.
            if totals.serverErrors + totals.otherClientErrors > 0 {
                failures.append("\(totals.serverErrors + totals.otherClientErrors) answers other than 2xx, 429 and 503")
            }
            if !verified {
                failures.append("acknowledged events not verified (give --token: pitd's admin token or an API token with read scope)")
            }
            if accepted.isEmpty { failures.append("no event acknowledged") }
        }
        if unavailableWithoutRetryAfter > 0 {
            failures.append("\(unavailableWithoutRetryAfter) answers 503 without an integer Retry-After")
        }
        if options.mode == "overload" {
            // Past capacity 503s are the point; what must not happen is a timeout, a refused
            // connection, another error, a slow answer, or a collapse of what is accepted.
            if totals.timeouts + totals.connectionErrors > 0 {
                failures.append("\(totals.timeouts) timeouts and \(totals.connectionErrors) connection errors")
            }
            if totals.serverErrors + totals.otherClientErrors > 0 {
                failures.append("\(totals.serverErrors + totals.otherClientErrors) answers other than 2xx, 429 and 503")
            }
            if overall.p99 > options.maximumP99Milliseconds {
                failures.append(String(format: "p99 %.2f ms above %.2f ms", overall.p99, options.maximumP99Milliseconds))
            }
            let scheduledSeconds = max(1, steps.reduce(0) { $0 + $1.duration })
            if let capacity = options.capacity, Double(totals.ok) / scheduledSeconds < 0.9 * capacity {
                failures.append(
                    String(format: "accepted %.0f/s, below 90%% of the capacity %.0f/s", Double(totals.ok) / scheduledSeconds, capacity))
            }
        }
        if verified && verification.missing > 0 { failures.append("\(verification.missing) acknowledged events missing from storage") }
        // A ramp's last steps overload the machine pit-bench shares with the server; only a
        // generator-limited step at or below the knee makes the run unusable.
        // A chaos run is judged on what was stored and how it was answered, not on timing, so a
        // late generator (the machine is busy restarting pitd) does not fail it.
        if let limited, options.mode != "chaos",
            options.mode != "ramp" || steps.contains(where: { $0.generatorLimited != nil && $0.rate <= (knee?.rate ?? 0) })
        {
            failures.append("generator-limited: \(limited)")
        }
        if options.mode == "ramp" && knee == nil { failures.append("no step met the criteria") }

        // Rates over the phases that ran (a ramp stops after its first failing step).
        let scheduled = max(1, steps.reduce(0) { $0 + $1.duration })
        let offered = Double(totals.due) / scheduled
        let record = Redaction.run(
            RunRecord(
                name: options.name, mode: options.mode, command: options.command,
                startedAt: ISO8601DateFormatter().string(from: startedAt), commit: MachineInfo.gitCommit(),
                machine: .current(),
                target: spawned.map {
                    "spawned pitd" + (others.isEmpty ? "" : " ×\(others.count + 1)") + ($0.database == nil ? "" : " (PostgreSQL)")
                }
                    ?? target.host + ":\(target.port)",
                settings: settings,
                load: .init(
                    steps: phases, connections: generatorOptions.maxConnections, gzip: options.gzip, mix: options.mix,
                    payload: options.payloadFile, fingerprints: options.fingerprints, users: options.users,
                    releases: options.releases, averageBodyBytes: source.averageBodyBytes),
                summary: .init(
                    counts: totals, elapsedSeconds: elapsed, offeredRate: offered,
                    acceptedRate: Double(totals.ok) / scheduled,
                    latency: overall, acceptedEvents: accepted.count,
                    storedEvents: verified ? verification.stored : nil, missingEvents: verified ? verification.missing : nil,
                    verification: verification.method, generatorLimited: limited, server: server,
                    passed: failures.isEmpty, failures: failures, unavailableWithoutRetryAfter: unavailableWithoutRetryAfter
                ),
                steps: steps,
                knee: knee.map { .init(rate: $0.rate, p99Milliseconds: $0.latency.p99) },
                criteria: .init(
                    maximumP99Milliseconds: criteria.maximumP99Milliseconds, minimumAcceptedRatio: criteria.minimumAcceptedRatio)
            ))
        var directory: URL?
        if let results = options.resultsDirectory {
            let folder = results.appendingPathComponent(ResultsStore.directoryName(name: options.name))
            try ResultsStore.write(record: record, timeline: timeline, to: folder)
            directory = folder
        }
        return Outcome(record: record, directory: directory)
    }

    /// Overall latency across phases: the worst step's percentiles (a conservative merge, since
    /// percentiles cannot be averaged).
    static func combine(_ steps: [StepResult]) -> LatencySummary {
        guard let first = steps.first else { return LatencySummary(p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0) }
        if steps.count == 1 { return first.latency }
        let passing = steps
        return LatencySummary(
            p50: passing.map(\.latency.p50).max() ?? 0, p90: passing.map(\.latency.p90).max() ?? 0,
            p99: passing.map(\.latency.p99).max() ?? 0, p999: passing.map(\.latency.p999).max() ?? 0,
            max: passing.map(\.latency.max).max() ?? 0,
            mean: passing.reduce(0) { $0 + $1.latency.mean * Double($1.counts.completed) }
                / Double(max(1, passing.reduce(0) { $0 + $1.counts.completed }))
        )
    }
}

/// The live line on a terminal, plain lines every 5 s otherwise.
final class ProgressPrinter: @unchecked Sendable {
    private let quiet: Bool
    private let totalSeconds: Double
    private let terminal = isatty(STDERR_FILENO) != 0
    private let lock = NSLock()
    private var errors = 0

    /// `@unchecked Sendable`: `errors` is guarded by `lock`.
    init(quiet: Bool, totalSeconds: Double) {
        self.quiet = quiet
        self.totalSeconds = totalSeconds
    }

    func update(_ sample: SecondSample, secondOffset: Int) {
        guard !quiet else { return }
        lock.lock()
        errors += sample.counts.errors + sample.counts.unavailable + sample.counts.tooManyRequests
        let errors = self.errors
        lock.unlock()
        let second = sample.second + secondOffset + 1
        let eta = max(0, Int(totalSeconds) - second)
        var line = String(
            format: "%4ds  target %6.0f/s  ok %6d/s  503 %4d  p50 %7.2f ms  p99 %7.2f ms  errors %d  ETA %ds",
            second, sample.targetRate, sample.counts.ok, sample.counts.unavailable, sample.p50Milliseconds,
            sample.p99Milliseconds, errors, eta)
        if let server = sample.server {
            if let rss = server.rssBytes { line += String(format: "  rss %.0f MB", Double(rss) / 1_048_576) }
            if let cpu = server.cpu { line += String(format: "  cpu %.2f", cpu) }
        }
        if terminal {
            FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
        } else if second % 5 == 0 {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    func finish() {
        if terminal && !quiet { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
