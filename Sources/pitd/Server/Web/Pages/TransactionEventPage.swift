import PitModel
import PitQuery
import PitStorage

/// What a transaction's event page shows: the transaction, its own spans and errors laid out,
/// and the profiles recorded in it.
struct TransactionEventModel: Sendable {
    var project: Project
    var transaction: StoredTransaction
    var waterfall: TraceWaterfall
    var profiles: [ProfileRow]
    /// Transactions of the trace besides this one (in the organisation's projects).
    var otherTransactions: Int
}

/// `/organizations/{org}/projects/{slug}/events/{eventID}/` for a transaction: its facts, the
/// link to its trace and profile, and its spans as a waterfall.
enum TransactionEventPage {
    static func render(_ model: TransactionEventModel, chrome: Chrome) -> HTML {
        let org = chrome.organizationSlug
        let row = model.transaction.row
        var body: HTML =
            "<div class=\"pagehead\"><div><div class=\"small muted\"><a href=\"\(SafeURL(path: Paths.projectEvents(org: org, project: model.project.slug)))\">\(model.project.name) events</a> · transaction</div>"
        body += "<h1>\(Format.truncated(row.name, limit: 300))</h1>"
        body +=
            "<div class=\"issue-sub\"><span class=\"wf-op\">\(row.op)</span> · \(WaterfallView.duration(row.duration)) · status \(row.status)</div>"
        body += "</div></div>"

        body += "<div class=\"card\"><div class=\"toolbar small\"><span>Event <code>\(row.eventID.hex)</code></span>"
        body += "<span class=\"muted\">·</span><span>\(Format.time(row.start / 1000, now: chrome.now))</span>"
        if let release = row.release { body += "<span class=\"muted\">release</span> <code>\(release)</code>" }
        body += "<span class=\"muted\">env</span> <code>\(row.environment)</code>"
        if let platform = row.platform { body += "<span class=\"muted\">platform</span> <code>\(platform)</code>" }
        if let rate = row.sampleRate { body += "<span class=\"muted\">sample rate</span> <code>\(WaterfallView.number(rate))</code>" }
        body += "</div>"
        if let problem = model.transaction.payloadError {
            body += "<div class=\"flash error\">The \(Format.truncated(problem, limit: 400)); only the indexed fields are shown.</div>"
        }
        body +=
            "<div class=\"trace-link\">Trace <a class=\"mono\" href=\"\(SafeURL(path: Paths.trace(org: org, traceID: row.traceID)))\">\(row.traceID.hex)</a>"
        if model.otherTransactions > 0 {
            body +=
                " <span class=\"muted\">with \(Format.count(model.otherTransactions)) other \(model.otherTransactions == 1 ? "transaction" : "transactions")</span>"
        }
        body += " · <a href=\"\(SafeURL(path: Paths.trace(org: org, traceID: row.traceID)))\">View trace</a>"
        for profile in model.profiles {
            body +=
                " · <a class=\"badge wf-profile\" href=\"\(SafeURL(path: Paths.profile(org: org, project: model.project.slug, profileID: profile.profileID)))\">Profile</a> <span class=\"muted small\">\(Format.count(profile.sampleCount)) samples, \(profile.platform)</span>"
        }
        body += "</div></div>"

        body += "<h2>Spans</h2>"
        body += WaterfallView.render(
            model.waterfall, org: org, projects: [model.project.id: model.project],
            profiles: Dictionary(model.profiles.map { ($0.transactionID, $0) }, uniquingKeysWith: { first, _ in first }),
            currentEvent: row.eventID)
        if let measurements = row.measurements {
            body += "<h2>Measurements</h2><div class=\"card\"><pre>\(Format.truncated(measurements, limit: 4000))</pre></div>"
        }
        return Layout.page(title: "Transaction \(row.name)", chrome: chrome, body: body)
    }
}
