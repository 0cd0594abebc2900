import PitModel
import PitQuery
import PitStorage

/// What the flame graph page shows: the profile, its graph (nil when its JSON cannot be read
/// as a sample profile) and the transaction it was recorded in, when stored.
struct FlameGraphModel: Sendable {
    var project: Project
    var profile: ProfileRow
    var graph: FlameGraph?
    var payloadError: String?
    var transaction: TransactionRow?
}

/// `/organizations/{org}/profiling/profile/{project}/{profile_id}/flamegraph/`: the sampled
/// stacks as a server-rendered SVG flame graph (root on top, width ∝ samples), coloured by
/// package, with each call's full name and share of samples on hover.
enum FlameGraphPage {
    /// The SVG's user units: rectangles are laid out on this width and scale with the page.
    static let width = 1240.0
    static let rowHeight = 18.0
    /// An estimate of one character's width at the SVG's 11 px monospace font.
    static let characterWidth = 6.7

    static func render(_ model: FlameGraphModel, chrome: Chrome) -> HTML {
        let org = chrome.organizationSlug
        let profile = model.profile
        var body: HTML =
            "<div class=\"pagehead\"><div><div class=\"small muted\"><a href=\"\(SafeURL(path: Paths.projectEvents(org: org, project: model.project.slug)))\">\(model.project.name)</a> · profile</div>"
        if let transaction = model.transaction {
            body +=
                "<h1>\(Format.truncated(transaction.name, limit: 300))</h1><div class=\"issue-sub\">Transaction <a class=\"mono\" href=\"\(SafeURL(path: Paths.projectEvent(org: org, project: model.project.slug, eventID: transaction.eventID.hex)))\">\(transaction.eventID.hex.prefix(8))</a> · trace <a class=\"mono\" href=\"\(SafeURL(path: Paths.trace(org: org, traceID: transaction.traceID)))\">\(transaction.traceID.hex.prefix(8))</a>"
        } else {
            body += "<h1>Profile</h1><div class=\"issue-sub\">Transaction <code>\(profile.transactionID.hex.prefix(8))</code> (not stored)"
            if let trace = profile.traceID {
                body +=
                    " · trace <a class=\"mono\" href=\"\(SafeURL(path: Paths.trace(org: org, traceID: trace)))\">\(trace.hex.prefix(8))</a>"
            }
        }
        body += "</div></div></div>"
        body += "<div class=\"card\"><div class=\"toolbar small\"><span>Profile <code>\(profile.profileID.hex)</code></span>"
        body += "<span class=\"muted\">·</span><span>\(Format.time(profile.timestamp, now: chrome.now))</span>"
        body += "<span class=\"muted\">platform</span> <code>\(profile.platform)</code>"
        body += "<span class=\"muted\">duration</span> <code>\(WaterfallView.duration(profile.duration))</code>"
        body += "<span class=\"muted\">samples (all threads)</span> <code>\(Format.count(profile.sampleCount))</code>"
        body += "</div></div>"
        guard let graph = model.graph, graph.totalSamples > 0 else {
            let reason = model.payloadError.map { "The \(Format.truncated($0, limit: 400))." } ?? "This profile has no samples to draw."
            body += Widgets.empty("\(reason)")
            return Layout.page(title: "Profile \(profile.profileID.hex)", chrome: chrome, body: body)
        }
        body += "<h2>Flame graph <span class=\"muted small\">\(Format.count(graph.totalSamples)) samples"
        body += " of the transaction's thread, heaviest calls on the left; hover a frame for its full name and share</span></h2>"
        body += "<div class=\"card flame-card\">\(svg(graph))</div>"
        if graph.omitted > 0 {
            body +=
                "<p class=\"muted small\">\(Format.count(graph.omitted)) \(graph.omitted == 1 ? "call" : "calls") under 0.1 % of the samples (or past \(Format.count(FlameGraph.defaultMaxRects)) frames) not drawn.</p>"
        }
        body += legend(graph)
        return Layout.page(title: "Profile \(profile.profileID.hex)", chrome: chrome, body: body)
    }

