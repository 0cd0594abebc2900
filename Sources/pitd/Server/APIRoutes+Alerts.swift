import HTTPTypes
import Hummingbird
import PitIngest
import PitModel
import PitStorage

/// What the alert routes and pages need: the store, the key that seals channel secrets, and the
/// dispatcher's wake-up (a "send test" goes out at once).
struct AlertAccess: Sendable {
    let store: any AlertStore
    /// Projects' own ceilings (`SettingStore.alertCeiling`).
    let settings: any SettingStore
    let secrets: SecretBox
    let wake: @Sendable () -> Void
    /// Whether `smtp_host` is set: without it an email channel could never deliver, so none is made.
    let smtpConfigured: Bool
    /// `alert_ceiling_per_hour`: what a project without its own ceiling gets.
    let serverCeilingPerHour: Int64

    /// Largest per-project ceiling accepted, as for the server setting.
    static let maximumCeilingPerHour: Int64 = 1_000_000

    /// Stores a channel, its secret sealed (an email channel keeps none: SMTP credentials are settings).
    func createChannel(_ draft: AlertChannel.Draft) async throws -> AlertChannel {
        let draft = try draft.validated()
        if draft.kind == .email, !smtpConfigured { throw AlertChannel.noSMTPServer }
        let sealed = try draft.secret.flatMap { $0.isEmpty ? nil : try secrets.seal($0) }
        return try await store.createChannel(draft, sealedSecret: sealed, organizationID: 1)
    }

    /// Queues a test notification on the channel.
    func sendTest(channelID: Int64) async throws {
        guard try await store.channel(id: channelID) != nil else { throw AlertChannel.missing(channelID) }
        let notification = AlertNotification(kind: .test, title: "Test notification from Pit")
        try await store.enqueue(
            [AlertDelivery.Draft(channelID: channelID, ruleID: nil, notification: notification, sendAt: ClockTime.nowMilliseconds)],
            now: ClockTime.nowMilliseconds)
        wake()
    }
}

/// Issue alert rules in Sentry's shape (`conditions`, `filters`, `actions`, `frequency` in
/// minutes, `environment`) under a project, and the organisation's notification channels with
/// their delivery log. A rule is only ever read or changed through its own project's URL.
extension APIRoutes {
    private func alertAccess() throws -> AlertAccess {
        guard let alerts else { throw HTTPError(.notFound, message: "The requested resource does not exist") }
        return alerts
    }

    private static let conditionIDs: [AlertRule.Trigger: String] = [
        .newIssue: "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition",
        .regression: "sentry.rules.conditions.regression_event.RegressionEventCondition",
        .frequency: "sentry.rules.conditions.event_frequency.EventFrequencyCondition",
        .users: "sentry.rules.conditions.event_frequency.EventUniqueUserFrequencyCondition",
        .newReleaseIssue: "pit.rules.conditions.new_release_issue.NewReleaseIssueCondition",
        // Sentry keeps these in metric alerts and cron monitor issues; Pit's rules hold them too.
        .crashFreeRate: "pit.rules.conditions.crash_free_rate.CrashFreeRateBelowCondition",
        .monitorFailure: "pit.rules.conditions.monitor_failure.MonitorFailureCondition",
    ]
    private static let levelFilterID = "sentry.rules.filters.level.LevelFilter"
    private static let tagFilterID = "sentry.rules.filters.tagged_event.TaggedEventFilter"
    private static let attributeFilterID = "sentry.rules.filters.event_attribute.EventAttributeFilter"
    private static let notifyChannelID = "pit.rules.actions.notify_channel.NotifyChannelAction"

