import ArgumentParser
import Foundation
import PitBenchCore
import PitModel
import PitPayloads

@main
struct PitBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pit-bench",
        abstract: "Open-loop load generator and soak harness for Sentry-compatible servers.",
        discussion: """
            Without --dsn or --spawn, the target is PIT_DSN if set, else the pitd serving
            ./pit-data if one answers, else a pitd spawned for the run (the first line
            printed says which). Recorded runs and output carry no token, password or DSN
            secret key.

            Examples:
              pit-bench --rate 12000 --duration 5m
              pit-bench --spawn --rate 12000 --duration 5m
              pit-bench ramp --spawn --start 2000 --step 2000 --interval 10s
              pit-bench soak --spawn --rate 10000 --duration 5m --max-p99 50
              PIT_TOKEN=$(cat pit-data/admin-token) pit-bench chaos --dsn http://KEY@127.0.0.1:8000/1 --rate 4000 --duration 4m
              pit-bench sweep --batch-sizes 250,1000,5000 --commit-delays 0,5000 --synchronous NORMAL,FULL --ack committed,queued
              pit-bench tune --rate 10000 --max-p99 50
              pit-bench report
              pit-bench redact
            """,
        subcommands: [
            Run.self, Ramp.self, Soak.self, Chaos.self, Overload.self, Sweep.self, Tune.self, Browse.self, Report.self, Redact.self,
        ],
        defaultSubcommand: Run.self
    )
}

/// Durations as `30`, `30s`, `5m`, `1h`.
func parseDuration(_ text: String) throws -> Double {
    let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600]
    if let unit = text.last, let factor = units[unit], let value = Double(text.dropLast()) { return value * factor }
    guard let value = Double(text) else { throw ValidationError("not a duration: \(text) (use 30s, 5m, 1h)") }
    return value
}

struct TargetOptions: ParsableArguments {
    @Option(help: "DSN of a running Sentry-compatible server (default: PIT_DSN, else the pitd serving ./pit-data, else --spawn).")
    var dsn: String?
    @Flag(help: "Start a local pitd in a temporary data directory and stop it afterwards.") var spawn = false
    @Option(help: "pitd binary for --spawn and for finding the pitd of ./pit-data (default: next to pit-bench).") var pitd: String?
    @Option(
        name: .customLong("set"),
        help: ArgumentHelp("pitd setting for a spawned pitd, e.g. --set ingest_batch_size=5000.", valueName: "key=value"))
    var settings: [String] = []
    @Option(help: "With --spawn and --set database_url=postgres://…: pitd instances sharing one fresh database, load spread over them.")
    var instances = 1
    @Option(
        help:
            "Admin token or API token with read scope, to verify stored events through the API of a --dsn target: every acknowledged id with pitd, a sample through the read API with another server (default: PIT_TOKEN; recorded as <redacted>)."
    )
    var token: String?
    @Option(help: "Organization slug for verification through the API.") var organization = "pit"
    @Option(help: "Project slug for verification through the API.") var project = "default"

    func spec() throws -> BenchRunner.TargetSpec {
        if spawn { return try spawnSpec() }
        let token = token ?? ProcessInfo.processInfo.environment["PIT_TOKEN"]
        if let dsn { return .dsn(dsn, token: token, organization: organization, project: project) }
        let binary = pitd ?? defaultPitd()
        let choice = DefaultTarget.choose(environment: ProcessInfo.processInfo.environment) {
            DefaultTarget.findServer(dataDirectory: DefaultTarget.dataDirectory, pitd: binary)
        }
        print(DefaultTarget.describe(choice))
        switch choice {
        case .environment(let dsn):
            return .dsn(dsn, token: token, organization: organization, project: project)
        case .local(let server):
            return .dsn(server.dsn, token: token ?? server.adminToken, organization: organization, project: project)
        case .spawn:
            return try spawnSpec()
        }
    }

