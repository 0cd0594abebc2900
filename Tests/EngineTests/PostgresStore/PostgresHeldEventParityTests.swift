import Foundation
import NIOCore
import PitIngest
import PitModel
import PitStorage
import PostgresStore
import SQLiteStore
import Testing

/// JavaScript events held for their source maps behave alike on both back ends: a hold is stored
/// unless its event is, a claim leases it (a second claim before the lease ends gets nothing),
/// its resolution's write takes the hold in the same transaction and counts the event once, and
/// a second resolution of the same event (another instance) is a duplicate counted nowhere.
@Suite(.enabled(if: PostgresTestDatabase.adminURL != nil, "PIT_TEST_DATABASE_URL is not set"))
struct PostgresHeldEventParityTests {
    @Test func holdClaimAndReleaseOnBothBackEnds() async throws {
        let fixture = try await PipelineFixture()
        let stores = try await ParityStores()
        let sqliteAdmin = try SQLiteAdminStore(path: stores.sqlitePath)
        let postgresAdmin = try await PostgresAdminStore.open(url: stores.database, logger: PostgresTestDatabase.logger)
        let event = try SourceMapFixture.event(debugID: try SourceMapFixture.expected().debugID)
        let eventID = String(repeating: "e", count: 32)
        let prepared = try fixture.pipeline.prepare(fixture.request(SourceMapIngestTests.envelope(eventID, event)), endpoint: .envelope)
        let record = try #require(prepared.unit.event)
        guard case .payload(let payload) = record.grouping.source else {
            Issue.record("an event prepared from an envelope keeps its payload")
            return
        }
        var hold = WriteUnit(event: nil, items: [])
        hold.heldEvent = fixture.pipeline.held(record, payload: payload, leaseUntil: 0)

        // The hold, twice (an SDK's resend while it is held): one row.
        try stores.write([[.write(hold)], [.write(hold)]])
        let now = ClockTime.nowMilliseconds
        for admin in [sqliteAdmin, postgresAdmin] as [any DeferredEventStore] {
            #expect(try await admin.deferredEventCount() == 1)
            let claimed = try await admin.claimDeferredEvents(now: now, leaseUntil: now + 60_000, limit: 10)
            #expect(claimed.count == 1)
            #expect(claimed.first?.eventID == record.eventID && claimed.first?.attempts == 1)
            #expect(claimed.first?.compressedPayload == hold.heldEvent?.compressedPayload)
            #expect(try await admin.claimDeferredEvents(now: now, leaseUntil: now + 60_000, limit: 10).isEmpty, "leased")
            let rebuilt = try fixture.pipeline.rebuild(try #require(claimed.first))
            #expect(rebuilt.eventID == record.eventID && rebuilt.timestamp == record.timestamp)
            #expect(rebuilt.grouping.hashes == record.grouping.hashes)
        }

        // Its resolution, then a second one (another instance's), then a late hold of it.
        var release = WriteUnit(event: record, items: [])
        release.releasesHeldEvent = true
        try stores.write([[.write(release)], [.write(release)], [.write(hold)]])
        for admin in [sqliteAdmin, postgresAdmin] as [any DeferredEventStore] {
            #expect(try await admin.deferredEventCount() == 0, "released, and not held again once stored")
        }
        try await stores.read { left, right in
            let hour = ClockTime.nowMilliseconds / 3_600_000
            let query = OutcomeQuery(projectIDs: [1], fromHour: hour - 1, toHour: hour + 1)
            let rows = try await left.outcomes(query)
            #expect(rows == (try await right.outcomes(query)))
            #expect(try await OutcomeIngestTests.totals(left) == ["accepted/error/": 1], "the second resolution counted nowhere")
            #expect(try await left.event(projectID: 1, eventID: record.eventID) != nil)
            #expect(try await right.event(projectID: 1, eventID: record.eventID) != nil)
        }
    }
}
