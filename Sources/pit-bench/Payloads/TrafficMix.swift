/// What `--mix` sends: a weight per kind of request, e.g. `error=60,session=25,log=15` (60 % of
/// requests carry an error event, 25 % a session update, 15 % a log batch), or a preset by name.
package struct TrafficMix: Sendable, Equatable, CustomStringConvertible {
    package struct ParseError: Error, CustomStringConvertible {
        package let description: String
    }

    /// Weights by kind; kinds left out are not sent.
    package let weights: [SyntheticEvents.Kind: Int]

    /// A traced backend: errors and transactions, with sessions, a few check-ins and log batches.
    package static let traced = TrafficMix(weights: [.error: 40, .transaction: 30, .session: 15, .checkIn: 5, .log: 10])
    /// An application without tracing, as issue 12 sizes it: errors, release health and logs.
    package static let app = TrafficMix(weights: [.error: 60, .session: 25, .log: 15])
    /// Performance monitoring's sizing (issue 13): half the requests carry transactions of 10-50
    /// spans (a fifth of those as span v2 containers), half errors.
    package static let performance = TrafficMix(weights: [.error: 50, .transaction: 40, .span: 10])

    package static let presets: [(name: String, mix: TrafficMix)] = [("traced", .traced), ("app", .app), ("performance", .performance)]

    package init(weights: [SyntheticEvents.Kind: Int]) {
        self.weights = weights.filter { $0.value > 0 }
    }

    /// A preset name, or `kind=weight` pairs separated by commas.
    package init(parsing text: String) throws(ParseError) {
        if let preset = Self.presets.first(where: { $0.name == text }) {
            self = preset.mix
            return
        }
        let kinds = SyntheticEvents.Kind.allCases.map(\.rawValue).joined(separator: ", ")
        let presets = Self.presets.map(\.name).joined(separator: ", ")
        var weights: [SyntheticEvents.Kind: Int] = [:]
        for pair in text.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).trimmingSpaces }
            guard parts.count == 2, let kind = SyntheticEvents.Kind(rawValue: parts[0]) else {
                throw ParseError(description: "--mix: \"\(pair)\" is not kind=weight (kinds: \(kinds); presets: \(presets))")
            }
            guard let weight = Int(parts[1]), weight >= 0 else {
                throw ParseError(description: "--mix: the weight of \(kind.rawValue) must be a whole number ≥ 0")
            }
            guard weights[kind] == nil else { throw ParseError(description: "--mix: \(kind.rawValue) is given twice") }
            weights[kind] = weight
        }
        guard weights.values.contains(where: { $0 > 0 }) else {
            throw ParseError(description: "--mix: give at least one kind a weight above 0 (kinds: \(kinds); presets: \(presets))")
        }
        self.init(weights: weights)
    }

    /// `error=60,session=25,log=15`, kinds in a fixed order: what the run record keeps.
    package var description: String {
        SyntheticEvents.Kind.allCases.compactMap { kind in weights[kind].map { "\(kind.rawValue)=\($0)" } }.joined(separator: ",")
    }

    /// The share of requests of `kind`, 0...1.
    package func share(of kind: SyntheticEvents.Kind) -> Double {
        Double(weights[kind] ?? 0) / Double(max(1, weights.values.reduce(0, +)))
    }

    /// One kind per request slot, a cycle as long as the weights' sum over their greatest common
    /// divisor. The kinds are interleaved (smooth weighted round-robin, as nginx spreads requests
    /// over weighted upstreams) rather than sent in runs, so any second of a run carries the mix
    /// and the writer's batches hold every kind.
    package func cycle() -> [SyntheticEvents.Kind] {
        let kinds = SyntheticEvents.Kind.allCases.filter { (weights[$0] ?? 0) > 0 }
        let divisor = kinds.reduce(0) { Self.gcd($0, weights[$1]!) }
        let reduced = kinds.map { weights[$0]! / divisor }
        let total = reduced.reduce(0, +)
        var current = Array(repeating: 0, count: kinds.count)
        var result: [SyntheticEvents.Kind] = []
        result.reserveCapacity(total)
        for _ in 0..<total {
            for index in kinds.indices { current[index] += reduced[index] }
            let chosen = current.indices.max { current[$0] < current[$1] }!
            current[chosen] -= total
            result.append(kinds[chosen])
        }
        return result
    }

    private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }
}

extension String {
    fileprivate var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
