import Foundation
import Histogram
package import PitModel

/// Counters of one second of the run (or of one ramp step).
package struct Counts: Sendable, Codable, Equatable {
    package var due = 0
    package var sent = 0
    package var ok = 0
    package var tooManyRequests = 0
    package var unavailable = 0
    package var otherClientErrors = 0
    package var serverErrors = 0
    package var timeouts = 0
    package var connectionErrors = 0

    package init() {}

    package var completed: Int { ok + tooManyRequests + unavailable + otherClientErrors + serverErrors + timeouts + connectionErrors }
    package var errors: Int { otherClientErrors + serverErrors + timeouts + connectionErrors }

    package mutating func add(_ other: Counts) {
        due += other.due
        sent += other.sent
        ok += other.ok
        tooManyRequests += other.tooManyRequests
        unavailable += other.unavailable
        otherClientErrors += other.otherClientErrors
        serverErrors += other.serverErrors
        timeouts += other.timeouts
        connectionErrors += other.connectionErrors
    }
}

/// One row of the timeline.
package struct SecondSample: Sendable, Codable, Equatable {
    package init(
        second: Int, targetRate: Double, counts: Counts, p50Milliseconds: Double, p99Milliseconds: Double, maxMilliseconds: Double,
        inFlight: Int, pending: Int, generatorCPU: Double, tickLagMilliseconds: Double, server: ServerSample?
    ) {
        self.second = second
        self.targetRate = targetRate
        self.counts = counts
        self.p50Milliseconds = p50Milliseconds
        self.p99Milliseconds = p99Milliseconds
        self.maxMilliseconds = maxMilliseconds
        self.inFlight = inFlight
        self.pending = pending
        self.generatorCPU = generatorCPU
        self.tickLagMilliseconds = tickLagMilliseconds
        self.server = server
    }

    package var second: Int
    package var targetRate: Double
    package var counts: Counts
    package var p50Milliseconds: Double
    package var p99Milliseconds: Double
    package var maxMilliseconds: Double
    package var inFlight: Int
    package var pending: Int
    /// Generator CPU in cores (1.0 = one core busy).
    package var generatorCPU: Double
    /// Worst lateness of the generator's 1 ms tick in this second.
    package var tickLagMilliseconds: Double
    package var server: ServerSample?
}

package struct LatencySummary: Sendable, Codable, Equatable {
    package init(p50: Double, p90: Double, p99: Double, p999: Double, max: Double, mean: Double) {
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
        self.p999 = p999
        self.max = max
        self.mean = mean
    }

    package var p50: Double
    package var p90: Double
    package var p99: Double
    package var p999: Double
    package var max: Double
    package var mean: Double

    static func from(_ histogram: Histogram<UInt64>) -> LatencySummary {
        guard histogram.totalCount > 0 else { return LatencySummary(p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0) }
        func ms(_ micros: UInt64) -> Double { Double(micros) / 1000 }
        return LatencySummary(
            p50: ms(histogram.valueAtPercentile(50)), p90: ms(histogram.valueAtPercentile(90)),
            p99: ms(histogram.valueAtPercentile(99)), p999: ms(histogram.valueAtPercentile(99.9)),
            max: ms(histogram.max), mean: histogram.mean / 1000
        )
    }
}

package struct StepResult: Sendable, Codable, Equatable {
    package init(rate: Double, duration: Double, counts: Counts, latency: LatencySummary) {
        self.rate = rate
        self.duration = duration
        self.counts = counts
        self.latency = latency
    }

    package var rate: Double
    package var duration: Double
    package var counts: Counts
    package var latency: LatencySummary
    /// Why this step measured the generator rather than the server, if it did.
    package var generatorLimited: String?
}

package struct LoadResult: Sendable {
    package var timeline: [SecondSample]
    package var steps: [StepResult]
    package var totals: Counts
    package var latency: LatencySummary
    /// Event ids of error envelopes answered 2xx: what must be stored.
    package var acceptedEventIDs: [EventID]
    /// 503 answers without an integer `Retry-After`: a client cannot tell when to come back.
    package var unavailableWithoutRetryAfter = 0
    package var elapsedSeconds: Double
    /// Set when the generator itself could not keep the schedule (its tick ran late or its CPU was
    /// saturated): then the figures measure pit-bench, not the server.
    package var generatorLimited: String?
}
