import Foundation
import PitBenchCore
import PitPayloads
import Testing

/// A ramp's warm-up: the seconds before the first step are sent, acknowledged and verified, but
/// judged in no step, so a server's start-up does not decide its knee.
@Suite(.serialized)
struct WarmUpTests {
    /// One 2 s phase at 200/s against a stub that stalls 200 ms, 0.8 s after the first request
    /// (the runner's set-up before it took over a second on a busy CI machine).
    func run(warmUp: Double) async throws -> RunRecord {
        let server = StubServer(stallAfterFirstRequest: (800_000_000, 200_000_000))
        try await server.start()
        let dsn = "http://0123456789abcdef0123456789abcdef@127.0.0.1:\(server.port)/1"
        var options = BenchRunner.Options(
            name: "warm-up", mode: "ramp", command: "pit-bench ramp",
            target: .dsn(dsn, token: nil, organization: "pit", project: "default"))
        options.quiet = true
        options.warmUp = warmUp
        let outcome = try await BenchRunner(options: options).run(phases: [RateStep(rate: 200, duration: 2)])
        try await server.stop()
        return outcome.record
    }

    @Test("a stall in the warm-up is in no step; without a warm-up it is in the first")
    func warmUpIsNotJudged() async throws {
        let cold = try await run(warmUp: 0)
        #expect(cold.steps.count == 1)
        #expect(cold.steps[0].latency.p99 > 50, "the stall shows in the step: p99 \(cold.steps[0].latency.p99) ms")
        #expect(cold.load.warmUpSeconds == nil)

        let warm = try await run(warmUp: 2)
        #expect(warm.steps.count == 1)
        #expect(warm.steps[0].counts.due == 400, "the step is the phase alone")
        #expect(warm.steps[0].latency.max < 150, "the stall is over before the step: max \(warm.steps[0].latency.max) ms")
        #expect(warm.load.warmUpSeconds == 2)
        #expect(warm.summary.counts.due == 400)
        // The warm-up's events were acknowledged too, and are listed for verification.
        #expect(warm.summary.acceptedEvents == 800)
    }
}