    private func spawnSpec() throws -> BenchRunner.TargetSpec {
        var values: [String: String] = [:]
        for setting in settings {
            let parts = setting.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw ValidationError("--set takes key=value") }
            values[String(parts[0])] = String(parts[1])
        }
        guard instances >= 1 else { throw ValidationError("--instances must be at least 1") }
        return .spawn(pitd: pitd ?? defaultPitd(), settings: values, instances: instances)
    }
}

/// The command line as recorded in results/ and printed.
func recordedCommand() -> String {
    Redaction.command(["pit-bench"] + CommandLine.arguments.dropFirst())
}

/// `pitd` beside this executable. From the executable's own path, not `argv[0]`: run through
/// `PATH`, `argv[0]` is a bare name that would resolve against the current folder.
func defaultPitd() -> String {
    let own = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
    return own.resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("pitd").path
}

struct LoadOptions: ParsableArguments {
    @Option(help: "Keep-alive connections (default: sized from the rate).") var connections: Int?
    @Flag(help: "gzip request bodies.") var gzip = false
    @Option(
        help: ArgumentHelp(
            "Mix other kinds of request with errors: a preset (traced: errors 40, transactions 30, sessions 15, check-ins 5, logs 10; app: errors 60, sessions 25, logs 15; performance: errors 50, transactions 40, span v2 containers 10) or weights, e.g. error=60,session=25,log=15 (kinds: error, transaction, session, check_in, log, span; transactions and containers carry 10-50 spans).",
            valueName: "preset|kind=weight,…"),
        transform: { text in try TrafficMix(parsing: text) })
    var mix: TrafficMix?
    @Option(help: "Send this envelope file instead of synthetic events.") var payload: String?
    @Option(help: "Distinct issues among the synthetic errors.") var fingerprints = 100
    @Option(help: "Distinct users.") var users = 1000
    @Option(help: "Distinct releases.") var releases = 5
    @Option(help: "Pass bound for p99 latency, ms (default 50; overload: 100).") var maxP99: Double?
    @Option(help: "Name of the run (results/<date>-<name>).") var name: String?
    @Option(help: "Results directory.") var results = "results"
    @Flag(help: "Do not write a results directory.") var noRecord = false
    @Flag(help: "No progress output.") var quiet = false

    func runnerOptions(mode: String, defaultName: String, target: BenchRunner.TargetSpec) -> BenchRunner.Options {
        var options = BenchRunner.Options(
            name: name ?? defaultName, mode: mode,
            command: recordedCommand(), target: target)
        options.connections = connections
        options.gzip = gzip
        options.mix = mix
        options.payloadFile = payload
        options.fingerprints = fingerprints
        options.users = users
        options.releases = releases
        options.maximumP99Milliseconds = maxP99 ?? 50
        options.resultsDirectory = noRecord ? nil : URL(fileURLWithPath: results)
        options.quiet = quiet
        return options
    }
}

