import Foundation

/// Picks the settings to deploy from recorded runs: the sweep point that sustains the target rate
/// under the p99 bound with the widest margin, preferring the most durable settings, then the
/// highest knee, then the lowest p99 at that knee (a sweep at a fixed step often ties on knee).
package enum Tuning {
    package struct Recommendation: Sendable, Equatable {
        package var settings: [String: String]
        package var knee: Double
        package var p99: Double
        package var source: String
    }

    /// Only the newest code's runs count: a knee measured before a change to the write path says
    /// nothing about the binary being deployed. Runs recorded on a machine like this one (same
    /// core count and memory within 10 %) are preferred over runs from elsewhere.
    ///
    /// A setting ramped more than once is judged by its median knee, a ramp that found none
    /// counting as zero: on a shared machine the same binary's knee swung from 4,000 to
    /// 12,000 events/s between three sweeps in one hour (results/2026-12-02T0016*-sweep-*), and
    /// the single best ramp picked whichever setting was luckiest.
    package static func recommend(
        _ records: [(name: String, record: RunRecord)], targetRate: Double, maximumP99: Double,
        machine: MachineInfo = .current()
    ) -> Recommendation? {
        var candidates = records.filter { $0.record.mode == "ramp" && !$0.record.settings.isEmpty }
        let thisMachine = candidates.filter { isLike($0.record.machine, machine) }
        if !thisMachine.isEmpty { candidates = thisMachine }
        // ISO 8601 times in UTC sort as strings.
        guard let newest = candidates.filter({ $0.record.knee != nil }).max(by: { $0.record.startedAt < $1.record.startedAt })
        else { return nil }
        candidates = candidates.filter { $0.record.commit == newest.record.commit }
        var best: Recommendation?
        for runs in Dictionary(grouping: candidates, by: { $0.record.settings }).values {
            let ranked = runs.sorted { ($0.record.knee?.rate ?? 0) < ($1.record.knee?.rate ?? 0) }
            // The lower median: with two runs, the worse one.
            let median = ranked[(ranked.count - 1) / 2]
            guard let knee = median.record.knee else { continue }
            guard knee.rate >= targetRate, knee.p99Milliseconds <= maximumP99 else { continue }
            let source = runs.count > 1 ? "\(median.name) (median of \(runs.count) ramps)" : median.name
            let candidate = Recommendation(settings: median.record.settings, knee: knee.rate, p99: knee.p99Milliseconds, source: source)
            if best.map({ rank(candidate) > rank($0) }) ?? true { best = candidate }
        }
        return best
    }

    /// The order of preference: durability, then knee, then the lower p99.
    static func rank(_ recommendation: Recommendation) -> (durability: Int, knee: Double, negatedP99: Double) {
        (durability(recommendation.settings), recommendation.knee, -recommendation.p99)
    }

    static func isLike(_ a: MachineInfo, _ b: MachineInfo) -> Bool {
        a.nproc == b.nproc && abs(Double(a.memoryBytes - b.memoryBytes)) <= 0.1 * Double(max(b.memoryBytes, 1))
    }

    /// ack=committed beats queued; FULL beats NORMAL. Durability is never traded for speed here
    /// unless the durable settings cannot reach the target.
    static func durability(_ settings: [String: String]) -> Int {
        (settings["ack"] == "queued" ? 0 : 2) + (settings["synchronous"]?.uppercased() == "FULL" ? 1 : 0)
    }

    package static func snippet(_ recommendation: Recommendation) -> String {
        let settings = Redaction.settings(recommendation.settings)
        let keys = settings.keys.sorted()
        let json = keys.map { key -> String in
            let value = settings[key]!
            return Int(value) != nil ? "  \"\(key)\": \(value)" : "  \"\(key)\": \"\(value)\""
        }.joined(separator: ",\n")
        let env = keys.map { "PIT_\($0.uppercased())=\(settings[$0]!)" }.joined(separator: " ")
        return """
            # from \(recommendation.source): knee \(Int(recommendation.knee)) events/s at p99 \(String(format: "%.2f", recommendation.p99)) ms
            # <data-dir>/pit.json
            {
            \(json)
            }
            # or as environment variables
            \(env) pitd serve
            """
    }
}
