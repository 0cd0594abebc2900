import PitQuery
import PitStorage

/// `/organizations/{org}/releases/`: every release of every project.
enum ReleasesPage {
    static func render(_ model: ReleasesModel, chrome: Chrome) -> HTML {
        let org = chrome.organizationSlug
        var body: HTML = "<div class=\"pagehead\"><h1>Releases</h1></div>"
        guard !model.releases.isEmpty else {
            body += Widgets.empty("No releases yet. Events and sessions with a <code>release</code> create them.")
            return Layout.page(title: "Releases", chrome: chrome, body: body)
        }
        body +=
            "<table class=\"list\"><thead><tr><th>Version</th><th>Project</th><th>First seen</th><th>Last seen</th><th class=\"num\">Events</th><th class=\"num\">New issues</th>"
            + "<th class=\"num\">Sessions</th><th class=\"num\">Crash-free sessions</th><th class=\"num\">Crash-free users</th><th class=\"num\">Adoption (24 h)</th></tr></thead><tbody>"
        for release in model.releases {
            let project = model.projects[release.projectID]
            body +=
                "<tr class=\"kbd-row\"><td><a class=\"mono row-link\" href=\"\(SafeURL(path: Paths.release(org: org, version: release.version)))\">\(Format.truncated(release.version, limit: 120))</a></td>"
            body += "<td>\(project?.name ?? "project \(release.projectID)")</td>"
            if release.firstSeen == 0 {
                body += "<td class=\"nowrap small muted\">–</td><td class=\"nowrap small muted\">–</td>"
            } else {
                body +=
                    "<td class=\"nowrap small\">\(Format.time(release.firstSeen, now: chrome.now))</td><td class=\"nowrap small\">\(Format.time(release.lastSeen, now: chrome.now))</td>"
            }
            body += "<td class=\"num\">\(Format.count(release.events))</td><td class=\"num\">\(Format.count(release.newIssues))</td>"
            body += HealthCells.summary(model.health[ReleaseHealth.Key(projectID: release.projectID, release: release.version)])
            body += "</tr>"
        }
        body += "</tbody></table>"
        return Layout.page(title: "Releases", chrome: chrome, body: body)
    }
}

/// `/organizations/{org}/releases/{version}/`: one version across the projects that saw it.
enum ReleaseDetailPage {
    static func render(_ model: ReleaseDetailModel, chrome: Chrome) -> HTML {
        let org = chrome.organizationSlug
        var body: HTML =
            "<div class=\"pagehead\"><div><div class=\"small muted\"><a href=\"\(SafeURL(path: Paths.releases(org: org)))\">Releases</a></div><h1 class=\"mono\">\(model.version)</h1></div></div>"
        body += deploys(model, now: chrome.now)
        guard !model.rows.isEmpty else {
            body += Widgets.empty("No event has named this release yet.")
            return Layout.page(title: "Release \(model.version)", chrome: chrome, body: body)
        }
        body +=
            "<table class=\"list\"><thead><tr><th>Project</th><th>First seen</th><th>Last seen</th><th class=\"num\">Events</th><th class=\"num\">New issues</th><th></th></tr></thead><tbody>"
        for row in model.rows {
            let project = model.projects[row.projectID]
            let quotedVersion =
                model.version.contains(where: { $0 == " " || $0 == "\"" }) ? "\"\(model.version.filter { $0 != "\"" })\"" : model.version
            body += "<tr><td>\(project?.name ?? "project \(row.projectID)")</td>"
            body +=
                "<td class=\"nowrap small\">\(Format.time(row.firstSeen, now: chrome.now))</td><td class=\"nowrap small\">\(Format.time(row.lastSeen, now: chrome.now))</td>"
            body +=
                "<td class=\"num\">\(Format.count(row.events))</td><td class=\"num\">\(Format.count(row.newIssues))</td><td class=\"nowrap\">"
            body +=
                "<a href=\"\(SafeURL(path: Paths.issues(org: org, project: row.projectID, query: "release:\(quotedVersion)")))\">Issues in this release</a>"
            if let project {
                body +=
                    " · <a href=\"\(SafeURL(path: Paths.projectEvents(org: org, project: project.slug, release: model.version)))\">Events</a>"
            }
            body += "</td></tr>"
        }
        body += "</tbody></table>"
        for row in model.rows {
            body += HealthCells.detail(
                model.health[ReleaseHealth.Key(projectID: row.projectID, release: row.version)] ?? ReleaseHealth(),
                days: model.daily[row.projectID] ?? [], firstDay: model.firstDay,
                projectName: model.projects[row.projectID]?.name ?? "project \(row.projectID)")
        }
        return Layout.page(title: "Release \(model.version)", chrome: chrome, body: body)
    }
}

