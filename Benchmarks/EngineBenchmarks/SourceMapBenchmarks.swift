import Benchmark
import Foundation
import Logging
import NIOCore
import PitIngest
import PitModel
import PitObservability
import PitStorage
import SQLiteStore

/// The cost of JavaScript source-map resolution, cold (a map neither parsed nor read yet, as the
/// first event after an upload or an eviction finds it) and warm (the parsed map cached).
///
/// The map is a bundle's, generated deterministically at its usual size: ~5 MB, 200,000 mapping
/// segments over 20 minified lines, 300 sources with their `sourcesContent`, 2,000 names.
func sourceMapBenchmarks() {
    let map = SyntheticSourceMap()
    let bytes = map.json()
    print("SourceMapBenchmarks: \(bytes.count) bytes, \(map.segmentCount) segments, \(map.sourceCount) sources")

    let slow = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal, .peakMemoryResident], warmupIterations: 1, scalingFactor: .one,
        maxDuration: .seconds(10), maxIterations: 30)

    let fast = Benchmark.Configuration(scalingFactor: .one, maxDuration: .seconds(5))

    // Parsing alone: what the first event pays per map after the bytes are read.
    Benchmark("SourceMap.parse.5MB", configuration: slow) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try SourceMap.parse(bytes))
        }
    }

    // A frame's lookup in a parsed map: what every later event pays per frame. 1,000 lookups an
    // iteration, spread over the whole map.
    let parsed = try? SourceMap.parse(bytes)
    let positions = map.framePositions(count: 1000)
    Benchmark("SourceMap.lookup.warm.1000") { benchmark in
        guard let parsed else { return }
        for _ in benchmark.scaledIterations {
            for position in positions { blackHole(parsed.lookup(line: position.line, column: position.column)) }
        }
    }

    // A whole event (10 frames, by debug id) through the resolver over a SQLite store holding the
    // bundle: cold is a new resolver each time (read the 5 MB file from the database, parse,
    // rewrite the event with context lines); warm reuses one resolver (its map cached).
    let event = map.eventJSON(frames: 10)
    Benchmark("SourceMapResolver.resolve.cold.sqlite", configuration: slow) { benchmark in
        let (store, directory) = try await SyntheticSourceMap.store(bytes: bytes)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let resolver = SourceMapResolver(lookup: store)
            blackHole(await resolver.resolve(eventJSON: event, projectID: SyntheticSourceMap.projectID))
        }
        benchmark.stopMeasurement()
    }
    Benchmark("SourceMapResolver.resolve.warm.sqlite", configuration: fast) { benchmark in
        let (store, directory) = try await SyntheticSourceMap.store(bytes: bytes)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let resolver = SourceMapResolver(lookup: store)
        _ = await resolver.resolve(eventJSON: event, projectID: SyntheticSourceMap.projectID)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(await resolver.resolve(eventJSON: event, projectID: SyntheticSourceMap.projectID))
        }
        benchmark.stopMeasurement()
    }

    // From request to acknowledgement in process, HTTP aside: an envelope through the pipeline
    // (prepare, resolve, group, compress), the queue and a committed SQLite batch
    // (synchronous=NORMAL), as pitd answers with ack=committed. Cold: a new resolver per event, so
    // its map is read from the store and parsed before the ack (no deadline); cold at the default
    // deadline (50 ms): the event is held past it and acknowledged from its hold, its map parsed
    // after; warm: one resolver; no maps: the same event in a project without bundles.
    for (name, mode) in [("cold", IngestMode.cold), ("coldDeadline", .coldDeadline), ("warm", .warm), ("noMaps", .noMaps)] {
        Benchmark("SourceMapIngest.ack.\(name).sqlite", configuration: mode == .cold || mode == .coldDeadline ? slow : fast) { benchmark in
            let ingest = try await SyntheticSourceMap.ingest(bytes: bytes, withBundle: mode != .noMaps)
            defer { try? FileManager.default.removeItem(atPath: ingest.directory) }
            let shared = SourceMapResolver(lookup: ingest.admin)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await ingest.writer.run() }
                if mode == .warm { _ = try await ingest.send(event, resolver: shared, deadline: .seconds(60)) }
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    let cold = mode == .cold || mode == .coldDeadline
                    let resolver = cold ? SourceMapResolver(lookup: ingest.admin) : shared
                    let deadline: Duration = mode == .coldDeadline ? .milliseconds(50) : .seconds(60)
                    blackHole(try await ingest.send(event, resolver: resolver, deadline: deadline))
                }
                benchmark.stopMeasurement()
                ingest.writer.finish()
                try await group.waitForAll()
            }
        }
    }
}

