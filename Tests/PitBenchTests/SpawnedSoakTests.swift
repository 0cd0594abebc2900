import Foundation
import PitBenchCore
import Testing

/// The CI soak: pit-bench spawns the pitd built by this package, holds a rate for 20 s, and every
/// acknowledged event must be in the database afterwards.
struct SpawnedSoakTests {
    static var pitd: String? {
        if let path = ProcessInfo.processInfo.environment["PITD_BIN"] { return path }
        // The test bundle lives in the build folder next to the executables.
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("pitd").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory.deleteLastPathComponent()
        }
        let cwd = FileManager.default.currentDirectoryPath + "/.build/debug/pitd"
        return FileManager.default.isExecutableFile(atPath: cwd) ? cwd : nil
    }

    @Test(.enabled(if: pitd != nil, "needs the pitd binary (swift build first)"))
    func twentySecondSoakStoresEveryAcceptedEvent() async throws {
        var options = BenchRunner.Options(
            name: "ci-soak", mode: "soak", command: "swift test (SpawnedSoakTests)",
            target: .spawn(
                pitd: Self.pitd!,
                settings: [
                    "ingest_batch_size": "500",
                    // The rest of the suite runs beside it on the same cores, and admission
                    // control cannot tell their load from pitd's own: it would shed.
                    "admission_target_us": "0",
                ]))
        options.quiet = true
        options.maximumP99Milliseconds = 1000  // a debug build on a shared CI core; correctness is the point here
        let outcome = try await BenchRunner(options: options).run(phases: [RateStep(rate: 200, duration: 20)])
        let summary = outcome.record.summary
        #expect(summary.counts.due == 4000)
        #expect(summary.counts.ok == 4000, "failures: \(summary.failures)")
        #expect(summary.acceptedEvents == 4000)
        #expect(summary.storedEvents == 4000)
        #expect(summary.missingEvents == 0)
        #expect(summary.counts.unavailable == 0)
        #expect(summary.server?.peakRSSBytes ?? 0 > 0)
    }
}