extension ReleaseDetailPage {
    /// When the release was created and finalized (`sentry-cli releases new|finalize`), and
    /// where it was deployed (`sentry-cli deploys new`), newest first.
    static func deploys(_ model: ReleaseDetailModel, now: Int64) -> HTML {
        guard let stored = model.stored else { return "" }
        var out: HTML =
            "<section class=\"card release-deploys\"><h2>Deploys</h2><p class=\"small muted\">Created \(Format.time(stored.dateCreated, now: now))"
        if let released = stored.dateReleased { out += " · finalized \(Format.time(released, now: now))" }
        if let url = stored.url { out += " · \(Format.truncated(url, limit: 120))" }
        out += "</p>"
        guard !model.deploys.isEmpty else { return out + "<p class=\"muted\">Not deployed yet.</p></section>" }
        out +=
            "<table class=\"list\"><thead><tr><th>Environment</th><th>Name</th><th>URL</th><th>Started</th><th>Finished</th></tr></thead><tbody>"
        for deploy in model.deploys {
            out += "<tr><td class=\"mono\">\(Format.truncated(deploy.environment, limit: 64))</td>"
            out +=
                "<td>\(Format.truncated(deploy.name ?? "–", limit: 120))</td><td class=\"small\">\(Format.truncated(deploy.url ?? "–", limit: 120))</td>"
            out += "<td class=\"nowrap small\">\(deploy.dateStarted.map { Format.time($0, now: now) } ?? "–")</td>"
            out += "<td class=\"nowrap small\">\(Format.time(deploy.dateFinished, now: now))</td></tr>"
        }
        return out + "</tbody></table></section>"
    }
}

/// Release health as the release pages show it.
enum HealthCells {
    /// Sessions, crash-free sessions and users, adoption: four cells of the release list.
    static func summary(_ health: ReleaseHealth?) -> HTML {
        guard let health, health.hasHealthData else {
            return
                "<td class=\"num muted\">–</td><td class=\"num muted\">–</td><td class=\"num muted\">–</td><td class=\"num muted\">–</td>"
        }
        return "<td class=\"num\">\(Format.count(health.sessions.started))</td><td class=\"num\">\(percent(health.crashFreeSessions))</td>"
            + "<td class=\"num\">\(percent(health.crashFreeUsers))</td><td class=\"num\">\(percent(health.adoption ?? health.sessionsAdoption))</td>"
    }

    /// A project's release health: the figures of the last 14 days and charts per day.
    static func detail(_ health: ReleaseHealth, days: [ReleaseDay], firstDay: Int64, projectName: String) -> HTML {
        var out: HTML = "<section class=\"card release-health\"><h2>Release health · \(projectName)</h2>"
        guard health.hasHealthData else {
            return out + "<p class=\"muted\">No sessions for this release. SDKs send them with release health enabled.</p></section>"
        }
        let facts: [(String, String)] = [
            ("Crash-free sessions", percent(health.crashFreeSessions)), ("Crash-free users", percent(health.crashFreeUsers)),
            ("Sessions", Format.count(health.sessions.started)), ("Users", Format.count(health.users)),
            ("Errored", Format.count(health.sessions.errored)), ("Abnormal", Format.count(health.sessions.abnormal)),
            ("Crashed", Format.count(health.sessions.crashed)), ("Adoption (24 h)", percent(health.adoption ?? health.sessionsAdoption)),
            ("Duration p50", duration(health.durationP50)), ("Duration p90", duration(health.durationP90)),
        ]
        out += "<dl class=\"facts\">"
        for (name, value) in facts { out += "<div><dt class=\"small muted\">\(name)</dt><dd><b>\(value)</b></dd></div>" }
        out +=
            "</dl><p class=\"small muted\">Rates over the last 14 days; adoption is this release's share of the project's users (or sessions) in the last 24 hours.</p>"
        let day: Int64 = 86_400_000
        out += "<div class=\"twocharts\"><div><div class=\"small muted\">Sessions per day</div>"
        out += Charts.bars(
            Charts.Series(values: days.map(\.sessions.started), start: firstDay, bucketMillis: day), noun: "sessions", width: 360,
            height: 48,
            label: "Sessions of this release per day")
        out += "</div><div><div class=\"small muted\">Crash-free sessions per day (%)</div>"
        out += Charts.bars(
            Charts.Series(values: days.map { $0.crashFree ?? 0 }, start: firstDay, bucketMillis: day), noun: "% crash-free", width: 360,
            height: 48, label: "Crash-free sessions of this release per day, in percent")
        out += "</div><div><div class=\"small muted\">Adoption per day (% of the project's sessions)</div>"
        out += Charts.bars(
            Charts.Series(values: days.map { $0.adoption ?? 0 }, start: firstDay, bucketMillis: day), noun: "% adoption", width: 360,
            height: 48, label: "Adoption of this release per day, in percent of the project's sessions")
        out += "</div></div></section>"
        return out
    }

    static func percent(_ value: Double?) -> String {
        guard let value else { return "–" }
        let tenths = (value * 10).rounded()
        return tenths.truncatingRemainder(dividingBy: 10) == 0 ? "\(Int(tenths / 10))%" : "\(Int(tenths) / 10).\(Int(tenths) % 10)%"
    }

    static func duration(_ seconds: Double?) -> String {
        guard let seconds else { return "–" }
        if seconds < 1 { return "\(Int((seconds * 1000).rounded())) ms" }
        if seconds < 120 { return "\(Int(seconds.rounded())) s" }
        if seconds < 7200 { return "\(Int((seconds / 60).rounded())) min" }
        return "\(Int((seconds / 3600).rounded())) h"
    }
}