func printSummary(_ outcome: BenchRunner.Outcome) {
    let r = outcome.record
    let s = r.summary
    var lines = [
        "",
        "\(r.name) (\(r.mode)) — \(r.target)\(r.settings.isEmpty ? "" : " " + r.settings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))",
        String(
            format: "  offered %.0f/s, accepted %.0f/s over %.1f s; request bodies %d bytes on average%@", s.offeredRate, s.acceptedRate,
            s.elapsedSeconds, r.load.averageBodyBytes, r.load.gzip ? " before gzip" : ""),
        "  requests: due \(s.counts.due), sent \(s.counts.sent), 2xx \(s.counts.ok), 429 \(s.counts.tooManyRequests), 503 \(s.counts.unavailable), other 4xx \(s.counts.otherClientErrors), 5xx \(s.counts.serverErrors), timeouts \(s.counts.timeouts), connection errors \(s.counts.connectionErrors)",
        String(
            format: "  latency from due time: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms",
            s.latency.p50, s.latency.p90, s.latency.p99, s.latency.p999, s.latency.max),
        "  stored: \(s.storedEvents.map(String.init) ?? "?") of \(s.acceptedEvents) acknowledged errors (\(s.verification)); missing \(s.missingEvents.map(String.init) ?? "?")",
    ]
    if let server = s.server {
        lines.append(
            String(
                format: "  server: peak RSS %.1f MB, mean CPU %.2f cores, database %.1f MB + WAL %.1f MB, %.0f bytes/event, peak queue %d",
                Double(server.peakRSSBytes ?? 0) / 1_048_576, server.meanCPU ?? 0, Double(server.databaseBytes ?? 0) / 1_048_576,
                Double(server.walBytes ?? 0) / 1_048_576, server.bytesPerEvent ?? 0, server.peakQueueDepth ?? 0))
    }
    if let knee = r.knee {
        lines.append(String(format: "  knee: %.0f events/s (p99 %.2f ms)", knee.rate, knee.p99Milliseconds))
    }
    for step in r.steps where r.steps.count > 1 {
        lines.append(
            String(
                format: "    step %6.0f/s: 2xx %d/%d, 503 %d, errors %d, p99 %.2f ms", step.rate, step.counts.ok, step.counts.due,
                step.counts.unavailable, step.counts.errors, step.latency.p99)
                + (step.generatorLimited.map { " (generator-limited: \($0))" } ?? ""))
    }
    if let limited = s.generatorLimited { lines.append("  WARNING generator-limited: \(limited)") }
    lines.append(s.passed ? "  PASS" : "  FAIL: " + s.failures.joined(separator: "; "))
    if let directory = outcome.directory { lines.append("  recorded in \(directory.path)") }
    print(lines.joined(separator: "\n"))
}

/// `run`, `soak` and `overload` differ only in their defaults and mode name (which decides the
/// criteria); `adjust` sets what a mode adds to the options.
func runConstantRate(
    mode: String, rate: Double, duration: String, target: TargetOptions, load: LoadOptions,
    adjust: (inout BenchRunner.Options) -> Void = { _ in }
) async throws {
    let seconds = try parseDuration(duration)
    var options = load.runnerOptions(mode: mode, defaultName: "\(mode)-\(Int(rate))", target: try target.spec())
    adjust(&options)
    let outcome = try await BenchRunner(options: options).run(phases: [RateStep(rate: rate, duration: seconds)])
    printSummary(outcome)
    if !outcome.record.summary.passed { throw ExitCode(2) }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Constant --rate for --duration (the default mode).")
    @OptionGroup var target: TargetOptions
    @OptionGroup var load: LoadOptions
    @Option(help: "Requests per second.") var rate: Double = 1000
    @Option(help: "Duration (30s, 5m).") var duration = "30s"

    func run() async throws {
        try await runConstantRate(mode: "run", rate: rate, duration: duration, target: target, load: load)
    }
}

struct Soak: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "A rate for a duration with pass/fail: zero 503, zero errors, p99 within --max-p99, every accepted event stored."
    )
    @OptionGroup var target: TargetOptions
    @OptionGroup var load: LoadOptions
    @Option(help: "Requests per second.") var rate: Double = 1000
    @Option(help: "Duration (30s, 5m).") var duration = "5m"

    func run() async throws {
        try await runConstantRate(mode: "soak", rate: rate, duration: duration, target: target, load: load)
    }
}

struct Chaos: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "A rate against a server that something else kills and restarts (scripts/chaos-soak): connection errors and timeouts are counted, not failures; passes when every acknowledged event is stored (looked up through pitd's API with --token or PIT_TOKEN) and every answer is 2xx, 429 or 503 with Retry-After."
    )
    @OptionGroup var target: TargetOptions
    @OptionGroup var load: LoadOptions
    @Option(help: "Requests per second (about half the capacity).") var rate: Double = 4000
    @Option(help: "Duration (30s, 5m).") var duration = "4m"

    func validate() throws {
        guard !target.spawn, target.dsn != nil || ProcessInfo.processInfo.environment["PIT_DSN"] != nil else {
            throw ValidationError("chaos needs a server that survives being killed: give --dsn (or PIT_DSN)")
        }
    }

    func run() async throws {
        try await runConstantRate(mode: "chaos", rate: rate, duration: duration, target: target, load: load)
    }
}

