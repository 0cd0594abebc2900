import Foundation
import NIOConcurrencyHelpers
import NIOCore
import PitIngest
import PitModel
import PitStorage
import SQLiteStore
import Testing

@Suite struct SourceMapResolverTests {
    static let release = "app@1.0.0"

    /// The event's first exception: its frames and raw frames, and the event's errors.
    struct Resolved {
        var frames: [[String: Any]]
        var rawFrames: [[String: Any]]
        var errors: [[String: Any]]
    }

    static func resolved(_ resolution: SourceMapResolver.Resolution?) throws -> Resolved {
        let resolution = try #require(resolution)
        var resolved = try resolved(resolution.eventJSON)
        resolved.errors = try resolution.errors.map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        return resolved
    }

    static func resolved(_ bytes: [UInt8]) throws -> Resolved {
        let event = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        let values = try #require((event["exception"] as? [String: Any])?["values"] as? [[String: Any]])
        let frames = try #require((values[0]["stacktrace"] as? [String: Any])?["frames"] as? [[String: Any]])
        let raw = (values[0]["raw_stacktrace"] as? [String: Any])?["frames"] as? [[String: Any]] ?? []
        return Resolved(frames: frames, rawFrames: raw, errors: [])
    }

    static func expectOriginal(_ resolved: Resolved, resolvedWith: String) throws {
        let expected = try SourceMapFixture.expected().frames
        #expect(resolved.frames.count == expected.count)
        for (frame, want) in zip(resolved.frames, expected) {
            #expect(frame["abs_path"] as? String == want.absPath)
            #expect(frame["filename"] as? String == "/src/app.js")
            #expect(frame["function"] as? String == want.function)
            #expect(frame["lineno"] as? Int == want.lineno)
            #expect(frame["colno"] as? Int == want.originalColno)
            #expect(frame["context_line"] as? String == want.contextLine)
            let data = try #require(frame["data"] as? [String: Any])
            #expect(data["resolved_with"] as? String == resolvedWith)
            #expect(data["symbolicated"] as? Bool == true)
            #expect((data["sourcemap"] as? String)?.hasSuffix("app.min.js.map") == true)
        }
        // The stack as sent, kept beside it.
        #expect(resolved.rawFrames.map { $0["function"] as? String } == expected.map(\.minifiedFunction))
        #expect(resolved.rawFrames.map { $0["colno"] as? Int } == expected.map(\.colno))
    }

