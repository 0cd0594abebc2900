import Foundation
import PitBenchCore
import Testing

struct RedactionTests {
    @Test func tokenOptionKeepsItsShape() {
        #expect(
            Redaction.command(["pit-bench", "browse", "--url", "http://127.0.0.1:8000", "--token", "pit_0123abcd", "--rate", "50"])
                == "pit-bench browse --url http://127.0.0.1:8000 --token <redacted> --rate 50")
        #expect(
            Redaction.command(["pit-bench", "run", "--token=pit_0123abcd", "--rate", "50"]) == "pit-bench run --token=<redacted> --rate 50")
        #expect(Redaction.command(["pit-bench", "--API-Token", "abc"]) == "pit-bench --API-Token <redacted>")
        // A secret-named flag without a value does not swallow the next option.
        #expect(
            Redaction.command(["pitd", "user", "create", "--password-stdin", "--admin"]) == "pitd user create --password-stdin --admin")
    }

    @Test func urlPasswordsAndDSNSecretsAreRedacted() {
        #expect(
            Redaction.command([
                "pit-bench", "soak", "--spawn", "--set", "database_url=postgres://pit:hunter2@db.internal:5432/pit?sslmode=require",
            ])
                == "pit-bench soak --spawn --set database_url=postgres://pit:***@db.internal:5432/pit?sslmode=require")
        #expect(
            Redaction.command(["pit-bench", "--database-url", "postgresql://u:p%40ss@h/db"])
                == "pit-bench --database-url postgresql://u:***@h/db")
        // The public key stays: it is sent in every SDK request anyway, and it identifies the project.
        #expect(
            Redaction.command(["pit-bench", "--dsn", "https://0123abcd:5ec4e7@sentry.example.com/sentry/42", "--rate", "10"])
                == "pit-bench --dsn https://0123abcd:***@sentry.example.com/sentry/42 --rate 10")
        #expect(
            Redaction.text("GET http://k:s@h:80/api/?sentry_key=k&sentry_secret=s&x=1")
                == "GET http://k:***@h:80/api/?sentry_key=k&sentry_secret=<redacted>&x=1")
    }

    @Test func secretNamedSettingsAndVariablesAreRedacted() {
        #expect(
            Redaction.command(["pit-bench", "--spawn", "--set", "admin_token=pit_x", "--set", "SMTP_Password=y", "--set", "ack=queued"])
                == "pit-bench --spawn --set admin_token=<redacted> --set SMTP_Password=<redacted> --set ack=queued")
        #expect(
            Redaction.text("PIT_ADMIN_TOKEN=pit_x PIT_SECRET_KEY=abc PIT_ACK=queued pit-bench")
                == "PIT_ADMIN_TOKEN=<redacted> PIT_SECRET_KEY=<redacted> PIT_ACK=queued pit-bench")
        let settings = Redaction.settings([
            "database_url": "postgres://pit:hunter2@127.0.0.1:5432/pit", "admin_token": "pit_x", "Client_Secret": "abc",
            "ingest_batch_size": "1000",
        ])
        #expect(
            settings == [
                "database_url": "postgres://pit:***@127.0.0.1:5432/pit", "admin_token": "<redacted>", "Client_Secret": "<redacted>",
                "ingest_batch_size": "1000",
            ])
    }

    @Test func commandsWithoutSecretsAreUnchanged() {
        let arguments = [
            "pit-bench", "ramp", "--spawn", "--set", "database_url=postgres://pit@127.0.0.1:55432/pit", "--start", "1000",
            "--dsn", "http://268e13007ca64a98a4073d30efd747e3@127.0.0.1:18250/1", "--name", "tokens-and-secrets",
        ]
        #expect(Redaction.command(arguments) == arguments.joined(separator: " "))
        #expect(Redaction.text(arguments.joined(separator: " ")) == arguments.joined(separator: " "))
    }

    @Test func recordedTextIsScrubbedIncludingJSONEscapes() {
        let json = #"""
            {
              "command" : "pit-bench browse --url http:\/\/127.0.0.1:18250 --token pit_999d13d2 --rate 50",
              "database" : "postgres:\/\/pit:hunter2@127.0.0.1:55432\/pit",
              "admin_token" : "pit_999d13d2",
              "tokenCount" : 3
            }
            """#
        let scrubbed = Redaction.text(json)
        #expect(!scrubbed.contains("pit_999d13d2"))
        #expect(!scrubbed.contains("hunter2"))
        #expect(scrubbed.contains(#"--token <redacted> --rate 50""#))
        #expect(scrubbed.contains(#"postgres:\/\/pit:***@127.0.0.1"#))
        #expect(scrubbed.contains(#""admin_token" : "<redacted>""#))
        #expect(scrubbed.contains(#""tokenCount" : 3"#))
        #expect(Redaction.text(scrubbed) == scrubbed, "scrubbing twice changes nothing")
        // Markdown, as summary.md quotes the command.
        #expect(Redaction.text("`pit-bench browse --token pit_999d13d2`") == "`pit-bench browse --token <redacted>`")
    }

    @Test func errorMessagesAreRedacted() {
        let error = BenchError(#"pitd init printed no DSN: {"dsn":"http://k:s@h/1","admin_token":"pit_0123"}"#)
        #expect(error.description == #"pitd init printed no DSN: {"dsn":"http://k:***@h/1","admin_token":"<redacted>"}"#)
    }
}

/// What a recorded run leaves behind: no file under its directory and nothing it reports may hold
/// the token, the database password or the DSN's secret key it was run with.
@Suite(.serialized)
struct RecordedRunSecretsTests {
    static let token = "pit_5ecre7700d0a5d1fbadc0ffee0123456789abcdef0123456789abcdef01"
    static let password = "hunter2-Pa55word"
    static let dsnSecret = "d5n5ecre7d5n5ecre7"

    func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("pit-redaction-\(UUID().uuidString)")
    }

    func leaks(in directory: URL) throws -> [String] {
        let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
        #expect(!files.isEmpty)
        return try files.flatMap { file -> [String] in
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: file.path, isDirectory: &isDirectory), !isDirectory.boolValue else { return [] }
            let text = String(decoding: try Data(contentsOf: file), as: UTF8.self)
            return [Self.token, Self.password, Self.dsnSecret].filter { text.contains($0) }.map { "\(file.lastPathComponent): \($0)" }
        }
    }

    @Test func aRunAgainstADSNWithATokenRecordsNoSecret() async throws {
        let server = StubServer()
        try await server.start()
        let results = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: results) }
        let dsn = "http://0123456789abcdef0123456789abcdef:\(Self.dsnSecret)@127.0.0.1:\(server.port)/1"
        let command = Redaction.command([
            "pit-bench", "run", "--dsn", dsn, "--token", Self.token, "--set",
            "database_url=postgres://pit:\(Self.password)@127.0.0.1:5432/pit",
            "--rate", "50", "--duration", "1s",
        ])
        var options = BenchRunner.Options(
            name: "secrets", mode: "run", command: command,
            target: .dsn(dsn, token: Self.token, organization: "pit", project: "default"))
        options.quiet = true
        options.maximumP99Milliseconds = 1000
        options.resultsDirectory = results
        let outcome = try await BenchRunner(options: options).run(phases: [RateStep(rate: 50, duration: 1)])
        try await server.stop()

        // The token was used (the stub answers every lookup), so it was there to leak.
        #expect(outcome.record.summary.verification.hasPrefix("api:"))
        #expect(outcome.record.command.contains("--token <redacted>"))
        #expect(outcome.record.command.contains("postgres://pit:***@127.0.0.1:5432/pit"))
        let directory = try #require(outcome.directory)
        #expect(try leaks(in: directory) == [])
        // What pit-bench prints comes from the outcome's record.
        let printed = String(decoding: try JSONEncoder().encode(outcome.record), as: UTF8.self)
        #expect([Self.token, Self.password, Self.dsnSecret].allSatisfy { !printed.contains($0) })
    }

    @Test func writtenRecordsAreRedactedWhoeverBuiltThem() throws {
        let results = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: results) }
        var counts = Counts()
        counts.due = 10
        counts.ok = 10
        let latency = LatencySummary(p50: 1, p90: 2, p99: 3, p999: 3, max: 3, mean: 1)
        // Not redacted by its maker: ResultsStore is the last line.
        let record = RunRecord(
            name: "pg", mode: "soak",
            command: "pit-bench soak --spawn --set database_url=postgres://pit:\(Self.password)@db:5432/pit --token \(Self.token)",
            startedAt: "2026-12-01T00:00:00Z", commit: "abc", machine: .current(), target: "spawned pitd (PostgreSQL)",
            settings: [
                "database_url": "postgres://pit:\(Self.password)@db:5432/pit_bench_1", "admin_token": Self.token, "ack": "committed",
            ],
            load: .init(
                steps: [RateStep(rate: 10, duration: 1)], connections: 1, gzip: false, mix: false, payload: nil, fingerprints: 1,
                users: 1, releases: 1, averageBodyBytes: 100),
            summary: .init(
                counts: counts, elapsedSeconds: 1, offeredRate: 10, acceptedRate: 10, latency: latency, acceptedEvents: 10,
                storedEvents: 10, missingEvents: 0, verification: "database", generatorLimited: nil, server: nil, passed: true,
                failures: []),
            steps: [StepResult(rate: 10, duration: 1, counts: counts, latency: latency)], knee: nil, criteria: nil
        )
        let directory = results.appendingPathComponent("run")
        try ResultsStore.write(record: record, timeline: [], to: directory)
        #expect(try leaks(in: directory) == [])
        let read = try #require(try ResultsStore.readAll(results: results).first?.1)
        #expect(read.settings["database_url"] == "postgres://pit:***@db:5432/pit_bench_1")
        #expect(read.settings["ack"] == "committed")
        #expect(read.summary == record.summary, "figures are untouched")
        let report = ReportRenderer.render([("run", read)])
        #expect(!report.contains(Self.password) && !report.contains(Self.token))
    }

    @Test func scrubRewritesOnlyFilesThatHoldASecret() throws {
        let results = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: results) }
        let run = results.appendingPathComponent("2026-11-22T080241Z-browse-1m")
        try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
        let summary = "# browse\n\n`pit-bench browse --url http://127.0.0.1:18250 --token \(Self.token) --rate 50`\n\n| p99 | 12.5 |\n"
        try summary.write(to: run.appendingPathComponent("summary.md"), atomically: true, encoding: .utf8)
        let csv = "second,ok\n0,50\n"
        try csv.write(to: run.appendingPathComponent("timeline.csv"), atomically: true, encoding: .utf8)
        let changed = try Redaction.scrub(directory: results)
        #expect(changed.map(\.lastPathComponent) == ["summary.md"])
        #expect(try leaks(in: results) == [])
        #expect(
            try String(contentsOf: run.appendingPathComponent("summary.md"), encoding: .utf8)
                == "# browse\n\n`pit-bench browse --url http://127.0.0.1:18250 --token <redacted> --rate 50`\n\n| p99 | 12.5 |\n")
        #expect(try String(contentsOf: run.appendingPathComponent("timeline.csv"), encoding: .utf8) == csv)
        #expect(try Redaction.scrub(directory: results).isEmpty)
    }

    @Test func browseRecordsAndSummariesAreRedacted() throws {
        let results = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: results) }
        let record = BrowseBench.Record(
            name: "browse", mode: "browse", command: "pit-bench browse --url http://127.0.0.1:8000 --token \(Self.token) --rate 50",
            commit: "abc", startedAt: "2026-12-01T00:00:00Z", machine: .current(), rate: 50, durationSeconds: 1, connections: 1,
            dataset: .init(projectEvents: 1, projectIssues: 1), maxP99Milliseconds: 50, groups: [], passed: true
        )
        #expect(!BrowseBench.summary(record).contains(Self.token))
        let directory = try BrowseBench.write(record, results: results)
        #expect(try leaks(in: directory) == [])
        #expect(
            try BrowseBench.readAll(results: results).first?.record.command
                == "pit-bench browse --url http://127.0.0.1:8000 --token <redacted> --rate 50")
    }
}
