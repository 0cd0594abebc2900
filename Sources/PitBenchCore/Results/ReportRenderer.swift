import Foundation

/// Renders `results/README.md`: one table row per recorded run, newest first, linking its chart.
package enum ReportRenderer {
    package static func render(_ runs: [(directory: String, record: RunRecord)]) -> String {
        var lines = [
            "# Recorded runs",
            "",
            "Written by `pit-bench report` from the `run.json` files beside it. Each directory holds `run.json` (command, commit, machine, settings, summary), `timeline.csv` (one row per second) and `chart.svg`.",
            "",
            "| run | mode | commit | machine | settings | offered/s | accepted/s | p50 ms | p99 ms | 503 | errors | stored / acked | knee /s | pass |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for (directory, r) in runs.reversed() {
            let s = r.summary
            let settings = r.settings.isEmpty ? "—" : r.settings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            let stored = s.storedEvents.map { "\($0) / \(s.acceptedEvents)" } ?? "not verified"
            lines.append("| [\(directory)](\(directory)/chart.svg) | \(r.mode) | \(r.commit.prefix(8)) | \(r.machine.nproc) cores, \(r.machine.memoryBytes / (1 << 30)) GiB | \(settings) | \(Int(s.offeredRate)) | \(Int(s.acceptedRate)) | \(String(format: "%.2f", s.latency.p50)) | \(String(format: "%.2f", s.latency.p99)) | \(s.counts.unavailable) | \(s.counts.errors) | \(stored) | \(r.knee.map { "\(Int($0.rate))" } ?? "—") | \(s.passed ? "yes" : "no") |")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
