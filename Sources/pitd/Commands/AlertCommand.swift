import ArgumentParser
import Logging
import PitBackends
import PitModel
import PitStorage
import PitdServer

/// `pitd alert channel …` and `pitd alert rule …`: scripts depend on the flags and on
/// `--json` printing an object with `"id"`.
struct AlertCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alert",
        abstract: "Manage alert channels (where notifications go), rules (when a project notifies) and per-project ceilings.",
        subcommands: [Channel.self, Rule.self, Ceiling.self]
    )

    /// The data directory's settings and alert store (the admin store is opened first: it migrates).
    static func open(_ common: CommonOptions) async throws -> (PitSettings, any AlertStore) {
        let settings = try await common.settings()
        _ = try await DataDirectory(settings: settings).initialise()
        return (settings, try await settings.backend.makeAlertStore(logger: Logger(label: "pitd")))
    }

    static func refused<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as AdminError {
            throw ValidationError(error.description)
        }
    }

    struct Channel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Notification channels: webhook, Slack, Discord, Mattermost.",
            subcommands: [Create.self, List.self, Delete.self, Test.self]
        )

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Add a channel; prints its id.")

            @OptionGroup var common: CommonOptions
            @Option(help: "webhook, slack, discord, mattermost or email.") var type: String
            @Option(help: "The webhook URL.") var url: String?
            @Option(help: "Webhook signing secret (X-Pit-Signature: HMAC-SHA256 of the body); stored encrypted.") var secret: String?
            @Option(help: "Name shown in lists.") var name: String?
            @Option(help: "Email address (email channels; the SMTP server is the smtp_* settings).") var to: String?
            @Option(help: "Batch notifications into one message per interval, e.g. 10m (default: send each at once).") var digest: String?
            @Flag(help: "Print JSON.") var json = false

            func run() async throws {
                guard let kind = AlertChannel.Kind(rawValue: type) else {
                    throw ValidationError("--type must be one of webhook, slack, discord, mattermost, email")
                }
                var digestSeconds: Int64 = 0
                if let digest {
                    guard let seconds = AlertRule.parseDuration(digest) else {
                        throw ValidationError("--digest takes a duration such as 10m")
                    }
                    digestSeconds = seconds
                }
                let (settings, store) = try await AlertCommand.open(common)
                let draft = AlertChannel.Draft(
                    name: name, kind: kind, url: url, recipient: to, secret: secret, digestSeconds: digestSeconds)
                let channel = try await AlertCommand.refused {
                    let draft = try draft.validated()
                    if draft.kind == .email, !settings.smtpConfigured { throw AlertChannel.noSMTPServer }
                    let sealed = try draft.secret.flatMap {
                        $0.isEmpty ? nil : try SecretBox.forDataDirectory(settings.dataDirectory).seal($0)
                    }
                    return try await store.createChannel(draft, sealedSecret: sealed, organizationID: 1)
                }
                print(json ? AlertCommand.channelJSON(channel) : "channel \(channel.id) created")
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List the channels.")

            @OptionGroup var common: CommonOptions
            @Flag(help: "Print JSON.") var json = false

            func run() async throws {
                let (_, store) = try await AlertCommand.open(common)
                let channels = try await store.channels()
                if json {
                    print("[" + channels.map(AlertCommand.channelJSON).joined(separator: ",") + "]")
                } else {
                    for channel in channels { print("\(channel.id)\t\(channel.kind.rawValue)\t\(channel.name)\t\(channel.url)") }
                }
            }
        }

        struct Delete: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Delete a channel with its rules and delivery log.")

            @OptionGroup var common: CommonOptions
            @Argument(help: "Channel id.") var id: Int64

            func run() async throws {
                let (_, store) = try await AlertCommand.open(common)
                guard try await store.deleteChannel(id: id) else { throw ValidationError("alert channel \(id) does not exist") }
                print("channel \(id) deleted")
            }
        }

        struct Test: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Queue a test notification; the running server sends it within a second and logs the attempt.")

            @OptionGroup var common: CommonOptions
            @Argument(help: "Channel id.") var id: Int64

            func run() async throws {
                let (_, store) = try await AlertCommand.open(common)
                guard try await store.channel(id: id) != nil else { throw ValidationError("alert channel \(id) does not exist") }
                let now = ClockTime.nowMilliseconds
                let notification = AlertNotification(kind: .test, title: "Test notification from Pit")
                try await store.enqueue(
                    [AlertDelivery.Draft(channelID: id, ruleID: nil, notification: notification, sendAt: now)], now: now)
                print("test notification queued for channel \(id)")
            }
        }
    }

    struct Rule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Alert rules: when a project's events notify a channel.",
            subcommands: [Create.self, List.self, Delete.self]
        )

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Add a rule; prints its id.")

            @OptionGroup var common: CommonOptions
            @Option(help: "Project id.") var project: Int64
            @Option(help: "new-issue, regression, frequency, users, new-release-issue, monitor-failure or crash-free-rate.")
            var when: String
            @Option(help: "Events (frequency) or distinct users (users) that fire the rule.") var count: Int64?
            @Option(help: "The window the count is reached in (a sliding one), or the crash-free rate is measured over, e.g. 1h.")
            var window: String?
            @Option(help: "crash-free-rate: notify when the crash-free session rate falls below this percentage, e.g. 99.5.")
            var below: String?
            @Option(help: "monitor-failure: only this cron monitor (its slug).") var monitor: String?
            @Option(help: "Channel id.") var channel: Int64
            @Option(help: "Only events at this level or above (debug, info, warning, error, fatal).") var level: String?
            @Option(help: "Only events of this environment.") var environment: String?
            @Option(help: "Only events with this tag, as key=value (equals) or key~value (contains).") var tag: String?
            @Option(help: "Only issues whose title contains this text.") var titleContains: String?
            @Option(help: "Least time between two notifications of one issue by this rule (default 30m).") var cooldown: String?
            @Option(help: "Name shown in lists.") var name: String?
            @Flag(help: "Print JSON.") var json = false

            func run() async throws {
                guard let trigger = AlertRule.Trigger(rawValue: when) else {
                    throw ValidationError(
                        "--when must be one of " + AlertRule.Trigger.allCases.map(\.rawValue).joined(separator: ", "))
                }
                var threshold = count ?? 0
                if trigger == .crashFreeRate {
                    guard let below, let hundredths = AlertRule.parsePercent(below) else {
                        throw ValidationError("--when crash-free-rate needs --below PERCENT, e.g. --below 99.5")
                    }
                    threshold = hundredths
                } else if below != nil {
                    throw ValidationError("--below is for --when crash-free-rate")
                }
                if monitor != nil, trigger != .monitorFailure { throw ValidationError("--monitor is for --when monitor-failure") }
                if monitor != nil, tag != nil { throw ValidationError("--monitor and --tag cannot both be given") }
                var filters = AlertRule.Filters(environment: environment, titleContains: titleContains)
                if let monitor {
                    filters.tagKey = "monitor.slug"
                    filters.tagValue = monitor
                }
                if let level {
                    guard let parsed = Level.allCases.first(where: { $0.name == level.lowercased() }) else {
                        throw ValidationError("--level must be debug, info, warning, error or fatal")
                    }
                    filters.minimumLevel = parsed
                }
                if let tag {
                    let contains = tag.contains("~") && !tag.contains("=")
                    let parts = tag.split(separator: contains ? "~" : "=", maxSplits: 1)
                    guard parts.count == 2 else { throw ValidationError("--tag takes key=value or key~value") }
                    filters.tagKey = String(parts[0])
                    filters.tagValue = String(parts[1])
                    filters.tagMatch = contains ? .contains : .equals
                }
                var windowSeconds: Int64 = 0
                if let window {
                    guard let seconds = AlertRule.parseDuration(window) else {
                        throw ValidationError("--window takes a duration such as 1h")
                    }
                    windowSeconds = seconds
                }
                var cooldownSeconds = AlertRule.defaultCooldownSeconds
                if let cooldown {
                    guard let seconds = AlertRule.parseDuration(cooldown) else {
                        throw ValidationError("--cooldown takes a duration such as 30m")
                    }
                    cooldownSeconds = seconds
                }
                let draft = AlertRule.Draft(
                    projectID: project, name: name, trigger: trigger, threshold: threshold, windowSeconds: windowSeconds,
                    channelID: channel,
                    filters: filters, cooldownSeconds: cooldownSeconds)
                let (_, store) = try await AlertCommand.open(common)
                let rule = try await AlertCommand.refused { try await store.createRule(draft) }
                print(json ? AlertCommand.ruleJSON(rule) : "rule \(rule.id) created")
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List the rules, of one project or all.")

            @OptionGroup var common: CommonOptions
            @Option(help: "Project id.") var project: Int64?
            @Flag(help: "Print JSON.") var json = false

            func run() async throws {
                let (_, store) = try await AlertCommand.open(common)
                let rules = try await store.rules(projectID: project)
                if json {
                    print("[" + rules.map(AlertCommand.ruleJSON).joined(separator: ",") + "]")
                } else {
                    for rule in rules {
                        print("\(rule.id)\tproject \(rule.projectID)\t\(rule.trigger.rawValue)\tchannel \(rule.channelID)\t\(rule.name)")
                    }
                }
            }
        }

        struct Delete: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Delete a rule.")

            @OptionGroup var common: CommonOptions
            @Argument(help: "Rule id.") var id: Int64

            func run() async throws {
                let (_, store) = try await AlertCommand.open(common)
                guard try await store.deleteRule(id: id) else { throw ValidationError("alert rule \(id) does not exist") }
                print("rule \(id) deleted")
            }
        }
    }

    struct Ceiling: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show or set a project's own ceiling on alert notifications per hour (default: alert_ceiling_per_hour).")

        @OptionGroup var common: CommonOptions
        @Option(help: "Project id.") var project: Int64
        @Option(help: "Notifications per hour for this project.") var perHour: Int64?
        @Flag(help: "Return the project to the server's alert_ceiling_per_hour.") var clear = false
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            if perHour != nil, clear { throw ValidationError("give --per-hour or --clear, not both") }
            if let perHour, !(1...1_000_000).contains(perHour) { throw ValidationError("--per-hour must be 1 to 1000000") }
            let settings = try await common.settings()
            let setup = try await DataDirectory(settings: settings).initialise()
            guard try await setup.store.project(id: project) != nil else { throw ValidationError("no project \(project)") }
            if let perHour {
                try await setup.store.setAlertCeiling(projectID: project, perHour: perHour)
            } else if clear {
                try await setup.store.setAlertCeiling(projectID: project, perHour: nil)
            }
            let own = try await setup.store.alertCeiling(projectID: project)
            let effective = own ?? Int64(settings.alertCeilingPerHour)
            if json {
                var writer = JSONWriter()
                writer.beginObject()
                writer.field("project_id", project)
                writer.key("per_hour")
                if let own { writer.value(own) } else { writer.null() }
                writer.field("effective_per_hour", effective)
                writer.field("server_per_hour", Int64(settings.alertCeilingPerHour))
                writer.endObject()
                print(writer.string)
            } else {
                print(
                    "project \(project): \(effective) notifications per hour\(own == nil ? " (the server's alert_ceiling_per_hour)" : "")")
            }
        }
    }

    static func channelJSON(_ channel: AlertChannel) -> String {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("id", channel.id)
        writer.field("name", channel.name)
        writer.field("type", channel.kind.rawValue)
        writer.field("url", channel.url)
        writer.field("to", channel.recipient)
        writer.field("has_secret", channel.hasSecret)
        writer.field("digest_seconds", channel.digestSeconds)
        writer.endObject()
        return writer.string
    }

    static func ruleJSON(_ rule: AlertRule) -> String {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("id", rule.id)
        writer.field("project_id", rule.projectID)
        writer.field("name", rule.name)
        writer.field("when", rule.trigger.rawValue)
        if rule.trigger == .crashFreeRate {
            writer.key("below")
            writer.value(Double(rule.threshold) / 100)
        } else {
            writer.field("count", rule.threshold)
        }
        writer.field("window_seconds", rule.windowSeconds)
        writer.field("channel", rule.channelID)
        writer.field("level", rule.filters.minimumLevel?.name)
        writer.field("environment", rule.filters.environment)
        writer.field("cooldown_seconds", rule.cooldownSeconds)
        writer.endObject()
        return writer.string
    }
}
