/// Finds the knee of a ramp: the highest offered rate the server sustained.
package enum Knee {
    package struct Criteria: Sendable, Codable, Equatable {
        /// Fraction of offered requests that must be answered 2xx.
        package var minimumAcceptedRatio = 0.99
        package var maximumP99Milliseconds: Double

        package init(maximumP99Milliseconds: Double, minimumAcceptedRatio: Double = 0.99) {
            self.maximumP99Milliseconds = maximumP99Milliseconds
            self.minimumAcceptedRatio = minimumAcceptedRatio
        }
    }

    package static func passes(_ step: StepResult, _ criteria: Criteria) -> Bool {
        let offered = max(1, step.counts.due)
        return Double(step.counts.ok) / Double(offered) >= criteria.minimumAcceptedRatio
            && step.counts.unavailable == 0
            && step.counts.errors == 0
            // Latency counts from each request's due time, so a late generator only makes a step
            // look worse: one that meets the bound although pit-bench ran late met it with the
            // delay charged to the server. A late tick failed whole 5 s sweep steps at p99 29 ms
            // (a phase's first second opens its connections), leaving sweeps without a knee.
            && step.latency.p99 <= criteria.maximumP99Milliseconds
    }

    /// The highest rate of a step that passes, counting only steps below the first failure (a
    /// server that recovers at a higher rate after failing has not shown it sustains it).
    package static func find(_ steps: [StepResult], criteria: Criteria) -> StepResult? {
        var knee: StepResult?
        for step in steps.sorted(by: { $0.rate < $1.rate }) {
            guard passes(step, criteria) else { break }
            knee = step
        }
        return knee
    }
}