    static func renderRule(_ rule: AlertRule, project: Project, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", "\(rule.id)")
        writer.field("name", rule.name)
        writer.field("actionMatch", "all")
        writer.field("filterMatch", "all")
        writer.key("conditions")
        writer.beginArray()
        writer.beginObject()
        writer.field("id", conditionIDs[rule.trigger])
        if rule.trigger == .frequency || rule.trigger == .users {
            writer.field("value", rule.threshold)
            writer.field("interval", Self.interval(rule.windowSeconds))
        } else if rule.trigger == .crashFreeRate {
            writer.key("value")
            writer.value(Double(rule.threshold) / 100)
            writer.field("interval", Self.interval(rule.windowSeconds))
        }
        writer.endObject()
        writer.endArray()
        writer.key("filters")
        writer.beginArray()
        if let level = rule.filters.minimumLevel {
            writer.beginObject()
            writer.field("id", levelFilterID)
            writer.field("match", "gte")
            writer.field("level", "\(level.rawValue)")
            writer.endObject()
        }
        if let key = rule.filters.tagKey {
            writer.beginObject()
            writer.field("id", tagFilterID)
            writer.field("key", key)
            writer.field("match", rule.filters.tagMatch == .equals ? "eq" : "co")
            writer.field("value", rule.filters.tagValue)
            writer.endObject()
        }
        if let title = rule.filters.titleContains {
            writer.beginObject()
            writer.field("id", attributeFilterID)
            writer.field("attribute", "title")
            writer.field("match", "co")
            writer.field("value", title)
            writer.endObject()
        }
        writer.endArray()
        writer.key("actions")
        writer.beginArray()
        writer.beginObject()
        writer.field("id", notifyChannelID)
        writer.field("channel", "\(rule.channelID)")
        writer.endObject()
        writer.endArray()
        writer.field("frequency", rule.cooldownSeconds / 60)
        writer.field("environment", rule.filters.environment)
        writer.key("projects")
        writer.beginArray()
        writer.value(project.slug)
        writer.endArray()
        writer.field("status", "active")
        writer.field("dateCreated", Timestamp.format(milliseconds: rule.createdAt))
        writer.endObject()
    }

    private static func interval(_ seconds: Int64) -> String {
        if seconds % 86400 == 0 { return "\(seconds / 86400)d" }
        if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        return "\(seconds / 60)m"
    }

    /// A rule from Sentry's body: the first condition is the trigger, the filters as Sentry
    /// names them, the first action's `channel` (or a top-level `channel`), `frequency` minutes.
    private static func ruleDraft(_ json: JSONView, projectID: Int64) throws -> AlertRule.Draft {
        guard let condition = json.member(0, "conditions").flatMap({ json.elements($0).first }),
            let id = json.string(json.member(condition, "id")),
            let trigger = conditionIDs.first(where: { $0.value == id })?.key
        else {
            throw HTTPError(.badRequest, message: "conditions: one of \(conditionIDs.values.sorted().joined(separator: ", ")) is required")
        }
        var threshold: Int64 = 0
        var window: Int64 = 0
        if trigger == .frequency || trigger == .users {
            guard
                let value = json.int(json.member(condition, "value"))
                    ?? json.scalarText(json.member(condition, "value")).flatMap({ Int($0) }),
                let text = json.string(json.member(condition, "interval")), let seconds = AlertRule.parseDuration(text)
            else { throw HTTPError(.badRequest, message: "conditions: a frequency condition needs value and interval") }
            threshold = Int64(value)
            window = seconds
        } else if trigger == .crashFreeRate {
            guard let text = json.scalarText(json.member(condition, "value")), let hundredths = AlertRule.parsePercent(text),
                let interval = json.string(json.member(condition, "interval")), let seconds = AlertRule.parseDuration(interval)
            else {
                throw HTTPError(.badRequest, message: "conditions: a crash-free rate condition needs value (a percentage) and interval")
            }
            threshold = hundredths
            window = seconds
        }
        var filters = AlertRule.Filters(environment: json.string(json.member(0, "environment")))
        for filter in json.member(0, "filters").map({ json.elements($0) }) ?? [] {
            switch json.string(json.member(filter, "id")) {
            case levelFilterID:
                guard let text = json.scalarText(json.member(filter, "level")), let raw = Int(text), let level = Level(rawValue: raw) else {
                    throw HTTPError(.badRequest, message: "filters: level must be 10, 20, 30, 40 or 50")
                }
                filters.minimumLevel = level
            case tagFilterID:
                filters.tagKey = json.string(json.member(filter, "key"))
                filters.tagValue = json.string(json.member(filter, "value"))
                filters.tagMatch = json.string(json.member(filter, "match")) == "co" ? .contains : .equals
            case attributeFilterID:
                guard json.string(json.member(filter, "attribute")) == "title" else {
                    throw HTTPError(.badRequest, message: "filters: only the title attribute is supported")
                }
                filters.titleContains = json.string(json.member(filter, "value"))
            default: throw HTTPError(.badRequest, message: "filters: unsupported filter")
            }
        }
        let action = json.member(0, "actions").flatMap { json.elements($0).first }
        let channelText = json.scalarText(json.member(action, "channel")) ?? json.scalarText(json.member(0, "channel"))
        guard let channelText, let channelID = Int64(channelText) else {
            throw HTTPError(.badRequest, message: "actions: a channel id is required")
        }
        let cooldown = json.int(json.member(0, "frequency")).map { Int64($0) * 60 } ?? AlertRule.defaultCooldownSeconds
        return AlertRule.Draft(
            projectID: projectID, name: json.string(json.member(0, "name")), trigger: trigger, threshold: threshold, windowSeconds: window,
            channelID: channelID, filters: filters, cooldownSeconds: cooldown)
    }

