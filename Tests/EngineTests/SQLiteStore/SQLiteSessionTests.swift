import Foundation
import PitIngest
import PitStorage
import SQLiteStore
import Testing

/// Batches of session records both back ends are tested with (`PostgresSessionParityTests`).
enum SessionFixtures {
    static let started = Int64(receiveTime * 1000)
    static let hour = started / 3_600_000

    static func update(
        _ sid: String, _ status: SessionUpdate.Status = .ok, release: String = "app@1.0", errors: Int64 = 0, duration: Double? = nil,
        did: String? = nil, project: Int64 = 1, hoursLater: Int64 = 0
    ) -> IngestQueue.Entry {
        .write(
            WriteUnit(
                event: nil, items: [],
                sessions: [
                    .update(
                        SessionUpdate(
                            projectID: project, sid: sid, did: did, release: release, started: started + hoursLater * 3_600_000,
                            status: status, errors: errors, duration: duration))
                ]))
    }

    static func aggregate(_ aggregate: SessionAggregate) -> IngestQueue.Entry {
        .write(WriteUnit(event: nil, items: [], sessions: [.aggregates([aggregate])]))
    }

    static let batches: [[IngestQueue.Entry]] = [
        [
            update("a", did: "u1"), update("b", .crashed, did: "u2"), update("d", .ok, release: "app@2.0", did: "u1", hoursLater: 1),
            aggregate(
                SessionAggregate(projectID: 1, did: "u3", release: "app@1.0", environment: "web", started: started, exited: 5, crashed: 1)),
            update("z", .exited, duration: 5, project: 2),
        ],
        [
            update("a", .exited, errors: 1, duration: 60, did: "u1"), update("b", .ok, did: "u2"), update("c", .abnormal),
            update("e", .exited, duration: 10, did: "u4"), update("d", .crashed, release: "app@2.0", did: "u1", hoursLater: 1),
        ],
    ]

    /// Queries whose answers the tests compare.
    static var queries: [SessionQuery] {
        var all: [SessionQuery] = []
        for (byRelease, byEnvironment, interval) in [(false, false, nil), (true, false, nil), (true, true, nil), (true, false, Int64(1))]
            as [(Bool, Bool, Int64?)]
        {
            var query = SessionQuery(projectIDs: [1, 2], fromHour: hour - 1, toHour: hour + 2)
            query.byProject = true
            query.byRelease = byRelease
            query.byEnvironment = byEnvironment
            query.intervalHours = interval
            all.append(query)
        }
        var filtered = SessionQuery(projectIDs: [1], fromHour: hour, toHour: hour)
        filtered.releases = ["app@1.0"]
        filtered.environments = ["production"]
        all.append(filtered)
        return all
    }
}

@Suite struct SQLiteSessionTests {
    @Test func countsOnWriteAndReadsBack() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("pit.db")
        let store = try SQLiteBatchStore(path: path, durability: StorageDurability(synchronous: .off))
        for batch in SessionFixtures.batches { _ = try store.write(batch) }
        store.close()
        let reader = SQLiteReadStore(path: path)
        let hour = SessionFixtures.hour

        var query = SessionQuery(projectIDs: [1], fromHour: hour, toHour: hour + 1)
        query.byRelease = true
        let stats = try await reader.sessionStats(query)
        let v1 = SessionGroup(release: "app@1.0")
        let v2 = SessionGroup(release: "app@2.0")
        // a (errored on exit), b (crashed, its later ok ignored), c (abnormal), e (exited), and
        // the aggregate's 6 sessions with one crash.
        #expect(stats.sessions[v1] == SessionTally(started: 10, errored: 1, abnormal: 1, crashed: 2))
        #expect(stats.sessions[v2] == SessionTally(started: 1, errored: 0, abnormal: 0, crashed: 1))
        #expect(stats.users[v1] == [.errored: 1, .crashed: 2, .healthy: 1], "u1 errored, u2 and u3 crashed, u4 healthy")
        #expect(stats.users[v2] == [.crashed: 1])
        // Only the cleanly exited sessions have a duration: a (60 s) and e (10 s).
        #expect(stats.durations[v1]?.values.reduce(0, +) == 2)
        #expect(stats.durations[v2] == nil)

        // Distinct users across the window, per release and overall.
        var overall = SessionQuery(projectIDs: [1], fromHour: hour, toHour: hour + 1)
        overall.intervalHours = 1
        let hourly = try await reader.sessionStats(overall)
        #expect(hourly.sessions[SessionGroup(interval: 0)]?.started == 10)
        #expect(hourly.sessions[SessionGroup(interval: 1)]?.started == 1)
        overall.intervalHours = nil
        let total = try await reader.sessionStats(overall)
        #expect(total.userCount(SessionGroup()) == 4, "u1 counted once across releases and hours")
        #expect(total.users[SessionGroup()]?[.crashed] == 3)

        // Sessions created their releases, without events.
        let releases = try await reader.releases(projectID: 1)
        #expect(Set(releases.map(\.version)) == ["app@1.0", "app@2.0"])
        #expect(releases.allSatisfy { $0.events == 0 })

        // States go once no update is accepted any more; counters with the project's retention.
        let purge = try SQLitePurgeStore(path: path)
        defer { purge.close() }
        #expect(try purge.purgeSessionStates(startedBefore: SessionFixtures.started, limit: 100) == 0)
        #expect(try purge.purgeSessionStates(startedBefore: SessionFixtures.started + 1, limit: 2) == 2)
        #expect(try purge.purgeSessionStates(startedBefore: .max, limit: 100) == 4)
        #expect(try purge.purgeCounters(projectID: 1, beforeHour: hour + 1) > 0)
        let after = try await reader.sessionStats(query)
        #expect(after.sessions[v1] == nil && after.sessions[v2]?.started == 1)
    }

    @Test func aRepeatedCrashCountsOnce() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("pit.db")
        let store = try SQLiteBatchStore(path: path, durability: StorageDurability(synchronous: .off))
        _ = try store.write([SessionFixtures.update("a", .crashed, did: "u1")])
        // The same session again in a later batch: still one session, one crash.
        _ = try store.write([SessionFixtures.update("a", .crashed, did: "u1"), SessionFixtures.update("a", .exited, did: "u1")])
        store.close()
        let stats = try await SQLiteReadStore(path: path).sessionStats(
            SessionQuery(projectIDs: [1], fromHour: SessionFixtures.hour, toHour: SessionFixtures.hour))
        #expect(stats.sessions[SessionGroup()] == SessionTally(started: 1, crashed: 1))
    }
}
