/// Files from the artifact bundles a project uploaded (`sentry-cli sourcemaps upload`), looked up
/// the two ways Sentry's symbolicator does: by debug id, and else by release + dist + URL.
///
/// The upload side (chunk upload, assemble, the bundle index) implements it per back end; the
/// JavaScript source-map resolver reads through it, so neither names the other's tables.
package protocol ArtifactLookup: Sendable {
    /// The file of `type` carrying `debugID` in one of the project's bundles, newest bundle first.
    func file(projectID: Int64, debugID: String, type: ArtifactFileType) async throws -> ArtifactFile?

    /// The file whose manifest URL matches `url` (the frame's `abs_path`) in a bundle of the
    /// project for `release` and `dist`: an exact match first, then the `~/`-prefixed form (the
    /// URL's path, any scheme and host), as Sentry matches release artifacts.
    func file(projectID: Int64, release: String, dist: String?, url: String) async throws -> ArtifactFile?

    /// Whether the project has any artifact bundle at all: the resolver skips every lookup for
    /// the (usual) project that never uploaded one. Cheap; callers may ask per event.
    func hasArtifacts(projectID: Int64) async throws -> Bool
}

/// A bundle manifest's file `type`, as sentry-cli writes it.
package enum ArtifactFileType: String, Sendable, CaseIterable {
    case minifiedSource = "minified_source"
    case sourceMap = "source_map"
    case source = "source"
    case indexedRAMBundle = "indexed_ram_bundle"
}

/// One file of an artifact bundle.
package struct ArtifactFile: Sendable, Equatable {
    /// The manifest's `url` (e.g. `~/static/app.min.js`).
    package var url: String
    package var type: ArtifactFileType
    package var debugID: String?
    /// The manifest's `headers` with lower-cased names (e.g. `sourcemap` → `app.min.js.map`).
    package var headers: [String: String]
    /// The bundle the file came from: a cache of parsed source maps keys on it.
    package var bundleID: Int64
    package var contents: [UInt8]

    package init(url: String, type: ArtifactFileType, debugID: String?, headers: [String: String], bundleID: Int64, contents: [UInt8]) {
        self.url = url
        self.type = type
        self.debugID = debugID
        self.headers = headers
        self.bundleID = bundleID
        self.contents = contents
    }
}
