import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PitModel
import PitStorage
import Testing

@testable import PitdServer

/// The committed fixture (Tests/EngineTests/Fixtures/sourcemaps) as one bundle of project 1,
/// found by debug id or by release and `~/` URL, as the upload side's lookup finds it.
private final class FixtureArtifacts: ArtifactLookup {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("EngineTests/Fixtures/sourcemaps")
    static let release = "app@1.0.0"

    let debugID: String
    let files: [ArtifactFile]

    init() throws {
        let expected = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: Self.directory.appendingPathComponent("expected.json")))
                as? [String: Any])
        debugID = try #require(expected["debug_id"] as? String)
        func read(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: Self.directory.appendingPathComponent(name))) }
        files = [
            ArtifactFile(
                url: "~/static/app.min.js", type: .minifiedSource, debugID: debugID, headers: ["sourcemap": "app.min.js.map"],
                bundleID: 1, contents: try read("app.min.js")),
            ArtifactFile(
                url: "~/static/app.min.js.map", type: .sourceMap, debugID: debugID, headers: [:], bundleID: 1,
                contents: try read("app.min.js.map")),
        ]
    }

    func file(projectID: Int64, debugID: String, type: ArtifactFileType) async throws -> ArtifactFile? {
        projectID == 1 ? files.first { $0.type == type && $0.debugID == debugID } : nil
    }

    func file(projectID: Int64, release: String, dist: String?, url: String) async throws -> ArtifactFile? {
        guard projectID == 1, release == Self.release, dist == nil else { return nil }
        let path = url.range(of: "://").map { "~" + url[$0.upperBound...].drop { $0 != "/" } } ?? url
        return files.first { $0.url == url || $0.url == path }
    }

    func hasArtifacts(projectID: Int64) async throws -> Bool { projectID == 1 }

    /// The browser SDK's event for the fixture's error, minified frames oldest first.
    func envelope(_ id: EventID) throws -> ByteBuffer {
        let url = "http://localhost:8000/static/app.min.js"
        let frames = [("?", 223), ("i", 214), ("f", 167), ("c", 98)].map { function, column in
            #"{"abs_path":"\#(url)","filename":"\#(url)","function":"\#(function)","lineno":1,"colno":\#(column),"in_app":true}"#
        }
        let event =
            #"{"event_id":"\#(id.hex)","platform":"javascript","release":"\#(Self.release)","timestamp":\#(ClockTime.nowSeconds),"#
            + #""exception":{"values":[{"type":"Error","value":"config has no endpoint","stacktrace":{"frames":["#
            + frames.joined(separator: ",") + "]}}]},"
            + #""debug_meta":{"images":[{"type":"sourcemap","code_file":"\#(url)","debug_id":"\#(debugID)"}]}}"#
        return ByteBuffer(
            string: #"{"event_id":"\#(id.hex)"}"# + "\n" + #"{"type":"event","length":\#(event.utf8.count)}"# + "\n" + event + "\n")
    }
}

@Suite struct SourceMapEventTests {
    @Test func aMinifiedErrorIsStoredResolvedAndShownWithItsMinifiedFrames() async throws {
        let artifacts = try FixtureArtifacts()
        let server = try await TestServer(artifacts: artifacts)
        let id = EventID.random()
        try await server.test(.live) { client in
            // Through the ingest fast path: the event loop hands the event to resolution and
            // answers once it is committed.
            let response = try await client.execute(
                uri: "/api/\(server.project.id)/envelope/", method: .post,
                headers: IngestRoutesTests.auth(server.key.publicKey), body: try artifacts.envelope(id))
            #expect(response.status == .ok)

            let event = try await client.api("/api/0/projects/pit/default/events/\(id.hex)/", token: server.adminToken)
            #expect(event.status == .ok)
            let object = try event.object()
            let values = try #require((object["exception"] as? [String: Any])?["values"] as? [[String: Any]])
            let frames = try #require((values[0]["stacktrace"] as? [String: Any])?["frames"] as? [[String: Any]])
            let raw = try #require((values[0]["raw_stacktrace"] as? [String: Any])?["frames"] as? [[String: Any]])
            #expect(frames.map { $0["function"] as? String } == ["?", "main", "startApp", "parseConfig"])
            #expect(frames.last?["abs_path"] as? String == "webpack://fixture/src/app.js")
            #expect(frames.last?["lineno"] as? Int == 5)
            #expect(frames.last?["context_line"] as? String == #"    throw new Error("config has no endpoint");"#)
            #expect(raw.map { $0["function"] as? String } == ["?", "i", "f", "c"])
            #expect((object["culprit"] as? String)?.contains("parseConfig") == true)

            let session = try await client.signIn(token: server.adminToken)
            let page = try await client.page("/organizations/pit/projects/default/events/\(id.hex)/", cookies: session.cookies)
            #expect(page.status == .ok)
            #expect(page.text.contains(#"class="frame-views""#))
            #expect(page.text.contains(">Original</label>"))
            #expect(page.text.contains(">Minified</label>"))
            #expect(page.text.contains("parseConfig"))
            #expect(page.text.contains("app.min.js"))
        }
    }
}
