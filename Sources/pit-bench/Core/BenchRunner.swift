package import Foundation
import PitModel
package import PitPayloads

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
        package var mix: TrafficMix?
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
        /// Seconds at the first phase's rate before the first phase, judged and recorded in no
        /// step (a ramp's): the first second of a freshly spawned pitd (its first connections,
        /// caches and checkpoint) measured 127-170 ms p99 and failed ramps at their first step,
        /// whatever the server could hold afterwards. Its events are verified like the rest.
        package var warmUp = 0.0

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
        let source = try makeSource()
        let servers = try startTarget()
        let emptyDatabaseBytes = servers.spawned.map { $0.databaseBytes.database + $0.databaseBytes.wal } ?? 0
        let load: PhasesResult
        do {
            load = try await drive(phases, against: servers, source: source, stopWhen: stopWhen)
        } catch {
            servers.stop(removingData: true)
            throw error
        }

        // Verified through the server's API while it still runs: an acknowledged event is
        // committed before its 200 (ack=committed) or held until it is (ack=queued), so what the
        // API finds is what a restart would find. Then SIGTERM drains the rest.
        var verification = Verifier.Outcome(stored: 0, missing: 0, method: "not verified")
        var verified = false
        if let api = verificationAPI(servers) {
            do {
                verification = try Verifier.verify(api, accepted: load.accepted)
                verified = true
            } catch {
                servers.stop(removingData: true)
                throw error
            }
        }
        servers.stop(removingData: false)
        let server = servers.spawned.map {
            Self.serverSummary(
                $0, timeline: load.timeline, storedEvents: verification.stored, emptyDatabaseBytes: emptyDatabaseBytes)
        }
        servers.removeData()

        let criteria = Knee.Criteria(maximumP99Milliseconds: options.maximumP99Milliseconds)
        let knee = load.steps.count > 1 ? Knee.find(load.steps, criteria: criteria) : nil
        let overall = Self.combine(load.steps)
        let failures = verdict(load, overall: overall, knee: knee, verification: verified ? verification : nil)

        // Rates over the phases that ran (a ramp stops after its first failing step).
        let scheduled = max(1, load.steps.reduce(0) { $0 + $1.duration })
        let record = Redaction.run(
            RunRecord(
                name: options.name, mode: options.mode, command: options.command,
                startedAt: ISO8601DateFormatter().string(from: startedAt), commit: MachineInfo.gitCommit(),
                machine: .current(),
                target: servers.description,
                settings: servers.settings,
                load: .init(
                    steps: phases, warmUpSeconds: options.warmUp > 0 ? options.warmUp : nil, connections: load.connections,
                    gzip: options.gzip, mix: options.mix != nil,
                    mixWeights: options.mix?.description,
                    payload: options.payloadFile, fingerprints: options.fingerprints, users: options.users,
                    releases: options.releases, averageBodyBytes: source.averageBodyBytes),
                summary: .init(
                    counts: load.totals, elapsedSeconds: load.elapsed, offeredRate: Double(load.totals.due) / scheduled,
                    acceptedRate: Double(load.totals.ok) / scheduled,
                    latency: overall, acceptedEvents: load.accepted.count,
                    storedEvents: verified ? verification.stored : nil, missingEvents: verified ? verification.missing : nil,
                    verification: verification.method, generatorLimited: load.limited, server: server,
                    passed: failures.isEmpty, failures: failures, unavailableWithoutRetryAfter: load.unavailableWithoutRetryAfter
                ),
                steps: load.steps,
                knee: knee.map { .init(rate: $0.rate, p99Milliseconds: $0.latency.p99) },
                criteria: .init(
                    maximumP99Milliseconds: criteria.maximumP99Milliseconds, minimumAcceptedRatio: criteria.minimumAcceptedRatio)
            ))
        var directory: URL?
        if let results = options.resultsDirectory {
            let folder = results.appendingPathComponent(ResultsStore.directoryName(name: options.name))
            try ResultsStore.write(record: record, timeline: load.timeline, to: folder)
            directory = folder
        }
        return Outcome(record: record, directory: directory)
    }

    /// The requests to send: a payload file, or synthetic errors (with other item types when
    /// `--mix`).
    private func makeSource() throws -> RequestSource {
        let generator = SyntheticEvents(fingerprints: options.fingerprints, users: options.users, releases: options.releases)
        let mode: RequestSource.Mode
        if let file = options.payloadFile {
            mode = .file([UInt8](try Data(contentsOf: URL(fileURLWithPath: file))))
        } else {
            mode = options.mix.map { .mix($0) } ?? .errors
        }
        // One template per distinct issue (and user), up to 20,000 (~64 MB): with fewer templates
        // than `--fingerprints`, only as many issues as templates could ever be created.
        let templates = min(20_000, max(512, options.fingerprints, options.users))
        return RequestSource(mode: mode, generator: generator, templateCount: templates, gzip: options.gzip)
    }

    /// What the phases measured, added up.
    struct PhasesResult {
        var timeline: [SecondSample] = []
        var steps: [StepResult] = []
        var totals = Counts()
        var accepted: [EventID] = []
        var unavailableWithoutRetryAfter = 0
        var limited: String?
        var elapsed = 0.0
        var connections: Int
    }

    private func drive(
        _ phases: [RateStep], against servers: StartedTarget, source: RequestSource,
        stopWhen: (@Sendable (StepResult) -> Bool)?
    ) async throws -> PhasesResult {
        let sampler = servers.spawned.map { ProcSampler(pid: $0.pid, databasePath: $0.database == nil ? $0.databasePath : nil) }
        let loadGenerator = LoadGenerator()
        let progress = ProgressPrinter(quiet: options.quiet, totalSeconds: phases.reduce(0) { $0 + $1.duration })
        let maxRate = phases.map(\.rate).max() ?? 1
        let generatorOptions = options.connections.map { GeneratorOptions(maxConnections: $0) } ?? .automatic(rate: maxRate)
        var load = PhasesResult(connections: generatorOptions.maxConnections)
        do {
            if options.warmUp > 0, let first = phases.first {
                let result = try await loadGenerator.run(
                    target: servers.target, steps: [RateStep(rate: first.rate, duration: options.warmUp)], source: source,
                    options: generatorOptions, sampler: nil)
                // In no step and not in `totals`; its acknowledged events are verified.
                load.accepted += result.acceptedEventIDs
            }
            for phase in phases {
                let offset = load.timeline.count
                let result = try await loadGenerator.run(
                    target: servers.target, steps: [phase], source: source, options: generatorOptions, sampler: sampler
                ) { sample in
                    progress.update(sample, secondOffset: offset)
                }
                load.timeline += result.timeline.map {
                    var s = $0
                    s.second += offset
                    return s
                }
                load.steps += result.steps
                load.totals.add(result.totals)
                load.accepted += result.acceptedEventIDs
                load.unavailableWithoutRetryAfter += result.unavailableWithoutRetryAfter
                load.limited = load.limited ?? result.generatorLimited
                load.elapsed += result.elapsedSeconds
                if let stopWhen, let step = result.steps.last, stopWhen(step) { break }
            }
        } catch {
            await loadGenerator.shutdown()
            throw error
        }
        await loadGenerator.shutdown()
        progress.finish()
        return load
    }

    /// The read API that verifies acknowledged ids: a spawned pitd's, with its admin token, or the
    /// DSN's server when a token was given.
    private func verificationAPI(_ servers: StartedTarget) -> Verifier.API? {
        let target = servers.target
        let prefix = target.path.components(separatedBy: "/api/").first ?? ""
        switch options.target {
        case .spawn:
            guard let server = servers.spawned, let token = server.adminToken else { return nil }
            return Verifier.API(
                host: "127.0.0.1", port: server.port, pathPrefix: prefix, organization: "pit", project: "default", token: token)
        case .dsn(_, let token?, let organization, let project):
            return Verifier.API(
                host: target.host, port: target.port, pathPrefix: prefix, organization: organization, project: project,
                token: token)
        case .dsn:
            return nil
        }
    }

    private static func serverSummary(
        _ spawned: SpawnedServer, timeline: [SecondSample], storedEvents: Int, emptyDatabaseBytes: Int
    ) -> RunRecord.ServerSummary {
        let samples = timeline.compactMap(\.server)
        let (database, wal) = spawned.databaseBytes
        let cpus = samples.compactMap(\.cpu)
        return RunRecord.ServerSummary(
            peakRSSBytes: samples.compactMap(\.rssBytes).max(),
            meanCPU: cpus.isEmpty ? nil : cpus.reduce(0, +) / Double(cpus.count),
            databaseBytes: database, walBytes: wal,
            bytesPerEvent: storedEvents > 0 ? Double(database + wal - emptyDatabaseBytes) / Double(storedEvents) : nil,
            peakQueueDepth: samples.compactMap(\.queueDepth).max()
        )
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
