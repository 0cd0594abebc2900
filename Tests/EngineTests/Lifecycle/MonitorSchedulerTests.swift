import Foundation
import Logging
import PitIngest
import PitLifecycle
import PitModel
import PitObservability
import PitStorage
import SQLiteStore
import Testing

/// The cron scenario both back ends run (`PostgresMonitorParityTests`): check-ins through the
/// writer, then scheduler passes at times a test clock chooses, each from stored state alone
/// (a fresh scheduler per pass, as after a restart).
enum MonitorScenario {
    static let t0: Int64 = 1_700_000_040_000
    static let minute: Int64 = 60000
    static let everyMinute = MonitorConfig(
        schedule: .interval(1, .minute), checkinMargin: 1, maxRuntime: 2, failureIssueThreshold: 1, recoveryThreshold: 1)

    static func checkIn(
        _ slug: String, _ status: CheckInStatus, guid: String = EventID.random().hex, at: Int64, config: MonitorConfig? = everyMinute,
        environment: String = "production", duration: Int64? = nil
    ) -> WriteUnit {
        WriteUnit(
            event: nil, items: [],
            checkIns: [
                .update(
                    CheckInUpdate(
                        projectID: 1, slug: slug, guid: guid, status: status, duration: duration, environment: environment, config: config,
                        received: at))
            ])
    }

    /// Retention: check-ins before the cutoff go, in batches; the monitor and its state stay.
    static func purge(_ store: any PurgeStore, reader: any ReadStore) async throws {
        let monitorID = try #require(try await reader.monitors(projectIDs: [1], slug: "beat").first?.monitor.id)
        let before = try await reader.checkIns(monitorID: monitorID, environment: nil, limit: 100, before: nil)
        let old = before.filter { $0.created < t0 + 10 * minute }.count
        #expect(old == 1, "the first ok; the misses are stamped when found")
        #expect(try store.purgeCheckIns(projectID: 2, createdBefore: .max, limit: 100) == 0)
        #expect(try store.purgeCheckIns(projectID: 1, createdBefore: t0 + 10 * minute, limit: 100) == old + 1, "and the long job's")
        let after = try await reader.checkIns(monitorID: monitorID, environment: nil, limit: 100, before: nil)
        #expect(after.count == before.count - old)
        #expect(try await reader.monitors(projectIDs: [1], slug: "beat").first?.environments.count == 1)
    }

