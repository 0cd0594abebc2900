import PitModel
import PitQuery
import PitStorage

/// What the trace view shows: the trace laid out (`TraceWaterfall`), with the projects its rows
/// belong to and the profiles recorded in its transactions.
struct TraceModel: Sendable {
    var traceID: TraceID
    var waterfall: TraceWaterfall
    var projects: [Int64: Project]
    /// Profiles by the event id of the transaction they were recorded in.
    var profiles: [EventID: ProfileRow]
    /// True when the store held more of one kind than was read: the counts are lower bounds.
    var truncated: Bool
}

/// `/organizations/{org}/performance/trace/{trace_id}/`: every transaction, span and error event
/// of a trace as a waterfall.
enum TracePage {
    static func render(_ model: TraceModel, chrome: Chrome) -> HTML {
        let waterfall = model.waterfall
        var body: HTML = "<div class=\"pagehead\"><div><div class=\"small muted\">Performance · trace view</div>"
        body += "<h1>Trace <span class=\"trace-id\">\(model.traceID.hex)</span></h1><div class=\"issue-sub\">"
        var facts: [HTML] = []
        if waterfall.transactionCount + waterfall.spanCount + waterfall.errorCount > 0 {
            facts.append("\(WaterfallView.duration(waterfall.duration))")
            facts.append("started \(Format.time(waterfall.start / 1000, now: chrome.now))")
        }
        let more = model.truncated ? "+" : ""
        let transactionNoun = waterfall.transactionCount == 1 ? "transaction" : "transactions"
        facts.append("\(Format.count(waterfall.transactionCount))\(more) \(transactionNoun)")
        facts.append("\(Format.count(waterfall.spanCount))\(more) \(waterfall.spanCount == 1 ? "span" : "spans")")
        let errorNoun = waterfall.errorCount == 1 ? "error" : "errors"
        facts.append(
            waterfall.errorCount > 0
                ? "<span class=\"wf-errcount\">\(Format.count(waterfall.errorCount))\(more) \(errorNoun)</span>"
                : "0 errors")
        let projectNames = Set(waterfall.rows.map(\.projectID)).compactMap { model.projects[$0]?.name }
            .sorted { $0.lowercased() < $1.lowercased() }
        if !projectNames.isEmpty {
            facts.append("\(projectNames.count == 1 ? "project" : "projects") \(projectNames.joined(separator: ", "))")
        }
        body += HTML.join(facts, separator: " · ")
        body += "</div></div></div>"
        guard !waterfall.rows.isEmpty else {
            body += Widgets.empty(
                "Nothing of this trace is stored in this organisation's projects: no transaction, span or error event carries its id.")
            return Layout.page(title: "Trace \(model.traceID.hex)", chrome: chrome, body: body)
        }
        body += WaterfallView.render(
            waterfall, org: chrome.organizationSlug, projects: model.projects, profiles: model.profiles, currentEvent: nil)
        return Layout.page(title: "Trace \(model.traceID.hex)", chrome: chrome, body: body)
    }
}

/// The waterfall shared by the trace view and a transaction's page. Bars are inline SVG (the
/// page's policy forbids inline styles), each row scaled to the trace's extent; indentation is a
/// class per depth level, deeper levels shown at the last one with their depth.
enum WaterfallView {
    /// Indentation levels the stylesheet has classes for (`TraceStyles`).
    static let maxIndent = 24

    static func render(
        _ waterfall: TraceWaterfall, org: String, projects: [Int64: Project], profiles: [EventID: ProfileRow], currentEvent: EventID?
    ) -> HTML {
        var out = HTML()
        out.reserveCapacity(600 * waterfall.rows.count + 2048)
        out += "<div class=\"wf\" role=\"table\" aria-label=\"Trace waterfall\">"
        out +=
            "<div class=\"wf-row wf-head\" role=\"row\"><div role=\"columnheader\">Operation</div><div class=\"wf-axis\" role=\"columnheader\">"
        for step in 0...4 { out += "<span>\(duration(waterfall.duration * Int64(step) / 4))</span>" }
        out += "</div><div class=\"num\" role=\"columnheader\">Duration</div></div>"
        for row in waterfall.rows {
            out += self.row(
                row, traceStart: waterfall.start, org: org, projects: projects, profiles: profiles, currentEvent: currentEvent)
        }
        out += "</div>"
        if waterfall.omitted > 0 {
            out +=
                "<p class=\"muted small\">\(Format.count(waterfall.omitted)) more \(waterfall.omitted == 1 ? "row" : "rows") not shown: a trace shows its first \(Format.count(waterfall.rows.count)).</p>"
        }
        return out
    }

