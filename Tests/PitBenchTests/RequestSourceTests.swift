import Foundation
import NIOCore
import PitBenchCore
import PitModel
import PitPayloads
import Testing

struct RequestSourceTests {
    /// The item payloads of an envelope body, parsed.
    func items(_ body: ByteBuffer) throws -> [[String: Any]] {
        let lines = String(buffer: body).split(separator: "\n", omittingEmptySubsequences: true)
        return try stride(from: 2, to: lines.count, by: 2).map {
            try #require(JSONSerialization.jsonObject(with: Data(lines[$0].utf8)) as? [String: Any])
        }
    }

    func times(_ object: Any) -> [Double] {
        switch object {
        case let dictionary as [String: Any]:
            dictionary.flatMap { key, value -> [Double] in
                if ["timestamp", "start_timestamp", "end_timestamp"].contains(key), let number = value as? Double { return [number] }
                return times(value)
            }
        case let array as [Any]: array.flatMap(times)
        default: []
        }
    }

    @Test("a transaction's, a span container's and a log's times move with the send time, to the microsecond")
    func timesFollowTheSendTime() throws {
        let mix = try TrafficMix(parsing: "transaction=1,span=1,log=1")
        let source = RequestSource(mode: .mix(mix), generator: SyntheticEvents(), templateCount: 3, gzip: false)
        var random = SystemRandomNumberGenerator()
        let now = Date().timeIntervalSince1970
        for index in 0..<3 {
            let early = source.next(index: index, allocator: ByteBufferAllocator(), random: &random, now: now)
            let late = source.next(index: index, allocator: ByteBufferAllocator(), random: &random, now: now + 3_600.25)
            let before = try times(items(early.body)).sorted()
            let after = try times(items(late.body)).sorted()
            #expect(before.count >= 2, "the template has times")
            #expect(before.count == after.count)
            for (a, b) in zip(before, after) {
                #expect(abs(b - a - 3_600.25) < 0.000_01, "\(a) → \(b)")
            }
            #expect(before.allSatisfy { abs($0 - now) < 5 }, "sent now, the times are now")
        }
    }

    @Test func fixedWidthSeconds() {
        #expect(SyntheticEvents.seconds(1_796_271_067.892005) == "1796271067.892005")
        #expect(SyntheticEvents.seconds(1_796_271_067.000_001) == "1796271067.000001")
        #expect(SyntheticEvents.seconds(1_796_271_067) == "1796271067.000000")
    }

    @Test("an error event's template keeps its id patching; numbers that are not times are left alone")
    func onlyTimesMove() throws {
        let source = RequestSource(mode: .errors, generator: SyntheticEvents(), templateCount: 1, gzip: false)
        var random = SystemRandomNumberGenerator()
        let now = Date().timeIntervalSince1970
        let first = source.next(index: 0, allocator: ByteBufferAllocator(), random: &random, now: now + 60)
        let second = source.next(index: 0, allocator: ByteBufferAllocator(), random: &random, now: now + 60)
        #expect(first.eventID != second.eventID)
        let event = try #require(try items(first.body).first)
        #expect(event["event_id"] as? String == first.eventID.hex)
        // The same body but for the id: nothing else is touched between two sends at one time.
        let firstBody = String(buffer: first.body).replacingOccurrences(of: first.eventID.hex, with: "")
        let secondBody = String(buffer: second.body).replacingOccurrences(of: second.eventID.hex, with: "")
        #expect(firstBody == secondBody)
    }
}
