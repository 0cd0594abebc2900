import PitQuery
import PitStorage

/// `/organizations/{org}/projects/{slug}/stats/`: what the project received and what was
/// dropped and why, over the last 24 hours or 7 days: per data category, what was accepted,
/// filtered, rate limited, invalid or discarded by the SDK itself, with the reasons.
enum OutcomesPage {
    /// The outcomes shown as columns, in Sentry's order.
    static let columns: [(OutcomeKind, String)] = [
        (.accepted, "Accepted"), (.filtered, "Filtered"), (.rateLimited, "Rate limited"), (.invalid, "Invalid"),
        (.clientDiscard, "Client discarded"),
    ]

    static func render(_ model: OutcomesModel, chrome: Chrome) -> HTML {
        let org = chrome.organizationSlug
        let project = model.project
        var body = HTML()
        body +=
            "<div class=\"pagehead\"><div><h1>Stats</h1><div class=\"muted\">\(project.name): what was received, and what was dropped and why</div></div>"
        body += "<span class=\"sorts\">"
        for period in OutcomesModel.periods {
            let href = Paths.projectStats(org: org, project: project.slug, statsPeriod: period == "24h" ? nil : period)
            body += "<a href=\"\(SafeURL(path: href))\"\(HTML.when(model.statsPeriod == period, " class=\"current\""))>\(period)</a>"
        }
        body += "</span></div>"
        let categories = model.summary.categories
        if categories.isEmpty {
            body += Widgets.empty("Nothing received in the last \(model.statsPeriod == "24h" ? "24 hours" : "7 days").")
            return Layout.page(title: "Stats · \(project.name)", chrome: chrome, body: body)
        }
        body += "<div class=\"card\"><table class=\"outcomes\"><thead><tr><th>Category</th>"
        for (_, label) in columns { body += "<th class=\"num\">\(label)</th>" }
        body += "</tr></thead><tbody>"
        for category in categories {
            body += "<tr><td><b>\(category.name)</b></td>"
            for (outcome, _) in columns {
                let value = category.quantity(outcome)
                let kind: HTML = outcome == .accepted ? "" : (value > 0 ? " dropped" : "")
                body += "<td class=\"num\(kind)\">\(value == 0 ? "–" : Format.count(value))</td>"
            }
            body += "</tr>"
        }
        body += "</tbody></table></div>"

        body += "<h2>Dropped, and why</h2>"
        var any = false
        body +=
            "<div class=\"card\"><table><thead><tr><th>Category</th><th>Outcome</th><th>Reason</th><th class=\"num\">Quantity</th></tr></thead><tbody>"
        for category in categories {
            for line in category.lines where line.outcome != .accepted {
                for reason in line.reasons {
                    any = true
                    let label = columns.first { $0.0 == line.outcome }?.1 ?? line.outcome.rawValue
                    body +=
                        "<tr><td>\(category.name)</td><td>\(label)</td><td class=\"mono\" title=\"\(explanation(line.outcome, reason.reason))\">\(reason.reason)</td><td class=\"num\">\(Format.count(reason.quantity))</td></tr>"
                }
            }
        }
        if !any { body += "<tr><td colspan=\"4\" class=\"muted\">Nothing was dropped.</td></tr>" }
        body += "</tbody></table>"
        body +=
            "<p class=\"small muted\">Client discarded: counted by the SDK itself and sent in its client reports (for example <span class=\"mono\">before_send</span>, <span class=\"mono\">sample_rate</span>, <span class=\"mono\">network_error</span>). Rate limited: refused with 429 (<span class=\"mono\">key_quota</span>: the DSN key's rate limit). Invalid: refused with 400 or 413, or a duplicate event id. Attachments count bytes.</p>"
        body += "</div>"
        return Layout.page(title: "Stats · \(project.name)", chrome: chrome, body: body)
    }

    /// A tooltip for the common reasons.
    static func explanation(_ outcome: OutcomeKind, _ reason: String) -> String {
        switch reason {
        case "key_quota": "The DSN key's rate limit was exceeded (429)."
        case "too_large": "The request or an item was larger than the limits (413)."
        case "duplicate": "An event with this id was stored already."
        case "before_send": "The SDK's before_send hook dropped it."
        case "sample_rate": "The SDK's sample rate dropped it."
        case "event_processor": "An event processor in the SDK dropped it."
        case "network_error": "The SDK could not send it (network error or a 5xx answer)."
        case "ratelimit_backoff": "The SDK dropped it while backing off after a 429."
        case "queue_overflow": "The SDK's transport queue was full."
        default: "\(outcome.rawValue): \(reason)"
        }
    }
}

struct OutcomesModel: Sendable {
    static let periods = ["24h", "7d"]

    var project: Project
    /// "24h" or "7d".
    var statsPeriod: String
    var summary: OutcomeSummary
}
