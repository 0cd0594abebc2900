import Foundation
import PitModel

/// A two-panel SVG chart of a run: requests per second (target, accepted, 503, errors) on top,
/// p50/p99 latency below. Hand-written SVG: no plotting dependency for a few polylines.
package enum ChartSVG {
    static let width = 900.0
    static let panelHeight = 220.0
    static let margin = (left: 70.0, right: 20.0, top: 40.0, gap: 60.0, bottom: 40.0)

    package static func render(title: String, timeline: [SecondSample], steps: [StepResult]) -> String {
        let plotWidth = width - margin.left - margin.right
        let height = margin.top + panelHeight * 2 + margin.gap + margin.bottom
        let seconds = max(1, timeline.count)
        func x(_ second: Int) -> Double { margin.left + Double(second) / Double(max(1, seconds - 1)) * plotWidth }
        let rateMax = niceCeiling(timeline.map { max($0.targetRate, Double($0.counts.due), Double($0.counts.completed)) }.max() ?? 1)
        let latencyMax = niceCeiling(timeline.map(\.p99Milliseconds).max() ?? 1)
        func yRate(_ value: Double) -> Double { margin.top + panelHeight * (1 - value / rateMax) }
        let latencyTop = margin.top + panelHeight + margin.gap
        func yLatency(_ value: Double) -> Double { latencyTop + panelHeight * (1 - min(value, latencyMax) / latencyMax) }

        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(margin.left)" y="20" font-size="14" font-weight="bold">\(HTMLEscaping.escaped(title))</text>

            """
        func axes(top: Double, maxValue: Double, unit: String) {
            svg +=
                "<line x1=\"\(margin.left)\" y1=\"\(top + panelHeight)\" x2=\"\(margin.left + plotWidth)\" y2=\"\(top + panelHeight)\" stroke=\"#333\"/>\n"
            svg += "<line x1=\"\(margin.left)\" y1=\"\(top)\" x2=\"\(margin.left)\" y2=\"\(top + panelHeight)\" stroke=\"#333\"/>\n"
            for i in 0...4 {
                let value = maxValue * Double(i) / 4
                let y = top + panelHeight * (1 - Double(i) / 4)
                svg += "<line x1=\"\(margin.left)\" y1=\"\(y)\" x2=\"\(margin.left + plotWidth)\" y2=\"\(y)\" stroke=\"#eee\"/>\n"
                svg += "<text x=\"\(margin.left - 6)\" y=\"\(y + 4)\" text-anchor=\"end\">\(format(value))\(unit)</text>\n"
            }
            for i in 0...5 {
                let second = (seconds - 1) * i / 5
                svg += "<text x=\"\(x(second))\" y=\"\(top + panelHeight + 16)\" text-anchor=\"middle\">\(second)s</text>\n"
            }
        }
        func line(_ values: [Double], y: (Double) -> Double, color: String, dash: Bool = false) {
            guard !values.isEmpty else { return }
            let points = values.enumerated().map { "\(String(format: "%.1f", x($0.offset))),\(String(format: "%.1f", y($0.element)))" }
            svg +=
                "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\"\(dash ? " stroke-dasharray=\"4 3\"" : "") points=\"\(points.joined(separator: " "))\"/>\n"
        }
        func legend(_ items: [(String, String)], top: Double) {
            var offset = margin.left + 10
            for (label, color) in items {
                svg += "<rect x=\"\(offset)\" y=\"\(top - 22)\" width=\"12\" height=\"3\" fill=\"\(color)\"/>"
                svg += "<text x=\"\(offset + 16)\" y=\"\(top - 17)\">\(label)</text>\n"
                offset += Double(label.count) * 7 + 40
            }
        }
        axes(top: margin.top, maxValue: rateMax, unit: "/s")
        line(timeline.map(\.targetRate), y: yRate, color: "#999", dash: true)
        line(timeline.map { Double($0.counts.ok) }, y: yRate, color: "#2a7")
        let stored = storedPerSecond(timeline)
        if let stored { line(stored, y: yRate, color: "#15a", dash: true) }
        line(timeline.map { Double($0.counts.unavailable) }, y: yRate, color: "#d33")
        line(timeline.map { Double($0.counts.errors + $0.counts.tooManyRequests) }, y: yRate, color: "#e90")
        legend(
            [("target", "#999"), ("accepted (2xx)", "#2a7")] + (stored == nil ? [] : [("stored", "#15a")])
                + [("503", "#d33"), ("429/errors", "#e90")], top: margin.top + 14)
        axes(top: latencyTop, maxValue: latencyMax, unit: "ms")
        line(timeline.map(\.p50Milliseconds), y: yLatency, color: "#36c")
        line(timeline.map(\.p99Milliseconds), y: yLatency, color: "#c3c")
        legend([("p50 latency", "#36c"), ("p99 latency", "#c3c")], top: latencyTop + 14)
        svg += "</svg>\n"
        return svg
    }

    /// Events the server committed in each second, from its `pit_events_stored_total` samples;
    /// nil when the server did not report them.
    package static func storedPerSecond(_ timeline: [SecondSample]) -> [Double]? {
        let totals = timeline.map { $0.server?.storedTotal }
        guard totals.contains(where: { $0 != nil }) else { return nil }
        var previous = 0
        return totals.map { total in
            guard let total else { return 0 }
            defer { previous = total }
            return Double(max(0, total - previous))
        }
    }

    package static func niceCeiling(_ value: Double) -> Double {
        guard value > 0 else { return 1 }
        let magnitude = pow(10, floor(log10(value)))
        for factor in [1.0, 2, 2.5, 5, 10] where value <= factor * magnitude { return factor * magnitude }
        return 10 * magnitude
    }

    static func format(_ value: Double) -> String {
        func trimmed(_ number: Double) -> String {
            number == number.rounded()
                ? String(Int(number))
                : String(format: "%.2f", number)
                    .replacingOccurrences(of: #"\.?0+$"#, with: "", options: .regularExpression)
        }
        return value >= 1000 ? trimmed(value / 1000) + "k" : trimmed(value)
    }
}
