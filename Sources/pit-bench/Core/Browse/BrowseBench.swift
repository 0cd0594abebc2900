package import Foundation
import NIOConcurrencyHelpers

/// The read side under load (issue 4's "p99 ≤ 50 ms with 1M events"): GETs of the issue list
/// with each filter, issue detail and event detail, through the JSON API and the web UI, at a
/// fixed open-loop rate. Latency counts from each request's due time, so a stalled server shows
/// up as latency instead of as a slower request rate (no coordinated omission).
package enum BrowseBench {
    package struct Target: Sendable {
        package var host: String
        package var port: Int
        package var token: String
        package var organization: String
        package var project: String
        package var includeUI: Bool

        package init(url: String, token: String, organization: String = "pit", project: String = "default", includeUI: Bool = true) throws {
            guard let components = URLComponents(string: url), let host = components.host else { throw BenchError("not a URL: \(url)") }
            self.host = host
            self.port = components.port ?? 80
            self.token = token
            self.organization = organization
            self.project = project
            self.includeUI = includeUI
        }
    }

    /// Paths of one kind of page; requests rotate through them.
    package struct PageGroup: Sendable, Codable, Equatable {
        package var name: String
        package var paths: [String]
        package var ui: Bool
    }

    package struct GroupResult: Sendable, Codable, Equatable {
        package var name: String
        package var paths: Int
        package var requests: Int
        package var errors: Int
        package var statuses: [String: Int]
        package var meanBytes: Int
        package var latency: LatencySummary
    }

    package struct Record: Sendable, Codable, Equatable {
        package var name: String
        package var mode: String
        package var command: String
        package var commit: String
        package var startedAt: String
        package var machine: MachineInfo
        package var rate: Double
        package var durationSeconds: Double
        package var connections: Int
        package var dataset: Dataset
        package var maxP99Milliseconds: Double
        package var groups: [GroupResult]
        package var passed: Bool

        package init(
            name: String, mode: String, command: String, commit: String, startedAt: String, machine: MachineInfo,
            rate: Double, durationSeconds: Double, connections: Int, dataset: Dataset, maxP99Milliseconds: Double,
            groups: [GroupResult], passed: Bool
        ) {
            self.name = name
            self.mode = mode
            self.command = command
            self.commit = commit
            self.startedAt = startedAt
            self.machine = machine
            self.rate = rate
            self.durationSeconds = durationSeconds
            self.connections = connections
            self.dataset = dataset
            self.maxP99Milliseconds = maxP99Milliseconds
            self.groups = groups
            self.passed = passed
        }

        package struct Dataset: Sendable, Codable, Equatable {
            package var projectEvents: Int64
            package var projectIssues: Int64

            package init(projectEvents: Int64, projectIssues: Int64) {
                self.projectEvents = projectEvents
                self.projectIssues = projectIssues
            }
        }
    }

    // MARK: Discovery

    static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~:")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    static func json(_ client: KeepAliveClient, _ path: String, token: String) throws -> Any {
        let response = try client.request("GET", path, headers: ["Authorization": "Bearer \(token)"])
        guard response.status == 200 else { throw BenchError("GET \(path) answered \(response.status)") }
        return try JSONSerialization.jsonObject(with: Data(response.body))
    }

    /// Finds real issue ids, event ids, releases, environments and user emails through the API,
    /// and builds the page groups from them.
    package static func discover(_ target: Target) throws -> (groups: [PageGroup], dataset: Record.Dataset) {
        let client = KeepAliveClient(host: target.host, port: target.port)
        let base = "/api/0/projects/\(target.organization)/\(target.project)"
        guard let issues = try json(client, "\(base)/issues/?query=&limit=100", token: target.token) as? [[String: Any]],
            !issues.isEmpty
        else { throw BenchError("the project has no issues to browse; load events first") }
        let issueIDs = issues.compactMap { $0["id"] as? String }
        var eventIDs: [String] = []
        for id in issueIDs.prefix(20) {
            let events = try json(client, "/api/0/issues/\(id)/events/?limit=3", token: target.token) as? [[String: Any]] ?? []
            eventIDs += events.compactMap { $0["eventID"] as? String }
        }
        func topValue(_ key: String) throws -> String? {
            let values = try? json(client, "/api/0/issues/\(issueIDs[0])/tags/\(key)/values/?limit=1", token: target.token)
            return ((values as? [[String: Any]])?.first?["value"]) as? String
        }
        let word = (issues[0]["title"] as? String)?.split(separator: " ").first.map(String.init)?
            .trimmingCharacters(in: CharacterSet.alphanumerics.inverted)
        var queries: [(query: String, extra: String)] = [
            ("is:unresolved", ""), ("is:unresolved level:error", ""), ("", "&sort=freq"), ("", "&sort=new"),
            ("is:unresolved", "&sort=user"), ("is:unresolved", "&statsPeriod=24h"),
        ]
        if let environment = try topValue("environment") { queries.append(("environment:\(environment)", "")) }
        if let release = try topValue("release") { queries.append(("release:\(release)", "")) }
        if let email = try topValue("user.email") { queries.append(("user.email:\(email)", "")) }
        if let browser = try topValue("browser") { queries.append(("browser:\(browser)", "")) }
        if let word, !word.isEmpty { queries.append(("\"\(word)\"", "")) }

        var groups = [
            PageGroup(name: "api issue list", paths: queries.map { "\(base)/issues/?query=\(escape($0.query))\($0.extra)" }, ui: false),
            PageGroup(name: "api issue detail", paths: issueIDs.map { "/api/0/issues/\($0)/" }, ui: false),
            PageGroup(name: "api event detail", paths: eventIDs.map { "\(base)/events/\($0)/" }, ui: false),
        ]
        if target.includeUI {
            let projects = try json(client, "/api/0/projects/", token: target.token) as? [[String: Any]] ?? []
            let projectID = projects.first { ($0["slug"] as? String) == target.project }?["id"] as? String ?? "1"
            let org = "/organizations/\(target.organization)"
            groups += [
                PageGroup(
                    name: "ui issue list",
                    paths: queries.map { "\(org)/issues/?project=\(projectID)&query=\(escape($0.query))\($0.extra)" }, ui: true),
                PageGroup(name: "ui issue detail", paths: issueIDs.map { "\(org)/issues/\($0)/" }, ui: true),
                PageGroup(name: "ui event detail", paths: eventIDs.map { "\(org)/projects/\(target.project)/events/\($0)/" }, ui: true),
            ]
        }
        let stats = try json(client, "/api/0/projects/\(target.organization)/\(target.project)/", token: target.token) as? [String: Any]
        _ = stats
        var events: Int64 = 0
        for issue in issues { events += Int64(issue["count"] as? String ?? "0") ?? 0 }
        return (groups, Record.Dataset(projectEvents: events, projectIssues: Int64(issues.count)))
    }

    /// Signs in to the web UI with the token (GET /login for the CSRF cookie, then POST) and
    /// returns the session cookie.
    package static func signIn(_ target: Target) throws -> String {
        let client = KeepAliveClient(host: target.host, port: target.port)
        let page = try client.request("GET", "/login")
        guard let csrfCookie = page.header("Set-Cookie").compactMap({ cookieValue($0, name: "pit_login_csrf") }).first else {
            throw BenchError("GET /login set no pit_login_csrf cookie (status \(page.status))")
        }
        let form = "token=\(escape(target.token))&csrf=\(escape(csrfCookie))&next=%2F"
        let response = try client.request(
            "POST", "/login",
            headers: [
                "Content-Type": "application/x-www-form-urlencoded", "Cookie": "pit_login_csrf=\(csrfCookie)",
            ], body: Array(form.utf8))
        guard let session = response.header("Set-Cookie").compactMap({ cookieValue($0, name: "pit_session") }).first,
            !session.isEmpty
        else { throw BenchError("sign-in with the token failed (status \(response.status))") }
        return session
    }

    static func cookieValue(_ header: String, name: String) -> String? {
        guard header.hasPrefix(name + "=") else { return nil }
        return String(header.dropFirst(name.count + 1).prefix { $0 != ";" })
    }

    // MARK: Run

    /// Requests `groups` round-robin at `rate` per second for `duration` seconds on `connections`
    /// keep-alive connections.
    package static func run(
        _ target: Target, groups: [PageGroup], cookie: String?, rate: Double, duration: Double,
        connections: Int, progress: (@Sendable (String) -> Void)? = nil
    ) -> [GroupResult] {
        let total = Int(rate * duration)
        let next = NIOLockedValueBox(0)
        let samples = NIOLockedValueBox<[[(micros: Int, status: Int, bytes: Int)]]>(Array(repeating: [], count: groups.count))
        let start = DispatchTime.now().uptimeNanoseconds + 100_000_000
        let group = DispatchGroup()
        for _ in 0..<max(1, connections) {
            group.enter()
            let thread = Thread {
                let client = KeepAliveClient(host: target.host, port: target.port)
                while true {
                    let index = next.withLockedValue { value -> Int in
                        defer { value += 1 }
                        return value
                    }
                    guard index < total else { break }
                    let due = start + UInt64(Double(index) / rate * 1e9)
                    let now = DispatchTime.now().uptimeNanoseconds
                    if due > now { usleep(useconds_t((due - now) / 1000)) }
                    let groupIndex = index % groups.count
                    let page = groups[groupIndex]
                    let path = page.paths[(index / groups.count) % page.paths.count]
                    var headers = ["Accept-Encoding": "identity"]
                    if page.ui, let cookie {
                        headers["Cookie"] = "pit_session=\(cookie)"
                    } else {
                        headers["Authorization"] = "Bearer \(target.token)"
                    }
                    var status = 0
                    var bytes = 0
                    if let response = try? client.request("GET", path, headers: headers) {
                        status = response.status
                        bytes = response.body.count
                    }
                    let micros = Int((DispatchTime.now().uptimeNanoseconds - due) / 1000)
                    samples.withLockedValue { $0[groupIndex].append((micros, status, bytes)) }
                }
                group.leave()
            }
            thread.start()
        }
        if let progress {
            while group.wait(timeout: .now() + 5) == .timedOut {
                let done = next.withLockedValue { $0 }
                progress("  \(min(done, total))/\(total) requests")
            }
        } else {
            group.wait()
        }
        let collected = samples.withLockedValue { $0 }
        return groups.enumerated().map { offset, page in
            let rows = collected[offset]
            let sorted = rows.map(\.micros).sorted()
            func percentile(_ p: Double) -> Double {
                guard !sorted.isEmpty else { return 0 }
                return Double(sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]) / 1000
            }
            var statuses: [String: Int] = [:]
            for row in rows { statuses[String(row.status), default: 0] += 1 }
            return GroupResult(
                name: page.name, paths: page.paths.count, requests: rows.count,
                errors: rows.filter { !(200..<300).contains($0.status) }.count, statuses: statuses,
                meanBytes: rows.isEmpty ? 0 : rows.reduce(0) { $0 + $1.bytes } / rows.count,
                latency: LatencySummary(
                    p50: percentile(0.5), p90: percentile(0.9), p99: percentile(0.99), p999: percentile(0.999),
                    max: Double(sorted.last ?? 0) / 1000,
                    mean: sorted.isEmpty ? 0 : Double(sorted.reduce(0, +)) / Double(sorted.count) / 1000)
            )
        }
    }

    /// `results/<date>-<name>/browse.json` and `summary.md`.
    package static func write(_ record: Record, results: URL) throws -> URL {
        let record = Redaction.browse(record)
        let directory = results.appendingPathComponent(ResultsStore.directoryName(name: record.name))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(record).write(to: directory.appendingPathComponent("browse.json"))
        try summary(record).write(to: directory.appendingPathComponent("summary.md"), atomically: true, encoding: .utf8)
        return directory
    }

    package static func summary(_ record: Record) -> String {
        let record = Redaction.browse(record)
        var text = """
            # \(record.name): read latency under load — \(record.passed ? "PASS" : "FAIL")

            `\(record.command)`

            Commit \(record.commit), \(record.startedAt), \(record.machine.nproc) cores, \
            \(record.machine.memoryBytes / 1_048_576) MiB, \(record.machine.cpuModel).
            Dataset: project with \(record.dataset.projectEvents) events in the first \(record.dataset.projectIssues) issues listed.
            \(Int(record.rate)) GETs/s for \(Int(record.durationSeconds)) s on \(record.connections) connections; pass = every group p99 ≤ \
            \(Int(record.maxP99Milliseconds)) ms and no errors.

            | page | paths | requests | errors | p50 ms | p90 ms | p99 ms | max ms | mean bytes |
            |---|---:|---:|---:|---:|---:|---:|---:|---:|

            """
        for group in record.groups {
            let l = group.latency
            text +=
                "| \(group.name) | \(group.paths) | \(group.requests) | \(group.errors) | "
                + String(format: "%.1f | %.1f | %.1f | %.1f", l.p50, l.p90, l.p99, l.max) + " | \(group.meanBytes) |\n"
        }
        return text
    }
}