struct Overload: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Offer more than the server can take: passes when every answer (200 or 503) comes within --max-p99 (default 100 ms), with no timeout, no connection error, every accepted event stored, and (with --capacity) at least 90% of the capacity accepted."
    )
    @OptionGroup var target: TargetOptions
    @OptionGroup var load: LoadOptions
    @Option(help: "Requests per second (about twice the capacity).") var rate: Double = 24000
    @Option(help: "Duration (30s, 5m).") var duration = "30s"
    @Option(help: "Capacity measured before, events/s (e.g. the knee of a ramp).") var capacity: Double?

    func run() async throws {
        try await runConstantRate(mode: "overload", rate: rate, duration: duration, target: target, load: load) { options in
            options.maximumP99Milliseconds = load.maxP99 ?? 100
            options.capacity = capacity
        }
    }
}

struct Ramp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Raise the rate step by step and report the knee: the highest rate with ≥99% accepted, no 503 and p99 under --max-p99."
    )
    @OptionGroup var target: TargetOptions
    @OptionGroup var load: LoadOptions
    @Option(help: "First rate.") var start: Double = 1000
    @Option(help: "Increase per step.") var step: Double = 1000
    @Option(help: "Duration of each step.") var interval = "10s"
    @Option(help: "Highest rate to try.") var maxRate: Double = 60000
    @Option(help: "Unrecorded time at the first step's rate before it (a spawned pitd's start-up is not its capacity); 0s for none.")
    var warmUp = "5s"

    func run() async throws {
        let outcome = try await Ramp.ramp(
            target: try target.spec(), load: load, name: load.name ?? "ramp",
            start: start, step: step, interval: try parseDuration(interval), maxRate: maxRate, warmUp: try parseDuration(warmUp))
        printSummary(outcome)
        if !outcome.record.summary.passed { throw ExitCode(2) }
    }

    static func ramp(
        target: BenchRunner.TargetSpec, load: LoadOptions, name: String, start: Double, step: Double,
        interval: Double, maxRate: Double, warmUp: Double = 5
    ) async throws -> BenchRunner.Outcome {
        var options = load.runnerOptions(mode: "ramp", defaultName: name, target: target)
        options.name = name
        options.warmUp = warmUp
        let criteria = Knee.Criteria(maximumP99Milliseconds: load.maxP99 ?? 50)
        let phases = stride(from: start, through: maxRate, by: step).map { RateStep(rate: $0, duration: interval) }
        // Stop once a step fails: past the knee, more load only measures an overloaded server.
        return try await BenchRunner(options: options).run(phases: phases) { !Knee.passes($0, criteria) }
    }
}

