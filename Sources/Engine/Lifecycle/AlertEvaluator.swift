import Foundation
package import Logging
package import PitIngest
import PitModel
package import PitStorage
import ServiceLifecycle
import Synchronization

/// Evaluates alert rules on what the writer committed, beside it: the writer hands each batch's
/// events over (`committed`, a bounded append under a lock) and goes on; this service decides,
/// with the alert store's atomic statements, which rules fire for which issues, applies cooldowns
/// and the per-project hourly ceiling, and stores each notification decided as a delivery (the
/// dispatcher sends it). When it falls behind by more than `capacity` events, what does not fit
/// is counted, not queued: it ends up in the "and N more" notice with what the ceiling held back.
///
/// Rules about a project's state rather than its events (a crash-free session rate below a
/// threshold) are evaluated every `healthIntervalMilliseconds` from the release-health counters,
/// and notify when the condition starts to hold. Once an hour the rule state no decision needs
/// any more, and finished deliveries past `deliveryRetentionMilliseconds`, are pruned.
package final class AlertEvaluator: Service, CommitObserver, Sendable {
    package struct Configuration: Sendable {
        /// Notifications per project and hour; past it they are counted and announced once.
        package var ceilingPerHour: Int64
        /// Events held for evaluation at most; the writer never waits for this service.
        package var capacity: Int
        /// How long a project's held-back count must stay unchanged before its notice goes out.
        package var quietMilliseconds: Int64
        /// How often the buffer is drained.
        package var intervalMilliseconds: Int64
        /// How often crash-free-rate rules read the session counters.
        package var healthIntervalMilliseconds: Int64
        /// How long delivered and failed deliveries stay in the delivery log.
        package var deliveryRetentionMilliseconds: Int64
        package var pruneIntervalMilliseconds: Int64

        package init(
            ceilingPerHour: Int64 = 100, capacity: Int = 50_000, quietMilliseconds: Int64 = 10_000, intervalMilliseconds: Int64 = 250,
            healthIntervalMilliseconds: Int64 = 60_000, deliveryRetentionMilliseconds: Int64 = 30 * 86_400_000,
            pruneIntervalMilliseconds: Int64 = 3_600_000
        ) {
            self.ceilingPerHour = ceilingPerHour
            self.capacity = capacity
            self.quietMilliseconds = quietMilliseconds
            self.intervalMilliseconds = intervalMilliseconds
            self.healthIntervalMilliseconds = healthIntervalMilliseconds
            self.deliveryRetentionMilliseconds = deliveryRetentionMilliseconds
            self.pruneIntervalMilliseconds = pruneIntervalMilliseconds
        }
    }

    /// When the periodic parts last ran (milliseconds; 0: not yet).
    private struct Schedule {
        var health: Int64 = 0
        var prune: Int64 = 0
    }

    private struct Buffer {
        var events: [CommittedEvent] = []
        /// Issue changes that did not fit, per project: they count as held back.
        var overflow: [Int64: Int64] = [:]
    }

    private let store: any AlertStore
    /// The session counters crash-free-rate rules read; without it those rules never fire.
    private let reader: (any ReadStore)?
    /// Where projects' own ceilings are (`SettingStore.alertCeiling`); without it every project
    /// has the configured one.
    private let settings: (any SettingStore)?
    private let configuration: Configuration
    private let schedule = Mutex(Schedule())
    private let clock: @Sendable () -> Int64
    private let logger: Logger
    private let buffer = Mutex(Buffer())
    /// Called when deliveries were stored, so the dispatcher need not wait for its next poll.
    private let onEnqueue: @Sendable () -> Void

    /// `clock`: wall time in milliseconds.
    package init(
        store: any AlertStore, reader: (any ReadStore)? = nil, settings: (any SettingStore)? = nil,
        configuration: Configuration = Configuration(),
        clock: @escaping @Sendable () -> Int64 = { ClockTime.nowMilliseconds },
        onEnqueue: @escaping @Sendable () -> Void = {}, logger: Logger
    ) {
        self.store = store
        self.reader = reader
        self.settings = settings
        self.configuration = configuration
        self.clock = clock
        self.onEnqueue = onEnqueue
        self.logger = logger
    }

    package func committed(_ events: [CommittedEvent]) {
        let capacity = configuration.capacity
        buffer.withLock { buffer in
            let room = max(0, capacity - buffer.events.count)
            if events.count <= room {
                buffer.events += events
                return
            }
            buffer.events += events.prefix(room)
            for event in events.dropFirst(room) where event.change != .none {
                buffer.overflow[event.projectID, default: 0] += 1
            }
        }
    }

    package func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await pass(now: clock())
            } catch {
                logger.warning("alert evaluation failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { [configuration] in
                try await Task.sleep(for: .milliseconds(configuration.intervalMilliseconds))
            }
        }
        // What was committed before shutdown is still decided and stored.
        _ = try? await pass(now: clock())
    }

    /// Takes what is buffered and evaluates it at `now` (and the project-level rules, and the
    /// pruning, when their time has come); returns how many deliveries it stored.
    @discardableResult
    package func pass(now: Int64) async throws -> Int {
        let taken = buffer.withLock { buffer in
            defer { buffer = Buffer() }
            return buffer
        }
        let (healthDue, pruneDue) = schedule.withLock { schedule in
            let health = reader != nil && now - schedule.health >= configuration.healthIntervalMilliseconds
            let prune = now - schedule.prune >= configuration.pruneIntervalMilliseconds
            if health { schedule.health = now }
            if prune { schedule.prune = now }
            return (health, prune)
        }
        if pruneDue {
            let deleted = try await store.prune(now: now, deliveryCutoff: now - configuration.deliveryRetentionMilliseconds)
            if deleted > 0 { logger.debug("alert state pruned", metadata: ["pit.rows": "\(deleted)"]) }
        }
        let hour = now / 3_600_000
        for (projectID, count) in taken.overflow.sorted(by: { $0.key < $1.key }) {
            try await store.countSuppressed(projectID: projectID, hour: hour, count: count, now: now)
        }
        var candidates: [Candidate] = []
        var rulesByProject: [Int64: [AlertRule]] = [:]
        var channels: [Int64: AlertChannel] = [:]
        let quiet = try await store.takeSuppressed(quietSince: now - configuration.quietMilliseconds)
        if !taken.events.isEmpty || !quiet.isEmpty || healthDue {
            rulesByProject = Dictionary(grouping: try await store.rules(projectID: nil), by: \.projectID)
            if !rulesByProject.isEmpty { channels = Dictionary(uniqueKeysWithValues: try await store.channels().map { ($0.id, $0) }) }
        }
        if !taken.events.isEmpty, !rulesByProject.isEmpty {
            candidates += try await eventCandidates(taken.events, rulesByProject: rulesByProject, now: now)
        }
        if healthDue, let reader {
            let healthRules = rulesByProject.values.joined().filter { $0.trigger == .crashFreeRate }
            if !healthRules.isEmpty { candidates += try await crashFreeCandidates(healthRules, reader: reader, now: now) }
        }
        var drafts = try await decide(candidates, channels: channels, now: now)
        for (projectID, count) in quiet {
            let notice = AlertNotification(kind: .suppressed, projectID: projectID, count: count)
            let channelIDs = Set((rulesByProject[projectID] ?? []).map(\.channelID))
            for channelID in channelIDs.sorted() {
                guard let channel = channels[channelID] else { continue }
                drafts.append(Self.draft(notice, channel: channel, ruleID: nil, now: now))
            }
        }
        guard !drafts.isEmpty else { return 0 }
        try await store.enqueue(drafts, now: now)
        onEnqueue()
        return drafts.count
    }

    /// A notification a rule would send, before its cooldown and the project's ceiling.
    private struct Candidate {
        var rule: AlertRule
        /// The issue the cooldown is kept for; 0 for a rule about the whole project.
        var issueID: Int64
        var notification: AlertNotification

        init(rule: AlertRule, event: CommittedEvent, kind: AlertNotification.Kind, count: Int64? = nil) {
            self.rule = rule
            issueID = event.issueID
            notification = AlertNotification(
                kind: kind, projectID: event.projectID, issueID: event.issueID, eventID: event.eventID.hex, ruleID: rule.id,
                ruleName: rule.name, title: event.title, level: event.level.name, environment: event.environment, count: count)
        }

        init(rule: AlertRule, notification: AlertNotification) {
            self.rule = rule
            issueID = 0
            self.notification = notification
        }
    }

    private func eventCandidates(_ events: [CommittedEvent], rulesByProject: [Int64: [AlertRule]], now: Int64) async throws -> [Candidate] {
        var candidates: [Candidate] = []
        var newRelease: [String: Bool] = [:]
        let eventsByProject = Dictionary(grouping: events, by: \.projectID)
        for (projectID, rules) in rulesByProject.sorted(by: { $0.key < $1.key }) {
            guard let projectEvents = eventsByProject[projectID] else { continue }
            for rule in rules where rule.trigger.isPerEvent {
                let admitted = projectEvents.filter {
                    rule.filters.admit(level: $0.level, environment: $0.environment, title: $0.title, tags: $0.tags)
                }
                guard !admitted.isEmpty else { continue }
                switch rule.trigger {
                case .newIssue:
                    for event in admitted where event.change == .created {
                        candidates.append(Candidate(rule: rule, event: event, kind: .newIssue))
                    }
                case .regression:
                    for event in admitted where event.change == .regressed {
                        candidates.append(Candidate(rule: rule, event: event, kind: .regression))
                    }
                case .monitorFailure:
                    // The scheduler opens an incident as an event of the monitor's issue (created
                    // on the first incident, regressed on each later one once resolved).
                    for event in admitted where event.change != .none && event.tags.contains(where: { $0.key == "monitor.slug" }) {
                        candidates.append(Candidate(rule: rule, event: event, kind: .monitorFailure))
                    }
                case .newReleaseIssue:
                    for event in admitted where event.change == .created {
                        guard let release = event.release else { continue }
                        let key = "\(projectID)\u{0}\(release)"
                        if newRelease[key] == nil {
                            newRelease[key] = try await store.releaseIsNew(projectID: projectID, release: release, since: now - 3_600_000)
                        }
                        if newRelease[key] == true { candidates.append(Candidate(rule: rule, event: event, kind: .newReleaseIssue)) }
                    }
                case .frequency:
                    var perIssue: [Int64: (count: Int64, last: CommittedEvent)] = [:]
                    for event in admitted { perIssue[event.issueID] = ((perIssue[event.issueID]?.count ?? 0) + 1, event) }
                    let issues = perIssue.keys.sorted()
                    let inWindow = try await store.addToWindows(
                        ruleID: rule.id, counts: issues.map { ($0, perIssue[$0]?.count ?? 0) }, now: now,
                        windowMilliseconds: rule.windowSeconds * 1000)
                    // As Sentry's frequency condition: it holds while the window has N; the
                    // cooldown keeps it from notifying more than once per cooldown.
                    for issueID in issues {
                        guard let count = inWindow[issueID], count >= rule.threshold, let last = perIssue[issueID]?.last else { continue }
                        candidates.append(Candidate(rule: rule, event: last, kind: .frequency, count: count))
                    }
                case .users:
                    var perIssue: [Int64: (users: Set<String>, last: CommittedEvent)] = [:]
                    for event in admitted {
                        guard let user = event.userKey else { continue }
                        var entry = perIssue[event.issueID] ?? ([], event)
                        entry.users.insert(user)
                        entry.last = event
                        perIssue[event.issueID] = entry
                    }
                    let issues = perIssue.keys.sorted()
                    let distinct = try await store.addUsers(
                        ruleID: rule.id, usersByIssue: issues.map { ($0, perIssue[$0]?.users.sorted() ?? []) }, now: now,
                        windowMilliseconds: rule.windowSeconds * 1000)
                    for issueID in issues {
                        guard let count = distinct[issueID], count >= rule.threshold, let last = perIssue[issueID]?.last else { continue }
                        candidates.append(Candidate(rule: rule, event: last, kind: .users, count: count))
                    }
                case .crashFreeRate:
                    continue
                }
            }
        }
        return candidates
    }

    /// Crash-free-rate rules: the project's sessions over the rule's window (whole hours, the
    /// counters' grain), in its environment when it names one. A rule notifies when the rate
    /// falls below its threshold and not again until the rate has recovered; a window without
    /// sessions leaves the condition as it was.
    private func crashFreeCandidates(_ rules: [AlertRule], reader: any ReadStore, now: Int64) async throws -> [Candidate] {
        var candidates: [Candidate] = []
        let hour = now / 3_600_000
        for rule in rules.sorted(by: { $0.id < $1.id }) {
            let hours = max(1, rule.windowSeconds / 3600)
            var query = SessionQuery(projectIDs: [rule.projectID], fromHour: hour - hours + 1, toHour: hour)
            query.byProject = true
            if let environment = rule.filters.environment { query.environments = [environment] }
            let stats = try await reader.sessionStats(query)
            let tally = stats.sessions[SessionGroup(projectID: rule.projectID)] ?? SessionTally()
            guard tally.started > 0 else { continue }
            let rate = max(0, 100 - Double(tally.crashed) / Double(tally.started) * 100)
            let threshold = Double(rule.threshold) / 100
            let below = rate < threshold
            guard try await store.transitionCondition(ruleID: rule.id, active: below), below else { continue }
            let window = hours == 1 ? "the last hour" : "the last \(hours) hours"
            let rateText = String(format: "%.2f", rate)
            let notification = AlertNotification(
                kind: .crashFreeRate, projectID: rule.projectID, ruleID: rule.id, ruleName: rule.name,
                title: "Crash-free sessions at \(rateText) % over \(window), below \(AlertRule.percentText(rule.threshold)) %",
                level: "error", environment: rule.filters.environment, count: tally.started, rate: (rate * 100).rounded() / 100,
                threshold: threshold)
            candidates.append(Candidate(rule: rule, notification: notification))
        }
        return candidates
    }

    /// The candidates that pass their cooldown and the project's hourly ceiling, as deliveries;
    /// the rest of a project past its ceiling are counted for its "and N more" notice.
    private func decide(_ candidates: [Candidate], channels: [Int64: AlertChannel], now: Int64) async throws -> [AlertDelivery.Draft] {
        var drafts: [AlertDelivery.Draft] = []
        let hour = now / 3_600_000
        var exhausted: [Int64: Int64] = [:]
        var ceilings: [Int64: Int64] = [:]
        for candidate in candidates {
            guard let channel = channels[candidate.rule.channelID] else { continue }
            let projectID = candidate.rule.projectID
            if let held = exhausted[projectID] {
                // The ceiling is reached: count the rest without a statement each (an alert storm).
                exhausted[projectID] = held + 1
                continue
            }
            let fires = try await store.claimFiring(
                ruleID: candidate.rule.id, issueID: candidate.issueID, now: now, cooldownMilliseconds: candidate.rule.cooldownSeconds * 1000
            )
            guard fires else { continue }
            if ceilings[projectID] == nil {
                ceilings[projectID] = try await settings?.alertCeiling(projectID: projectID) ?? configuration.ceilingPerHour
            }
            guard
                try await store.reserveNotification(
                    projectID: projectID, hour: hour, ceiling: ceilings[projectID] ?? configuration.ceilingPerHour, now: now)
            else {
                exhausted[projectID] = 0
                continue
            }
            drafts.append(Self.draft(candidate.notification, channel: channel, ruleID: candidate.rule.id, now: now))
        }
        for (projectID, held) in exhausted.sorted(by: { $0.key < $1.key }) where held > 0 {
            try await store.countSuppressed(projectID: projectID, hour: hour, count: held, now: now)
        }
        return drafts
    }

    /// A delivery for `channel`: at once, or at the end of its digest interval.
    private static func draft(_ notification: AlertNotification, channel: AlertChannel, ruleID: Int64?, now: Int64) -> AlertDelivery.Draft {
        guard channel.digestSeconds > 0 else {
            return AlertDelivery.Draft(channelID: channel.id, ruleID: ruleID, notification: notification, sendAt: now)
        }
        let interval = channel.digestSeconds * 1000
        let end = (now / interval + 1) * interval
        return AlertDelivery.Draft(channelID: channel.id, ruleID: ruleID, notification: notification, sendAt: end, digest: true)
    }
}