enum IngestMode { case cold, coldDeadline, warm, noMaps }

/// A SQLite data directory with project 1, its key, the writer and (optionally) the bundle.
struct SourceMapIngest {
    static let key = "0123456789abcdef0123456789abcdef"
    let directory: String
    let admin: SQLiteAdminStore
    let keys: KeyCache
    let queue: IngestQueue
    let writer: BatchWriter
    let metrics = PitMetrics()

    /// Sends `event` with a new id; returns when its batch has committed.
    func send(_ event: [UInt8], resolver: SourceMapResolver, deadline: Duration) async throws -> EventID? {
        let pipeline = IngestPipeline(
            keys: keys, queue: queue, ack: .committed, limits: IngestLimits(), metrics: metrics, sourceMaps: resolver,
            sourceMapSchedule: SourceMapSchedule(deadline: deadline))
        let id = EventID.random()
        var body = ByteBuffer(string: "{\"event_id\":\"\(id.hex)\"}\n{\"type\":\"event\",\"length\":\(event.count)}\n")
        body.writeBytes(event)
        body.writeString("\n")
        let request = IngestPipeline.Request(
            projectID: 1, auth: SentryAuth(publicKey: Self.key, version: 7), contentEncoding: nil, contentType: nil, body: body)
        return try await pipeline.envelope(request)
    }
}

extension SyntheticSourceMap {
    static func ingest(bytes: [UInt8], withBundle: Bool) async throws -> SourceMapIngest {
        let directory = NSTemporaryDirectory() + "pit-sourcemap-ingest-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = directory + "/pit.db"
        let admin = try SQLiteAdminStore(path: path)
        let project = try await admin.ensureDefaults(organizationSlug: "pit", projectSlug: "web")
        _ = try await admin.createKey(projectID: project.id, publicKey: SourceMapIngest.key, label: nil)
        if withBundle {
            let file = ArtifactFile(
                url: "~/static/app.min.js.map", type: .sourceMap, debugID: debugID, headers: [:], bundleID: 0, contents: bytes)
            _ = try await admin.storeArtifactBundle(
                ArtifactBundleUpload(
                    checksum: "bench", bundleUUID: debugID, release: nil, dist: nil, size: Int64(bytes.count), files: [file]),
                projectID: project.id, now: 0)
        }
        let keys = KeyCache()
        try await keys.reload(from: admin)
        let queue = IngestQueue(maxCount: 1000, maxBytes: 256 << 20)
        let store = try SQLiteBatchStore(path: path, durability: StorageDurability(synchronous: .normal, journalMode: .wal))
        let writer = BatchWriter(
            queue: queue, stores: [store], batchSize: 1000, metrics: PitMetrics(),
            logger: Logger(label: "pit.bench", factory: { _ in SwiftLogNoOpLogHandler() }))
        return SourceMapIngest(directory: directory, admin: admin, keys: keys, queue: queue, writer: writer)
    }
}

/// A deterministic source map of a bundle's size, the event that points into it, and a SQLite
/// store holding it as an uploaded bundle.
struct SyntheticSourceMap {
    static let projectID: Int64 = 1
    static let debugID = "3f9a4c1e-7b2d-4e8f-a6c5-0d1e2f3a4b5c"
    static let url = "https://example.com/static/app.min.js"

    let sourceCount = 300
    let linesPerSource = 200
    let generatedLines = 20
    let segmentsPerLine = 10_000
    let nameCount = 2000

    var segmentCount: Int { generatedLines * segmentsPerLine }

    /// Segment `index`'s generated column on its line: columns grow by 5-19.
    func generatedColumn(_ index: Int) -> Int {
        let inLine = index % segmentsPerLine
        return inLine * 12 + (inLine * 7919) % 8
    }