struct Sweep: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "For each combination of settings: spawn pitd, ramp to the knee, then a short soak below it."
    )
    @OptionGroup var load: LoadOptions
    @Option(help: "pitd binary (default: next to pit-bench).") var pitd: String?
    @Option(help: "ingest_batch_size values.") var batchSizes = "250,1000,2000,5000,10000"
    @Option(help: "commit_delay_us values.") var commitDelays = "0,5000"
    @Option(help: "synchronous values.") var synchronous = "NORMAL,FULL"
    @Option(help: "ack values.") var ack = "committed,queued"
    @Option(help: "First ramp rate.") var start: Double = 2000
    @Option(help: "Ramp increase per step.") var step: Double = 2000
    @Option(help: "Duration of each ramp step.") var interval = "5s"
    @Option(help: "Highest ramp rate.") var maxRate: Double = 60000
    @Option(help: "Soak duration at 80% of each knee.") var soakDuration = "20s"

    func run() async throws {
        let binary = pitd ?? defaultPitd()
        var rows: [String] = []
        let plan = SweepPlan(batchSizes: batchSizes, commitDelays: commitDelays, synchronous: synchronous, ack: ack)
        for point in plan.points {
            let label = point.label
            let target = BenchRunner.TargetSpec.spawn(pitd: binary, settings: point.settings)
            let ramp = try await Ramp.ramp(
                target: target, load: load, name: label,
                start: start, step: step, interval: try parseDuration(interval), maxRate: maxRate)
            printSummary(ramp)
            guard let knee = ramp.record.knee else {
                rows.append("\(label): no knee")
                continue
            }
            var options = load.runnerOptions(mode: "soak", defaultName: label + "-soak", target: target)
            options.name = label + "-soak"
            let soak = try await BenchRunner(options: options).run(phases: [
                RateStep(rate: (knee.rate * 0.8).rounded(), duration: try parseDuration(soakDuration))
            ])
            printSummary(soak)
            rows.append(
                String(
                    format: "%@: knee %.0f/s (p99 %.2f ms); soak at %.0f/s %@ (p99 %.2f ms)", label, knee.rate,
                    knee.p99Milliseconds, (knee.rate * 0.8).rounded(), soak.record.summary.passed ? "passed" : "failed",
                    soak.record.summary.latency.p99))
        }
        print("\nsweep summary:\n" + rows.joined(separator: "\n"))
    }
}

struct Tune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Read results/ and print the settings to deploy for a target rate and p99.")
    @Option(help: "Events per second to sustain.") var rate: Double = 10000
    @Option(help: "p99 bound, ms.") var maxP99: Double = 50
    @Option(help: "Results directory.") var results = "results"

    func run() async throws {
        let records = try ResultsStore.readAll(results: URL(fileURLWithPath: results))
        let named = records.map { (name: $0.0.lastPathComponent, record: $0.1) }
        guard let recommendation = Tuning.recommend(named, targetRate: rate, maximumP99: maxP99) else {
            let best = named.compactMap { $0.record.knee?.rate }.max()
            print(
                "No recorded configuration sustains \(Int(rate)) events/s with p99 ≤ \(maxP99) ms on the recorded machine"
                    + (best.map { "; the best single ramp recorded reached \(Int($0)) events/s." }
                        ?? "; record a sweep first (pit-bench sweep)."))
            throw ExitCode(2)
        }
        print(Tuning.snippet(recommendation))
    }
}

struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Render results/README.md from the recorded runs.")
    @Option(help: "Results directory.") var results = "results"

    func run() async throws {
        let directory = URL(fileURLWithPath: results)
        let records = try ResultsStore.readAll(results: directory)
        let runs = records.map { (directory: $0.0.lastPathComponent, record: $0.1) }
        // Charts are re-rendered from the recorded timelines, so every run gets the current chart.
        for (folder, record) in records {
            guard let csv = try? String(contentsOf: folder.appendingPathComponent("timeline.csv"), encoding: .utf8) else { continue }
            try ChartSVG.render(title: record.name, timeline: TimelineCSV.parse(csv), steps: record.steps)
                .write(to: folder.appendingPathComponent("chart.svg"), atomically: true, encoding: .utf8)
        }
        let browse = try BrowseBench.readAll(results: directory)
        try (ReportRenderer.render(runs) + BrowseBench.reportSection(browse))
            .write(to: directory.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        if let chart = ReportRenderer.sweepChart(runs) {
            try chart.write(to: directory.appendingPathComponent("sweep.svg"), atomically: true, encoding: .utf8)
        }
        print("wrote \(directory.appendingPathComponent("README.md").path) (\(records.count) runs)")
    }
}

struct Redact: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove tokens, passwords and DSN secret keys from runs recorded before pit-bench redacted them."
    )
    @Option(help: "Results directory.") var results = "results"

    func run() async throws {
        let changed = try Redaction.scrub(directory: URL(fileURLWithPath: results))
        for file in changed { print("redacted \(file.path)") }
        print("\(changed.count) files changed")
    }
}
