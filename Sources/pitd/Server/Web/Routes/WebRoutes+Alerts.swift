import Hummingbird
import PitModel
import PitStorage

/// Settings → Alerts: the page, its forms (post/redirect/get with a flash message) and a
/// channel's delivery log. Changing channels needs `admin` (they hold secrets), rules `write`.
extension WebRoutes {
    private func alertAccess() throws -> AlertAccess {
        guard let alerts else { throw HTTPError(.notFound, message: "Alerts are not available on this server.") }
        return alerts
    }

    func alertsPage(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let alerts = try alertAccess()
        let projects = try await projectsByID()
        var ceilings: [Int64: Int64] = [:]
        for id in projects.keys { ceilings[id] = try await alerts.settings.alertCeiling(projectID: id) }
        let model = AlertsModel(
            channels: try await alerts.store.channels(), rules: try await alerts.store.rules(projectID: nil), projects: projects,
            ceilings: ceilings, serverCeilingPerHour: alerts.serverCeilingPerHour)
        let chrome = try await chrome(request, context, section: .settings, project: nil)
        return Self.page(AlertsPage.render(model, chrome: chrome), request: request)
    }

    func alertChannelPage(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let alerts = try alertAccess()
        guard let id = context.parameters.get("id").flatMap({ Int64($0) }), let channel = try await alerts.store.channel(id: id) else {
            throw HTTPError(.notFound, message: "This channel does not exist.")
        }
        var log: [(AlertDelivery, [AlertDelivery.Attempt])] = []
        for delivery in try await alerts.store.deliveries(channelID: id, limit: 200) {
            log.append((delivery, try await alerts.store.attempts(deliveryID: delivery.id)))
        }
        let chrome = try await chrome(request, context, section: .settings, project: nil)
        return Self.page(AlertChannelPage.render(channel, deliveries: log, chrome: chrome), request: request)
    }

    /// `POST /settings/alerts/channels/` with `type`, `name`, `url` (webhooks) or `to` (email), `secret`, `digest` (seconds).
    func createAlertChannel(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let alerts = try alertAccess()
        guard let kind = AlertChannel.Kind(rawValue: context.form["type"] ?? "") else {
            throw HTTPError(.badRequest, message: "Unknown channel type.")
        }
        let draft = AlertChannel.Draft(
            name: Self.nonEmpty(context.form["name"]), kind: kind, url: context.form["url"], recipient: Self.nonEmpty(context.form["to"]),
            secret: Self.nonEmpty(context.form["secret"]), digestSeconds: Int64(context.form["digest"] ?? "") ?? 0)
        do {
            let channel = try await alerts.createChannel(draft)
            return WebActions.redirect(Paths.alerts, flash: "Channel “\(channel.name)” added.")
        } catch let error as AdminError {
            return WebActions.redirect(Paths.alerts, flash: error.message)
        }
    }

    /// `POST /settings/alerts/channels/{id}/` with `action` = `test` or `delete`.
    func alertChannelAction(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let alerts = try alertAccess()
        guard let id = context.parameters.get("id").flatMap({ Int64($0) }), let channel = try await alerts.store.channel(id: id) else {
            throw HTTPError(.notFound, message: "This channel does not exist.")
        }
        switch context.form["action"] {
        case "test":
            _ = try context.require(.write)
            try await alerts.sendTest(channelID: id)
            return WebActions.redirect(Paths.alertChannel(id: id), flash: "Test notification queued for “\(channel.name)”.")
        case "delete":
            _ = try context.require(.admin)
            _ = try await alerts.store.deleteChannel(id: id)
            return WebActions.redirect(Paths.alerts, flash: "Channel “\(channel.name)” and its rules deleted.")
        default:
            throw HTTPError(.badRequest, message: "Unknown action.")
        }
    }

    /// `POST /settings/alerts/rules/` with `project`, `when`, `count`, `window`, `channel`, `level`,
    /// `environment`, `title`, `cooldown`.
    func createAlertRule(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.write)
        let alerts = try alertAccess()
        let form = context.form
        guard let projectID = Int64(form["project"] ?? ""), let channelID = Int64(form["channel"] ?? ""),
            let trigger = AlertRule.Trigger(rawValue: form["when"] ?? "")
        else { throw HTTPError(.badRequest, message: "A rule needs a project, a trigger and a channel.") }
        var filters = AlertRule.Filters(environment: Self.nonEmpty(form["environment"]), titleContains: Self.nonEmpty(form["title"]))
        filters.minimumLevel = Level.allCases.first { $0.name == form["level"] }
        var threshold = Int64(form["count"] ?? "") ?? 0
        if trigger == .crashFreeRate {
            guard let below = Self.nonEmpty(form["below"]).flatMap(AlertRule.parsePercent) else {
                return WebActions.redirect(Paths.alerts, flash: "A crash-free-rate rule needs a percentage to stay above, e.g. 99.5.")
            }
            threshold = below
        }
        if trigger == .monitorFailure, let monitor = Self.nonEmpty(form["monitor"]) {
            filters.tagKey = "monitor.slug"
            filters.tagValue = monitor
        }
        let window = Self.nonEmpty(form["window"]).flatMap(AlertRule.parseDuration) ?? 0
        let cooldown = Self.nonEmpty(form["cooldown"]).flatMap(AlertRule.parseDuration) ?? AlertRule.defaultCooldownSeconds
        let draft = AlertRule.Draft(
            projectID: projectID, trigger: trigger, threshold: threshold, windowSeconds: window, channelID: channelID,
            filters: filters, cooldownSeconds: cooldown)
        do {
            let rule = try await alerts.store.createRule(draft)
            return WebActions.redirect(Paths.alerts, flash: "Rule “\(rule.name)” added.")
        } catch let error as AdminError {
            return WebActions.redirect(Paths.alerts, flash: error.message)
        }
    }

    /// `POST /settings/alerts/rules/{id}/` with `action` = `delete`.
    func alertRuleAction(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.write)
        let alerts = try alertAccess()
        guard context.form["action"] == "delete", let id = context.parameters.get("id").flatMap({ Int64($0) }) else {
            throw HTTPError(.badRequest, message: "Unknown action.")
        }
        guard try await alerts.store.deleteRule(id: id) else { throw HTTPError(.notFound, message: "This rule does not exist.") }
        return WebActions.redirect(Paths.alerts, flash: "Rule deleted.")
    }

    /// `POST /settings/alerts/ceilings/` with `project` and `per_hour` (empty: the server's).
    func setAlertCeiling(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let alerts = try alertAccess()
        guard let projectID = Int64(context.form["project"] ?? ""), let project = try await projectsByID()[projectID] else {
            throw HTTPError(.badRequest, message: "Choose a project.")
        }
        var perHour: Int64?
        if let text = Self.nonEmpty(context.form["per_hour"]) {
            guard let value = Int64(text), (1...AlertAccess.maximumCeilingPerHour).contains(value) else {
                return WebActions.redirect(Paths.alerts, flash: "The ceiling must be 1 to \(AlertAccess.maximumCeilingPerHour) an hour.")
            }
            perHour = value
        }
        try await alerts.settings.setAlertCeiling(projectID: project.id, perHour: perHour)
        let flash =
            perHour.map { "“\(project.name)” sends at most \($0) notifications an hour." }
            ?? "“\(project.name)” follows the server's ceiling again."
        return WebActions.redirect(Paths.alerts, flash: flash)
    }
}
