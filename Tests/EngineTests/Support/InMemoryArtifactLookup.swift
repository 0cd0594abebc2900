import Foundation
import NIOConcurrencyHelpers
import PitStorage
import Testing

/// `ArtifactLookup` over files held in memory, matching URLs as the contract says (exact, then
/// the `~/` form of the URL's path), and counting the lookups so tests see what the cache saves.
final class InMemoryArtifactLookup: ArtifactLookup {
    struct Stored {
        var projectID: Int64
        var release: String?
        var dist: String?
        var file: ArtifactFile
    }

    private let files = NIOLockedValueBox<[Stored]>([])
    private let lookups = NIOLockedValueBox(0)

    var lookupCount: Int { lookups.withLockedValue { $0 } }

    func add(projectID: Int64, release: String?, dist: String? = nil, _ file: ArtifactFile) {
        files.withLockedValue { $0.append(Stored(projectID: projectID, release: release, dist: dist, file: file)) }
    }

    /// The committed fixture (`Fixtures/sourcemaps`, written by make-fixture.py) as one bundle.
    func addFixture(projectID: Int64, release: String?, bundleID: Int64 = 1, withDebugIDs: Bool = true) throws {
        let debugID = withDebugIDs ? try SourceMapFixture.expected().debugID : nil
        add(
            projectID: projectID, release: release,
            ArtifactFile(
                url: "~/static/app.min.js", type: .minifiedSource, debugID: debugID, headers: ["sourcemap": "app.min.js.map"],
                bundleID: bundleID, contents: try SourceMapFixture.bytes("app.min.js")))
        add(
            projectID: projectID, release: release,
            ArtifactFile(
                url: "~/static/app.min.js.map", type: .sourceMap, debugID: debugID, headers: [:], bundleID: bundleID,
                contents: try SourceMapFixture.bytes("app.min.js.map")))
    }

    func file(projectID: Int64, debugID: String, type: ArtifactFileType) async throws -> ArtifactFile? {
        lookups.withLockedValue { $0 += 1 }
        return files.withLockedValue { stored in
            stored.last { $0.projectID == projectID && $0.file.type == type && $0.file.debugID?.lowercased() == debugID.lowercased() }?
                .file
        }
    }

    func file(projectID: Int64, release: String, dist: String?, url: String) async throws -> ArtifactFile? {
        lookups.withLockedValue { $0 += 1 }
        let candidates = files.withLockedValue { stored in
            stored.filter { $0.projectID == projectID && $0.release == release && $0.dist == dist }.map(\.file)
        }
        if let exact = candidates.last(where: { $0.url == url }) { return exact }
        guard let tilde = Self.tildeForm(url) else { return nil }
        return candidates.last { $0.url == tilde }
    }

    func hasArtifacts(projectID: Int64) async throws -> Bool {
        files.withLockedValue { stored in stored.contains { $0.projectID == projectID } }
    }

    /// `https://host/static/a.js?x` → `~/static/a.js`.
    static func tildeForm(_ url: String) -> String? {
        guard let scheme = url.range(of: "://") else { return url.hasPrefix("/") ? "~" + url : nil }
        let path = url[scheme.upperBound...].drop { $0 != "/" }.prefix { $0 != "?" && $0 != "#" }
        return path.isEmpty ? nil : "~" + path
    }
}

/// The committed source-map fixture and what it must resolve to.
enum SourceMapFixture {
    struct Frame {
        var minifiedFunction: String
        var colno: Int
        var absPath: String
        var function: String
        var lineno: Int
        var originalColno: Int
        var contextLine: String
    }

    struct Expected {
        var debugID: String
        var frames: [Frame]
    }

    static func url(_ name: String) throws -> URL {
        try #require(Bundle.module.resourceURL).appendingPathComponent("Fixtures/sourcemaps/" + name)
    }

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: try url(name)))
    }

    static func expected() throws -> Expected {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes("expected.json"))) as? [String: Any])
        let frames = try #require(object["frames"] as? [[String: Any]])
        return Expected(
            debugID: try #require(object["debug_id"] as? String),
            frames: try frames.map { frame in
                let minified = try #require(frame["minified"] as? [String: Any])
                let original = try #require(frame["original"] as? [String: Any])
                return Frame(
                    minifiedFunction: try #require(minified["function"] as? String), colno: try #require(minified["colno"] as? Int),
                    absPath: try #require(original["abs_path"] as? String), function: try #require(original["function"] as? String),
                    lineno: try #require(original["lineno"] as? Int), originalColno: try #require(original["colno"] as? Int),
                    contextLine: try #require(original["context_line"] as? String))
            })
    }

    /// A browser SDK's event for the fixture's error: minified frames at `url`, oldest first,
    /// with the bundle's debug id in `debug_meta` when `debugID` is given.
    static func event(url: String = "http://localhost:8000/static/app.min.js", release: String? = "app@1.0.0", debugID: String?)
        throws -> String
    {
        let frames = try expected().frames.map { frame -> [String: Any] in
            ["abs_path": url, "filename": url, "function": frame.minifiedFunction, "lineno": 1, "colno": frame.colno, "in_app": true]
        }
        var event: [String: Any] = [
            "platform": "javascript",
            "exception": ["values": [["type": "Error", "value": "config has no endpoint", "stacktrace": ["frames": frames]]]],
        ]
        if let release { event["release"] = release }
        if let debugID { event["debug_meta"] = ["images": [["type": "sourcemap", "code_file": url, "debug_id": debugID]]] }
        return String(decoding: try JSONSerialization.data(withJSONObject: event, options: [.sortedKeys]), as: UTF8.self)
    }
}
