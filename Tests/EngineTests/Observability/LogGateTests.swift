import PitObservability
import Testing

@Suite struct LogGateTests {
    @Test func onePerIntervalWithTheCountHeldBack() {
        let gate = LogGate(intervalSeconds: 1)
        #expect(gate.pass(now: 10_000_000_000) == 0)
        for offset in 1...5 { #expect(gate.pass(now: 10_000_000_000 + UInt64(offset) * 100_000_000) == nil) }
        #expect(gate.pass(now: 11_000_000_000) == 5)
        #expect(gate.pass(now: 11_500_000_000) == nil)
    }
}