    func json() -> [UInt8] {
        var out = "{\"version\":3,\"file\":\"app.min.js\",\"sources\":["
        out += (0..<sourceCount).map { "\"webpack://app/./src/module\($0).js\"" }.joined(separator: ",")
        out += "],\"sourcesContent\":["
        out += (0..<sourceCount).map { source in
            let lines = (0..<linesPerSource).map { line in
                "  const value\(line) = compute\(source)(input, \(line)); // line \(line) of module \(source)"
            }
            return "\"" + lines.joined(separator: "\\n") + "\""
        }.joined(separator: ",")
        out += "],\"names\":["
        out += (0..<nameCount).map { "\"function\($0)\"" }.joined(separator: ",")
        out += "],\"mappings\":\""
        var previous = (source: 0, line: 0, column: 0, name: 0)
        var mappings: [UInt8] = []
        mappings.reserveCapacity(segmentCount * 10)
        for line in 0..<generatedLines {
            if line > 0 { mappings.append(UInt8(ascii: ";")) }
            var previousColumn = 0
            for inLine in 0..<segmentsPerLine {
                let index = line * segmentsPerLine + inLine
                if inLine > 0 { mappings.append(UInt8(ascii: ",")) }
                let column = generatedColumn(index)
                let source = index / (segmentCount / sourceCount)
                let originalLine = (index / 3) % linesPerSource
                let originalColumn = (index * 7) % 60
                let name = (index * 31) % nameCount
                for delta in [
                    column - previousColumn, source - previous.source, originalLine - previous.line,
                    originalColumn - previous.column, name - previous.name,
                ] {
                    Self.appendVLQ(delta, to: &mappings)
                }
                previousColumn = column
                previous = (source, originalLine, originalColumn, name)
            }
        }
        return Array(out.utf8) + mappings + Array("\"}".utf8)
    }

    static func appendVLQ(_ value: Int, to out: inout [UInt8]) {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var rest = value < 0 ? ((-value) << 1) | 1 : value << 1
        repeat {
            var digit = rest & 31
            rest >>= 5
            if rest > 0 { digit |= 32 }
            out.append(alphabet[digit])
        } while rest > 0
    }

    /// 0-based generated positions of segments spread evenly over the map.
    func framePositions(count: Int) -> [(line: Int, column: Int)] {
        (0..<count).map { frame in
            let index = (frame * 7_919) % segmentCount
            return (index / segmentsPerLine, generatedColumn(index))
        }
    }

    /// A browser event whose frames point into the map, found by its debug id.
    func eventJSON(frames count: Int) -> [UInt8] {
        let frames = framePositions(count: count).map { position in
            "{\"abs_path\":\"\(Self.url)\",\"filename\":\"/static/app.min.js\",\"function\":\"a\","
                + "\"lineno\":\(position.line + 1),\"colno\":\(position.column + 1),\"in_app\":true}"
        }
        let json = """
            {"platform":"javascript","level":"error",\
            "exception":{"values":[{"type":"TypeError","value":"x is undefined","stacktrace":{"frames":[\
            \(frames.joined(separator: ","))]}}]},\
            "debug_meta":{"images":[{"type":"sourcemap","code_file":"\(Self.url)","debug_id":"\(Self.debugID)"}]}}
            """
        return Array(json.utf8)
    }

    /// A SQLite admin store in a new directory with the map uploaded as a bundle of project 1.
    static func store(bytes: [UInt8]) async throws -> (SQLiteAdminStore, String) {
        let directory = NSTemporaryDirectory() + "pit-sourcemap-bench-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = try SQLiteAdminStore(path: directory + "/pit.db")
        let project = try await store.createProject(name: "web", id: projectID, platform: "javascript")
        let file = ArtifactFile(
            url: "~/static/app.min.js.map", type: .sourceMap, debugID: debugID, headers: [:], bundleID: 0, contents: bytes)
        let bundle = ArtifactBundleUpload(
            checksum: "bench", bundleUUID: debugID, release: nil, dist: nil, size: Int64(bytes.count), files: [file])
        _ = try await store.storeArtifactBundle(bundle, projectID: project.id, now: 0)
        return (store, directory)
    }
}
