import Foundation
import PitBenchCore
import Testing

struct KneeTests {
    func step(_ rate: Double, ok: Int, due: Int, unavailable: Int = 0, errors: Int = 0, p99: Double) -> StepResult {
        var counts = Counts()
        counts.due = due
        counts.sent = due
        counts.ok = ok
        counts.unavailable = unavailable
        counts.timeouts = errors
        return StepResult(
            rate: rate, duration: 10, counts: counts,
            latency: LatencySummary(p50: p99 / 4, p90: p99 / 2, p99: p99, p999: p99 * 2, max: p99 * 3, mean: p99 / 3))
    }

    let criteria = Knee.Criteria(maximumP99Milliseconds: 50)

    @Test func kneeIsTheLastPassingStepBeforeTheFirstFailure() {
        let steps = [
            step(1000, ok: 10000, due: 10000, p99: 2),
            step(2000, ok: 20000, due: 20000, p99: 3),
            step(3000, ok: 30000, due: 30000, p99: 40),
            step(4000, ok: 39000, due: 40000, unavailable: 1000, p99: 80),
            step(5000, ok: 50000, due: 50000, p99: 4),  // a lucky step after a failure does not count
        ]
        #expect(Knee.find(steps, criteria: criteria)?.rate == 3000)
    }

    @Test func a503FailsAStepEvenWithEnoughAccepted() {
        #expect(!Knee.passes(step(1000, ok: 9995, due: 10000, unavailable: 5, p99: 1), criteria))
    }

    @Test func p99AboveTheBoundFails() {
        #expect(!Knee.passes(step(1000, ok: 10000, due: 10000, p99: 51), criteria))
        #expect(Knee.passes(step(1000, ok: 10000, due: 10000, p99: 50), criteria))
    }

    @Test func aLateGeneratorIsChargedToTheStepNotDisqualifyingIt() {
        var late = step(1000, ok: 10000, due: 10000, p99: 29)
        late.generatorLimited = "the generator's 1 ms tick ran more than 20 ms late in 1 of 5 s"
        #expect(Knee.passes(late, criteria))
        late.latency.p99 = 51
        #expect(!Knee.passes(late, criteria))
    }

    @Test func fewerThan99PercentAcceptedFails() {
        #expect(!Knee.passes(step(1000, ok: 9899, due: 10000, p99: 1), criteria))
    }

    @Test func noPassingStepMeansNoKnee() {
        #expect(Knee.find([step(1000, ok: 0, due: 10000, errors: 10000, p99: 1)], criteria: criteria) == nil)
    }
}

struct ResultsTests {
    func record(
        name: String, settings: [String: String], knee: Double?, p99: Double = 5, commit: String = "abc",
        startedAt: String = "2026-11-22T00:00:00Z", machine: MachineInfo = .current()
    ) -> RunRecord {
        var counts = Counts()
        counts.due = 1000
        counts.sent = 1000
        counts.ok = 1000
        let latency = LatencySummary(p50: 1, p90: 2, p99: p99, p999: p99, max: p99, mean: 1)
        return RunRecord(
            name: name, mode: "ramp", command: "pit-bench ramp --spawn", startedAt: startedAt, commit: commit,
            machine: machine, target: "spawned pitd", settings: settings,
            load: .init(
                steps: [RateStep(rate: 1000, duration: 1)], connections: 8, gzip: false, mix: false, payload: nil,
                fingerprints: 100, users: 10, releases: 1, averageBodyBytes: 2900),
            summary: .init(
                counts: counts, elapsedSeconds: 1, offeredRate: 1000, acceptedRate: 1000, latency: latency,
                acceptedEvents: 1000, storedEvents: 1000, missingEvents: 0, verification: "database",
                generatorLimited: nil, server: nil, passed: true, failures: []),
            steps: [StepResult(rate: 1000, duration: 1, counts: counts, latency: latency)],
            knee: knee.map { .init(rate: $0, p99Milliseconds: p99) },
            criteria: .init(maximumP99Milliseconds: 50, minimumAcceptedRatio: 0.99)
        )
    }

