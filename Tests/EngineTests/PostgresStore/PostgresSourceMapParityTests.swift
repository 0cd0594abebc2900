import Foundation
import NIOCore
import PitIngest
import PitModel
import PitStorage
import PostgresStore
import SQLiteStore
import Testing

/// A minified JavaScript error resolved through the project's source maps is stored and grouped
/// by its original frames on both back ends: two builds with different minified names are one
/// issue, whose culprit and stored frames are the original source's.
@Suite(.enabled(if: PostgresTestDatabase.adminURL != nil, "PIT_TEST_DATABASE_URL is not set"))
struct PostgresSourceMapParityTests {
    @Test func resolvedEventsGroupByOriginalFramesOnBothBackEnds() async throws {
        let lookup = InMemoryArtifactLookup()
        try lookup.addFixture(projectID: 1, release: SourceMapResolverTests.release)
        let fixture = try await PipelineFixture(sourceMaps: SourceMapResolver(lookup: lookup))
        let stores = try await ParityStores()
        let event = try SourceMapFixture.event(debugID: try SourceMapFixture.expected().debugID)
        let ids = [String(repeating: "a", count: 32), String(repeating: "b", count: 32)]
        var entries: [IngestQueue.Entry] = []
        for (id, body) in zip(ids, [event, SourceMapIngestTests.renamedBuild(event)]) {
            let prepared = try fixture.pipeline.prepare(fixture.request(SourceMapIngestTests.envelope(id, body)), endpoint: .envelope)
            #expect(fixture.pipeline.needsSourceMaps(prepared))
            entries.append(.write(await fixture.pipeline.resolvingSourceMaps(prepared).unit))
        }
        try stores.write([entries])

        try await stores.read { left, right in
            let sqliteIssues = try await left.issues(projectID: 1, query: IssueQuery())
            let postgresIssues = try await right.issues(projectID: 1, query: IssueQuery())
            #expect(sqliteIssues.count == 1)
            #expect(postgresIssues.count == 1)
            #expect(sqliteIssues.first?.culprit == postgresIssues.first?.culprit)
            #expect(sqliteIssues.first?.culprit.contains("parseConfig") == true)
            for id in ids {
                let eventID = try #require(EventID(id))
                let a = try #require(try await left.event(projectID: 1, eventID: eventID))
                let b = try #require(try await right.event(projectID: 1, eventID: eventID))
                #expect(a.payload == b.payload)
                let resolved = try SourceMapResolverTests.resolved(b.payload)
                #expect(resolved.frames.map { $0["function"] as? String } == ["?", "main", "startApp", "parseConfig"])
                #expect(resolved.frames.last?["context_line"] as? String == "    throw new Error(\"config has no endpoint\");")
                #expect(resolved.rawFrames.count == 4)
            }
        }
    }
}
