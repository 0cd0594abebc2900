import PitIngest
import Testing

struct ArrivalRateTests {
    /// One entry per take, `interval` apart, for `seconds`; returns the estimate's delay choice.
    func steady(_ rate: inout ArrivalRate, every interval: Double, for seconds: Double, from start: Double = 0) -> Double {
        var now = start
        while now < start + seconds {
            now += interval
            rate.record(entries: 1, at: now)
        }
        return now
    }

    @Test func aBusyWriterWaitsForCompany() {
        var rate = ArrivalRate()
        _ = steady(&rate, every: 0.001, for: 1)
        #expect(abs(rate.perSecond - 1000) < 50)
        #expect(rate.commitDelay(upTo: 0.002) == 0.002)
    }

    @Test func aQuietWriterCommitsAtOnce() {
        var rate = ArrivalRate()
        _ = steady(&rate, every: 0.1, for: 5)
        #expect(rate.commitDelay(upTo: 0.002) == 0)
        // Batches of several entries count as such: 20 every 10 ms is 2,000/s.
        var batched = ArrivalRate()
        for step in 1...100 { batched.record(entries: 20, at: Double(step) * 0.01) }
        #expect(batched.commitDelay(upTo: 0.002) == 0.002)
    }

    @Test func aQuietGapForgetsTheBurstBeforeIt() {
        var rate = ArrivalRate()
        let end = steady(&rate, every: 0.0002, for: 1)
        #expect(rate.commitDelay(upTo: 0.002) == 0.002)
        rate.record(entries: 1, at: end + 1)
        #expect(rate.commitDelay(upTo: 0.002) == 0)
    }

    @Test func noConfiguredDelayNeverWaits() {
        var rate = ArrivalRate()
        _ = steady(&rate, every: 0.0001, for: 1)
        #expect(rate.commitDelay(upTo: 0) == 0)
    }
}
