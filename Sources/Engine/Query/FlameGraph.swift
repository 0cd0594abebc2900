import PitIngest

/// A sampled profile (Sentry's sample format v1) as a flame graph: the samples of one thread
/// aggregated into a call tree (identical stacks merge, and so do identical frames along them:
/// same function, file and package, whatever the line), then laid out as rectangles whose width
/// is the share of samples under them, root on top.
///
/// Bounded whatever the profile holds: the tree keeps at most `maxNodes` calls (deeper or newer
/// ones count towards their parent), at most `maxDepth` levels, and the layout emits at most
/// `maxRects` rectangles level by level, none narrower than `minWidth`, so the page's SVG stays
/// small for a 50 MiB profile.
package struct FlameGraph: Sendable {
    package struct Frame: Sendable, Hashable {
        package var function: String
        /// The file name, or the module or path the SDK sent instead.
        package var file: String?
        /// What colours the frame: the package (native image) or the top-level module.
        package var package: String?
        package var inApp: Bool?

        package init(function: String, file: String? = nil, package: String? = nil, inApp: Bool? = nil) {
            self.function = function
            self.file = file
            self.package = package
            self.inApp = inApp
        }
    }

    package struct Rect: Sendable, Equatable {
        package var frame: Int
        package var depth: Int
        /// Left edge and width as fractions of all samples (0…1).
        package var x: Double
        package var width: Double
        package var samples: Int
    }

    package static let defaultMaxNodes = 100_000
    package static let defaultMaxDepth = 128
    package static let defaultMaxRects = 3000
    package static let defaultMinWidth = 0.001

    /// Distinct frames, indexed by `Rect.frame`.
    package private(set) var frames: [Frame] = []
    package private(set) var rects: [Rect] = []
    package private(set) var totalSamples = 0
    /// Calls not drawn: narrower than `minWidth`, or past `maxRects`.
    package private(set) var omitted = 0
    package private(set) var depth = 0

    /// `stacks` list frame indices leaf first, as the sample format does; `samples` are stack
    /// indices, one per sample. Indices out of range are skipped.
    package init(
        frames sourceFrames: [Frame], stacks: [[Int]], samples: [Int], maxNodes: Int = FlameGraph.defaultMaxNodes,
        maxDepth: Int = FlameGraph.defaultMaxDepth, maxRects: Int = FlameGraph.defaultMaxRects,
        minWidth: Double = FlameGraph.defaultMinWidth
    ) {
        var counts = [Int](repeating: 0, count: stacks.count)
        for stack in samples where stack >= 0 && stack < stacks.count {
            counts[stack] += 1
            totalSamples += 1
        }
        // Frames merged by what they show.
        var distinct: [Frame: Int] = [:]
        let merged = sourceFrames.map { frame -> Int in
            if let known = distinct[frame] { return known }
            distinct[frame] = frames.count
            frames.append(frame)
            return frames.count - 1
        }
        // The call tree: node 0 is the root above every stack.
        struct Edge: Hashable {
            var parent: Int
            var frame: Int
        }
        var nodeFrame = [-1]
        var nodeSamples = [totalSamples]
        var nodeDepth = [0]
        var childrenOf: [[Int]] = [[]]
        var nodeOf: [Edge: Int] = [:]
        for (stack, count) in counts.enumerated() where count > 0 {
            var node = 0
            for frameIndex in stacks[stack].reversed() {
                guard frameIndex >= 0, frameIndex < merged.count, nodeDepth[node] < maxDepth else { break }
                let edge = Edge(parent: node, frame: merged[frameIndex])
                if let child = nodeOf[edge] {
                    node = child
                } else {
                    guard nodeFrame.count < maxNodes else { break }
                    let child = nodeFrame.count
                    nodeFrame.append(edge.frame)
                    nodeSamples.append(0)
                    nodeDepth.append(nodeDepth[node] + 1)
                    childrenOf.append([])
                    childrenOf[node].append(child)
                    nodeOf[edge] = child
                    node = child
                }
                nodeSamples[node] += count
            }
        }
        guard totalSamples > 0 else { return }
        // Level by level, so a cap on rectangles cuts the deepest calls, never a whole subtree.
        let total = Double(totalSamples)
        var level: [(node: Int, x: Double)] = [(0, 0)]
        var laidOut: [Rect] = []
        var skipped = 0
        while !level.isEmpty {
            var next: [(node: Int, x: Double)] = []
            for (node, x) in level {
                // Heaviest calls first (left), ties by name, so the widest paths line up.
                let children = childrenOf[node].sorted {
                    (nodeSamples[$0], frames[nodeFrame[$1]].function) > (nodeSamples[$1], frames[nodeFrame[$0]].function)
                }
                var left = x
                for child in children {
                    let width = Double(nodeSamples[child]) / total
                    defer { left += width }
                    guard width >= minWidth, laidOut.count < maxRects else {
                        skipped += 1
                        continue
                    }
                    laidOut.append(
                        Rect(frame: nodeFrame[child], depth: nodeDepth[child] - 1, x: left, width: width, samples: nodeSamples[child]))
                    next.append((child, left))
                }
            }
            level = next
        }
        rects = laidOut
        omitted = skipped
        depth = (laidOut.map(\.depth).max() ?? -1) + 1
    }

    /// The flame graph of a stored profile's JSON: the samples of its transaction's active
    /// thread (`active_thread_id`), or of every thread when it names none or none of its samples
    /// are on it. Nil when the JSON is not a v1 sample profile.
    package static func from(profileJSON bytes: [UInt8]) -> FlameGraph? {
        bytes.withUnsafeBytes { raw -> FlameGraph? in
            guard let tape = try? JSONTape.parse(raw) else { return nil }
            let json = JSONView(tape: tape, bytes: raw)
            guard let profile = json.member(tape.root, "profile"), json.kind(profile) == .object,
                let samplesIndex = json.member(profile, "samples"), json.kind(samplesIndex) == .array,
                let stacksIndex = json.member(profile, "stacks"), json.kind(stacksIndex) == .array,
                let framesIndex = json.member(profile, "frames"), json.kind(framesIndex) == .array
            else { return nil }
            var frames: [Frame] = []
            frames.reserveCapacity(json.count(framesIndex))
            json.forEachElement(framesIndex) { frames.append(frame(json, $0)) }
            var stacks: [[Int]] = []
            stacks.reserveCapacity(json.count(stacksIndex))
            json.forEachElement(stacksIndex) { stack in
                var indices: [Int] = []
                if json.kind(stack) == .array { json.forEachElement(stack) { indices.append(json.int($0) ?? -1) } }
                stacks.append(indices)
            }
            let transaction = ProfileParser.transactionMetadata(json, tape.root)
            let active = threadID(json, json.member(transaction, "active_thread_id"))
            var all: [Int] = []
            var onActive: [Int] = []
            all.reserveCapacity(json.count(samplesIndex))
            json.forEachElement(samplesIndex) { sample in
                let stack = json.int(json.member(sample, "stack_id")) ?? -1
                all.append(stack)
                if let active, threadID(json, json.member(sample, "thread_id")) == active { onActive.append(stack) }
            }
            return FlameGraph(frames: frames, stacks: stacks, samples: onActive.isEmpty ? all : onActive)
        }
    }

    private static func frame(_ json: JSONView, _ index: Int) -> Frame {
        func text(_ key: StaticString) -> String? {
            guard let value = json.string(json.member(index, key)), !value.isEmpty else { return nil }
            return value
        }
        let module = text("module")
        let file = text("filename") ?? text("abs_path") ?? module
        // A native frame names its image (a path); a Python or Java frame its module or class.
        let package =
            text("package").map { path in path.split(separator: "/").last.map(String.init) ?? path }
            ?? module.map { String($0.split(separator: ".").first ?? Substring($0)) }
            ?? file
        return Frame(
            function: text("function") ?? text("sym") ?? text("instruction_addr") ?? "<unknown>", file: file, package: package,
            inApp: json.bool(json.member(index, "in_app")))
    }

    /// A thread id as the SDKs send it: a number, or a string of digits.
    private static func threadID(_ json: JSONView, _ index: Int?) -> String? {
        guard let index else { return nil }
        switch json.kind(index) {
        case .number, .string: return json.scalarText(index)
        default: return nil
        }
    }
}
