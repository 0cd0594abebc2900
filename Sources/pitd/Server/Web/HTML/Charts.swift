/// Charts as inline SVG, drawn on the server: no script, no image requests, and sizes in
/// attributes (not `style`) so a strict Content-Security-Policy holds.
enum Charts {
    /// A time series of equal buckets, oldest first.
    struct Series: Sendable {
        var values: [Int64]
        /// Start of the first bucket, epoch milliseconds.
        var start: Int64
        /// Bucket length: 3,600,000 for hourly, 86,400,000 for daily.
        var bucketMillis: Int64

        init(values: [Int64], start: Int64, bucketMillis: Int64 = 3_600_000) {
            self.values = values
            self.start = start
            self.bucketMillis = bucketMillis
        }

        /// Hourly buckets ending with the hour that contains `now`.
        static func hourly(_ values: [Int64], endingAt now: Int64) -> Series {
            let currentHour = now / 3_600_000
            return Series(values: values, start: (currentHour - Int64(values.count) + 1) * 3_600_000)
        }

        /// The last `hours` hours from a sparse hour → count map (`ReadStore.issueHourly`,
        /// `projectHourly`), zero-filled. Query it with `fromHour: Series.firstHour(hours:now:)`.
        static func hourly(_ counts: [Int64: Int64], hours: Int, now: Int64) -> Series {
            let first = firstHour(hours: hours, now: now)
            let values = (0..<Int64(hours)).map { counts[first + $0] ?? 0 }
            return Series(values: values, start: first * 3_600_000)
        }

        /// The last `days` UTC days, each the sum of its hours, from a sparse hour → count map
        /// covering at least `firstHour(days: days, now: now)` to now.
        static func daily(_ counts: [Int64: Int64], days: Int, now: Int64) -> Series {
            let firstDay = now / 86_400_000 - Int64(days) + 1
            var values = [Int64](repeating: 0, count: days)
            for (hour, count) in counts {
                let day = hour / 24 - firstDay
                if day >= 0 && day < Int64(days) { values[Int(day)] += count }
            }
            return Series(values: values, start: firstDay * 86_400_000, bucketMillis: 86_400_000)
        }

        /// The hour number (ms / 3,600,000) of the first bucket of an hourly chart of `hours`.
        static func firstHour(hours: Int, now: Int64) -> Int64 { now / 3_600_000 - Int64(hours) + 1 }

        /// The first hour of a daily chart of `days` (midnight UTC of the first day).
        static func firstHour(days: Int, now: Int64) -> Int64 { (now / 86_400_000 - Int64(days) + 1) * 24 }
    }

    /// A bar per bucket with a `<title>` each ("2026-11-22 05:00 UTC: 12 events"), so the figures
    /// show on hover and reach screen readers. The SVG stretches to the width of its container.
    static func bars(_ series: Series, noun: String, width: Int = 360, height: Int = 64, label: String) -> HTML {
        let count = max(series.values.count, 1)
        let maximum = max(series.values.max() ?? 0, 1)
        let slot = Double(width) / Double(count)
        let gap = slot > 6 ? 2.0 : 0.5
        let plotHeight = Double(height - 1)
        var out = HTML()
        out.reserveCapacity(count * 220 + 400)
        out +=
            "<svg class=\"chart\" viewBox=\"0 0 \(width) \(height)\" width=\"\(width)\" height=\"\(height)\" role=\"img\" aria-label=\"\(label)\" preserveAspectRatio=\"none\">"
        out += "<line class=\"axis\" x1=\"0\" y1=\"\(height)\" x2=\"\(width)\" y2=\"\(height)\"/>"
        for (index, value) in series.values.enumerated() {
            let x = Double(index) * slot
            let barHeight = value > 0 ? max(plotHeight * Double(value) / Double(maximum), 1.5) : 0
            let bucketStart = series.start + Int64(index) * series.bucketMillis
            let title = "\(bucketLabel(bucketStart, bucketMillis: series.bucketMillis)): \(Format.count(value)) \(noun)"
            out += "<g><title>\(title)</title><rect class=\"hit\" x=\"\(fixed(x))\" y=\"0\" width=\"\(fixed(slot))\" height=\"\(height)\"/>"
            if barHeight > 0 {
                out +=
                    "<rect class=\"bar\" x=\"\(fixed(x + gap / 2))\" y=\"\(fixed(Double(height) - barHeight))\" width=\"\(fixed(slot - gap))\" height=\"\(fixed(barHeight))\"/>"
            }
            out += "</g>"
        }
        out +=
            "</svg><div class=\"axislabels small muted\"><span>\(bucketLabel(series.start, bucketMillis: series.bucketMillis))</span><span>now</span></div>"
        return out
    }

    /// A 24-bar sparkline for a row of the issue list: one `<path>` for all bars, so a page of
    /// 100 issues adds 100 elements rather than 2,400. `label` says what the bars count.
    static func sparkline(_ values: [Int64], width: Int = 96, height: Int = 24, label: String? = nil) -> HTML {
        let count = max(values.count, 1)
        let maximum = max(values.max() ?? 0, 1)
        let slot = Double(width) / Double(count)
        var path = ""
        path.reserveCapacity(values.count * 28)
        for (index, value) in values.enumerated() where value > 0 {
            let barHeight = max(Double(height) * Double(value) / Double(maximum), 1)
            path += "M\(fixed(Double(index) * slot + 0.5)) \(height)v-\(fixed(barHeight))h\(fixed(max(slot - 1, 0.5)))v\(fixed(barHeight))z"
        }
        let total = values.reduce(0, +)
        let title = label ?? "\(Format.count(total)) events in the last \(values.count) hours"
        return
            "<svg class=\"spark\" viewBox=\"0 0 \(width) \(height)\" width=\"\(width)\" height=\"\(height)\" role=\"img\" aria-label=\"\(title)\"><title>\(title)</title><line class=\"axis\" x1=\"0\" y1=\"\(height)\" x2=\"\(width)\" y2=\"\(height)\"/><path d=\"\(path)\"/></svg>"
    }