extension BrowseBench {
    /// Every `browse.json` under `results`, oldest first.
    package static func readAll(results: URL) throws -> [(directory: String, record: Record)] {
        let entries = try FileManager.default.contentsOfDirectory(at: results, includingPropertiesForKeys: nil)
        return entries.sorted { $0.lastPathComponent < $1.lastPathComponent }.compactMap { directory in
            guard let data = try? Data(contentsOf: directory.appendingPathComponent("browse.json")),
                let record = try? JSONDecoder().decode(Record.self, from: data)
            else { return nil }
            return (directory.lastPathComponent, record)
        }
    }

    /// The section of results/README.md for read-latency runs: one row per run, the p99 of each
    /// page group.
    package static func reportSection(_ runs: [(directory: String, record: Record)]) -> String {
        guard let first = runs.last?.record else { return "" }
        let names = first.groups.map(\.name)
        var lines = [
            "", "## Read latency (`pit-bench browse`)", "",
            "p99 ms per page group, GETs at a fixed rate while `pit-bench run` ingests (see each run's `summary.md`).", "",
            "| run | commit | GETs/s | " + names.joined(separator: " | ") + " | pass |",
            "|---|---|---|" + String(repeating: "---|", count: names.count) + "---|",
        ]
        for (directory, record) in runs.reversed() {
            let cells = names.map { name in
                record.groups.first { $0.name == name }.map { String(format: "%.1f", $0.latency.p99) } ?? "—"
            }
            lines.append(
                "| [\(directory)](\(directory)/summary.md) | \(record.commit.prefix(8)) | \(Int(record.rate)) | "
                    + cells.joined(separator: " | ") + " | \(record.passed ? "yes" : "no") |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
