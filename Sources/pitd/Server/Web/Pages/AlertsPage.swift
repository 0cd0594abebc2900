import PitModel
import PitStorage

struct AlertsModel {
    var channels: [AlertChannel]
    var rules: [AlertRule]
    var projects: [Int64: Project]
    /// Projects with their own notification ceiling, and the server's.
    var ceilings: [Int64: Int64]
    var serverCeilingPerHour: Int64
}

/// `/settings/alerts/`: notification channels (with "send test" and their delivery log) and the
/// projects' alert rules, each with the form that adds one.
enum AlertsPage {
    static func render(_ model: AlertsModel, chrome: Chrome) -> HTML {
        var body = SettingsNav.render(.alerts, project: chrome.currentProject ?? chrome.projects.first)
        body += "<h1>Alerts</h1>"
        body += "<h2>Channels</h2>"
        if model.channels.isEmpty {
            body += Widgets.empty("No channels yet: add one below, then a rule that notifies it.")
        } else {
            body +=
                "<table class=\"list\" id=\"alert-channels\"><thead><tr><th>Name</th><th>Type</th><th>Destination</th><th>Signed</th><th>Digest</th><th>Created</th><th></th></tr></thead><tbody>"
            for channel in model.channels {
                body += "<tr><td><a href=\"\(SafeURL(path: Paths.alertChannel(id: channel.id)))\">\(channel.name)</a></td>"
                body +=
                    "<td><span class=\"badge\">\(channel.kind.rawValue)</span></td><td class=\"mono small\">\(channel.recipient ?? channel.url)</td>"
                let signed = channel.hasSecret ? "yes" : "no"
                let digest = channel.digestSeconds > 0 ? "every " + AlertsPage.duration(channel.digestSeconds) : "off"
                body += "<td>\(signed)</td><td>\(digest)</td>"
                body += "<td class=\"nowrap small\">\(Format.time(channel.createdAt, now: chrome.now))</td>"
                body += "<td><form method=\"post\" action=\"\(SafeURL(path: Paths.alertChannel(id: channel.id)))\" class=\"toolbar\">"
                body += Layout.csrfField(chrome.csrfToken)
                body += "<button type=\"submit\" name=\"action\" value=\"test\" class=\"small\">Send test</button>"
                body += "<button type=\"submit\" name=\"action\" value=\"delete\" class=\"small danger\">Delete</button></form></td></tr>"
            }
            body += "</tbody></table>"
        }
        body +=
            "<h3>New channel</h3><form method=\"post\" action=\"\(SafeURL(path: Paths.alertChannels))\" class=\"card toolbar\" id=\"new-channel\">"
        body += Layout.csrfField(chrome.csrfToken)
        body += "<select name=\"type\" aria-label=\"Channel type\">"
        for kind in AlertChannel.Kind.allCases {
            body += Widgets.option(kind.rawValue, label: kind.rawValue, selected: kind == .webhook)
        }
        body += "</select>"
        body += "<input type=\"text\" name=\"name\" placeholder=\"Name\" maxlength=\"200\" aria-label=\"Channel name\">"
        // One form for every type: the server ignores the URL of an email channel and the address of a webhook.
        body += "<input type=\"url\" name=\"url\" placeholder=\"https://… (webhooks)\" aria-label=\"Webhook URL\">"
        body += "<input type=\"email\" name=\"to\" placeholder=\"Email address (email)\" aria-label=\"Email address\">"
        body +=
            "<input type=\"password\" name=\"secret\" placeholder=\"Signing secret (webhook)\" autocomplete=\"off\" aria-label=\"Signing secret\">"
        body += "<select name=\"digest\" aria-label=\"Digest\">"
        for (value, label) in [("0", "send each at once"), ("600", "digest every 10 min"), ("3600", "digest every hour")] {
            body += Widgets.option(value, label: label, selected: value == "0")
        }
        body += "</select><button type=\"submit\" class=\"primary\">Add channel</button></form>"

        body += "<h2>Rules</h2>"
        if model.rules.isEmpty {
            body += Widgets.empty("No rules: nothing notifies anyone yet.")
        } else {
            body +=
                "<table class=\"list\" id=\"alert-rules\"><thead><tr><th>Name</th><th>Project</th><th>When</th><th>Filters</th><th>Channel</th><th>Cooldown</th><th></th></tr></thead><tbody>"
            let channels = Dictionary(model.channels.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            for rule in model.rules {
                let projectName = model.projects[rule.projectID]?.name ?? "#" + String(rule.projectID)
                body += "<tr><td>\(rule.name)</td><td>\(projectName)</td>"
                var when = rule.trigger.rawValue
                if rule.trigger == .frequency || rule.trigger == .users {
                    when +=
                        ": \(rule.threshold) \(rule.trigger == .users ? "users" : "events") in \(AlertsPage.duration(rule.windowSeconds))"
                } else if rule.trigger == .crashFreeRate {
                    when += ": below \(AlertRule.percentText(rule.threshold)) % over \(AlertsPage.duration(rule.windowSeconds))"
                }
                body += "<td>\(when)</td><td class=\"small\">\(AlertsPage.filters(rule.filters))</td>"
                let channelName = channels[rule.channelID]?.name ?? "#" + String(rule.channelID)
                body += "<td>\(channelName)</td><td>\(AlertsPage.duration(rule.cooldownSeconds))</td>"
                body += "<td><form method=\"post\" action=\"\(SafeURL(path: Paths.alertRule(id: rule.id)))\">"
                body += Layout.csrfField(chrome.csrfToken)
                body += "<button type=\"submit\" name=\"action\" value=\"delete\" class=\"small danger\">Delete</button></form></td></tr>"
            }
            body += "</tbody></table>"
        }
        guard !model.channels.isEmpty else { return Layout.page(title: "Alerts", chrome: chrome, body: body) }
        body +=
            "<h3>New rule</h3><form method=\"post\" action=\"\(SafeURL(path: Paths.alertRules))\" class=\"card toolbar\" id=\"new-rule\">"
        body += Layout.csrfField(chrome.csrfToken)
        body += projectSelect(model.projects.values.sorted(by: { $0.id < $1.id }), chrome: chrome)
        body += "<select name=\"when\" aria-label=\"When\">"
        for trigger in AlertRule.Trigger.allCases {
            body += Widgets.option(trigger.rawValue, label: trigger.rawValue, selected: trigger == .newIssue)
        }
        body += "</select>"
        body += "<input type=\"number\" name=\"count\" min=\"1\" placeholder=\"count\" aria-label=\"Count (frequency, users)\">"
        body +=
            "<input type=\"text\" name=\"below\" placeholder=\"below %\" size=\"8\" aria-label=\"Crash-free rate below (crash-free-rate)\">"
        body +=
            "<input type=\"text\" name=\"monitor\" placeholder=\"monitor slug\" size=\"12\" aria-label=\"Monitor slug (monitor-failure)\">"
        body += "<input type=\"text\" name=\"window\" placeholder=\"window, e.g. 1h\" size=\"8\" aria-label=\"Window\">"
        body += "<select name=\"channel\" aria-label=\"Channel\">"
        for channel in model.channels { body += Widgets.option(String(channel.id), label: channel.name, selected: false) }
        body += "</select><select name=\"level\" aria-label=\"Level at least\">"
        body += Widgets.option("", label: "any level", selected: true)
        for level in Level.allCases { body += Widgets.option(level.name, label: "\(level.name) or above", selected: false) }
        body += "</select>"
        body += "<input type=\"text\" name=\"environment\" placeholder=\"environment\" size=\"10\" aria-label=\"Environment\">"
        body += "<input type=\"text\" name=\"title\" placeholder=\"title contains\" size=\"12\" aria-label=\"Title contains\">"
        body += "<input type=\"text\" name=\"cooldown\" value=\"30m\" size=\"5\" aria-label=\"Cooldown\">"
        body += "<button type=\"submit\" class=\"primary\">Add rule</button></form>"
        body += ceilings(model, chrome: chrome)
        return Layout.page(title: "Alerts", chrome: chrome, body: body)
    }

    /// Each project's ceiling on notifications per hour, and the form that sets or clears one.
    static func ceilings(_ model: AlertsModel, chrome: Chrome) -> HTML {
        var body: HTML = "<h2>Ceilings</h2><p class=\"muted\">A project sends at most this many notifications an hour; past it they are"
        body += " counted and announced once (“…and N more”). The server's ceiling is \(model.serverCeilingPerHour).</p>"
        body += "<table class=\"list\" id=\"alert-ceilings\"><thead><tr><th>Project</th><th>Per hour</th></tr></thead><tbody>"
        let projects = model.projects.values.sorted(by: { $0.id < $1.id })
        for project in projects {
            let own = model.ceilings[project.id]
            let text = own.map { "\($0) (own)" } ?? "\(model.serverCeilingPerHour) (server)"
            body += "<tr><td>\(project.name)</td><td>\(text)</td></tr>"
        }
        body += "</tbody></table>"
        body +=
            "<form method=\"post\" action=\"\(SafeURL(path: Paths.alertCeilings))\" class=\"card toolbar\" id=\"set-ceiling\">"
        body += Layout.csrfField(chrome.csrfToken)
        body += projectSelect(projects, chrome: chrome)
        body +=
            "<input type=\"number\" name=\"per_hour\" min=\"1\" max=\"1000000\" placeholder=\"per hour (empty: server's)\" aria-label=\"Notifications per hour\">"
        body += "<button type=\"submit\" class=\"primary\">Set ceiling</button></form>"
        return body
    }

    /// The project a form is about, the current one chosen.
    static func projectSelect(_ projects: [Project], chrome: Chrome) -> HTML {
        var select: HTML = "<select name=\"project\" aria-label=\"Project\">"
        for project in projects {
            select += Widgets.option(String(project.id), label: project.name, selected: project.id == chrome.currentProject?.id)
        }
        select += "</select>"
        return select
    }

    static func duration(_ seconds: Int64) -> String {
        if seconds > 0, seconds % 86400 == 0 { return "\(seconds / 86400) d" }
        if seconds > 0, seconds % 3600 == 0 { return "\(seconds / 3600) h" }
        if seconds % 60 == 0 { return "\(seconds / 60) min" }
        return "\(seconds) s"
    }

    static func filters(_ filters: AlertRule.Filters) -> String {
        var parts: [String] = []
        if let level = filters.minimumLevel { parts.append("level ≥ \(level.name)") }
        if let environment = filters.environment { parts.append("environment = \(environment)") }
        if let key = filters.tagKey { parts.append("\(key) \(filters.tagMatch == .equals ? "=" : "contains") \(filters.tagValue ?? "")") }
        if let title = filters.titleContains { parts.append("title contains \(title)") }
        return parts.isEmpty ? "—" : parts.joined(separator: ", ")
    }
}

/// `/settings/alerts/channels/{id}/`: the channel's delivery log, newest first, with every attempt.
enum AlertChannelPage {
    static func render(_ channel: AlertChannel, deliveries: [(AlertDelivery, [AlertDelivery.Attempt])], chrome: Chrome) -> HTML {
        var body = SettingsNav.render(.alerts, project: chrome.currentProject ?? chrome.projects.first)
        body += "<h1>\(channel.name) <span class=\"muted small\">\(channel.kind.rawValue) · \(channel.recipient ?? channel.url)</span></h1>"
        body += "<form method=\"post\" action=\"\(SafeURL(path: Paths.alertChannel(id: channel.id)))\" class=\"toolbar\">"
        body += Layout.csrfField(chrome.csrfToken)
        body += "<button type=\"submit\" name=\"action\" value=\"test\">Send test</button></form>"
        body += "<h2>Delivery log</h2>"
        guard !deliveries.isEmpty else {
            body += Widgets.empty("Nothing sent to this channel yet.")
            return Layout.page(title: "Alerts · \(channel.name)", chrome: chrome, body: body)
        }
        body +=
            "<table class=\"list\" id=\"deliveries\"><thead><tr><th>Created</th><th>What</th><th>Status</th><th>Attempts</th><th>Last answer</th><th>Latency</th><th>Next try</th></tr></thead><tbody>"
        for (delivery, attempts) in deliveries {
            let status = delivery.status.rawValue
            let badge = delivery.status == .delivered ? "st-resolved" : (delivery.status == .failed ? "st-unresolved" : "st-ignored")
            body += "<tr><td class=\"nowrap small\">\(Format.time(delivery.createdAt, now: chrome.now))</td>"
            let what = delivery.notification.kind.rawValue + (delivery.notification.title.map { ": " + $0 } ?? "")
            body += "<td>\(what)</td>"
            body += "<td><span class=\"badge \(badge)\">\(status)</span></td><td>\(delivery.attempts)</td>"
            let answer = delivery.responseCode.map { String($0) } ?? (delivery.lastError ?? "—")
            body += "<td class=\"small\" title=\"\(delivery.lastError ?? "")\">\(answer)</td>"
            let latency = delivery.latencyMilliseconds.map { String($0) + " ms" } ?? "—"
            body += "<td>\(latency)</td>"
            let next: HTML = (delivery.status == .pending ? delivery.nextAttemptAt : nil).map { Format.time($0, now: chrome.now) } ?? "—"
            body += "<td class=\"small\">\(next)</td></tr>"
            if attempts.count > 1 {
                let log = attempts.map { attempt -> String in
                    (attempt.responseCode.map { String($0) } ?? "no answer") + " in " + String(attempt.latencyMilliseconds) + " ms"
                }
                body += "<tr><td></td><td colspan=\"6\" class=\"muted small\">attempts: \(log.joined(separator: " → "))</td></tr>"
            }
        }
        body += "</tbody></table>"
        return Layout.page(title: "Alerts · \(channel.name)", chrome: chrome, body: body)
    }
}