    @Test func resolvesByDebugID() async throws {
        let lookup = InMemoryArtifactLookup()
        // Stored without a release: only the debug id can find it.
        try lookup.addFixture(projectID: 1, release: nil)
        let resolver = SourceMapResolver(lookup: lookup)
        let event = try SourceMapFixture.event(release: nil, debugID: try SourceMapFixture.expected().debugID)
        let resolved = try Self.resolved(await resolver.resolve(eventJSON: Array(event.utf8), projectID: 1))
        try Self.expectOriginal(resolved, resolvedWith: "debug-id")
        #expect(resolved.errors.isEmpty)
        // Context: up to 5 lines either side, from sourcesContent.
        let throwing = try #require(resolved.frames.last)
        #expect(
            throwing["pre_context"] as? [String] == [
                "// Fixture: an original source of app.min.js (written by make-fixture.py).", "function parseConfig(text) {",
                "  const parsed = JSON.parse(text);", "  if (!parsed.endpoint) {",
            ])
        #expect(throwing["post_context"] as? [String] == ["  }", "  return parsed;", "}", "", "function startApp(configText) {"])
        #expect((throwing["post_context"] as? [String])?.count == 5)
    }

    @Test func resolvesByReleaseDistAndURL() async throws {
        let lookup = InMemoryArtifactLookup()
        try lookup.addFixture(projectID: 1, release: Self.release, withDebugIDs: false)
        let resolver = SourceMapResolver(lookup: lookup)
        let event = try SourceMapFixture.event(release: Self.release, debugID: nil)
        try Self.expectOriginal(
            try Self.resolved(await resolver.resolve(eventJSON: Array(event.utf8), projectID: 1)), resolvedWith: "release")

        // Another release, or another project, finds nothing: frames stay, the error says why.
        let other = try SourceMapFixture.event(release: "app@2.0.0", debugID: nil)
        let unresolved = try Self.resolved(await resolver.resolve(eventJSON: Array(other.utf8), projectID: 1))
        #expect(unresolved.frames.map { $0["function"] as? String } == ["?", "i", "f", "c"])
        #expect(unresolved.rawFrames.isEmpty)
        #expect(unresolved.errors.map { $0["type"] as? String } == ["js_no_source"])
        #expect(unresolved.errors.first?["url"] as? String == "http://localhost:8000/static/app.min.js")
        #expect(await resolver.resolve(eventJSON: Array(event.utf8), projectID: 2) == nil)
    }

    @Test func findsTheMapThroughTheSourceMappingURLComment() async throws {
        let lookup = InMemoryArtifactLookup()
        lookup.add(
            projectID: 1, release: Self.release,
            ArtifactFile(
                url: "~/static/app.min.js", type: .minifiedSource, debugID: nil, headers: [:], bundleID: 7,
                contents: try SourceMapFixture.bytes("app.min.js")))
        lookup.add(
            projectID: 1, release: Self.release,
            ArtifactFile(
                url: "~/static/app.min.js.map", type: .sourceMap, debugID: nil, headers: [:], bundleID: 7,
                contents: try SourceMapFixture.bytes("app.min.js.map")))
        let resolver = SourceMapResolver(lookup: lookup)
        let event = try SourceMapFixture.event(release: Self.release, debugID: nil)
        try Self.expectOriginal(
            try Self.resolved(await resolver.resolve(eventJSON: Array(event.utf8), projectID: 1)), resolvedWith: "release")
    }

    @Test func parsedMapsAndLookupsAreCached() async throws {
        let lookup = InMemoryArtifactLookup()
        try lookup.addFixture(projectID: 1, release: Self.release)
        let resolver = SourceMapResolver(lookup: lookup)
        let event = Array(try SourceMapFixture.event(release: Self.release, debugID: try SourceMapFixture.expected().debugID).utf8)
        _ = try #require(await resolver.resolve(eventJSON: event, projectID: 1))
        let afterFirst = lookup.lookupCount
        #expect(afterFirst == 1, "one lookup for the four frames of one file")
        #expect(resolver.cache.count == 1)
        for _ in 0..<5 { _ = try #require(await resolver.resolve(eventJSON: event, projectID: 1)) }
        #expect(lookup.lookupCount == afterFirst, "later events read neither the bundle nor the map again")

        // An upload makes the project look its files up again; the parsed map of the same bundle
        // is reused.
        resolver.artifactsChanged(projectID: 1)
        _ = try #require(await resolver.resolve(eventJSON: event, projectID: 1))
        #expect(lookup.lookupCount == afterFirst + 1)
        #expect(resolver.cache.count == 1)
    }

    @Test func projectsWithoutArtifactsAreSkipped() async throws {
        let lookup = InMemoryArtifactLookup()
        let resolver = SourceMapResolver(lookup: lookup)
        #expect(resolver.mayHaveArtifacts(projectID: 1), "unknown until asked")
        let event = Array(try SourceMapFixture.event(debugID: nil).utf8)
        #expect(await resolver.resolve(eventJSON: event, projectID: 1) == nil)
        #expect(!resolver.mayHaveArtifacts(projectID: 1), "known to have none, without waiting")
        #expect(lookup.lookupCount == 0)
        try lookup.addFixture(projectID: 1, release: "app@1.0.0")
        resolver.artifactsChanged(projectID: 1)
        #expect(resolver.mayHaveArtifacts(projectID: 1))
        #expect(await resolver.resolve(eventJSON: event, projectID: 1) != nil)
    }

    @Test func aBrokenMapIsReportedNotFatal() async throws {
        let lookup = InMemoryArtifactLookup()
        lookup.add(
            projectID: 1, release: Self.release,
            ArtifactFile(
                url: "~/static/app.min.js", type: .minifiedSource, debugID: nil, headers: ["sourcemap": "app.min.js.map"], bundleID: 3,
                contents: Array("x()\n".utf8)))
        lookup.add(
            projectID: 1, release: Self.release,
            ArtifactFile(
                url: "~/static/app.min.js.map", type: .sourceMap, debugID: nil, headers: [:], bundleID: 3,
                contents: Array(#"{"version":3,"sources":["a.js"],"mappings":"!!"}"#.utf8)))
        let resolver = SourceMapResolver(lookup: lookup)
        let event = Array(try SourceMapFixture.event(release: Self.release, debugID: nil).utf8)
        for _ in 0..<2 {
            let resolved = try Self.resolved(await resolver.resolve(eventJSON: event, projectID: 1))
            #expect(resolved.frames.map { $0["function"] as? String } == ["?", "i", "f", "c"])
            #expect(resolved.errors.map { $0["type"] as? String } == ["js_invalid_source"])
        }
    }

    @Test func positionsOutsideTheMapAreReported() async throws {
        let lookup = InMemoryArtifactLookup()
        try lookup.addFixture(projectID: 1, release: Self.release)
        let resolver = SourceMapResolver(lookup: lookup)
        let text = try SourceMapFixture.event(release: Self.release, debugID: nil).replacingOccurrences(
            of: "\"lineno\":1", with: "\"lineno\":9")
        let resolved = try Self.resolved(await resolver.resolve(eventJSON: Array(text.utf8), projectID: 1))
        #expect(resolved.errors.first?["type"] as? String == "js_invalid_sourcemap_location")
        #expect(resolved.frames.allSatisfy { $0["data"] == nil })
    }

    @Test func otherPlatformsAreLeftAlone() async throws {
        let lookup = InMemoryArtifactLookup()
        try lookup.addFixture(projectID: 1, release: Self.release)
        let resolver = SourceMapResolver(lookup: lookup)
        let python =
            #"{"platform":"python","exception":{"values":[{"type":"E","stacktrace":{"frames":[{"filename":"a.py","lineno":1,"colno":2}]}}]}}"#
        #expect(await resolver.resolve(eventJSON: Array(python.utf8), projectID: 1) == nil)
        #expect(await resolver.resolve(eventJSON: Array("not json".utf8), projectID: 1) == nil)
    }

    @Test func urlsAndContext() {
        #expect(SourceMapResolver.joinURL(base: "https://x.io/static/js/app.js?v=1", "app.js.map") == "https://x.io/static/js/app.js.map")
        #expect(
            SourceMapResolver.joinURL(base: "https://x.io/static/js/app.js", "../maps/app.js.map") == "https://x.io/static/maps/app.js.map")
        #expect(SourceMapResolver.joinURL(base: "https://x.io/static/app.js", "/maps/app.js.map") == "https://x.io/maps/app.js.map")
        #expect(SourceMapResolver.joinURL(base: "~/static/app.js", "app.js.map") == "~/static/app.js.map")
        #expect(SourceMapResolver.displayFilename("webpack://app/./src/a.js") == "./src/a.js")
        #expect(SourceMapResolver.displayFilename("https://x.io/src/a.js") == "/src/a.js")
        #expect(SourceMapResolver.displayFilename("src/a.js") == "src/a.js")
        let text = (1...20).map { "line \($0)" }.joined(separator: "\n")
        let context = SourceMapResolver.context(text, line: 9)
        #expect(context.line == "line 10")
        #expect(context.before == ["line 5", "line 6", "line 7", "line 8", "line 9"])
        #expect(context.after == ["line 11", "line 12", "line 13", "line 14", "line 15"])
        let edge = SourceMapResolver.context("a\r\nb", line: 1)
        #expect(edge.before == ["a"] && edge.line == "b" && edge.after.isEmpty)
        #expect(SourceMapResolver.context("a", line: 3).line == nil)
    }
}

/// The whole ingest path over SQLite: the event is stored resolved and grouped by its original
/// frames, so builds whose minified names differ land in one issue.
@Suite struct SourceMapIngestTests {
    static func envelope(_ eventID: String, _ event: String) -> String {
        "{\"event_id\":\"\(eventID)\"}\n{\"type\":\"event\",\"length\":\(event.utf8.count)}\n" + event + "\n"
    }

    /// The fixture's event as another build would send it: other minified names, same code.
    static func renamedBuild(_ event: String) -> String {
        event.replacingOccurrences(of: "\"function\":\"c\"", with: "\"function\":\"zz\"")
            .replacingOccurrences(of: "\"function\":\"f\"", with: "\"function\":\"yy\"")
    }

    @Test func storedResolvedAndGroupedByOriginalFrames() async throws {
        let lookup = InMemoryArtifactLookup()
        try lookup.addFixture(projectID: 1, release: SourceMapResolverTests.release)
        let fixture = try await PipelineFixture(sourceMaps: SourceMapResolver(lookup: lookup))
        let debugID = try SourceMapFixture.expected().debugID
        let first = try SourceMapFixture.event(debugID: debugID)
        try await fixture.withWriter {
            _ = try await fixture.pipeline.envelope(fixture.request(Self.envelope(String(repeating: "a", count: 32), first)))
            _ = try await fixture.pipeline.envelope(
                fixture.request(Self.envelope(String(repeating: "b", count: 32), Self.renamedBuild(first))))
        }
        let issues = try await fixture.reader.issues(projectID: 1, query: IssueQuery())
        #expect(issues.count == 1, "both builds group by the original frames")
        #expect(issues.first?.culprit.contains("parseConfig") == true, "culprit: \(issues.first?.culprit ?? "")")
        let row = try #require(try await fixture.reader.event(projectID: 1, eventID: EventID(String(repeating: "b", count: 32))!))
        let resolved = try SourceMapResolverTests.resolved(row.payload)
        #expect(resolved.frames.last?["function"] as? String == "parseConfig")
        #expect(resolved.rawFrames.last?["function"] as? String == "zz")
        #expect(row.processingErrors == nil)

        // Without resolution the two builds are two issues: the names are what grouped them.
        let plain = try await PipelineFixture()
        try await plain.withWriter {
            _ = try await plain.pipeline.envelope(plain.request(Self.envelope(String(repeating: "a", count: 32), first)))
            _ = try await plain.pipeline.envelope(plain.request(Self.envelope(String(repeating: "b", count: 32), Self.renamedBuild(first))))
        }
        #expect(try await plain.reader.issues(projectID: 1, query: IssueQuery()).count == 2)
    }

    @Test func theAnswerStillComesForAProjectWithoutArtifacts() async throws {
        let fixture = try await PipelineFixture(sourceMaps: SourceMapResolver(lookup: InMemoryArtifactLookup()))
        try await fixture.withWriter {
            let id = try await fixture.pipeline.envelope(
                fixture.request(Self.envelope(String(repeating: "c", count: 32), try SourceMapFixture.event(debugID: nil))))
            #expect(id?.hex == String(repeating: "c", count: 32))
        }
        let row = try #require(try await fixture.reader.event(projectID: 1, eventID: EventID(String(repeating: "c", count: 32))!))
        #expect(try SourceMapResolverTests.resolved(row.payload).rawFrames.isEmpty)
        #expect(row.processingErrors == nil)
    }
}

@Suite struct SourceMapResolverProjectTests {
    /// A clock the test moves.
    final class Clock: Sendable {
        let seconds = NIOLockedValueBox(1000.0)
        func advance(_ by: Double) { seconds.withLockedValue { $0 += by } }
    }

    @Test func aStaleAnswerIsRefreshedByOneEventWhileTheOthersKeepIt() async throws {
        let clock = Clock()
        let lookup = InMemoryArtifactLookup()
        let resolver = SourceMapResolver(lookup: lookup, lookupTTL: 10, now: { clock.seconds.withLockedValue { $0 } })
        #expect(await resolver.hasArtifacts(projectID: 1) == false)
        #expect(!resolver.mayHaveArtifacts(projectID: 1))
        try lookup.addFixture(projectID: 1, release: "app@1.0.0")
        clock.advance(11)
        #expect(resolver.mayHaveArtifacts(projectID: 1), "the first event after the answer expires asks again")
        #expect(!resolver.mayHaveArtifacts(projectID: 1), "the others meanwhile keep the old answer")
        #expect(await resolver.hasArtifacts(projectID: 1))
        #expect(resolver.mayHaveArtifacts(projectID: 1))
    }
}

/// Which events the ingest path offers to resolution at all: the rest never leave the event loop.
@Suite struct SourceMapCandidateTests {
    private func offered(_ json: String) throws -> Bool {
        try EventExtractor.extract(payload: ByteBuffer(string: json)).isJavaScript
    }

    private static func exception(frame: String) -> String {
        #"{"platform":"other","exception":{"values":[{"type":"E","stacktrace":{"frames":["# + frame + "]}}]}}"
    }

    @Test func javaScriptByPlatformOrByAFramesFile() throws {
        #expect(try offered(#"{"platform":"javascript","message":"x"}"#))
        #expect(try offered(#"{"platform":"node","message":"x"}"#))
        #expect(try offered(Self.exception(frame: #"{"abs_path":"https://a.example/app.min.js?v=3","lineno":1,"colno":9}"#)))
        #expect(try offered(Self.exception(frame: #"{"filename":"dist/server.mjs","lineno":1}"#)))
    }

    @Test func otherEventsAreNotOffered() throws {
        #expect(try !offered(#"{"platform":"python","message":"x"}"#))
        #expect(try !offered(Self.exception(frame: #"{"filename":"app/json_io.py","abs_path":"/srv/app/json_io.py","lineno":3}"#)))
    }
}
