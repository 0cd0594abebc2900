import PitQuery
import PitStorage

/// What the Web Vitals page shows.
struct WebVitalsModel: Sendable {
    var project: Project
    var filters: PerformanceFilters
    var environments: [String]
    var vitals: WebVitals

    /// Page loads read at most: the newest of the period, through the partial index of
    /// transactions with measurements. Measured on SQLite with 200,000 transactions a day (40,000
    /// of them page loads) and 4,000,000 spans: reading 10,000 takes 46 ms; the whole page 460 ms
    /// in a debug build, most of it parsing the measurements (24 µs each there, unoptimised).
    static let sampleCap = 10_000
    static let pagesShown = 100
}

/// `/organizations/{org}/projects/{project}/performance/vitals/`: LCP, FCP, CLS, INP and TTFB of
/// browser page loads: p75 per page with the good / needs improvement / poor split.
enum WebVitalsPage {
    static func render(_ model: WebVitalsModel, chrome: Chrome) -> HTML {
        let org = chrome.organizationSlug
        let project = model.project
        let vitals = model.vitals
        var body = PerformanceParts.head(
            title: "Web Vitals", subtitle: "\(project.name) · browser page loads of the \(model.filters.period.label.lowercased())",
            tab: .vitals, project: project, filters: model.filters, org: org)
        body += PerformanceParts.filterForm(
            action: Paths.webVitals(org: org, project: project.slug), filters: model.filters, environments: model.environments,
            hidden: [])
        guard vitals.overall.transactions > 0 else {
            body += Widgets.empty(
                "No page loads with Web Vitals in this period. Browser SDKs send them as <code>measurements</code> of pageload transactions."
            )
            return Layout.page(title: "Web Vitals · \(project.name)", chrome: chrome, body: body)
        }
        body += "<div class=\"vitals\">"
        for vital in WebVitals.Vital.allCases {
            let score = vitals.overall.scores[vital] ?? WebVitals.Score()
            body +=
                "<section class=\"card vital vital-\(vital.rawValue)\"><div class=\"small muted\" title=\"\(vital.title)\">\(vital.label) · \(vital.title)</div>"
            if let p75 = score.p75 {
                let rating = vital.rating(p75)
                body +=
                    "<div class=\"big \(ratingClass(rating))\">\(value(vital, p75))</div><div class=\"small muted\">p75 of \(Format.count(score.count)) · \(label(rating))</div>"
            } else {
                body += "<div class=\"big muted\">–</div><div class=\"small muted\">not measured</div>"
            }
            body += Charts.split(good: score.good, meh: score.needsImprovement, poor: score.poor, width: 180)
            let (good, meh, poor) = (
                percent(score.good, score.count), percent(score.needsImprovement, score.count), percent(score.poor, score.count)
            )
            body += "<div class=\"small muted\">\(good) good · \(meh) needs improvement · \(poor) poor</div></section>"
        }
        body += "</div>"
        body += "<table class=\"list perf vitals-pages\"><thead><tr><th>Page</th><th class=\"num\">Page loads</th>"
        for vital in WebVitals.Vital.allCases {
            body += "<th title=\"\(vital.title), p75\">\(vital.label) <span class=\"nocase\">p75</span></th>"
        }
        body += "</tr></thead><tbody>"
        for page in vitals.pages.prefix(WebVitalsModel.pagesShown) {
            let href = Paths.transactionSummary(org: org, project: project.slug, transaction: page.name, filters: model.filters)
            body +=
                "<tr><td><a class=\"mono\" href=\"\(SafeURL(path: href))\">\(Format.truncated(page.name, limit: 120))</a></td><td class=\"num\">\(Format.count(page.transactions))</td>"
            for vital in WebVitals.Vital.allCases {
                guard let score = page.scores[vital], let p75 = score.p75 else {
                    body += "<td class=\"muted\">–</td>"
                    continue
                }
                body +=
                    "<td class=\"nowrap\"><b class=\"\(ratingClass(vital.rating(p75)))\">\(value(vital, p75))</b>\(Charts.split(good: score.good, meh: score.needsImprovement, poor: score.poor, width: 90, height: 6))</td>"
            }
            body += "</tr>"
        }
        body += "</tbody></table>"
        var note =
            "p75 of each vital; good / needs improvement / poor by web.dev's thresholds: LCP 2.5 s / 4 s, FCP 1.8 s / 3 s, CLS 0.1 / 0.25, INP 200 ms / 500 ms, TTFB 0.8 s / 1.8 s."
        if vitals.sampled >= WebVitalsModel.sampleCap {
            note += " From the newest \(Format.count(WebVitalsModel.sampleCap)) page loads of the period."
        }
        body += "<p class=\"small muted\">\(note)</p>"
        return Layout.page(title: "Web Vitals · \(project.name)", chrome: chrome, body: body)
    }

    static func value(_ vital: WebVitals.Vital, _ value: Double) -> String {
        vital.isTiming ? PerformanceFormat.milliseconds(value) : PerformanceFormat.decimals(value, 3)
    }

    static func ratingClass(_ rating: WebVitals.Rating) -> HTML {
        switch rating {
        case .good: "r-good"
        case .needsImprovement: "r-meh"
        case .poor: "r-poor"
        }
    }

    static func label(_ rating: WebVitals.Rating) -> String {
        switch rating {
        case .good: "good"
        case .needsImprovement: "needs improvement"
        case .poor: "poor"
        }
    }

    static func percent(_ part: Int, _ total: Int) -> String { Format.percent(Int64(part), of: Int64(total)) }
}
