import Foundation
import Logging
import PitIngest
import PitLifecycle
import PitModel
import PitStorage
import PostgresStore
import SQLiteStore
import Testing

/// The alert evaluator over each back end's alert store: what it decides from committed events
/// (rules, filters, cooldowns, thresholds, the hourly ceiling and its "and N more" notice,
/// digests) and the outbox the dispatcher works from (claims, attempts, retries).
struct AlertEvaluatorTests {
    private static let logger = Logger(label: "pit-tests")
    private static let hour: Int64 = 3_600_000
    /// A wall time well inside one hour, so that the ceiling's hour does not turn mid-test.
    private static let start: Int64 = 1_700_000_000_000 / hour * hour + 60_000

    private static func event(
        issue: Int64, change: CommittedEvent.IssueChange, level: Level = .error, environment: String = "production", user: String? = nil,
        title: String = "TypeError: boom", tags: [(key: String, value: String)] = [], release: String? = nil
    ) -> CommittedEvent {
        CommittedEvent(
            projectID: 1, issueID: issue, eventID: .random(), change: change, level: level, environment: environment, release: release,
            userKey: user, title: title, tags: tags)
    }

    /// Every delivery stored for `channel`, oldest first.
    private static func deliveries(_ store: any AlertStore, _ channel: AlertChannel) async throws -> [AlertDelivery] {
        try await store.deliveries(channelID: channel.id, limit: 10_000).reversed()
    }

    private static func webhook(_ store: any AlertStore, digestSeconds: Int64 = 0) async throws -> AlertChannel {
        try await store.createChannel(
            AlertChannel.Draft(
                name: nil, kind: .webhook, url: "http://127.0.0.1:9/hook", recipient: nil, secret: nil, digestSeconds: digestSeconds),
            sealedSecret: nil, organizationID: 1)
    }

    static func rulesFireAsDecided(_ store: any AlertStore) async throws {
        let channel = try await webhook(store)
        _ = try await store.createRule(AlertRule.Draft(projectID: 1, trigger: .newIssue, channelID: channel.id))
        _ = try await store.createRule(AlertRule.Draft(projectID: 1, trigger: .regression, channelID: channel.id))
        _ = try await store.createRule(
            AlertRule.Draft(projectID: 1, trigger: .frequency, threshold: 50, windowSeconds: 3600, channelID: channel.id))
        let evaluator = AlertEvaluator(store: store, logger: logger)
        var now = start

        // A new issue: one notification; its next 100 events: only the frequency rule, once, at 50.
        evaluator.committed([event(issue: 7, change: .created)])
        try await evaluator.pass(now: now)
        for _ in 0..<10 {
            now += 1000
            evaluator.committed((0..<10).map { _ in event(issue: 7, change: .none) })
            try await evaluator.pass(now: now)
        }
        var sent = try await deliveries(store, channel)
        #expect(sent.map(\.notification.kind) == [.newIssue, .frequency])
        #expect(sent.last?.notification.count == 51)
        #expect(sent.first?.notification.issueID == 7 && sent.first?.notification.title == "TypeError: boom")

        // Resolved, then an event: a regression; another one inside the cooldown: nothing more.
        evaluator.committed([event(issue: 7, change: .regressed)])
        try await evaluator.pass(now: now + 1000)
        evaluator.committed([event(issue: 7, change: .regressed)])
        try await evaluator.pass(now: now + 2000)
        sent = try await deliveries(store, channel)
        #expect(sent.map(\.notification.kind) == [.newIssue, .frequency, .regression])
        // Past the cooldown (30 minutes) both notify again: the regression, and the frequency rule,
        // whose sliding hour still holds 104 events (Sentry's frequency condition holds while
        // the window has N; only the cooldown spaces its notifications).
        evaluator.committed([event(issue: 7, change: .regressed)])
        try await evaluator.pass(now: now + 31 * 60_000)
        sent = try await deliveries(store, channel)
        #expect(sent.map(\.notification.kind) == [.newIssue, .frequency, .regression, .regression, .frequency])
        #expect(sent.last?.notification.count == 104)
    }

