import PitIngest
package import PitStorage

/// Web Vitals from browser transactions' `measurements` (Relay's schema: `{"lcp": {"value":
/// 2100.5, "unit": "millisecond"}, …}`): per page (transaction name) the p75 of each vital and
/// how many page loads were good, needed improvement or were poor, by Google's thresholds.
package struct WebVitals: Sendable {
    package enum Vital: String, Sendable, CaseIterable {
        case lcp, fcp, cls, inp, ttfb

        package var label: String {
            switch self {
            case .lcp: "LCP"
            case .fcp: "FCP"
            case .cls: "CLS"
            case .inp: "INP"
            case .ttfb: "TTFB"
            }
        }

        package var title: String {
            switch self {
            case .lcp: "Largest Contentful Paint"
            case .fcp: "First Contentful Paint"
            case .cls: "Cumulative Layout Shift"
            case .inp: "Interaction to Next Paint"
            case .ttfb: "Time to First Byte"
            }
        }

        /// Good up to the first, poor above the second (web.dev's thresholds), in milliseconds
        /// for the timings; CLS has no unit.
        package var thresholds: (good: Double, poor: Double) {
            switch self {
            case .lcp: (2500, 4000)
            case .fcp: (1800, 3000)
            case .cls: (0.1, 0.25)
            case .inp: (200, 500)
            case .ttfb: (800, 1800)
            }
        }

        package var isTiming: Bool { self != .cls }

        /// Its name in `measurements`.
        var key: StaticString {
            switch self {
            case .lcp: "lcp"
            case .fcp: "fcp"
            case .cls: "cls"
            case .inp: "inp"
            case .ttfb: "ttfb"
            }
        }

        package func rating(_ value: Double) -> Rating {
            let (good, poor) = thresholds
            if value <= good { return .good }
            return value <= poor ? .needsImprovement : .poor
        }
    }

    package enum Rating: String, Sendable {
        case good
        case needsImprovement = "meh"
        case poor
    }

    package struct Score: Sendable, Equatable {
        package var good = 0
        package var needsImprovement = 0
        package var poor = 0
        /// Milliseconds for timings; nil when no page load measured it.
        package var p75: Double?

        package var count: Int { good + needsImprovement + poor }

        package init() {}
    }

    package struct Page: Sendable {
        package var name: String
        /// Page loads sampled that carried at least one of the vitals.
        package var transactions: Int
        package var scores: [Vital: Score]
    }

    /// Most page loads first.
    package private(set) var pages: [Page]
    /// Every page together.
    package private(set) var overall: Page
    /// Rows read; equal to the cap when the window held more.
    package var sampled: Int

    package init(_ rows: [MeasurementsRow]) {
        var values: [String: [Vital: [Double]]] = [:]
        var loads: [String: Int] = [:]
        var all: [Vital: [Double]] = [:]
        var allLoads = 0
        for row in rows {
            let measured = Self.parse(row.measurements)
            guard !measured.isEmpty else { continue }
            loads[row.name, default: 0] += 1
            allLoads += 1
            for (vital, value) in measured {
                values[row.name, default: [:]][vital, default: []].append(value)
                all[vital, default: []].append(value)
            }
        }
        pages = values.map { name, vitals in
            Page(name: name, transactions: loads[name] ?? 0, scores: Self.scores(vitals))
        }.sorted { ($0.transactions, $1.name) > ($1.transactions, $0.name) }
        overall = Page(name: "All pages", transactions: allLoads, scores: Self.scores(all))
        sampled = rows.count
    }

    /// The vitals a `measurements` object holds, timings in milliseconds (a value sent in
    /// seconds or microseconds converted); unknown names, non-numbers and negatives ignored. Read
    /// with ingest's JSON tape, which allocates nothing per member (Foundation's parser builds a
    /// dictionary per object), since a page parses up to `WebVitalsModel.sampleCap` of them.
    package static func parse(_ json: String) -> [(Vital, Double)] {
        var text = json
        return text.withUTF8 { utf8 in
            let bytes = UnsafeRawBufferPointer(utf8)
            guard let tape = try? JSONTape.parse(bytes), tape[0].kind == .object else { return [] }
            let view = JSONView(tape: tape, bytes: bytes)
            var out: [(Vital, Double)] = []
            for vital in Vital.allCases {
                guard let entry = view.member(0, vital.key), view.kind(entry) == .object,
                    var value = view.double(view.member(entry, "value")), value.isFinite, value >= 0
                else { continue }
                if vital.isTiming {
                    switch view.string(view.member(entry, "unit")) {
                    case "second": value *= 1000
                    case "microsecond": value /= 1000
                    case "nanosecond": value /= 1_000_000
                    default: break
                    }
                }
                out.append((vital, value))
            }
            return out
        }
    }

    private static func scores(_ values: [Vital: [Double]]) -> [Vital: Score] {
        Dictionary(uniqueKeysWithValues: values.map { ($0.key, score($0.key, $0.value)) })
    }

    private static func score(_ vital: Vital, _ values: [Double]) -> Score {
        var score = Score()
        for value in values {
            switch vital.rating(value) {
            case .good: score.good += 1
            case .needsImprovement: score.needsImprovement += 1
            case .poor: score.poor += 1
            }
        }
        let sorted = values.sorted()
        if !sorted.isEmpty {
            let rank = Int((0.75 * Double(sorted.count)).rounded(.up))
            score.p75 = sorted[min(max(rank, 1), sorted.count) - 1]
        }
        return score
    }
}
