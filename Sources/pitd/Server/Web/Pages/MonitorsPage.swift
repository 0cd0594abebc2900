import PitModel
import PitStorage

/// What the monitor pages show: monitors with their environments, and each environment's latest
/// check-ins for its timeline.
struct MonitorsModel: Sendable {
    var rows: [MonitorRow]
    var projects: [Int64: Project]
    /// Newest first, per monitor and environment.
    var recent: [Int64: [String: [StoredCheckIn]]]
    /// Set on a project's list.
    var project: Project?

    /// Check-ins on a timeline.
    static let timelineLength = 30
}

/// `/organizations/{org}/monitors/` and `/organizations/{org}/projects/{project}/monitors/`:
/// cron monitors with a status timeline per environment.
enum MonitorsPage {
    static func render(_ model: MonitorsModel, chrome: Chrome) -> HTML {
        let org = chrome.organizationSlug
        let title = model.project.map { "Cron monitors · \($0.name)" } ?? "Cron monitors"
        var body: HTML = "<div class=\"pagehead\"><h1>\(title)</h1></div>"
        guard !model.rows.isEmpty else {
            body += Widgets.empty(
                "No cron monitors yet. A check-in with a <code>monitor_config</code> (SDK, <code>sentry-cli monitors run -s</code> or the HTTP check-in endpoint) creates one."
            )
            return Layout.page(title: title, chrome: chrome, body: body)
        }
        body +=
            "<table class=\"list monitors\"><thead><tr><th>Monitor</th><th>Project</th><th>Schedule</th><th>Environment</th><th>Status</th>"
            + "<th>Recent check-ins</th><th>Last check-in</th><th>Next expected</th></tr></thead><tbody>"
        for row in model.rows {
            let monitor = row.monitor
            let project = model.projects[monitor.projectID]
            let environments = row.environments.isEmpty ? [nil] : row.environments.map { Optional($0) }
            for (index, environment) in environments.enumerated() {
                body += "<tr>"
                if index == 0 {
                    let span = environments.count
                    body +=
                        "<td rowspan=\"\(span)\"><a class=\"row-link\" href=\"\(SafeURL(path: Paths.monitor(org: org, slug: monitor.slug, project: monitor.projectID)))\">\(monitor.slug)</a></td>"
                    body += "<td rowspan=\"\(span)\">\(project?.name ?? "project \(monitor.projectID)")</td>"
                    body += "<td rowspan=\"\(span)\" class=\"mono small\">\(MonitorFormat.schedule(monitor.config))</td>"
                }
                guard let environment else {
                    body += "<td colspan=\"5\" class=\"muted\">no check-ins yet</td></tr>"
                    continue
                }
                body += "<td>\(environment.environment)</td><td>\(MonitorFormat.status(environment.status))</td>"
                let recent = model.recent[monitor.id]?[environment.environment] ?? []
                body += "<td>\(MonitorFormat.timeline(recent))</td>"
                body += "<td class=\"nowrap small\">\(environment.lastCheckIn.map { Format.time($0, now: chrome.now) })</td>"
                body += "<td class=\"nowrap small\">\(environment.nextCheckIn.map { MonitorFormat.at($0, now: chrome.now) })</td></tr>"
            }
        }
        body += "</tbody></table>"
        return Layout.page(title: title, chrome: chrome, body: body)
    }
}

