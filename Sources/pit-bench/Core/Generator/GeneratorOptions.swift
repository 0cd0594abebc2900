import Foundation

/// One segment of the offered load: `rate` requests per second for `duration` seconds.
package struct RateStep: Sendable, Codable, Equatable {
    package var rate: Double
    package var duration: Double

    package init(rate: Double, duration: Double) {
        self.rate = rate
        self.duration = duration
    }
}

package struct GeneratorOptions: Sendable {
    package var maxConnections: Int
    package var initialConnections: Int
    package var requestTimeout: Double = 10
    /// After the schedule ends, how long to wait for responses still in flight.
    package var drainTimeout: Double = 15

    package init(maxConnections: Int, initialConnections: Int? = nil) {
        self.maxConnections = max(1, maxConnections)
        self.initialConnections = min(self.maxConnections, initialConnections ?? max(1, self.maxConnections / 4))
    }

    /// Enough connections for the rate at 50 ms per request, within [8, 1024]. The load stands for
    /// many independent clients, so the pool must not be what queues requests: with room for only
    /// 20 ms (240 connections at 12,000/s), a 25 ms ack latency (ack=committed waits for a batch
    /// commit) held every connection busy and built seconds of backlog inside pit-bench while
    /// pitd's queue stayed under 240 events (results/2026-12-01T144941Z-run-12000). The pool starts
    /// at a quarter of this and grows only while requests wait.
    package static func automatic(rate: Double) -> GeneratorOptions {
        GeneratorOptions(maxConnections: min(1024, max(8, Int(rate * 0.05))))
    }
}
