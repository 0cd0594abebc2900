package import Logging
package import PitIngest
package import PitStorage
import ServiceLifecycle

/// Writes the JavaScript events still held for their source maps (`DeferredEvent`) that no
/// resolution wrote: at start (those a restart left behind) and then every `interval` seconds
/// (leases run out: a resolution lost or stuck, an event that found no room to resolve, a hold
/// of another instance that stopped). Keeps claiming while a pass fills its limit, so a backlog
/// drains at the speed of resolution, not one batch per interval.
package final class HeldEventSweeper: Service, Sendable {
    private let pipeline: IngestPipeline
    private let store: any DeferredEventStore
    private let interval: Double
    /// Whether this instance is the only one on its database (SQLite): then at start every hold
    /// is an earlier run's, and is claimed at once rather than when its lease runs out.
    private let soleInstance: Bool
    private let logger: Logger
    private static let claimLimit = 64

    package init(pipeline: IngestPipeline, store: any DeferredEventStore, interval: Double, soleInstance: Bool, logger: Logger) {
        self.pipeline = pipeline
        self.store = store
        self.interval = interval
        self.soleInstance = soleInstance
        self.logger = logger
    }

    package func run() async throws {
        // The leases it overrides are an earlier run's, or (a request held in this run's first
        // moments) one whose own resolution then writes a duplicate, which the stores drop.
        var leasesEndedBy: Int64? = soleInstance ? Int64.max : nil
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                var written = 0
                defer { leasesEndedBy = nil }
                while !Task.isShuttingDownGracefully {
                    let queued = try await pipeline.resolveHeldEvents(
                        from: store, limit: Self.claimLimit, leasesEndedBy: leasesEndedBy)
                    written += queued
                    guard queued == Self.claimLimit else { break }
                }
                if written > 0 { logger.info("held JavaScript events written", metadata: ["pit.events": "\(written)"]) }
            } catch {
                logger.warning("held JavaScript events sweep failed", metadata: ["error": "\(error)"])
            }
            let pause = Int64(interval * 1000)
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(pause)) }
        }
    }
}
