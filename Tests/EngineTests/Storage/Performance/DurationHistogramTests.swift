import PitStorage
import Testing

@Suite struct DurationHistogramTests {
    @Test func bucketsAreLogarithmicAndBounded() {
        #expect(DurationHistogram.bucket(microseconds: 0) == 0)
        #expect(DurationHistogram.bucket(microseconds: 999) == 0)
        #expect(DurationHistogram.bucket(microseconds: 1000) == 1)
        #expect(DurationHistogram.bucket(microseconds: 2000) == 4)
        #expect(DurationHistogram.bucket(microseconds: 3_600_000_000) == DurationHistogram.bucketCount - 1)
        for index in 1..<DurationHistogram.bucketCount - 1 {
            let lower = DurationHistogram.lowerBound(index)
            #expect(DurationHistogram.bucket(microseconds: Int64((lower * 1000).rounded(.up)) + 1) == index)
        }
        #expect(DurationHistogram.columns.first == "h00" && DurationHistogram.columns.last == "h47")
    }

    @Test func percentilesOfAUniformSpreadAreWithinABucket() {
        var histogram = DurationHistogram()
        for milliseconds in 1...1000 { histogram.add(microseconds: Int64(milliseconds) * 1000) }
        #expect(histogram.total == 1000)
        for (quantile, exact) in [(0.5, 500.0), (0.75, 750.0), (0.95, 950.0), (0.99, 990.0)] {
            let estimate = histogram.percentile(quantile)!
            #expect(abs(estimate - exact) / exact < 0.13, "p\(quantile * 100): \(estimate) vs \(exact)")
        }
        #expect(DurationHistogram().percentile(0.5) == nil)
    }

    @Test func histogramsAddUp() {
        var a = DurationHistogram()
        var b = DurationHistogram()
        for _ in 0..<90 { a.add(microseconds: 10_000) }
        for _ in 0..<10 { b.add(microseconds: 2_000_000) }
        a.add(b)
        #expect(a.total == 100)
        #expect(a.percentile(0.5)! < 13 && a.percentile(0.5)! > 7)
        #expect(a.percentile(0.95)! > 1500)
        #expect(DurationHistogram(counts: a.counts) == a)
    }

    @Test func apdexAndFailures() {
        #expect(Apdex.verdict(durationMicroseconds: 300_000, thresholdMilliseconds: 300) == .satisfied)
        #expect(Apdex.verdict(durationMicroseconds: 1_200_000, thresholdMilliseconds: 300) == .tolerated)
        #expect(Apdex.verdict(durationMicroseconds: 1_200_001, thresholdMilliseconds: 300) == .frustrated)
        #expect(Apdex.score(satisfied: 6, tolerated: 2, count: 10) == 0.7)
        #expect(!TransactionStatus.isFailure("ok") && !TransactionStatus.isFailure("cancelled") && !TransactionStatus.isFailure("unknown"))
        #expect(TransactionStatus.isFailure("internal_error") && TransactionStatus.isFailure("error"))
    }
}
