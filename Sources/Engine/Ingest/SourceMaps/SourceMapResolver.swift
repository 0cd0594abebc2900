import Foundation
import NIOConcurrencyHelpers
package import PitStorage

/// Resolves a JavaScript event's minified frames through the source maps of the project's
/// artifact bundles (`ArtifactLookup`): by the event's `debug_meta.images` of type `sourcemap`
/// (debug id), else by release + dist + the frame's URL and the minified file's source-map
/// reference. Each resolved frame gets its original file, line, column, function and source
/// context; the stack as sent is kept as the exception's `raw_stacktrace`, and what could not
/// be resolved is listed in the event's `errors` (Sentry's `js_*` types), never failing the event.
package final class SourceMapResolver: Sendable {
    package let lookup: any ArtifactLookup
    package let cache: SourceMapCache
    /// How long a project's "has artifacts" answer and a file's lookup are trusted: an upload
    /// shows within this (at once when the upload side calls `artifactsChanged`).
    package let lookupTTL: Double
    private let now: @Sendable () -> Double
    private let projects = NIOLockedValueBox<[Int64: ProjectArtifacts]>([:])
    private let locations = NIOLockedValueBox<[LocationKey: (location: MapLocation?, until: Double)]>([:])

    /// At most this many frames and distinct files are resolved per event: the rest stay as sent.
    package static let maximumFrames = 250
    package static let maximumFiles = 50
    /// Lines of source around the frame's line, as Sentry shows.
    package static let contextLines = 5

    package init(
        lookup: any ArtifactLookup, cacheBytes: Int = 256 << 20, lookupTTL: Double = 10,
        now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.lookup = lookup
        self.cache = SourceMapCache(maximumBytes: cacheBytes)
        self.lookupTTL = lookupTTL
        self.now = now
    }

    // MARK: Projects

    /// What is known of a project's bundles, and until when it is trusted.
    private struct ProjectArtifacts {
        var hasArtifacts: Bool
        var until: Double
        /// One event is asking again (`mayHaveArtifacts` let it through); the others keep the old
        /// answer meanwhile instead of all asking the database at once.
        var refreshing = false
    }

    /// Without waiting: false only when the project is known (recently) to have no artifact
    /// bundle, so its events need no resolution. Callers on an event loop ask this first.
    package func mayHaveArtifacts(projectID: Int64) -> Bool {
        let time = now()
        return projects.withLockedValue { known in
            guard var entry = known[projectID] else { return true }
            if entry.until > time || entry.refreshing { return entry.hasArtifacts }
            entry.refreshing = true
            known[projectID] = entry
            return true
        }
    }

    /// Whether the project has artifacts, asked of the lookup at most once per `lookupTTL`. A
    /// failed lookup counts as none (the event is stored as sent).
    package func hasArtifacts(projectID: Int64) async -> Bool {
        let time = now()
        if let entry = projects.withLockedValue({ $0[projectID] }), entry.until > time { return entry.hasArtifacts }
        let answer = (try? await lookup.hasArtifacts(projectID: projectID)) ?? false
        projects.withLockedValue { $0[projectID] = ProjectArtifacts(hasArtifacts: answer, until: time + lookupTTL) }
        return answer
    }

    /// Forgets what is known about the project's artifacts (the upload side calls it when a
    /// bundle is stored or deleted), so the next event looks again.
    package func artifactsChanged(projectID: Int64) {
        projects.withLockedValue { _ = $0.removeValue(forKey: projectID) }
        locations.withLockedValue { entries in
            entries = entries.filter { $0.key.projectID != projectID }
        }
    }

    // MARK: Events

    /// A resolved event: its JSON with the original frames (the frames as sent kept as each
    /// stack's `raw_stacktrace`), and what could not be resolved as Sentry's processing errors
    /// (JSON objects: `{"type":"js_no_source","url":...}`).
    package struct Resolution: Sendable {
        package var eventJSON: [UInt8]
        package var errors: [String]
    }

    /// The event with its frames resolved, or nil when it is not JavaScript, its project has no
    /// artifacts, or nothing was resolved and nothing went wrong.
    package func resolve(eventJSON: [UInt8], projectID: Int64) async -> Resolution? {
        guard await hasArtifacts(projectID: projectID),
            var event = (try? JSONSerialization.jsonObject(with: Data(eventJSON))) as? [String: Any],
            Self.isJavaScript(event)
        else { return nil }
        var context = EventContext(event: event, projectID: projectID)
        var changed = false
        for container in ["exception", "threads"] {
            // Sentry accepts `exception` as `{"values": [...]}` and as a bare list.
            if var wrapper = event[container] as? [String: Any], var values = wrapper["values"] as? [[String: Any]] {
                guard await resolveStacks(&values, context: &context) else { continue }
                wrapper["values"] = values
                event[container] = wrapper
                changed = true
            } else if var values = event[container] as? [[String: Any]] {
                guard await resolveStacks(&values, context: &context) else { continue }
                event[container] = values
                changed = true
            }
        }
        let errors = context.errors.compactMap { error in
            (try? JSONSerialization.data(withJSONObject: error, options: [.sortedKeys, .withoutEscapingSlashes]))
                .map { String(decoding: $0, as: UTF8.self) }
        }
        guard changed else { return errors.isEmpty ? nil : Resolution(eventJSON: eventJSON, errors: errors) }
        guard let data = try? JSONSerialization.data(withJSONObject: event, options: [.withoutEscapingSlashes]) else { return nil }
        return Resolution(eventJSON: [UInt8](data), errors: errors)
    }

    /// Resolves each value's `stacktrace`, keeping the one sent as `raw_stacktrace`.
    private func resolveStacks(_ values: inout [[String: Any]], context: inout EventContext) async -> Bool {
        var changed = false
        for position in values.indices {
            guard let stacktrace = values[position]["stacktrace"] as? [String: Any],
                let resolved = await resolveStacktrace(stacktrace, context: &context)
            else { continue }
            values[position]["raw_stacktrace"] = stacktrace
            values[position]["stacktrace"] = resolved
            changed = true
        }
        return changed
    }

    /// Sentry's test: the event's platform, or a frame of a `.js`-like file.
    static func isJavaScript(_ event: [String: Any]) -> Bool {
        if let platform = event["platform"] as? String, platform == "javascript" || platform == "node" { return true }
        var found = false
        forEachFrame(event) { frame in
            if let path = (frame["abs_path"] as? String) ?? (frame["filename"] as? String), isScriptPath(path) { found = true }
        }
        return found
    }

    static func isScriptPath(_ path: String) -> Bool {
        let withoutQuery = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return withoutQuery.hasSuffix(".js") || withoutQuery.hasSuffix(".mjs") || withoutQuery.hasSuffix(".cjs")
    }

    private static func forEachFrame(_ event: [String: Any], _ body: ([String: Any]) -> Void) {
        var stacks: [[String: Any]] = []
        if let values = (event["exception"] as? [String: Any])?["values"] as? [[String: Any]] {
            stacks += values.compactMap { $0["stacktrace"] as? [String: Any] }
        }
        if let values = (event["threads"] as? [String: Any])?["values"] as? [[String: Any]] {
            stacks += values.compactMap { $0["stacktrace"] as? [String: Any] }
        }
        for stack in stacks {
            for frame in (stack["frames"] as? [[String: Any]]) ?? [] { body(frame) }
        }
    }

    /// What one event's frames share: its debug ids, release, dist, the maps found so far and
    /// the errors to report (each once).
    struct EventContext {
        let projectID: Int64
        var debugIDs: [String: String] = [:]
        let release: String?
        let dist: String?
        var maps: [String: FileResolution] = [:]
        var errors: [[String: Any]] = []
        var reported: Set<String> = []
        var framesResolved = 0

        init(event: [String: Any], projectID: Int64) {
            self.projectID = projectID
            release = (event["release"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            dist = (event["dist"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            for image in ((event["debug_meta"] as? [String: Any])?["images"] as? [[String: Any]]) ?? [] {
                guard image["type"] as? String == "sourcemap", let file = image["code_file"] as? String,
                    let debugID = image["debug_id"] as? String
                else { continue }
                debugIDs[file] = debugID
            }
        }

        mutating func report(_ type: String, _ fields: [String: Any]) {
            let key = type + "\u{0}" + fields.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "\u{0}")
            guard reported.insert(key).inserted else { return }
            var error: [String: Any] = ["type": type]
            for (name, value) in fields { error[name] = value }
            errors.append(error)
        }
    }

    /// A minified file's map, or why there is none.
    enum FileResolution {
        case map(SourceMap, url: String, resolvedWith: String)
        /// Nothing to resolve with; already reported.
        case unresolved
    }

    /// The stacktrace with its frames resolved, nil when no frame changed.
    private func resolveStacktrace(_ stacktrace: [String: Any], context: inout EventContext) async -> [String: Any]? {
        guard let frames = stacktrace["frames"] as? [[String: Any]], !frames.isEmpty else { return nil }
        var resolvedFrames = frames
        // The token under each frame's position, kept for the function name of the frame it calls.
        var callSiteNames: [String?] = Array(repeating: nil, count: frames.count)
        var tokens: [(SourceMap.Token, SourceMap, String, String)?] = Array(repeating: nil, count: frames.count)
        for (position, frame) in frames.enumerated() {
            guard context.framesResolved < Self.maximumFrames else { break }
            guard let path = (frame["abs_path"] as? String) ?? (frame["filename"] as? String), !path.isEmpty,
                let line = Self.integer(frame["lineno"])
            else { continue }
            guard let column = Self.integer(frame["colno"]) else {
                if Self.isScriptPath(path) { context.report("js_no_column", ["url": path]) }
                continue
            }
            context.framesResolved += 1
            guard case .map(let map, let mapURL, let resolvedWith) = await fileResolution(path, context: &context) else { continue }
            guard let token = map.lookup(line: line - 1, column: column - 1) else {
                context.report("js_invalid_sourcemap_location", ["column": column, "row": line, "source": path])
                continue
            }
            callSiteNames[position] = token.name
            tokens[position] = (token, map, mapURL, resolvedWith)
        }
        var changed = false
        for position in frames.indices {
            guard let found = tokens[position] else { continue }
            let (token, map, mapURL, resolvedWith) = found
            var frame = frames[position]
            frame["abs_path"] = token.source
            frame["filename"] = Self.displayFilename(token.source)
            frame["lineno"] = token.originalLine + 1
            frame["colno"] = token.originalColumn + 1
            // Frames run oldest first: the call site one frame up names the function this frame is
            // in (Sentry's rule for minified names); the topmost keeps its minified name.
            if position > 0, let name = callSiteNames[position - 1], !name.isEmpty { frame["function"] = name }
            if token.source.contains("/node_modules/") { frame["in_app"] = false }
            if frame["module"] == nil, let module = Self.module(forURL: token.source) { frame["module"] = module }
            frame["pre_context"] = nil
            frame["context_line"] = nil
            frame["post_context"] = nil
            if let content = map.sourcesContent[token.sourceIndex] {
                let (before, line, after) = Self.context(content, line: token.originalLine)
                if let line {
                    frame["pre_context"] = before
                    frame["context_line"] = line
                    frame["post_context"] = after
                }
            } else {
                context.report("js_missing_source_content", ["source": token.source, "sourcemap": mapURL])
            }
            var data = (frame["data"] as? [String: Any]) ?? [:]
            data["sourcemap"] = mapURL
            data["resolved_with"] = resolvedWith
            data["symbolicated"] = true
            frame["data"] = data
            resolvedFrames[position] = frame
            changed = true
        }
        guard changed else { return nil }
        var resolved = stacktrace
        resolved["frames"] = resolvedFrames
        return resolved
    }

    /// The map of a minified file (by path), found once per event.
    private func fileResolution(_ path: String, context: inout EventContext) async -> FileResolution {
        if let known = context.maps[path] { return known }
        guard context.maps.count < Self.maximumFiles else { return .unresolved }
        let resolution = await findMap(path, context: &context)
        context.maps[path] = resolution
        return resolution
    }

    private func findMap(_ path: String, context: inout EventContext) async -> FileResolution {
        let projectID = context.projectID
        if let debugID = context.debugIDs[path] {
            let key = LocationKey(projectID: projectID, debugID: debugID.lowercased(), release: nil, dist: nil, url: path)
            let location = await cachedLocation(key) { [lookup] in
                guard let file = try await lookup.file(projectID: projectID, debugID: debugID, type: .sourceMap) else { return nil }
                return (MapLocation(bundleID: file.bundleID, url: file.url), file.contents)
            }
            if case .found(let found, let contents) = location {
                return parsed(found, contents: contents, resolvedWith: "debug-id", context: &context)
            }
        }
        guard let release = context.release else {
            if Self.isScriptPath(path) { context.report("js_no_source", ["url": path]) }
            return .unresolved
        }
        let dist = context.dist
        let key = LocationKey(projectID: projectID, debugID: nil, release: release, dist: dist, url: path)
        let location = await cachedLocation(key) { [lookup] in
            guard let file = try await lookup.file(projectID: projectID, release: release, dist: dist, url: path) else { return nil }
            if file.type == .sourceMap { return (MapLocation(bundleID: file.bundleID, url: file.url), file.contents) }
            guard let reference = Self.sourceMapReference(file) else { return nil }
            if let inline = Self.inlineMap(reference) {
                return (MapLocation(bundleID: file.bundleID, url: file.url + "#sourcemap"), inline)
            }
            let mapURL = Self.joinURL(base: path, reference)
            guard let map = try await lookup.file(projectID: projectID, release: release, dist: dist, url: mapURL) else { return nil }
            return (MapLocation(bundleID: map.bundleID, url: map.url), map.contents)
        }
        switch location {
        case .found(let found, let contents):
            return parsed(found, contents: contents, resolvedWith: "release", context: &context)
        case .missing:
            if Self.isScriptPath(path) { context.report("js_no_source", ["url": path]) }
            return .unresolved
        }
    }

    /// A parsed map from the cache, parsed now when its bytes are at hand. The bytes are absent
    /// when the location came from the location cache but the map was since evicted: then the
    /// location is forgotten and the next event reads it again.
    private func parsed(_ location: MapLocation, contents: [UInt8]?, resolvedWith: String, context: inout EventContext)
        -> FileResolution
    {
        let key = SourceMapCache.Key(bundleID: location.bundleID, url: location.url)
        var result = cache.value(key)
        if result == nil, let contents {
            let parsed = Result { () throws(SourceMapError) -> SourceMap in try SourceMap.parse(contents) }
            cache.store(parsed, for: key)
            result = parsed
        }
        switch result {
        case .success(let map): return .map(map, url: location.url, resolvedWith: resolvedWith)
        case .failure(let error):
            context.report("js_invalid_source", ["url": location.url, "reason": error.reason])
            return .unresolved
        case nil:
            return .unresolved
        }
    }

    // MARK: Lookups

    struct LocationKey: Hashable, Sendable {
        var projectID: Int64
        var debugID: String?
        var release: String?
        var dist: String?
        var url: String
    }

    /// Where a file's map is: the parsed-map cache's key.
    struct MapLocation: Sendable {
        var bundleID: Int64
        /// The map's URL in its bundle; an inline map's is its minified file's plus `#sourcemap`.
        var url: String
    }

    enum Located {
        /// `contents` is nil when the location was known and the lookup not repeated.
        case found(MapLocation, contents: [UInt8]?)
        case missing
    }

    /// A lookup's answer, remembered for `lookupTTL` (the miss too): a bundle's files are
    /// megabytes, read once while their parsed map is cached rather than once per event.
    private func cachedLocation(_ key: LocationKey, _ find: @Sendable () async throws -> (MapLocation, [UInt8])?) async -> Located {
        let time = now()
        if let entry = locations.withLockedValue({ $0[key] }), entry.until > time {
            guard let location = entry.location else { return .missing }
            if cache.value(SourceMapCache.Key(bundleID: location.bundleID, url: location.url)) != nil {
                return .found(location, contents: nil)
            }
        }
        let found = (try? await find()) ?? nil
        locations.withLockedValue { entries in
            // Bounded: an event with new URLs on every request must not grow this without end.
            if entries.count >= 10_000 { entries = entries.filter { $0.value.until > time } }
            if entries.count < 10_000 { entries[key] = (found?.0, time + lookupTTL) }
        }
        guard let found else { return .missing }
        return .found(found.0, contents: found.1)
    }

    // MARK: Text

    /// A 1-based line or column: a positive integer (written `12` or `12.0`).
    static func integer(_ value: Any?) -> Int? {
        switch value {
        case let int as Int:
            return int >= 1 && int <= Int(Int32.max) ? int : nil
        case let double as Double:
            guard double.isFinite, double >= 1, double <= Double(Int32.max), double == double.rounded() else { return nil }
            return Int(double)
        default:
            return nil
        }
    }

    /// The minified file's source-map reference: the `Sourcemap` (or older `X-SourceMap`) header
    /// sentry-cli records in the manifest, else the file's last `sourceMappingURL` comment.
    static func sourceMapReference(_ file: ArtifactFile) -> String? {
        if let header = file.headers["sourcemap"] ?? file.headers["x-sourcemap"], !header.isEmpty { return header }
        // The comment is at the end; a minified file is megabytes, so only its tail is read.
        let tail = file.contents.suffix(64 << 10)
        let text = String(decoding: tail, as: UTF8.self)
        for marker in ["//# sourceMappingURL=", "//@ sourceMappingURL="] {
            guard let range = text.range(of: marker, options: .backwards) else { continue }
            let value = text[range.upperBound...].prefix { !$0.isWhitespace }
            if !value.isEmpty { return String(value) }
        }
        return nil
    }

    /// The map of a `data:application/json;base64,` reference.
    static func inlineMap(_ reference: String) -> [UInt8]? {
        guard reference.hasPrefix("data:"), let comma = reference.firstIndex(of: ",") else { return nil }
        let header = reference[..<comma]
        let body = String(reference[reference.index(after: comma)...])
        if header.hasSuffix(";base64") { return Data(base64Encoded: body).map { [UInt8]($0) } }
        return body.removingPercentEncoding.map { Array($0.utf8) }
    }

    /// `reference` read relative to the minified file's URL.
    package static func joinURL(base: String, _ reference: String) -> String {
        if reference.contains("://") || reference.hasPrefix("~/") { return reference }
        if reference.hasPrefix("/") {
            // Absolute path: the base's scheme and host, if any.
            guard let scheme = base.range(of: "://") else { return reference }
            let afterScheme = base[scheme.upperBound...]
            let host = afterScheme.prefix { $0 != "/" }
            return String(base[..<scheme.upperBound]) + host + reference
        }
        let withoutQuery = base.prefix { $0 != "?" && $0 != "#" }
        guard let slash = withoutQuery.lastIndex(of: "/") else { return reference }
        var directory = String(withoutQuery[...slash])
        var rest = Substring(reference)
        while rest.hasPrefix("./") || rest.hasPrefix("../") {
            if rest.hasPrefix("./") {
                rest = rest.dropFirst(2)
                continue
            }
            rest = rest.dropFirst(3)
            let trimmed = directory.dropLast()
            if let parent = trimmed.lastIndex(of: "/"), !trimmed[..<parent].hasSuffix("/") {
                directory = String(trimmed[...parent])
            }
        }
        return directory + rest
    }

    /// The path a person reads: a source URL without its scheme and host (`webpack://app/./src/a.js`
    /// → `./src/a.js`, `https://example.com/src/a.js` → `/src/a.js`).
    package static func displayFilename(_ source: String) -> String {
        guard let scheme = source.range(of: "://") else { return source }
        let afterScheme = source[scheme.upperBound...]
        let path = afterScheme.drop { $0 != "/" }
        if source.hasPrefix("webpack:"), path.hasPrefix("/./") || path.hasPrefix("/../") { return String(path.dropFirst()) }
        return path.isEmpty ? String(afterScheme) : String(path)
    }

    /// The line (0-based) of `content` with up to `contextLines` lines either side.
    package static func context(_ content: String, line: Int) -> (before: [String], line: String?, after: [String]) {
        var lines: [Substring] = []
        var count = 0
        var currentStart = content.startIndex
        var index = content.startIndex
        let last = line + contextLines
        while index < content.endIndex, count <= last {
            let character = content[index]
            if character == "\n" || character == "\r\n" || character == "\r" {
                if count >= line - contextLines { lines.append(content[currentStart..<index]) }
                count += 1
                index = content.index(after: index)
                currentStart = index
                continue
            }
            index = content.index(after: index)
        }
        if index == content.endIndex, count <= last, count >= line - contextLines { lines.append(content[currentStart..<index]) }
        let firstNumber = max(line - contextLines, 0)
        let position = line - firstNumber
        guard position >= 0, position < lines.count else { return ([], nil, []) }
        return (
            lines[..<position].map { truncatedLine($0) }, truncatedLine(lines[position]),
            lines[(position + 1)...].map { truncatedLine($0) }
        )
    }

    /// Lines are capped as Sentry caps context lines, so a minified original cannot bloat the event.
    static func truncatedLine(_ line: Substring) -> String {
        line.utf8.count <= 1000 ? String(line) : String(line.prefix(1000))
    }
}
