import Foundation
import NIOCore
import PitIngest
import PitModel
import PitStorage
import PostgresNIO
import PostgresStore
import SQLiteStore
import Testing

/// Profiles written through both back ends read and purge the same.
@Suite(.enabled(if: PostgresTestDatabase.adminURL != nil, "PIT_TEST_DATABASE_URL is not set"))
struct PostgresProfileParityTests {
    typealias P = ProfileFixtures

    private func record(_ n: UInt64, received: Int64) throws -> ProfileRecord {
        let json = P.profile()
        var record = try ProfileParser.profile(
            ByteBuffer(string: json), transactionID: nil, projectID: 1, received: Double(received) / 1000
        ).get()
        record.profileID = EventID(high: n, low: n)
        record.transactionID = EventID(high: 100 + n, low: n)
        record.traceID = n == 3 ? nil : TraceID("771a43a4192642f0b136d5159a501700")
        return record
    }

    @Test func sameProfilesSameAnswersAndPurges() async throws {
        let stores = try await ParityStores()
        let day: Int64 = 86_400_000
        let now = ClockTime.nowMilliseconds
        var unit = WriteUnit(event: nil, items: [])
        unit.profiles = [try record(1, received: now - 10 * day), try record(2, received: now - 1000), try record(3, received: now)]
        var again = WriteUnit(event: nil, items: [])
        again.profiles = [try record(2, received: now - 1000)]
        try stores.write([[.write(unit), .write(again)], [.write(again)]])
        try await stores.read { left, right in
            let trace = TraceID("771a43a4192642f0b136d5159a501700")!
            let a = try await left.profiles(traceID: trace, projectIDs: [1], limit: 10)
            let b = try await right.profiles(traceID: trace, projectIDs: [1], limit: 10)
            #expect(a == b && a.map(\.profileID.low) == [1, 2])
            #expect(try await left.profiles(traceID: trace, projectIDs: [1], limit: 1).count == 1)
            #expect(try await right.profiles(traceID: trace, projectIDs: [2], limit: 10).isEmpty)
            let ofTransaction = EventID(high: 103, low: 3)
            let c = try await left.profiles(projectID: 1, transactionID: ofTransaction)
            let d = try await right.profiles(projectID: 1, transactionID: ofTransaction)
            #expect(c == d && c.count == 1 && c[0].traceID == nil)
            let x = try #require(try await left.profile(projectID: 1, profileID: EventID(high: 2, low: 2)))
            let y = try #require(try await right.profile(projectID: 1, profileID: EventID(high: 2, low: 2)))
            #expect(x.row == y.row && x.payload == y.payload && y.payloadError == nil)
            #expect(String(decoding: y.payload, as: UTF8.self) == P.profile())
            #expect(try await right.profile(projectID: 2, profileID: EventID(high: 2, low: 2)) == nil)

            let purgers: [any PurgeStore] = [
                try SQLitePurgeStore(path: stores.sqlitePath),
                try PostgresPurgeStore(url: stores.database, logger: PostgresTestDatabase.logger),
            ]
            for purger in purgers {
                #expect(try purger.purgeProfiles(projectID: 1, receivedBefore: now - 5 * day, limit: 100) == 1)
                #expect(try purger.purgeProfiles(projectID: 1, receivedBefore: now - 5 * day, limit: 100) == 0)
                purger.close()
            }
            for reader in [left, right] as [any ReadStore] {
                #expect(try await reader.profiles(traceID: trace, projectIDs: [1], limit: 10).map(\.profileID.low) == [2])
            }
        }
    }
}
