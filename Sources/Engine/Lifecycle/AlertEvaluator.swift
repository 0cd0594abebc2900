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

        package init(
            ceilingPerHour: Int64 = 100, capacity: Int = 50_000, quietMilliseconds: Int64 = 10_000, intervalMilliseconds: Int64 = 250
        ) {
            self.ceilingPerHour = ceilingPerHour
            self.capacity = capacity
            self.quietMilliseconds = quietMilliseconds
            self.intervalMilliseconds = intervalMilliseconds
        }
    }

    private struct Buffer {
        var events: [CommittedEvent] = []
        /// Issue changes that did not fit, per project: they count as held back.
        var overflow: [Int64: Int64] = [:]
    }

    private let store: any AlertStore
    private let configuration: Configuration
    private let clock: @Sendable () -> Int64
    private let logger: Logger
    private let buffer = Mutex(Buffer())
    /// Called when deliveries were stored, so the dispatcher need not wait for its next poll.
    private let onEnqueue: @Sendable () -> Void

    /// `clock`: wall time in milliseconds.
    package init(
        store: any AlertStore, configuration: Configuration = Configuration(),
        clock: @escaping @Sendable () -> Int64 = { ClockTime.nowMilliseconds },
        onEnqueue: @escaping @Sendable () -> Void = {}, logger: Logger
    ) {
        self.store = store
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

    /// Takes what is buffered and evaluates it at `now`; returns how many deliveries it stored.
    @discardableResult
    package func pass(now: Int64) async throws -> Int {
        let taken = buffer.withLock { buffer in
            defer { buffer = Buffer() }
            return buffer
        }
        let hour = now / 3_600_000
        for (projectID, count) in taken.overflow.sorted(by: { $0.key < $1.key }) {
            try await store.countSuppressed(projectID: projectID, hour: hour, count: count, now: now)
        }
        var drafts: [AlertDelivery.Draft] = []
        var rulesByProject: [Int64: [AlertRule]] = [:]
        var channels: [Int64: AlertChannel] = [:]
        let projects = Set(taken.events.map(\.projectID))
        let quiet = try await store.takeSuppressed(quietSince: now - configuration.quietMilliseconds)
        if !taken.events.isEmpty || !quiet.isEmpty {
            let rules = try await store.rules(projectID: nil)
            let wanted = projects.union(quiet.map(\.projectID))
            rulesByProject = Dictionary(grouping: rules.filter { wanted.contains($0.projectID) }, by: \.projectID)
            if !rulesByProject.isEmpty { channels = Dictionary(uniqueKeysWithValues: try await store.channels().map { ($0.id, $0) }) }
        }
        if !rulesByProject.isEmpty {
            drafts += try await evaluate(taken.events, rulesByProject: rulesByProject, channels: channels, now: now)
        }
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

    private struct Candidate {
        var rule: AlertRule
        var event: CommittedEvent
        var kind: AlertNotification.Kind
        var count: Int64?
    }

    private func evaluate(
        _ events: [CommittedEvent], rulesByProject: [Int64: [AlertRule]], channels: [Int64: AlertChannel], now: Int64
    ) async throws -> [AlertDelivery.Draft] {
        var candidates: [Candidate] = []
        var newRelease: [String: Bool] = [:]
        for (projectID, rules) in rulesByProject.sorted(by: { $0.key < $1.key }) {
            let projectEvents = events.filter { $0.projectID == projectID }
            guard !projectEvents.isEmpty else { continue }
            for rule in rules {
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
                    for (issueID, seen) in perIssue.sorted(by: { $0.key < $1.key }) {
                        let after = try await store.addToWindow(
                            ruleID: rule.id, issueID: issueID, count: seen.count, now: now, windowMilliseconds: rule.windowSeconds * 1000)
                        if after - seen.count < rule.threshold, after >= rule.threshold {
                            candidates.append(Candidate(rule: rule, event: seen.last, kind: .frequency, count: after))
                        }
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
                    for (issueID, seen) in perIssue.sorted(by: { $0.key < $1.key }) {
                        let count = try await store.addUsers(
                            ruleID: rule.id, issueID: issueID, users: seen.users.sorted(), now: now,
                            windowMilliseconds: rule.windowSeconds * 1000)
                        if count >= rule.threshold {
                            candidates.append(Candidate(rule: rule, event: seen.last, kind: .users, count: count))
                        }
                    }
                }
            }
        }
        var drafts: [AlertDelivery.Draft] = []
        let hour = now / 3_600_000
        var exhausted: [Int64: Int64] = [:]
        for candidate in candidates {
            guard let channel = channels[candidate.rule.channelID] else { continue }
            let projectID = candidate.event.projectID
            if let held = exhausted[projectID] {
                // The ceiling is reached: count the rest without a statement each (an alert storm).
                exhausted[projectID] = held + 1
                continue
            }
            let fires = try await store.claimFiring(
                ruleID: candidate.rule.id, issueID: candidate.event.issueID, now: now,
                cooldownMilliseconds: candidate.rule.cooldownSeconds * 1000)
            guard fires else { continue }
            guard try await store.reserveNotification(projectID: projectID, hour: hour, ceiling: configuration.ceilingPerHour, now: now)
            else {
                exhausted[projectID] = 0
                continue
            }
            let event = candidate.event
            let notification = AlertNotification(
                kind: candidate.kind, projectID: projectID, issueID: event.issueID, eventID: event.eventID.hex, ruleID: candidate.rule.id,
                ruleName: candidate.rule.name, title: event.title, level: event.level.name, environment: event.environment,
                count: candidate.count)
            drafts.append(Self.draft(notification, channel: channel, ruleID: candidate.rule.id, now: now))
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
