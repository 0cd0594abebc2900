import Foundation
import PitModel

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
            let settings =
                r.settings.isEmpty
                ? "—" : Redaction.settings(r.settings).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            let stored = s.storedEvents.map { "\($0) / \(s.acceptedEvents)" } ?? "not verified"
            lines.append(
                "| [\(directory)](\(directory)/chart.svg) | \(r.mode) | \(r.commit.prefix(8)) | \(r.machine.nproc) cores, \(r.machine.memoryBytes / (1 << 30)) GiB | \(settings) | \(Int(s.offeredRate)) | \(Int(s.acceptedRate)) | \(String(format: "%.2f", s.latency.p50)) | \(String(format: "%.2f", s.latency.p99)) | \(s.counts.unavailable) | \(s.counts.errors) | \(stored) | \(r.knee.map { "\(Int($0.rate))" } ?? "—") | \(s.passed ? "yes" : "no") |"
            )
        }
        if sweepChart(runs) != nil {
            lines.insert(contentsOf: ["![knee of every recorded setting](sweep.svg)", ""], at: 4)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A bar chart of the knee of every ramp recorded with pitd settings (the sweep), newest run
    /// per setting; nil when there are none.
    package static func sweepChart(_ runs: [(directory: String, record: RunRecord)]) -> String? {
        var latest: [String: (label: String, knee: Double, p99: Double)] = [:]
        var order: [String] = []
        for (_, record) in runs where record.mode == "ramp" && !record.settings.isEmpty {
            let label = Redaction.settings(record.settings).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                separator: " ")
            if latest[label] == nil { order.append(label) }
            latest[label] = (label, record.knee?.rate ?? 0, record.knee?.p99Milliseconds ?? 0)
        }
        guard !order.isEmpty else { return nil }
        let bars = order.map { latest[$0]! }
        let rowHeight = 22.0
        let labelWidth = 430.0
        let plotWidth = 420.0
        let height = 50 + rowHeight * Double(bars.count)
        let maxKnee = ChartSVG.niceCeiling(bars.map(\.knee).max() ?? 1)
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(labelWidth + plotWidth + 120))" height="\(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="10" y="20" font-size="14" font-weight="bold">Knee (events/s with ≥99% accepted, no 503, p99 within bound) per setting</text>

            """
        for (index, bar) in bars.enumerated() {
            let y = 36 + rowHeight * Double(index)
            let width = bar.knee / maxKnee * plotWidth
            svg += "<text x=\"\(labelWidth - 8)\" y=\"\(y + 14)\" text-anchor=\"end\">\(HTMLEscaping.escaped(bar.label))</text>\n"
            svg +=
                "<rect x=\"\(labelWidth)\" y=\"\(y + 3)\" width=\"\(String(format: "%.1f", width))\" height=\"\(rowHeight - 6)\" fill=\"#2a7\"/>\n"
            svg +=
                "<text x=\"\(labelWidth + width + 6)\" y=\"\(y + 14)\">\(Int(bar.knee))/s, p99 \(String(format: "%.1f", bar.p99)) ms</text>\n"
        }
        svg += "</svg>\n"
        return svg
    }
}