/// `/organizations/{org}/monitors/{slug}/`: one monitor's config, environments and check-ins.
enum MonitorDetailPage {
    static func render(_ row: MonitorRow, project: Project?, checkIns: [StoredCheckIn], recent: [String: [StoredCheckIn]], chrome: Chrome)
        -> HTML
    {
        let org = chrome.organizationSlug
        let monitor = row.monitor
        let config = monitor.config
        var body: HTML =
            "<div class=\"pagehead\"><div><div class=\"small muted\"><a href=\"\(SafeURL(path: Paths.monitors(org: org)))\">Cron monitors</a></div><h1>\(monitor.slug)</h1></div></div>"
        body += "<table class=\"kv\"><tbody>"
        body += "<tr><th>Project</th><td>\(project?.name ?? "project \(monitor.projectID)")</td></tr>"
        body += "<tr><th>Schedule</th><td><span class=\"mono\">\(MonitorFormat.schedule(config))</span> (\(config.schedule.type))</td></tr>"
        body += "<tr><th>Time zone</th><td>\(config.timezone)</td></tr>"
        body +=
            "<tr><th>Check-in margin</th><td>\(config.checkinMargin ?? MonitorConfig.defaultMargin) min</td></tr><tr><th>Max runtime</th><td>\(config.maxRuntime ?? MonitorConfig.defaultMaxRuntime) min</td></tr>"
        body +=
            "<tr><th>Issue after</th><td>\(config.failureIssueThreshold) failed check-in(s); resolved after \(config.recoveryThreshold) ok</td></tr>"
        body += "</tbody></table>"
        body +=
            "<h2>Environments</h2><table class=\"list\"><thead><tr><th>Environment</th><th>Status</th><th>Recent check-ins</th><th>Last check-in</th><th>Next expected</th></tr></thead><tbody>"
        for environment in row.environments {
            body += "<tr><td>\(environment.environment)</td><td>\(MonitorFormat.status(environment.status))</td>"
            body += "<td>\(MonitorFormat.timeline(recent[environment.environment] ?? []))</td>"
            body += "<td class=\"nowrap small\">\(environment.lastCheckIn.map { Format.time($0, now: chrome.now) })</td>"
            body += "<td class=\"nowrap small\">\(environment.nextCheckIn.map { MonitorFormat.at($0, now: chrome.now) })</td></tr>"
        }
        body += "</tbody></table>"
        body += "<h2>Check-ins</h2>"
        guard !checkIns.isEmpty else {
            body += Widgets.empty("No check-ins yet.")
            return Layout.page(title: monitor.slug, chrome: chrome, body: body)
        }
        body +=
            "<table class=\"list checkins\"><thead><tr><th>Status</th><th>Environment</th><th>Started</th><th>Expected</th><th class=\"num\">Duration</th></tr></thead><tbody>"
        for checkIn in checkIns {
            body += "<tr><td>\(MonitorFormat.status(checkIn.status.rawValue))</td><td>\(checkIn.environment)</td>"
            body += "<td class=\"nowrap small\">\(Format.time(checkIn.created, now: chrome.now))</td>"
            body += "<td class=\"nowrap small\">\(checkIn.expected.map { MonitorFormat.at($0, now: chrome.now) })</td>"
            body += "<td class=\"num\">\(checkIn.duration.map { MonitorFormat.duration($0) })</td></tr>"
        }
        body += "</tbody></table>"
        return Layout.page(title: monitor.slug, chrome: chrome, body: body)
    }
}

enum MonitorFormat {
    static func schedule(_ config: MonitorConfig) -> String {
        switch config.schedule {
        case .crontab(_, let text): return text
        case .interval(let count, let unit): return count == 1 ? "every \(unit.rawValue)" : "every \(count) \(unit.rawValue)s"
        }
    }

    /// A status word with its colour; the class names are fixed, never taken from the status.
    static func status(_ status: String) -> HTML {
        let (label, kind): (String, String) =
            switch status {
            case "ok": ("ok", "ok")
            case "error": ("error", "error")
            case "missed", "missed_checkin": ("missed", "missed")
            case "timeout": ("timeout", "timeout")
            case "in_progress": ("in progress", "in_progress")
            default: ("waiting", "active")
            }
        return "<span class=\"badge cron-\(HTML(trusted: kind))\">\(label)</span>"
    }

    /// The check-ins oldest first as coloured ticks, each titled with its status and time.
    static func timeline(_ newestFirst: [StoredCheckIn]) -> HTML {
        var out: HTML = "<span class=\"ticks\">"
        for checkIn in newestFirst.prefix(MonitorsModel.timelineLength).reversed() {
            let kind: String =
                switch checkIn.status {
                case .ok: "ok"
                case .error: "error"
                case .missed: "missed"
                case .timeout: "timeout"
                case .inProgress: "in_progress"
                }
            let title = "\(checkIn.status.rawValue) at \(Timestamp.format(milliseconds: checkIn.expected ?? checkIn.created))"
            out += "<span class=\"tick \(HTML(trusted: kind))\" title=\"\(title)\"></span>"
        }
        out += "</span>"
        return out
    }

    /// A time that may lie ahead (an expected check-in): "in 5 min" with the exact time on hover,
    /// or the usual relative form once past.
    static func at(_ milliseconds: Int64, now: Int64) -> HTML {
        let seconds = (milliseconds - now) / 1000
        guard seconds > 0 else { return Format.time(milliseconds, now: now) }
        let ahead =
            seconds < 60
            ? "\(seconds) s"
            : seconds < 3600
                ? "\(seconds / 60) min" : seconds < 172_800 ? "\(seconds / 3600) h \(seconds / 60 % 60) min" : "\(seconds / 86400) d"
        return
            "<time datetime=\"\(Timestamp.format(milliseconds: milliseconds))\" title=\"\(Format.exact(milliseconds))\">in \(ahead)</time>"
    }

    static func duration(_ milliseconds: Int64) -> String {
        if milliseconds < 1000 { return "\(milliseconds) ms" }
        if milliseconds < 60000 { return String(Double(milliseconds / 100) / 10) + " s" }
        return "\(milliseconds / 60000) min \(milliseconds / 1000 % 60) s"
    }
}
