import Foundation
import PitQuery
import Testing

@Suite struct FlameGraphTests {
    typealias Frame = FlameGraph.Frame

    static let main = Frame(function: "main", file: "app.py", package: "app", inApp: true)
    static let handle = Frame(function: "handle", file: "app.py", package: "app", inApp: true)
    static let query = Frame(function: "query", file: "db.py", package: "shop", inApp: true)
    static let sleep = Frame(function: "sleep", file: "time", package: "time", inApp: false)

    /// The rectangle of `function` at `depth`.
    private func rect(_ graph: FlameGraph, _ function: String, depth: Int) -> FlameGraph.Rect? {
        graph.rects.first { $0.depth == depth && graph.frames[$0.frame].function == function }
    }

    @Test func identicalStacksAndFramesMergeAndWidthsFollowSamples() throws {
        // Frame 4 is `handle` on another line: the same call on the graph.
        let frames = [Self.main, Self.handle, Self.query, Self.sleep, Self.handle]
        let stacks = [[3, 2, 1, 0], [1, 0], [2, 4, 0]]
        let graph = FlameGraph(frames: frames, stacks: stacks, samples: [0, 0, 1, 2, 0, 7])
        #expect(graph.totalSamples == 5, "a sample naming no stack is skipped")
        #expect(graph.frames.count == 4)
        #expect(graph.depth == 4)
        let main = try #require(rect(graph, "main", depth: 0))
        #expect(main.x == 0 && main.width == 1 && main.samples == 5)
        let handle = try #require(rect(graph, "handle", depth: 1))
        #expect(handle.samples == 5 && graph.rects.filter { $0.depth == 1 }.count == 1)
        let query = try #require(rect(graph, "query", depth: 2))
        #expect(query.samples == 4 && query.x == 0 && abs(query.width - 0.8) < 1e-9)
        let sleep = try #require(rect(graph, "sleep", depth: 3))
        #expect(sleep.samples == 3 && abs(sleep.width - 0.6) < 1e-9)
        #expect(graph.rects.count == 4 && graph.omitted == 0)
    }

    @Test func heavierCallsComeFirstThenByName() throws {
        let frames = [Self.main, Frame(function: "b"), Frame(function: "a"), Frame(function: "c")]
        let stacks = [[1, 0], [2, 0], [3, 0]]
        let graph = FlameGraph(frames: frames, stacks: stacks, samples: [2, 0, 1, 0, 1, 1, 2, 2, 2])
        let level = graph.rects.filter { $0.depth == 1 }.sorted { $0.x < $1.x }
        #expect(level.map { graph.frames[$0.frame].function } == ["c", "a", "b"])
        #expect(level.map(\.samples) == [4, 3, 2])
        #expect(abs(level[1].x - 4.0 / 9) < 1e-9 && abs(level[2].x - 7.0 / 9) < 1e-9)
    }

    @Test func narrowCallsAndRectanglesPastTheCapAreCountedNotDrawn() {
        // 1,000 distinct leaf calls of one sample each under main, and one heavy call.
        var frames = [Self.main, Self.handle]
        var stacks = [[1, 0]]
        for n in 0..<1000 {
            frames.append(Frame(function: "f\(n)"))
            stacks.append([frames.count - 1, 0])
        }
        let samples = Array(repeating: 0, count: 9000) + Array(1...1000)
        let narrow = FlameGraph(frames: frames, stacks: stacks, samples: samples, minWidth: 0.001)
        #expect(narrow.totalSamples == 10_000)
        #expect(narrow.rects.count == 2 && narrow.omitted == 1000, "each 0.01 % call is under the 0.1 % floor")
        let capped = FlameGraph(frames: frames, stacks: stacks, samples: samples, maxRects: 50, minWidth: 0)
        #expect(capped.rects.count == 50 && capped.omitted == 1001 - 49)
        #expect(capped.rects[0].depth == 0, "levels are laid out from the root down")
    }

    @Test func nodesAndDepthAreBounded() {
        let frames = (0..<300).map { Frame(function: "f\($0)") }
        let deep = Array((0..<300).reversed())
        let graph = FlameGraph(frames: frames, stacks: [deep], samples: [0, 0], maxNodes: 1000, maxDepth: 100)
        #expect(graph.depth == 100 && graph.rects.count == 100)
        let few = FlameGraph(frames: frames, stacks: [deep], samples: [0], maxNodes: 11)
        #expect(few.depth == 10)
    }

    @Test func aStoredProfileDrawsItsActiveThread() throws {
        let json = ProfileFixtures.profile()
        let graph = try #require(FlameGraph.from(profileJSON: Array(json.utf8)))
        #expect(graph.totalSamples == 4, "thread 2's sample is not the transaction's thread")
        #expect(rect(graph, "main", depth: 0)?.samples == 4)
        #expect(rect(graph, "query", depth: 2)?.samples == 3)
        let frame = graph.frames[try #require(rect(graph, "query", depth: 2)).frame]
        #expect(frame.file == "db.py" && frame.package == "shop" && frame.inApp == true)
        let sleep = graph.frames[try #require(rect(graph, "sleep", depth: 3)).frame]
        #expect(sleep.file == "time" && sleep.package == "time" && sleep.inApp == false)

        let noActive = ProfileFixtures.profile().replacingOccurrences(of: #","active_thread_id":"1""#, with: "")
        #expect(FlameGraph.from(profileJSON: Array(noActive.utf8))?.totalSamples == 5)
        #expect(FlameGraph.from(profileJSON: Array("{}".utf8)) == nil)
        #expect(FlameGraph.from(profileJSON: Array("not json".utf8)) == nil)
    }
}