    static func filtersAndUsers(_ store: any AlertStore) async throws {
        let channel = try await webhook(store)
        let filtered = AlertRule.Filters(
            minimumLevel: .error, environment: "production", tagKey: "browser", tagValue: "Chrome", tagMatch: .contains,
            titleContains: "boom")
        _ = try await store.createRule(AlertRule.Draft(projectID: 1, trigger: .newIssue, channelID: channel.id, filters: filtered))
        _ = try await store.createRule(
            AlertRule.Draft(projectID: 1, trigger: .users, threshold: 3, windowSeconds: 3600, channelID: channel.id))
        let evaluator = AlertEvaluator(store: store, logger: logger)
        let chrome = [(key: "browser", value: "Chrome 120")]
        evaluator.committed([
            event(issue: 1, change: .created, level: .warning, tags: chrome),
            event(issue: 2, change: .created, environment: "staging", tags: chrome),
            event(issue: 3, change: .created, tags: [(key: "browser", value: "Firefox")]),
            event(issue: 4, change: .created, title: "KeyError", tags: chrome),
            event(issue: 5, change: .created, level: .fatal, tags: chrome),
        ])
        try await evaluator.pass(now: start)
        #expect(try await deliveries(store, channel).map(\.notification.issueID) == [5])

        // Users: the same user twice counts once; the third distinct user fires.
        evaluator.committed([event(issue: 9, change: .none, user: "a"), event(issue: 9, change: .none, user: "a")])
        try await evaluator.pass(now: start + 1000)
        evaluator.committed([event(issue: 9, change: .none, user: "b")])
        try await evaluator.pass(now: start + 2000)
        #expect(try await deliveries(store, channel).count == 1)
        evaluator.committed([event(issue: 9, change: .none, user: "c")])
        try await evaluator.pass(now: start + 3000)
        let sent = try await deliveries(store, channel)
        #expect(sent.map(\.notification.kind) == [.newIssue, .users])
        #expect(sent.last?.notification.count == 3)
    }

    static func stormIsBounded(_ store: any AlertStore) async throws {
        let channel = try await webhook(store)
        _ = try await store.createRule(AlertRule.Draft(projectID: 1, trigger: .newIssue, channelID: channel.id))
        let evaluator = AlertEvaluator(
            store: store, configuration: .init(ceilingPerHour: 20, capacity: 300, quietMilliseconds: 5000), logger: logger)
        // 500 new issues in two commits; the second does not fit the buffer and is only counted.
        evaluator.committed((1...250).map { event(issue: $0, change: .created) })
        evaluator.committed((251...500).map { event(issue: $0, change: .created) })
        try await evaluator.pass(now: start)
        #expect(try await deliveries(store, channel).count == 20)
        // Not quiet yet: no notice. Quiet: one notice for all 480 held back.
        try await evaluator.pass(now: start + 1000)
        #expect(try await deliveries(store, channel).count == 20)
        try await evaluator.pass(now: start + 7000)
        let sent = try await deliveries(store, channel)
        #expect(sent.count == 21)
        #expect(sent.last?.notification.kind == .suppressed)
        #expect(sent.last?.notification.count == 480)
        try await evaluator.pass(now: start + 20_000)
        #expect(try await deliveries(store, channel).count == 21)
    }