    /// `GET /api/0/projects/{org}/{project}/rules/`.
    func listRules(_ context: PitRequestContext) async throws -> Response {
        let alerts = try alertAccess()
        let project = try await project(context)
        var writer = JSONWriter()
        writer.beginArray()
        for rule in try await alerts.store.rules(projectID: project.id) { Self.renderRule(rule, project: project, into: &writer) }
        writer.endArray()
        return HTTPResponses.json(writer)
    }

    /// `POST /api/0/projects/{org}/{project}/rules/`.
    func createRule(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.write)
        let alerts = try alertAccess()
        let project = try await project(context)
        let draft = try await APIBody.read(request) { json in try Self.ruleDraft(json, projectID: project.id) }
        let rule = try await alerts.store.createRule(draft)
        var writer = JSONWriter()
        Self.renderRule(rule, project: project, into: &writer)
        return HTTPResponses.json(writer, status: .created)
    }

    private func projectRule(_ context: PitRequestContext) async throws -> (AlertAccess, Project, AlertRule) {
        let alerts = try alertAccess()
        let project = try await project(context)
        guard let id = context.parameters.get("rule").flatMap({ Int64($0) }), let rule = try await alerts.store.rule(id: id),
            rule.projectID == project.id
        else { throw HTTPError(.notFound, message: "The requested resource does not exist") }
        return (alerts, project, rule)
    }

    /// `GET …/rules/{id}/`.
    func ruleDetail(_ context: PitRequestContext) async throws -> Response {
        let (_, project, rule) = try await projectRule(context)
        var writer = JSONWriter()
        Self.renderRule(rule, project: project, into: &writer)
        return HTTPResponses.json(writer)
    }

    /// `PUT …/rules/{id}/`: the whole rule, as for a new one.
    func updateRule(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.write)
        let (alerts, project, rule) = try await projectRule(context)
        let draft = try await APIBody.read(request) { json in try Self.ruleDraft(json, projectID: project.id) }
        guard let updated = try await alerts.store.updateRule(id: rule.id, draft) else {
            throw HTTPError(.notFound, message: "The requested resource does not exist")
        }
        var writer = JSONWriter()
        Self.renderRule(updated, project: project, into: &writer)
        return HTTPResponses.json(writer)
    }

    /// `DELETE …/rules/{id}/`: 202, as Sentry answers.
    func deleteRule(_ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.write)
        let (alerts, _, rule) = try await projectRule(context)
        _ = try await alerts.store.deleteRule(id: rule.id)
        return Response(status: .accepted)
    }

    // MARK: Ceiling

    /// `GET /api/0/projects/{org}/{project}/alert-ceiling/` (Pit's own):
    /// `{"perHour": 20 | null, "effectivePerHour": 20, "serverPerHour": 100}`.
    func alertCeiling(_ context: PitRequestContext) async throws -> Response {
        let alerts = try alertAccess()
        let project = try await project(context)
        return try await ceilingAnswer(alerts, project)
    }

    /// `PUT …/alert-ceiling/` with `{"perHour": N}`, or `null` for the server's `alert_ceiling_per_hour`.
    func setAlertCeiling(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let alerts = try alertAccess()
        let project = try await project(context)
        let perHour: Int64? = try await APIBody.read(request) { (json) throws -> Int64? in
            guard let member = json.member(0, "perHour") else {
                throw HTTPError(.badRequest, message: "perHour is required (notifications per hour, or null for the server setting)")
            }
            if json.isNull(member) { return nil }
            guard let value = json.int(member), (1...AlertAccess.maximumCeilingPerHour).contains(Int64(value)) else {
                throw HTTPError(
                    .badRequest, message: "perHour must be a whole number from 1 to \(AlertAccess.maximumCeilingPerHour), or null")
            }
            return Int64(value)
        }
        try await alerts.settings.setAlertCeiling(projectID: project.id, perHour: perHour)
        return try await ceilingAnswer(alerts, project)
    }

    private func ceilingAnswer(_ alerts: AlertAccess, _ project: Project) async throws -> Response {
        let own = try await alerts.settings.alertCeiling(projectID: project.id)
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("project", project.slug)
        writer.key("perHour")
        if let own { writer.value(own) } else { writer.null() }
        writer.field("effectivePerHour", own ?? alerts.serverCeilingPerHour)
        writer.field("serverPerHour", alerts.serverCeilingPerHour)
        writer.endObject()
        return HTTPResponses.json(writer)
    }

    // MARK: Channels

    static func renderChannel(_ channel: AlertChannel, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", "\(channel.id)")
        writer.field("name", channel.name)
        writer.field("type", channel.kind.rawValue)
        writer.field("url", channel.url)
        writer.field("to", channel.recipient)
        writer.field("hasSecret", channel.hasSecret)
        writer.field("digestInterval", channel.digestSeconds)
        writer.field("dateCreated", Timestamp.format(milliseconds: channel.createdAt))
        writer.endObject()
    }

    private func checkOrganization(_ context: PitRequestContext) throws {
        guard context.parameters.get("org") == organization else {
            throw HTTPError(.notFound, message: "The requested resource does not exist")
        }
    }

    /// `GET /api/0/organizations/{org}/alert-channels/`.
    func listChannels(_ context: PitRequestContext) async throws -> Response {
        try checkOrganization(context)
        let alerts = try alertAccess()
        var writer = JSONWriter()
        writer.beginArray()
        for channel in try await alerts.store.channels() { Self.renderChannel(channel, into: &writer) }
        writer.endArray()
        return HTTPResponses.json(writer)
    }

    /// `POST /api/0/organizations/{org}/alert-channels/` with `{"type", "url", "secret", "name", "digestInterval"}`, or `"to"` instead of `"url"` for email.
    func createChannel(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        try checkOrganization(context)
        let alerts = try alertAccess()
        let draft = try await APIBody.read(request) { json -> AlertChannel.Draft in
            guard let text = json.string(json.member(0, "type")), let kind = AlertChannel.Kind(rawValue: text) else {
                throw HTTPError(.badRequest, message: "type must be one of webhook, slack, discord, mattermost, email")
            }
            return AlertChannel.Draft(
                name: json.string(json.member(0, "name")), kind: kind, url: json.string(json.member(0, "url")),
                recipient: json.string(json.member(0, "to")), secret: json.string(json.member(0, "secret")),
                digestSeconds: Int64(json.int(json.member(0, "digestInterval")) ?? 0))
        }
        let channel = try await alerts.createChannel(draft)
        var writer = JSONWriter()
        Self.renderChannel(channel, into: &writer)
        return HTTPResponses.json(writer, status: .created)
    }

    private func organizationChannel(_ context: PitRequestContext) async throws -> (AlertAccess, AlertChannel) {
        try checkOrganization(context)
        let alerts = try alertAccess()
        guard let id = context.parameters.get("channel").flatMap({ Int64($0) }), let channel = try await alerts.store.channel(id: id) else {
            throw HTTPError(.notFound, message: "The requested resource does not exist")
        }
        return (alerts, channel)
    }

    /// `DELETE …/alert-channels/{id}/`: with its rules and delivery log.
    func deleteChannel(_ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let (alerts, channel) = try await organizationChannel(context)
        _ = try await alerts.store.deleteChannel(id: channel.id)
        return Response(status: .noContent)
    }

    /// `POST …/alert-channels/{id}/test/`: queues a test notification, sent at once.
    func testChannel(_ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.write)
        let (alerts, channel) = try await organizationChannel(context)
        try await alerts.sendTest(channelID: channel.id)
        return HTTPResponses.detail("a test notification is on its way", status: .accepted)
    }

    /// `GET …/alert-channels/{id}/deliveries/?limit=`: newest first, each with its attempts.
    func channelDeliveries(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let (alerts, channel) = try await organizationChannel(context)
        let limit = min(max(Int(FormFields(query: request)["limit"] ?? "") ?? 100, 1), 1000)
        var writer = JSONWriter()
        writer.beginArray()
        for delivery in try await alerts.store.deliveries(channelID: channel.id, limit: limit) {
            Self.renderDelivery(delivery, attempts: try await alerts.store.attempts(deliveryID: delivery.id), into: &writer)
        }
        writer.endArray()
        return HTTPResponses.json(writer)
    }

    static func renderDelivery(_ delivery: AlertDelivery, attempts: [AlertDelivery.Attempt], into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", "\(delivery.id)")
        writer.field("channel", "\(delivery.channelID)")
        writer.field("rule", delivery.ruleID.map { "\($0)" })
        writer.field("action", delivery.notification.kind.rawValue)
        writer.field("project", delivery.projectID.map { "\($0)" })
        writer.field("issue", delivery.issueID.map { "\($0)" })
        writer.field("title", delivery.notification.title)
        if let count = delivery.notification.count { writer.field("count", count) }
        writer.field("status", delivery.status.rawValue)
        writer.field("attempts", delivery.attempts)
        writer.key("responseCode")
        if let code = delivery.responseCode { writer.value(code) } else { writer.null() }
        writer.key("latencyMs")
        if let latency = delivery.latencyMilliseconds { writer.value(latency) } else { writer.null() }
        writer.field("error", delivery.lastError)
        writer.field(
            "nextAttemptAt",
            delivery.nextAttemptAt.flatMap {
                delivery.status == .pending || delivery.status == .digest ? Timestamp.format(milliseconds: $0) : nil
            })
        writer.field("dateCreated", Timestamp.format(milliseconds: delivery.createdAt))
        writer.field("dateDelivered", delivery.deliveredAt.map { Timestamp.format(milliseconds: $0) })
        writer.field("digest", delivery.digestID.map { "\($0)" })
        writer.key("attemptLog")
        writer.beginArray()
        for attempt in attempts {
            writer.beginObject()
            writer.field("date", Timestamp.format(milliseconds: attempt.attemptedAt))
            writer.field("ok", attempt.succeeded)
            writer.key("responseCode")
            if let code = attempt.responseCode { writer.value(code) } else { writer.null() }
            writer.field("latencyMs", attempt.latencyMilliseconds)
            writer.field("error", attempt.error)
            writer.field("nextAttemptAt", attempt.nextAttemptAt.map { Timestamp.format(milliseconds: $0) })
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
    }
}