    /// A histogram: one bar per bucket, each titled with its range and count ("126–158 ms: 4
    /// transactions"), and the outer bounds under it. `bounds` has one more entry than `counts`.
    static func histogram(_ counts: [Int64], bounds: [String], noun: String, width: Int = 720, height: Int = 120, label: String) -> HTML {
        let count = max(counts.count, 1)
        let maximum = max(counts.max() ?? 0, 1)
        let slot = Double(width) / Double(count)
        let gap = slot > 6 ? 2.0 : 0.5
        var out: HTML =
            "<svg class=\"chart\" viewBox=\"0 0 \(width) \(height)\" width=\"\(width)\" height=\"\(height)\" role=\"img\" aria-label=\"\(label)\" preserveAspectRatio=\"none\">"
        out += "<line class=\"axis\" x1=\"0\" y1=\"\(height)\" x2=\"\(width)\" y2=\"\(height)\"/>"
        for (index, value) in counts.enumerated() {
            let x = Double(index) * slot
            let barHeight = value > 0 ? max(Double(height - 1) * Double(value) / Double(maximum), 1.5) : 0
            let range = index + 1 < bounds.count ? "\(bounds[index])–\(bounds[index + 1])" : ""
            out +=
                "<g><title>\(range): \(Format.count(value)) \(noun)</title><rect class=\"hit\" x=\"\(fixed(x))\" y=\"0\" width=\"\(fixed(slot))\" height=\"\(height)\"/>"
            if barHeight > 0 {
                out +=
                    "<rect class=\"bar\" x=\"\(fixed(x + gap / 2))\" y=\"\(fixed(Double(height) - barHeight))\" width=\"\(fixed(slot - gap))\" height=\"\(fixed(barHeight))\"/>"
            }
            out += "</g>"
        }
        out += "</svg><div class=\"axislabels small muted\">"
        let marks = [0, counts.count / 2, counts.count].filter { $0 < bounds.count }
        for mark in marks { out += "<span>\(bounds[mark])</span>" }
        return out + "</div>"
    }

    /// Good / needs improvement / poor as a bar of three colours (Web Vitals), titled with the counts.
    static func split(good: Int, meh: Int, poor: Int, width: Int = 160, height: Int = 8) -> HTML {
        let total = good + meh + poor
        let title = "\(good) good, \(meh) need improvement, \(poor) poor"
        var out: HTML =
            "<svg class=\"split\" viewBox=\"0 0 \(width) \(height)\" width=\"\(width)\" height=\"\(height)\" role=\"img\" aria-label=\"\(title)\" preserveAspectRatio=\"none\"><title>\(title)</title><rect class=\"rest\" x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\"/>"
        guard total > 0 else { return out + "</svg>" }
        var x = 0.0
        for (part, kind) in [(good, "good"), (meh, "meh"), (poor, "poor")] where part > 0 {
            let segment = Double(width) * Double(part) / Double(total)
            out +=
                "<rect class=\"\(HTML(trusted: kind))\" x=\"\(fixed(x))\" y=\"0\" width=\"\(fixed(segment))\" height=\"\(height)\"/>"
            x += segment
        }
        return out + "</svg>"
    }

    /// A horizontal share bar (tag distributions): segments of `parts` out of `total`.
    static func shareBar(_ parts: [Int64], total: Int64, width: Int = 240, height: Int = 8) -> HTML {
        var out: HTML =
            "<svg class=\"share\" viewBox=\"0 0 \(width) \(height)\" width=\"\(width)\" height=\"\(height)\" aria-hidden=\"true\" preserveAspectRatio=\"none\"><rect class=\"rest\" x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\"/>"
        guard total > 0 else { return out + "</svg>" }
        var x = 0.0
        for (index, part) in parts.enumerated() {
            let segment = Double(width) * Double(part) / Double(total)
            out += "<rect class=\"seg s\(index % 5)\" x=\"\(fixed(x))\" y=\"0\" width=\"\(fixed(segment))\" height=\"\(height)\"/>"
            x += segment
        }
        return out + "</svg>"
    }

    /// `2026-11-22 05:00 UTC` for hours, `2026-11-22` for days.
    private static func bucketLabel(_ milliseconds: Int64, bucketMillis: Int64) -> String {
        let exact = Format.exact(milliseconds)
        return bucketMillis >= 86_400_000 ? String(exact.prefix(10)) : String(exact.prefix(16)) + " UTC"
    }

    /// Two decimals at most, without `Double.description`'s exponent forms.
    private static func fixed(_ value: Double) -> String {
        let hundredths = Int64((value * 100).rounded())
        let whole = hundredths / 100
        let fraction = abs(hundredths % 100)
        if fraction == 0 { return String(whole) }
        return fraction % 10 == 0 ? "\(whole).\(fraction / 10)" : "\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