    private static func row(
        _ row: TraceWaterfall.Row, traceStart: Int64, org: String, projects: [Int64: Project], profiles: [EventID: ProfileRow],
        currentEvent: EventID?
    ) -> HTML {
        let project = projects[row.projectID]
        var classes = "wf-row"
        var name = HTML()
        switch row.kind {
        case .transaction(let transaction):
            classes += " wf-tx"
            if transaction.eventID == currentEvent { classes += " wf-current" }
            name += "<span class=\"wf-op\">\(row.op)</span> "
            if let project {
                name +=
                    "<a class=\"wf-desc\" href=\"\(SafeURL(path: Paths.projectEvent(org: org, project: project.slug, eventID: transaction.eventID.hex)))\" title=\"\(transaction.name)\">\(Format.truncated(transaction.name, limit: 160))</a>"
            } else {
                name += "<span class=\"wf-desc\" title=\"\(transaction.name)\">\(Format.truncated(transaction.name, limit: 160))</span>"
            }
            if let project, projects.count > 1 { name += " <span class=\"badge\">\(project.slug)</span>" }
            if let profile = profiles[transaction.eventID], let project {
                name +=
                    " <a class=\"badge wf-profile\" href=\"\(SafeURL(path: Paths.profile(org: org, project: project.slug, profileID: profile.profileID)))\" title=\"Flame graph of the profile recorded in this transaction\">Profile</a>"
            }
        case .span(let span):
            name += "<span class=\"wf-op\">\(row.op)</span> "
            name += "<span class=\"wf-desc\" title=\"\(span.description)\">\(Format.truncated(span.description, limit: 160))</span>"
        case .error(let error):
            classes += " wf-orphan"
            name += "<span class=\"wf-op\">error</span> "
            name += errorLink(error, org: org, project: project, label: Format.truncated(error.title, limit: 160))
        }
        if !row.errors.isEmpty { classes += " wf-err" }
        // An orphan error's row is the error itself: its title is the row, a status would repeat it.
        if case .error = row.kind {
        } else {
            for error in row.errors.prefix(5) {
                name += " " + errorLink(error, org: org, project: project, label: nil)
            }
            if row.errors.count > 5 { name += " <span class=\"muted small\">+\(row.errors.count - 5)</span>" }
            if !["ok", "unknown", ""].contains(row.status) { name += " <span class=\"badge wf-status\">\(row.status)</span>" }
        }
        let depth = row.depth
        var out: HTML = "<div class=\"\(classes)\" role=\"row\"><div class=\"wf-name wf-d\(min(depth, maxIndent))\" role=\"cell\">"
        if depth > maxIndent { out += "<span class=\"wf-depth\" title=\"depth \(depth)\">\(depth)</span>" }
        out += name
        let at = "starts at +\(duration(row.start - traceStart))" + (row.duration > 0 ? ", lasts \(duration(row.duration))" : "")
        out += "</div><div class=\"wf-bar\" role=\"cell\" title=\"\(at)\">\(bar(row))</div>"
        out += "<div class=\"num wf-dur\" role=\"cell\">\(row.duration > 0 || row.width > 0 ? duration(row.duration) : "")</div></div>"
        return out
    }

    /// An error event as a link to its page: a dot and the issue's short id, the title on hover.
    private static func errorLink(_ error: TraceErrorRow, org: String, project: Project?, label: String?) -> HTML {
        let shortID = project.map { SentryAPIRenderer.shortID(projectSlug: $0.slug, number: error.shortID) } ?? "error"
        let text: HTML = label.map { "\(shortID) · \($0)" } ?? "\(shortID)"
        guard let project else { return "<span class=\"wf-error\" title=\"\(error.title)\">\(text)</span>" }
        return
            "<a class=\"wf-error\" href=\"\(SafeURL(path: Paths.projectEvent(org: org, project: project.slug, eventID: error.eventID.hex)))\" title=\"\(error.title)\">\(text)</a>"
    }

    /// The row's bar on a 1000-wide canvas stretched to the cell, with grid lines at quarters and
    /// a mark where each of its errors happened.
    private static func bar(_ row: TraceWaterfall.Row) -> HTML {
        var out: HTML =
            "<svg class=\"wf-svg\" viewBox=\"0 0 1000 16\" preserveAspectRatio=\"none\" aria-hidden=\"true\"><path class=\"wf-grid\" d=\"M250 0V16M500 0V16M750 0V16\"/>"
        let kind: HTML
        switch row.kind {
        case .transaction: kind = "wf-b wf-b-tx"
        case .span: kind = HTML(trusted: "wf-b wf-op\(opColour(row.op))")
        case .error: kind = ""
        }
        if !kind.isEmpty {
            let x = min(998, row.offset * 1000)
            let width = max(2, min(1000 - x, row.width * 1000))
            let failed: HTML = ["ok", "unknown", "cancelled", ""].contains(row.status) ? "" : " wf-b-failed"
            out += "<rect class=\"\(kind)\(failed)\" x=\"\(number(x))\" y=\"3\" width=\"\(number(width))\" height=\"10\" rx=\"1\"/>"
        }
        for offset in row.errorOffsets {
            out += "<rect class=\"wf-mark\" x=\"\(number(min(996, max(0, offset * 1000 - 2))))\" y=\"0\" width=\"4\" height=\"16\"/>"
        }
        out += "</svg>"
        return out
    }

    /// One of eight colours by the op's first segment (`db`, `http`, `ui`…), so one kind of work
    /// keeps its colour across the trace.
    static func opColour(_ op: String) -> Int {
        let category = op.split(separator: ".", maxSplits: 1).first.map(String.init) ?? op
        var hash: UInt32 = 2_166_136_261
        for byte in category.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return Int(hash % 8)
    }

    static func number(_ value: Double) -> String {
        let hundredths = Int((value * 100).rounded())
        let whole = "\(hundredths < 0 ? "-" : "")\(abs(hundredths) / 100)"
        let fraction = abs(hundredths) % 100
        if fraction == 0 { return whole }
        return fraction % 10 == 0 ? "\(whole).\(fraction / 10)" : "\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// `0.42 ms`, `12.3 ms`, `850 ms`, `1.25 s`, `2 min 5 s`, from microseconds.
    static func duration(_ microseconds: Int64) -> String {
        let us = max(0, microseconds)
        if us < 1000 { return "\(number(Double(us) / 1000)) ms" }
        if us < 10_000 { return "\(number((Double(us) / 100).rounded() / 10)) ms" }
        if us < 1_000_000 { return "\((us + 500) / 1000) ms" }
        if us < 60_000_000 { return "\(number((Double(us) / 10_000).rounded() / 100)) s" }
        let seconds = (us + 500_000) / 1_000_000
        return "\(seconds / 60) min \(seconds % 60) s"
    }
}
