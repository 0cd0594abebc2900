import Foundation
import NIOCore
import PitBenchCore
import PitModel
import PitPayloads
import Testing

struct TrafficMixTests {
    @Test("weights parse in any order and print in a fixed one")
    func parsing() throws {
        let mix = try TrafficMix(parsing: "log=15, error=60,session=25")
        #expect(mix == TrafficMix.app)
        #expect(mix.description == "error=60,session=25,log=15")
        #expect(try TrafficMix(parsing: "traced") == TrafficMix.traced)
        #expect(try TrafficMix(parsing: "error=1,log=0").description == "error=1")
    }

    @Test(
        "bad weights are refused with what was wrong",
        arguments: ["", "errors=5", "error", "error=-1", "error=x", "log=0", "error=1,error=2"])
    func refusals(text: String) {
        #expect(throws: TrafficMix.ParseError.self) { try TrafficMix(parsing: text) }
    }

    @Test("a cycle holds each kind in its share, interleaved rather than in runs")
    func cycle() throws {
        let cycle = try TrafficMix(parsing: "error=60,session=25,log=15").cycle()
        #expect(cycle.count == 20)
        #expect(cycle.filter { $0 == .error }.count == 12)
        #expect(cycle.filter { $0 == .session }.count == 5)
        #expect(cycle.filter { $0 == .log }.count == 3)
        // Smooth round-robin: no kind is sent more than twice its even spacing apart.
        for kind in [SyntheticEvents.Kind.session, .log] {
            let positions = cycle.indices.filter { cycle[$0] == kind }
            let gaps = zip(positions, positions.dropFirst() + [positions[0] + cycle.count]).map { $1 - $0 }
            #expect(gaps.max()! <= 2 * cycle.count / positions.count, "\(kind): \(gaps)")
        }
    }

    @Test("the request source sends the mix's shares, and only error envelopes count as events to verify")
    func requestSourceShares() throws {
        let source = RequestSource(mode: .mix(.app), generator: SyntheticEvents(), templateCount: 512, gzip: false)
        var random = SystemRandomNumberGenerator()
        let allocator = ByteBufferAllocator()
        var errors = 0
        var sessions = 0
        var logs = 0
        for index in 0..<1000 {
            let request = source.next(index: index, allocator: allocator, random: &random)
            let body = String(buffer: request.body)
            if request.isError { errors += 1 }
            if body.contains(#""type":"session""#) { sessions += 1 }
            if body.contains(#""type":"log""#) { logs += 1 }
        }
        #expect(errors == 600)
        #expect(sessions == 250)
        #expect(logs == 150)
    }

    @Test("the performance mix sends half transactions, of 10 to 50 spans, some as span v2 containers")
    func performanceMix() throws {
        #expect(try TrafficMix(parsing: "performance") == TrafficMix.performance)
        #expect(abs(TrafficMix.performance.share(of: .transaction) + TrafficMix.performance.share(of: .span) - 0.5) < 1e-9)
        let source = RequestSource(mode: .mix(.performance), generator: SyntheticEvents(), templateCount: 200, gzip: false)
        var random = SystemRandomNumberGenerator()
        let allocator = ByteBufferAllocator()
        var transactions = 0
        var containers = 0
        for index in 0..<200 {
            let body = String(buffer: source.next(index: index, allocator: allocator, random: &random).body)
            // Every child span names its parent; the transaction or segment itself does not.
            let children = body.components(separatedBy: #""parent_span_id""#).count - 1
            if body.contains(#""type":"transaction""#) {
                transactions += 1
                #expect((10...50).contains(children))
            }
            if body.contains(#""type":"span""#) {
                containers += 1
                #expect((9...49).contains(children))
            }
        }
        #expect(transactions == 80 && containers == 20)
    }
}