    @Test func writtenResultsAreReadBackByTuneAndReport() throws {
        let results = FileManager.default.temporaryDirectory.appendingPathComponent("pit-results-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: results) }
        let runs = [
            record(name: "fast-queued", settings: ["ack": "queued", "synchronous": "NORMAL", "ingest_batch_size": "1000"], knee: 20000),
            record(name: "durable", settings: ["ack": "committed", "synchronous": "FULL", "ingest_batch_size": "2000"], knee: 12000),
            record(name: "normal", settings: ["ack": "committed", "synchronous": "NORMAL", "ingest_batch_size": "1000"], knee: 14000),
            record(name: "slow", settings: ["ack": "committed", "synchronous": "FULL", "ingest_batch_size": "250"], knee: 6000),
        ]
        for (i, run) in runs.enumerated() {
            let sample = SecondSample(
                second: 0, targetRate: 1000, counts: run.summary.counts, p50Milliseconds: 1, p99Milliseconds: 5,
                maxMilliseconds: 6, inFlight: 0, pending: 0, generatorCPU: 0.2, tickLagMilliseconds: 0.1, server: nil)
            try ResultsStore.write(record: run, timeline: [sample], to: results.appendingPathComponent("2026-11-22T00000\(i)Z-\(run.name)"))
        }
        let read = try ResultsStore.readAll(results: results)
        #expect(read.map(\.1) == runs)
        let csv = try String(contentsOf: read[0].0.appendingPathComponent("timeline.csv"), encoding: .utf8)
        #expect(csv.hasPrefix(TimelineCSV.header))
        let svg = try String(contentsOf: read[0].0.appendingPathComponent("chart.svg"), encoding: .utf8)
        #expect(svg.contains("<polyline"))

        let named = read.map { (name: $0.0.lastPathComponent, record: $0.1) }
        // 10k/s: the most durable configuration that reaches it is FULL + committed (12k knee).
        let tuned = try #require(Tuning.recommend(named, targetRate: 10000, maximumP99: 50))
        #expect(tuned.settings["synchronous"] == "FULL")
        #expect(tuned.settings["ack"] == "committed")
        #expect(Tuning.snippet(tuned).contains("\"ingest_batch_size\": 2000"))
        // 15k/s: only queued reaches it.
        #expect(Tuning.recommend(named, targetRate: 15000, maximumP99: 50)?.settings["ack"] == "queued")
        #expect(Tuning.recommend(named, targetRate: 50000, maximumP99: 50) == nil)

        let report = ReportRenderer.render(read.map { ($0.0.lastPathComponent, $0.1) })
        #expect(report.contains("fast-queued"))
        #expect(report.split(separator: "\n").filter { $0.hasPrefix("| [") }.count == 4)
    }
}

extension ResultsTests {
    @Test func tuneReadsOnlyTheNewestCodesRunsFromAMachineLikeThisOne() throws {
        var elsewhere = MachineInfo.current()
        elsewhere.nproc += 6
        let runs = [
            // An older binary reached 20k with batch 5000; the newest one only 12k with batch 1000.
            record(
                name: "old", settings: ["ack": "committed", "ingest_batch_size": "5000"], knee: 20000, commit: "old",
                startedAt: "2026-11-20T00:00:00Z"),
            record(
                name: "new", settings: ["ack": "committed", "ingest_batch_size": "1000"], knee: 12000, commit: "new",
                startedAt: "2026-11-21T00:00:00Z"),
            // The newest of all, but on a bigger machine: it does not decide for this one.
            record(
                name: "bigger", settings: ["ack": "committed", "ingest_batch_size": "250"], knee: 40000, commit: "newer",
                startedAt: "2026-11-22T00:00:00Z", machine: elsewhere),
        ].map { (name: $0.name, record: $0) }
        #expect(Tuning.recommend(runs, targetRate: 10000, maximumP99: 50)?.source == "new")
        #expect(Tuning.recommend(runs, targetRate: 15000, maximumP99: 50) == nil)
        #expect(Tuning.recommend(runs, targetRate: 30000, maximumP99: 50, machine: elsewhere)?.source == "bigger")
    }
}

struct TimelineTests {
    @Test func timelineCSVRoundTrips() {
        var counts = Counts()
        counts.due = 100
        counts.sent = 100
        counts.ok = 97
        counts.unavailable = 3
        let samples = (0..<3).map { second in
            SecondSample(
                second: second, targetRate: 100, counts: counts, p50Milliseconds: 1.5, p99Milliseconds: 9.25,
                maxMilliseconds: 12, inFlight: 2, pending: 0, generatorCPU: 0.25, tickLagMilliseconds: 0.5,
                server: ServerSample(
                    rssBytes: 1 << 20, cpu: 0.5, databaseBytes: 4096, walBytes: 0, queueDepth: 1,
                    storedTotal: 97 * (second + 1)))
        }
        let parsed = TimelineCSV.parse(TimelineCSV.render(samples))
        #expect(parsed == samples)
        #expect(ChartSVG.storedPerSecond(parsed) == [97, 97, 97])
        #expect(ChartSVG.render(title: "t", timeline: parsed, steps: []).contains("stored"))
    }
}

extension ResultsTests {
    @Test func tuneJudgesARepeatedSettingByItsMedianKnee() {
        let lucky = ["ack": "committed", "ingest_batch_size": "5000"]
        let steady = ["ack": "committed", "ingest_batch_size": "1000"]
        let runs = [
            // One lucky ramp among three must not win over a setting that holds every time.
            record(name: "lucky-1", settings: lucky, knee: 12000, startedAt: "2026-11-22T00:00:01Z"),
            record(name: "lucky-2", settings: lucky, knee: 4000, startedAt: "2026-11-22T00:00:02Z"),
            record(name: "lucky-3", settings: lucky, knee: 7000, startedAt: "2026-11-22T00:00:03Z"),
            record(name: "steady-1", settings: steady, knee: 9000, startedAt: "2026-11-22T00:00:04Z"),
            record(name: "steady-2", settings: steady, knee: nil, startedAt: "2026-11-22T00:00:05Z"),
            record(name: "steady-3", settings: steady, knee: 8000, startedAt: "2026-11-22T00:00:06Z"),
        ].map { (name: $0.name, record: $0) }
        let tuned = Tuning.recommend(runs, targetRate: 6000, maximumP99: 50)
        #expect(tuned?.settings == steady)
        #expect(tuned?.knee == 8000)
        #expect(tuned?.source == "steady-3 (median of 3 ramps)")
        // Nothing holds 10,000/s at its median, whatever one ramp reached.
        #expect(Tuning.recommend(runs, targetRate: 10000, maximumP99: 50) == nil)
    }
}

struct SweepPlanTests {
    @Test func everyCombinationIsRampedWithItsCommitDelay() {
        let plan = SweepPlan(batchSizes: "250,1000", commitDelays: "0, 5000", synchronous: "NORMAL", ack: "committed,queued")
        let points = plan.points
        #expect(points.count == 8)
        #expect(Set(points.map(\.label)).count == 8)
        #expect(points.first?.label == "sweep-b250-normal-committed")
        let delayed = points.first { $0.settings["commit_delay_us"] == "5000" && $0.settings["ingest_batch_size"] == "1000" }
        #expect(delayed?.label == "sweep-b1000-d5000-normal-committed")
        #expect(
            delayed?.settings
                == ["ingest_batch_size": "1000", "commit_delay_us": "5000", "synchronous": "NORMAL", "ack": "committed"])
        // An undelayed point still says so, and keeps the names recorded before delays were swept.
        #expect(points.first?.settings["commit_delay_us"] == "0")
    }
}

extension ResultsTests {
    @Test func tuneRecommendsTheCommitDelayTheSweepFoundBestAndBreaksAKneeTieByP99() {
        let plan = SweepPlan(batchSizes: "1000", commitDelays: "0,2000,5000", synchronous: "NORMAL", ack: "committed")
        let points = plan.points
        let runs = [
            record(name: points[0].label, settings: points[0].settings, knee: 3000, p99: 20),
            record(name: points[1].label, settings: points[1].settings, knee: 4000, p99: 41),
            record(name: points[2].label, settings: points[2].settings, knee: 4000, p99: 30),
        ].map { (name: $0.name, record: $0) }
        let tuned = Tuning.recommend(runs, targetRate: 3500, maximumP99: 50)
        #expect(tuned?.settings["commit_delay_us"] == "5000")
        #expect(tuned?.source == "sweep-b1000-d5000-normal-committed")
        #expect(Tuning.snippet(tuned!).contains("\"commit_delay_us\": 5000"))
    }
}
