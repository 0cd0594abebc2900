import Foundation
import PitIngest
import PitModel
import PitStorage
import SQLiteStore
import Testing

/// `profile` items through the pipeline into SQLite: stored beside their transaction, linked to
/// it and to its trace; one Sentry could not show is dropped and counted, its transaction kept.
@Suite struct ProfileIngestTests {
    typealias P = ProfileFixtures
    typealias F = TransactionFixtures

    static func sampleTransaction(_ eventID: String = P.transactionID) -> String {
        let now = Double(ClockTime.nowMilliseconds / 1000)
        return F.transaction(eventID: eventID, start: now - 60, duration: 0.05)
    }

    @Test func aProfileIsStoredLinkedToItsTransactionAndTrace() async throws {
        let fixture = try await PipelineFixture()
        try await fixture.withWriter {
            let body = P.envelope(transaction: Self.sampleTransaction(), profile: P.profile())
            _ = try await fixture.pipeline.envelope(fixture.request(body))
            // Resent: kept once.
            _ = try await fixture.pipeline.envelope(fixture.request(body))
            #expect(try await fixture.reader.counts(projectID: 1).items == 0, "profiles are not kept as raw items")
            let transactionID = EventID(P.transactionID)!
            let linked = try await fixture.reader.profiles(projectID: 1, transactionID: transactionID)
            #expect(linked.map(\.profileID.hex) == [P.profileID] && linked[0].sampleCount == 5 && linked[0].platform == "python")
            let inTrace = try await fixture.reader.profiles(traceID: TraceID(F.trace)!, projectIDs: [1], limit: 10)
            #expect(inTrace == linked)
            #expect(try await fixture.reader.profiles(traceID: TraceID(F.trace)!, projectIDs: [2], limit: 10).isEmpty)
            let stored = try #require(try await fixture.reader.profile(projectID: 1, profileID: EventID(P.profileID)!))
            #expect(String(decoding: stored.payload, as: UTF8.self) == P.profile() && stored.payloadError == nil)
            #expect(try await fixture.reader.profile(projectID: 2, profileID: EventID(P.profileID)!) == nil)
            #expect(try await fixture.reader.transaction(projectID: 1, eventID: transactionID) != nil)
        }
    }

    @Test func aProfileSentryCannotShowIsDroppedAndCountedAndItsTransactionKept() async throws {
        let fixture = try await PipelineFixture()
        let body = P.envelope(transaction: Self.sampleTransaction(), profile: P.profile(samples: [(0, "1")]))
        let unit = try fixture.pipeline.prepare(fixture.request(body), endpoint: .envelope).unit
        #expect(unit.profiles.isEmpty && unit.transactions.count == 1)
        let invalid = unit.outcomes.filter { $0.key.outcome == .invalid }
        #expect(invalid.map(\.key.category) == [OutcomeCategory.profile])
        #expect(invalid.map(\.key.reason) == ["profiling_not_enough_samples"])
        #expect(!unit.outcomes.contains { $0.key.outcome == .accepted && $0.key.category == OutcomeCategory.profile })

        let good = try fixture.pipeline.prepare(
            fixture.request(P.envelope(transaction: Self.sampleTransaction(), profile: P.profile())), endpoint: .envelope
        ).unit
        #expect(good.profiles.count == 1)
        #expect(good.outcomes.contains { $0.key.outcome == .accepted && $0.key.category == OutcomeCategory.profile })
        let untraced = P.profile(transaction: #""transactions":[{"id":"\#(P.transactionID)","name":"GET /users/{id}"}]"#)
        let traced = try fixture.pipeline.prepare(
            fixture.request(P.envelope(transaction: Self.sampleTransaction(), profile: untraced)), endpoint: .envelope
        ).unit
        #expect(traced.profiles.map(\.traceID?.hex) == [F.trace], "the transaction's trace")

        let profile = P.profile()
        let alone =
            #"{"event_id":"\#(P.transactionID)"}"# + "\n" + #"{"type":"profile","length":\#(profile.utf8.count)}"# + "\n" + profile + "\n"
        let orphan = try fixture.pipeline.prepare(fixture.request(alone), endpoint: .envelope).unit
        #expect(orphan.profiles.isEmpty)
        #expect(orphan.outcomes.filter { $0.key.outcome == .invalid }.map(\.key.reason) == ["profiling_no_transaction_associated"])
        #expect(throws: IngestError.self) {
            try fixture.pipeline.prepare(
                fixture.request(P.envelope(transaction: Self.sampleTransaction(), profile: "{broken")), endpoint: .envelope)
        }
    }
}
