import ArgumentParser
import Foundation
import PitBenchCore

/// `pit-bench browse`: read latency of the issue list (every filter), issue detail and event
/// detail, through the API and the web UI, while something else (a `pit-bench run`) ingests.
struct Browse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure read latency (issue list, issue detail, event detail; API and web UI) at a fixed rate.",
        discussion: """
            Run it against a loaded server while `pit-bench run --dsn ... --rate 1000` ingests, e.g.:
              pit-bench browse --url http://127.0.0.1:8000 --token $(cat pit-data/admin-token) --rate 50 --duration 60s
            """
    )

    @Option(help: "Base URL of the running pitd.") var url: String
    @Option(help: "The admin token (reads the API and signs in to the web UI; an API token works with --api-only).") var token: String
    @Option(help: "Organization slug.") var organization = "pit"
    @Option(help: "Project slug.") var project = "default"
    @Option(help: "GET requests per second, spread evenly over the page groups.") var rate: Double = 50
    @Option(help: "How long (30s, 2m).") var duration = "60s"
    @Option(help: "Keep-alive connections.") var connections = 4
    @Flag(help: "Only the JSON API, not the web UI.") var apiOnly = false
    @Option(help: "Pass bound for every group's p99, ms.") var maxP99: Double = 50
    @Option(help: "Name of the run (results/<date>-<name>).") var name = "browse"
    @Option(help: "Results directory.") var results = "results"
    @Flag(help: "Do not write a results directory.") var noRecord = false

    func run() async throws {
        let target = try BrowseBench.Target(
            url: url, token: token, organization: organization, project: project,
            includeUI: !apiOnly)
        let seconds = try parseDuration(duration)
        let (groups, dataset) = try BrowseBench.discover(target)
        let cookie = apiOnly ? nil : try BrowseBench.signIn(target)
        print("browsing \(groups.count) page groups (\(groups.map { "\($0.name): \($0.paths.count)" }.joined(separator: ", ")))")
        let startedAt = ISO8601DateFormatter().string(from: Date())
        let outcome = BrowseBench.run(
            target, groups: groups, cookie: cookie, rate: rate, duration: seconds,
            connections: connections
        ) { print($0) }
        let passed = outcome.allSatisfy { $0.errors == 0 && $0.latency.p99 <= maxP99 && $0.requests > 0 }
        let record = BrowseBench.Record(
            name: name, mode: "browse", command: recordedCommand(),
            commit: MachineInfo.gitCommit(), startedAt: startedAt, machine: MachineInfo.current(), rate: rate,
            durationSeconds: seconds, connections: connections, dataset: dataset, maxP99Milliseconds: maxP99, groups: outcome,
            passed: passed
        )
        print(BrowseBench.summary(record))
        if !noRecord {
            let directory = try BrowseBench.write(record, results: URL(fileURLWithPath: results))
            print("recorded \(directory.path)")
        }
        if !passed { throw ExitCode(2) }
    }
}
