import PitModel
import PitQuery
import PitStorage
import Testing

/// The shaping behind the performance pages: the transaction list's sparklines and sorting, the
/// span summary's groups (N+1 per transaction, p95, op shares) and Web Vitals' p75 and ratings.
@Suite struct PerformancePagesTests {
    static func summary(_ name: String, count: Int64, failures: Int64 = 0, milliseconds: Int64) -> TransactionSummaryRow {
        var histogram = DurationHistogram()
        histogram.add(microseconds: milliseconds * 1000, count: count)
        return TransactionSummaryRow(
            projectID: 1, name: name, count: count, failures: failures, extrapolated: Double(count), satisfied: count, tolerated: 0,
            durationSum: milliseconds * 1000 * count, histogram: histogram)
    }

    @Test func sparklinesFoldTheWindowIntoEqualBars() {
        // 24 hours from hour 100: hours 100 and 101 in the first of 12 bars, 123 in the last,
        // hours outside the window dropped.
        let counts: [Int64: Int64] = [100: 1, 101: 2, 123: 5, 99: 7, 124: 9]
        let bars = TransactionListing.fold(counts, firstUnit: 100, units: 24, bars: 12)
        #expect(bars.count == 12 && bars[0] == 3 && bars[11] == 5 && bars.reduce(0, +) == 8)
    }

    @Test func theListReadsItsFiguresAndSortsByAnyColumn() {
        let hour: Int64 = 3_600_000
        let from = 1_000 * hour
        let query = TransactionSummaryQuery(projectIDs: [1], from: from, to: from + 24 * hour)
        #expect(query.readsHours)
        let rows = [
            Self.summary("GET /a", count: 1440, milliseconds: 20), Self.summary("GET /b", count: 60, failures: 30, milliseconds: 900),
            Self.summary("POST /c", count: 600, failures: 6, milliseconds: 150),
        ]
        let series = [
            TransactionSeriesRow(projectID: 1, name: "GET /a", unit: 1_000, count: 1000),
            TransactionSeriesRow(projectID: 1, name: "GET /a", unit: 1_023, count: 440),
        ]
        var listing = TransactionListing(summaries: rows, series: series, query: query, bars: 24)
        #expect(listing.rows.map(\.name) == ["GET /a", "POST /c", "GET /b"], "throughput first by default")
        let a = listing.rows[0]
        #expect(a.perMinute == 1 && a.sparkline.first == 1000 && a.sparkline.last == 440 && a.sparkline.count == 24)
        #expect(a.p50 != nil && abs(a.p50! - 20) / 20 < 0.14, "the percentile is within its bucket's width")
        listing.sort(by: .p95, descending: true)
        #expect(listing.rows.map(\.name) == ["GET /b", "POST /c", "GET /a"])
        listing.sort(by: .failureRate, descending: true)
        #expect(listing.rows.map(\.name) == ["GET /b", "POST /c", "GET /a"])
        listing.sort(by: .name, descending: true)
        #expect(listing.rows.map(\.name) == ["POST /c", "GET /b", "GET /a"])
        listing.sort(by: .count, descending: false)
        #expect(listing.rows.map(\.name) == ["GET /b", "POST /c", "GET /a"])
    }

    static func span(_ op: String, _ description: String, segment: UInt64, _ milliseconds: Int64) -> SpanSampleRow {
        SpanSampleRow(
            op: op, description: description, traceID: TraceID(high: 1, low: segment), segmentID: SpanID(storage: Int64(segment)),
            duration: milliseconds * 1000)
    }

    @Test func anNPlusOneQueryStandsOutPerTransaction() {
        // Two transactions: each runs the same normalised query 10 and 20 times, and one HTTP call.
        var spans: [SpanSampleRow] = []
        for segment: UInt64 in [1, 2] {
            for n in 0..<(segment == 1 ? 10 : 20) {
                spans.append(Self.span("db", "SELECT * FROM items WHERE id = %s", segment: segment, 2 + Int64(n % 3)))
            }
            spans.append(Self.span("http.client", "GET https://api.example.com/users/*", segment: segment, 300))
        }
        var summary = SpanSummary(SpanSample(transactions: 2, transactionTime: 800_000, spans: spans, truncated: false))
        #expect(summary.groups.first?.op == "http.client", "most total time first")
        let db = summary.groups.first { $0.op == "db" }!
        #expect(db.count == 30 && db.transactions == 2 && db.perTransaction == 15 && db.maxPerTransaction == 20)
        #expect(db.p95 == 4_000 && db.total == 88_000, "2, 3, 4 ms in turn: 29 ms in the first, 59 in the second")
        summary.sort(by: .perTransaction)
        #expect(summary.groups.map(\.op) == ["db", "http.client"])
        summary.sort(by: .count)
        #expect(summary.groups.first?.count == 30)
        #expect(summary.ops.map(\.op) == ["http.client", "db"])
        #expect(abs(summary.ops.map(\.share).reduce(0, +) - 1) < 1e-9)
        #expect(summary.spanCount == 32 && summary.transactions == 2 && !summary.truncated)
        #expect(SpanSummary.nearestRank([], 0.95) == 0 && SpanSummary.nearestRank([5], 0.95) == 5)
    }

    @Test func webVitalsRateByGooglesThresholdsAndTakeP75() {
        func load(_ page: String, lcp: Double, cls: Double, unit: String = "millisecond") -> MeasurementsRow {
            MeasurementsRow(
                name: page,
                measurements: #"{"lcp":{"value":\#(lcp),"unit":"\#(unit)"},"cls":{"value":\#(cls),"unit":"none"},"fid":{"value":3}}"#)
        }
        let rows = [
            load("/", lcp: 1200, cls: 0.01), load("/", lcp: 2500, cls: 0.1), load("/", lcp: 3000, cls: 0.2),
            load("/", lcp: 4.5, cls: 0.3, unit: "second"), load("/checkout", lcp: 900, cls: 0),
            MeasurementsRow(name: "/broken", measurements: "not json"),
        ]
        let vitals = WebVitals(rows)
        #expect(vitals.pages.map(\.name) == ["/", "/checkout"] && vitals.sampled == 6)
        let home = vitals.pages[0].scores
        let lcp = home[.lcp]!
        #expect(lcp.good == 2 && lcp.needsImprovement == 1 && lcp.poor == 1, "2.5 s is still good, 4.5 s (sent in seconds) poor")
        #expect(lcp.p75 == 3000)
        #expect(home[.cls]!.good == 2 && home[.cls]!.needsImprovement == 1 && home[.cls]!.poor == 1)
        #expect(home[.inp] == nil && home[.fcp] == nil, "unmeasured vitals are absent, fid is not one")
        #expect(vitals.overall.transactions == 5 && vitals.overall.scores[.lcp]!.count == 5)
        #expect(WebVitals.Vital.inp.rating(200) == .good && WebVitals.Vital.inp.rating(500) == .needsImprovement)
        #expect(WebVitals.Vital.ttfb.rating(1801) == .poor && WebVitals.Vital.fcp.rating(1800) == .good)
        #expect(WebVitals.parse(#"{"lcp":{"value":-1},"ttfb":{"value":"x"},"fcp":{"value":100}}"#).map(\.0) == [.fcp])
    }
}