    static func run(store: any BatchStore, reader: any ReadStore) async throws {
        let queue = IngestQueue(maxCount: 1000, maxBytes: 64 << 20)
        let logger = Logger(label: "pit.tests", factory: { _ in SwiftLogNoOpLogHandler() })
        let pipeline = IngestPipeline(keys: KeyCache(), queue: queue, ack: .committed, limits: IngestLimits(), metrics: PitMetrics())
        let writer = BatchWriter(queue: queue, stores: [store], batchSize: 100, metrics: PitMetrics(), logger: logger)
        func pass(_ now: Int64) async throws -> MonitorScheduler.Summary {
            try await MonitorScheduler(pipeline: pipeline, reader: reader, interval: 60, clock: { now }, logger: logger).pass(now: now)
        }
        func submit(_ unit: WriteUnit) async throws { try await pipeline.submit(unit, itemTypes: [.checkIn]) }
        func environment(_ slug: String) async throws -> MonitorEnvironmentState? {
            try await reader.monitors(projectIDs: [1], slug: slug).first?.environments.first
        }
        func checkIns(_ slug: String) async throws -> [StoredCheckIn] {
            guard let monitor = try await reader.monitors(projectIDs: [1], slug: slug).first?.monitor else { return [] }
            return try await reader.checkIns(monitorID: monitor.id, environment: nil, limit: 100, before: nil)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await writer.run() }
            defer { writer.finish() }

            // A check-in without a config for an unknown monitor is dropped.
            try await submit(checkIn("ghost", .ok, at: t0, config: nil))
            #expect(try await reader.monitors(projectIDs: [1], slug: "ghost").isEmpty)

            // in_progress then ok with the same id: one check-in, its duration from the ok.
            let run = EventID.random().hex
            try await submit(checkIn("beat", .inProgress, guid: run, at: t0))
            try await submit(checkIn("beat", .ok, guid: run, at: t0 + 1500, config: nil, duration: 1200))
            // Once ended it stays ended.
            try await submit(checkIn("beat", .error, guid: run, at: t0 + 2000, config: nil))
            var beat = try #require(try await environment("beat"))
            #expect(beat.status == "ok" && beat.oks == 1 && beat.failures == 0 && beat.lastCheckIn == t0)
            #expect(beat.nextCheckIn == t0 + minute)
            var stored = try await checkIns("beat")
            #expect(stored.map(\.status) == [.ok] && stored.first?.duration == 1200 && stored.first?.guid == run)
            // A long job that never ends, with a daily schedule so only its runtime matters.
            var daily = everyMinute
            daily.schedule = .interval(1, .day)
            daily.failureIssueThreshold = 5
            try await submit(checkIn("long", .inProgress, at: t0, config: daily))

            // Within the margin nothing happens.
            #expect(try await pass(t0 + 90_000) == MonitorScheduler.Summary())

            // Ten minutes later, as after a restart: expected at +1 ... +9 min, each a minute
            // late by +10 min; the long job is past its 2 min.
            var summary = try await pass(t0 + 10 * minute)
            #expect(summary.missed == 9 && summary.timedOut == 1 && summary.opened == 0)
            beat = try #require(try await environment("beat"))
            #expect(beat.status == "missed_checkin" && beat.failures == 9 && beat.nextCheckIn == t0 + 10 * minute)
            stored = try await checkIns("beat")
            #expect(stored.count == 10 && stored.filter { $0.status == .missed }.count == 9)
            #expect(Set(stored.compactMap { $0.status == .missed ? $0.expected : nil }) == Set((1...9).map { t0 + Int64($0) * minute }))
            let long = try await checkIns("long")
            #expect(long.map(\.status) == [.timeout] && long.first?.duration == 2 * minute)
            #expect(try await environment("long")?.status == "timeout")

            // The same pass again changes nothing: the stored expectation moved on.
            summary = try await pass(t0 + 10 * minute)
            #expect(summary.missed == 0 && summary.timedOut == 0 && summary.opened == 1, "beat is past its threshold of 1")
            beat = try #require(try await environment("beat"))
            let eventID = try #require(beat.incidentEvent.flatMap { EventID($0) })
            let event = try #require(try await reader.event(projectID: 1, eventID: eventID))
            var issue = try #require(try await reader.issue(id: event.issueID))
            #expect(issue.title == "Cron failure: beat" && issue.status == .unresolved && event.environment == "production")
            // Open once: the next pass sees the incident.
            #expect(try await pass(t0 + 10 * minute + 1000).opened == 0)

            // One ok check-in (recovery threshold 1) resolves it at the next pass.
            try await submit(checkIn("beat", .ok, at: t0 + 10 * minute + 5000, config: nil))
            #expect(try await pass(t0 + 10 * minute + 6000).resolved == 1)
            issue = try #require(try await reader.issue(id: event.issueID))
            #expect(issue.status == .resolved)
            beat = try #require(try await environment("beat"))
            #expect(beat.incidentEvent == nil && beat.status == "ok" && beat.failures == 0)

            // A second incident regresses the same issue.
            #expect(try await pass(t0 + 20 * minute).missed > 0)
            #expect(try await pass(t0 + 20 * minute).opened == 1)
            beat = try #require(try await environment("beat"))
            let secondID = try #require(beat.incidentEvent.flatMap { EventID($0) })
            let second = try #require(try await reader.event(projectID: 1, eventID: secondID))
            #expect(second.issueID == event.issueID)
            #expect(try await reader.issue(id: event.issueID)?.status == .unresolved)

            // Newest first, in pages.
            let all = try await checkIns("beat")
            let monitorID = try #require(try await reader.monitors(projectIDs: [1], slug: "beat").first?.monitor.id)
            let page = try await reader.checkIns(monitorID: monitorID, environment: nil, limit: 3, before: nil)
            let last = try #require(page.last)
            let rest = try await reader.checkIns(
                monitorID: monitorID, environment: nil, limit: 100, before: CheckInCursor(created: last.created, id: last.rowID))
            #expect((page + rest).map(\.rowID) == all.map(\.rowID))
            #expect(zip(all, all.dropFirst()).allSatisfy { $0.created >= $1.created })
            // Another project's monitors are not read with project 2's.
            #expect(try await reader.monitors(projectIDs: [2], slug: nil).isEmpty)
        }
    }
}

@Suite struct MonitorSchedulerTests {
    @Test func sqliteScenario() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("pit.db")
        let store = try SQLiteBatchStore(path: path, durability: StorageDurability(synchronous: .off, journalMode: .wal))
        let reader = SQLiteReadStore(path: path)
        try await MonitorScenario.run(store: store, reader: reader)
        let purge = try SQLitePurgeStore(path: path)
        defer { purge.close() }
        try await MonitorScenario.purge(purge, reader: reader)
    }

    @Test func missedCheckInsAreBoundedAfterALongOutage() throws {
        let monitor = StoredMonitor(id: 1, projectID: 1, slug: "m", name: "m", config: MonitorScenario.everyMinute, created: 0)
        let environment = MonitorEnvironmentState(monitorID: 1, environment: "production", nextCheckIn: 60000, created: 0)
        let records = MonitorScheduler.missedCheckIns(monitor, environment, now: 1000 * 60000)
        #expect(records.count == MonitorScheduler.maxMissedPerPass)
        guard case .missed(_, _, let expected, let next, _) = records.last else {
            Issue.record("not a miss")
            return
        }
        #expect(expected == 10 * 60000, "the tenth miss")
        let restart: Int64 = 1001 * 60000
        #expect(next == restart, "then the schedule restarts from now")
        #expect(MonitorScheduler.missedCheckIns(monitor, environment, now: 60000 + 59999).isEmpty, "within the margin")
    }
}