    static func svg(_ graph: FlameGraph) -> HTML {
        let height = Double(max(1, graph.depth)) * rowHeight
        var out = HTML()
        out.reserveCapacity(graph.rects.count * 320 + 512)
        out +=
            "<svg class=\"flame\" viewBox=\"0 0 \(WaterfallView.number(width)) \(WaterfallView.number(height))\" role=\"img\" aria-label=\"Flame graph\">"
        let total = Int64(graph.totalSamples)
        for rect in graph.rects {
            let frame = graph.frames[rect.frame]
            let x = rect.x * width
            let w = rect.width * width
            let y = Double(rect.depth) * rowHeight
            let location = frame.file.map { " (\($0))" } ?? ""
            let share = Format.percent(Int64(rect.samples), of: total)
            let title = "\(frame.function)\(location)\n\(Format.count(rect.samples)) samples, \(share)"
            out += "<g><title>\(title)</title>"
            out +=
                "<rect x=\"\(WaterfallView.number(x))\" y=\"\(WaterfallView.number(y))\" width=\"\(WaterfallView.number(max(0.5, w - 0.5)))\" height=\"\(WaterfallView.number(rowHeight - 1))\" fill=\"\(colour(frame))\"/>"
            if let label = label(frame, width: w) {
                out +=
                    "<text x=\"\(WaterfallView.number(x + 4))\" y=\"\(WaterfallView.number(y + rowHeight - 5.5))\">\(label)</text>"
            }
            out += "</g>"
        }
        out += "</svg>"
        return out
    }

    /// The function, then its file when there is room, cut to the rectangle's width; nil when
    /// not even a few characters fit.
    static func label(_ frame: FlameGraph.Frame, width: Double) -> String? {
        let fits = Int((width - 8) / characterWidth)
        guard fits >= 3 else { return nil }
        var text = frame.function
        if let file = frame.file, text.count + file.count + 3 <= fits { text += " · " + file }
        guard text.count > fits else { return text }
        return String(text.prefix(fits - 1)) + "…"
    }

    /// A hue per package; in-app frames saturated, library and system frames pale, so the
    /// application's own code stands out.
    static func colour(_ frame: FlameGraph.Frame) -> String {
        let hue = hue(frame.package ?? frame.file ?? frame.function)
        return frame.inApp == false ? "hsl(\(hue),28%,80%)" : "hsl(\(hue),62%,70%)"
    }

    static func hue(_ key: String) -> Int {
        var hash: UInt32 = 2_166_136_261
        for byte in key.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        // Warm and cool hues, skipping the reds the page uses for errors.
        return 20 + Int(hash % 300)
    }

    /// The packages with most samples directly in the top level of their calls.
    private static func legend(_ graph: FlameGraph) -> HTML {
        var byPackage: [String: (samples: Int, inApp: Bool)] = [:]
        for rect in graph.rects {
            let frame = graph.frames[rect.frame]
            let key = frame.package ?? frame.file ?? "?"
            let current = byPackage[key] ?? (0, false)
            byPackage[key] = (max(current.samples, rect.samples), current.inApp || frame.inApp == true)
        }
        let top = byPackage.sorted { ($0.value.samples, $1.key) > ($1.value.samples, $0.key) }.prefix(12)
        guard !top.isEmpty else { return "" }
        var out: HTML = "<div class=\"flame-legend small\"><span class=\"muted\">Packages</span>"
        for (package, info) in top {
            let fill = colour(FlameGraph.Frame(function: "", package: package, inApp: info.inApp ? true : false))
            out +=
                "<span class=\"nowrap\"><svg class=\"swatch\" viewBox=\"0 0 10 10\" aria-hidden=\"true\"><rect width=\"10\" height=\"10\" rx=\"2\" fill=\"\(fill)\"/></svg> \(package)</span>"
        }
        out += "</div>"
        return out
    }
}