    static func outboxAndDigests(_ store: any AlertStore) async throws {
        let channel = try await webhook(store)
        let digest = try await webhook(store, digestSeconds: 600)
        _ = try await store.createRule(AlertRule.Draft(projectID: 1, trigger: .newIssue, channelID: channel.id))
        _ = try await store.createRule(AlertRule.Draft(projectID: 1, trigger: .newIssue, channelID: digest.id))
        _ = try await store.createRule(AlertRule.Draft(projectID: 1, trigger: .regression, channelID: digest.id))
        let evaluator = AlertEvaluator(store: store, logger: logger)
        evaluator.committed((1...3).map { event(issue: $0, change: .created) } + [event(issue: 40, change: .regressed)])
        try await evaluator.pass(now: start)

        // The immediate channel's three are due; the digest's wait for the end of its interval.
        let due = try await store.claimDue(now: start, limit: 100, leaseUntil: start + 60_000)
        #expect(due.map(\.channelID) == [channel.id, channel.id, channel.id])
        #expect(try await store.claimDue(now: start, limit: 100, leaseUntil: start + 60_000).isEmpty)
        #expect(try await store.collectDigests(now: start) == 0)
        let intervalEnd = (start / 600_000 + 1) * 600_000
        #expect(try await store.collectDigests(now: intervalEnd) == 1)
        // Then the digest is due, and the three immediate ones again: their lease ran out unanswered.
        let later = try await store.claimDue(now: intervalEnd, limit: 100, leaseUntil: intervalEnd + 60_000)
        #expect(later.filter { $0.channelID == channel.id }.map(\.id) == due.map(\.id))
        let digests = later.filter { $0.channelID == digest.id }
        #expect(digests.count == 1)
        #expect(digests.first?.notification.kind == .digest)
        #expect(digests.first?.notification.entries?.map(\.kind) == [.newIssue, .newIssue, .newIssue, .regression])
        #expect(AlertDigest.summary(of: digests.first?.notification.entries ?? []) == "3 new issues, 1 regression")

        // A failed attempt is retried at its next attempt time; a delivered one is not.
        let first = due[0]
        let retryAt = AlertDelivery.nextAttempt(after: 1, now: start, createdAt: first.createdAt, baseMilliseconds: 1000)
        #expect(retryAt == start + 1000)
        try await store.record(
            AlertDelivery.Attempt(
                deliveryID: first.id, attemptedAt: start, responseCode: 500, latencyMilliseconds: 12, error: "the receiver answered 500",
                nextAttemptAt: retryAt, succeeded: false))
        try await store.record(
            AlertDelivery.Attempt(
                deliveryID: due[1].id, attemptedAt: start, responseCode: 204, latencyMilliseconds: 3, error: nil, nextAttemptAt: nil,
                succeeded: true))
        let again = try await store.claimDue(now: start + 60_000, limit: 100, leaseUntil: start + 120_000)
        #expect(again.map(\.id) == [first.id])
        try await store.record(
            AlertDelivery.Attempt(
                deliveryID: first.id, attemptedAt: start + 60_000, responseCode: 200, latencyMilliseconds: 5, error: nil,
                nextAttemptAt: nil,
                succeeded: true))
        let log = try await store.attempts(deliveryID: first.id)
        #expect(log.map(\.responseCode) == [500, 200])
        #expect(log.map(\.succeeded) == [false, true])
        let stored = try await deliveries(store, channel).first { $0.id == first.id }
        #expect(stored?.status == .delivered && stored?.attempts == 2 && stored?.responseCode == 200)
        // Retries stop a day after the delivery was made.
        #expect(
            AlertDelivery.nextAttempt(after: 30, now: first.createdAt + 86_000_000, createdAt: first.createdAt, baseMilliseconds: 30_000)
                == nil)
    }

    static func channelsAndRules(_ store: any AlertStore) async throws {
        // The key file is made on first use, readable by its owner only, and read back the same.
        let directory = try TemporaryDirectory()
        let box = try SecretBox.forDataDirectory(directory.path(""), environment: [:])
        let mode = try FileManager.default.attributesOfItem(atPath: directory.path(SecretBox.keyFileName))[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try SecretBox.forDataDirectory(directory.path(""), environment: [:]).unseal(try box.seal("same key")) == "same key")
        let channel = try await store.createChannel(
            AlertChannel.Draft(name: "ops", kind: .slack, url: "https://hooks.slack.com/services/T/B/X", recipient: nil, secret: "s3cret"),
            sealedSecret: try box.seal("s3cret"), organizationID: 1)
        #expect(channel.hasSecret && channel.kind == .slack && channel.name == "ops")
        let sealed = try #require(try await store.sealedSecret(channelID: channel.id))
        #expect(!String(decoding: sealed, as: UTF8.self).contains("s3cret"))
        #expect(try box.unseal(sealed) == "s3cret")
        await #expect(throws: AdminError.self) {
            _ = try await store.createRule(AlertRule.Draft(projectID: 1, trigger: .newIssue, channelID: channel.id + 100))
        }
        await #expect(throws: AdminError.self) {
            _ = try await store.createRule(AlertRule.Draft(projectID: 99, trigger: .newIssue, channelID: channel.id))
        }
        await #expect(throws: AdminError.self) {
            _ = try await store.createRule(AlertRule.Draft(projectID: 1, trigger: .frequency, channelID: channel.id))
        }
        let rule = try await store.createRule(
            AlertRule.Draft(projectID: 1, trigger: .regression, channelID: channel.id, cooldownSeconds: 600))
        var changed = AlertRule.Draft(projectID: 1, name: "renamed", trigger: .regression, channelID: channel.id)
        changed.filters.environment = "production"
        let updated = try await store.updateRule(id: rule.id, changed)
        #expect(updated?.name == "renamed" && updated?.filters.environment == "production" && updated?.cooldownSeconds == 1800)
        #expect(try await store.rules(projectID: 1).count == 1)
        #expect(try await store.deleteChannel(id: channel.id))
        #expect(try await store.rules(projectID: nil).isEmpty)
        #expect(try await store.deleteRule(id: rule.id) == false)
    }

    /// Frequency windows slide: a burst split across what a tumbling window would have cut in
    /// two still fires, and events older than the window no longer count.
    static func windowsSlide(_ store: any AlertStore) async throws {
        let channel = try await webhook(store)
        _ = try await store.createRule(
            AlertRule.Draft(projectID: 1, trigger: .frequency, threshold: 10, windowSeconds: 60, channelID: channel.id))
        let evaluator = AlertEvaluator(store: store, logger: logger)
        func send(_ count: Int, issue: Int64, at offset: Int64) async throws {
            evaluator.committed((0..<count).map { _ in event(issue: issue, change: .none) })
            try await evaluator.pass(now: start + offset)
        }
        // Issue 1: 1 event, 5 at 55 s, 5 at 65 s: 10 within the last minute at 65 s.
        try await send(1, issue: 1, at: 0)
        try await send(5, issue: 1, at: 55_000)
        #expect(try await deliveries(store, channel).isEmpty)
        try await send(5, issue: 1, at: 65_000)
        let sent = try await deliveries(store, channel)
        #expect(sent.map(\.notification.issueID) == [1])
        #expect(sent.first?.notification.count == 10)
        // Issue 2: 9 events, then 9 more 70 s later: never 10 within a minute.
        try await send(9, issue: 2, at: 100_000)
        try await send(9, issue: 2, at: 170_000)
        #expect(try await deliveries(store, channel).count == 1)
    }

    /// A monitor-failure rule fires on the scheduler's incident events (created, and regressed
    /// once resolved) of the monitor it names, and on nothing else.
    static func monitorIncidents(_ store: any AlertStore) async throws {
        let channel = try await webhook(store)
        let nightly = AlertRule.Filters(tagKey: "monitor.slug", tagValue: "nightly")
        _ = try await store.createRule(AlertRule.Draft(projectID: 1, trigger: .monitorFailure, channelID: channel.id, filters: nightly))
        let evaluator = AlertEvaluator(store: store, logger: logger)
        evaluator.committed([
            event(issue: 1, change: .created, title: "Cron failure: nightly", tags: [(key: "monitor.slug", value: "nightly")]),
            event(issue: 2, change: .created, title: "Cron failure: hourly", tags: [(key: "monitor.slug", value: "hourly")]),
            event(issue: 3, change: .created, title: "TypeError: boom"),
            event(issue: 1, change: .none, tags: [(key: "monitor.slug", value: "nightly")]),
        ])
        try await evaluator.pass(now: start)
        var sent = try await deliveries(store, channel)
        #expect(sent.map(\.notification.kind) == [.monitorFailure])
        #expect(sent.first?.notification.issueID == 1 && sent.first?.notification.title == "Cron failure: nightly")
        // The next incident, after the first was resolved and the cooldown passed.
        evaluator.committed([event(issue: 1, change: .regressed, tags: [(key: "monitor.slug", value: "nightly")])])
        try await evaluator.pass(now: start + 31 * 60_000)
        sent = try await deliveries(store, channel)
        #expect(sent.count == 2)
    }

    /// A project's own ceiling replaces the server's; clearing it restores the server's. Pruning
    /// removes finished deliveries past their retention and leaves pending ones.
    static func ceilingOverrideAndPrune(_ store: any AlertStore, _ settings: any SettingStore) async throws {
        let channel = try await webhook(store)
        _ = try await store.createRule(AlertRule.Draft(projectID: 1, trigger: .newIssue, channelID: channel.id))
        #expect(try await settings.alertCeiling(projectID: 1) == nil)
        try await settings.setAlertCeiling(projectID: 1, perHour: 3)
        #expect(try await settings.alertCeiling(projectID: 1) == 3)
        let evaluator = AlertEvaluator(store: store, settings: settings, configuration: .init(ceilingPerHour: 50), logger: logger)
        evaluator.committed((1...10).map { event(issue: $0, change: .created) })
        try await evaluator.pass(now: start)
        #expect(try await deliveries(store, channel).count == 3)
        try await settings.setAlertCeiling(projectID: 1, perHour: nil)
        #expect(try await settings.alertCeiling(projectID: 1) == nil)
        // Next hour, the server's 50.
        evaluator.committed((11...20).map { event(issue: $0, change: .created) })
        try await evaluator.pass(now: start + hour)
        let sent = try await deliveries(store, channel)
        #expect(sent.filter { $0.notification.kind == .newIssue }.count == 13)

        // One delivered long ago, the rest pending: only the delivered one goes.
        let claimed = try await store.claimDue(now: start + hour, limit: 1, leaseUntil: start + hour + 60_000)
        let delivered = try #require(claimed.first)
        try await store.record(
            AlertDelivery.Attempt(
                deliveryID: delivered.id, attemptedAt: start + hour, responseCode: 204, latencyMilliseconds: 3, error: nil,
                nextAttemptAt: nil, succeeded: true))
        let before = try await deliveries(store, channel).count
        let pruned = try await store.prune(now: start + 40 * 86_400_000, deliveryCutoff: start + 10 * 86_400_000)
        #expect(pruned >= 2)  // the delivery and its attempt (and stale rule state)
        let after = try await deliveries(store, channel)
        #expect(after.count == before - 1)
        #expect(!after.contains { $0.id == delivered.id })
        #expect(try await store.attempts(deliveryID: delivered.id).isEmpty)
    }

    /// Each scenario with the alert store and the settings (projects' own ceilings) of one back end.
    static let scenarios: [(String, @Sendable (any AlertStore, any SettingStore) async throws -> Void)] = [
        ("rules", { store, _ in try await rulesFireAsDecided(store) }), ("filters", { store, _ in try await filtersAndUsers(store) }),
        ("storm", { store, _ in try await stormIsBounded(store) }), ("outbox", { store, _ in try await outboxAndDigests(store) }),
        ("channels", { store, _ in try await channelsAndRules(store) }), ("sliding", { store, _ in try await windowsSlide(store) }),
        ("monitor", { store, _ in try await monitorIncidents(store) }), ("ceiling", ceilingOverrideAndPrune),
    ]

    /// Crash-free-rate rules read the session counters: 2 of the hour's 10 sessions crashed
    /// (80 % crash-free) fires a rule at 90 % once, not one at 70 %, and not again while the rate
    /// stays below.
    @Test func crashFreeRateFromSessions() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("pit.db")
        let admin = try SQLiteAdminStore(path: path)
        _ = try await admin.ensureDefaults(organizationSlug: "pit", projectSlug: "default")
        let batches = try SQLiteBatchStore(path: path, durability: StorageDurability(synchronous: .off))
        for batch in SessionFixtures.batches { _ = try batches.write(batch) }
        batches.close()
        let store = try SQLiteAlertStore(path: path)
        let channel = try await Self.webhook(store)
        let strict = try await store.createRule(
            AlertRule.Draft(projectID: 1, trigger: .crashFreeRate, threshold: 9000, windowSeconds: 3600, channelID: channel.id))
        _ = try await store.createRule(
            AlertRule.Draft(projectID: 1, trigger: .crashFreeRate, threshold: 7000, windowSeconds: 3600, channelID: channel.id))
        #expect(strict.windowSeconds == 3600)
        let evaluator = AlertEvaluator(
            store: store, reader: SQLiteReadStore(path: path), configuration: .init(healthIntervalMilliseconds: 1000), logger: Self.logger)
        let now = SessionFixtures.hour * Self.hour + 30 * 60_000
        try await evaluator.pass(now: now)
        var sent = try await Self.deliveries(store, channel)
        #expect(sent.map(\.notification.kind) == [.crashFreeRate])
        #expect(sent.first?.notification.ruleID == strict.id)
        #expect(sent.first?.notification.rate == 80)
        #expect(sent.first?.notification.count == 10)
        try await evaluator.pass(now: now + 2000)
        sent = try await Self.deliveries(store, channel)
        #expect(sent.count == 1)
        // Inside the interval nothing is read at all.
        try await evaluator.pass(now: now + 2500)
        #expect(try await Self.deliveries(store, channel).count == 1)
    }

    @Test func crashFreeRuleValidation() throws {
        #expect(throws: AdminError.self) {
            try AlertRule.Draft(projectID: 1, trigger: .crashFreeRate, threshold: 0, windowSeconds: 3600, channelID: 1).validated()
        }
        #expect(throws: AdminError.self) {
            try AlertRule.Draft(projectID: 1, trigger: .crashFreeRate, threshold: 9950, windowSeconds: 600, channelID: 1).validated()
        }
        #expect(throws: AdminError.self) {
            try AlertRule.Draft(
                projectID: 1, trigger: .crashFreeRate, threshold: 9950, windowSeconds: 3600, channelID: 1,
                filters: AlertRule.Filters(minimumLevel: .error)
            ).validated()
        }
        let rounded = try AlertRule.Draft(projectID: 1, trigger: .crashFreeRate, threshold: 9950, windowSeconds: 5400, channelID: 1)
            .validated()
        #expect(rounded.windowSeconds == 7200)
        #expect(AlertRule.parsePercent("99.5%") == 9950 && AlertRule.parsePercent("abc") == nil && AlertRule.parsePercent("101") == nil)
        #expect(AlertRule.percentText(9950) == "99.5" && AlertRule.percentText(9900) == "99" && AlertRule.percentText(9905) == "99.05")
    }

    @Test(arguments: 0..<8)
    func sqlite(scenario: Int) async throws {
        let directory = try TemporaryDirectory()
        let admin = try SQLiteAdminStore(path: directory.path("pit.db"))
        _ = try await admin.ensureDefaults(organizationSlug: "pit", projectSlug: "default")
        try await Self.scenarios[scenario].1(try SQLiteAlertStore(path: directory.path("pit.db")), admin)
    }

    @Test(.enabled(if: PostgresTestDatabase.adminURL != nil, "PIT_TEST_DATABASE_URL is not set"), arguments: 0..<8)
    func postgres(scenario: Int) async throws {
        let database = try PostgresTestDatabase.create()
        let admin = try await PostgresAdminStore.open(url: database, logger: Self.logger)
        _ = try await admin.ensureDefaults(organizationSlug: "pit", projectSlug: "default")
        let store = try PostgresAlertStore(url: database, logger: Self.logger)
        try await Self.scenarios[scenario].1(store, admin)
        await store.close()
        await admin.close()
    }
}
