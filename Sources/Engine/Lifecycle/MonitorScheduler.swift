import Foundation
package import Logging
import NIOCore
package import PitIngest
import PitModel
package import PitStorage
import ServiceLifecycle

/// Cron monitors between check-ins: every `interval` seconds a pass reads the stored monitors and
/// records a missed check-in for each environment whose expected check-in is more than
/// `checkin_margin` late, times out `in_progress` check-ins past `max_runtime`, opens an issue
/// for an environment at its failure threshold and resolves it at its recovery threshold. Every
/// decision is made from stored state, so a pass after a restart catches up on what was missed
/// while the server was down; every write goes through the writer queue, in the writer's
/// transaction, like a check-in from an SDK.
package final class MonitorScheduler: Service, Sendable {
    package struct Summary: Sendable, Equatable {
        package var missed = 0
        package var timedOut = 0
        package var opened = 0
        package var resolved = 0

        package init() {}
    }

    /// At most this many missed check-ins are recorded per environment and pass; after a long
    /// outage the rest are skipped and the schedule restarts from now.
    package static let maxMissedPerPass = 10

    private let pipeline: IngestPipeline
    private let reader: any ReadStore
    private let interval: Double
    private let clock: @Sendable () -> Int64
    private let logger: Logger

    /// `clock`: wall time in milliseconds (tests move it by hand).
    package init(
        pipeline: IngestPipeline, reader: any ReadStore, interval: Double, clock: @escaping @Sendable () -> Int64,
        logger: Logger
    ) {
        self.pipeline = pipeline
        self.reader = reader
        self.interval = interval
        self.clock = clock
        self.logger = logger
    }

    package func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let summary = try await pass(now: clock())
                if summary != Summary() {
                    logger.info(
                        "cron monitors checked",
                        metadata: [
                            "pit.missed": "\(summary.missed)", "pit.timed_out": "\(summary.timedOut)",
                            "pit.opened": "\(summary.opened)", "pit.resolved": "\(summary.resolved)",
                        ])
                }
            } catch {
                logger.warning("cron monitor pass failed", metadata: ["error": "\(error)"])
            }
            let pause = Int64(interval * 1000)
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(pause)) }
        }
    }

    /// One pass at `now` (ms). Incidents are decided on the state read at its start, so a miss
    /// recorded by this pass opens its issue in the next one.
    @discardableResult
    package func pass(now: Int64) async throws -> Summary {
        var summary = Summary()
        let monitors = try await reader.monitors(projectIDs: nil, slug: nil)
        var records: [CheckInRecord] = []
        for row in monitors {
            for environment in row.environments {
                let missed = Self.missedCheckIns(row.monitor, environment, now: now)
                summary.missed += missed.count
                records += missed
            }
        }
        for overdue in try await reader.overdueCheckIns(now: now) {
            records.append(.timeout(checkInRowID: overdue.rowID, at: now))
            summary.timedOut += 1
        }
        if !records.isEmpty { try await pipeline.submit(WriteUnit(event: nil, items: [], checkIns: records), itemTypes: []) }
        for row in monitors {
            for environment in row.environments {
                let config = row.monitor.config
                if environment.incidentEvent == nil, environment.failures >= Int64(config.failureIssueThreshold) {
                    try await openIncident(row.monitor, environment, now: now)
                    summary.opened += 1
                } else if let event = environment.incidentEvent, environment.oks >= Int64(config.recoveryThreshold) {
                    try await resolveIncident(row.monitor, environment, eventID: event)
                    summary.resolved += 1
                }
            }
        }
        return summary
    }

    /// The missed check-ins of one environment at `now`: each expected one more than the margin
    /// late, in order, each naming the next expectation, so the writer applies them only while
    /// no check-in has moved the expectation meanwhile.
    package static func missedCheckIns(_ monitor: StoredMonitor, _ environment: MonitorEnvironmentState, now: Int64) -> [CheckInRecord] {
        let config = monitor.config
        guard var expected = environment.nextCheckIn else { return [] }
        var records: [CheckInRecord] = []
        while expected + config.marginMilliseconds <= now {
            var next = config.next(afterMilliseconds: expected)
            if records.count + 1 == maxMissedPerPass, let following = next, following + config.marginMilliseconds <= now {
                next = config.next(afterMilliseconds: now)
            }
            records.append(.missed(monitorID: monitor.id, environment: environment.environment, expected: expected, next: next, at: now))
            guard let next else { break }
            expected = next
        }
        return records
    }

    /// The issue of an incident: an error event grouped per monitor and environment, so a second
    /// incident regresses the issue the first one opened once it was resolved.
    private func openIncident(_ monitor: StoredMonitor, _ environment: MonitorEnvironmentState, now: Int64) async throws {
        let eventID = EventID.random()
        let reason =
            switch environment.status {
            case "missed_checkin": "A missed check-in was detected"
            case "timeout": "A check-in timed out"
            default: "A failed check-in was detected"
            }
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("event_id", eventID.hex)
        writer.key("timestamp")
        writer.value(Double(now) / 1000)
        writer.field("level", "error")
        writer.field("platform", "other")
        writer.field("logger", "monitors")
        writer.field("environment", environment.environment)
        writer.field("message", "Cron failure: \(monitor.name)")
        writer.field("transaction", reason)
        writer.key("fingerprint")
        writer.beginArray()
        writer.value("cron-monitor")
        writer.value(monitor.slug)
        writer.value(environment.environment)
        writer.endArray()
        writer.key("tags")
        writer.beginObject()
        writer.field("monitor.slug", monitor.slug)
        writer.field("monitor.id", String(monitor.id))
        writer.field("monitor.status", environment.status)
        writer.endObject()
        writer.endObject()
        let payload = ByteBuffer(bytes: writer.bytes)
        let event = try pipeline.makeEventRecord(payload, header: nil, projectID: monitor.projectID, received: Double(now) / 1000)
        try await pipeline.submit(
            WriteUnit(
                event: event, items: [],
                checkIns: [.incident(monitorID: monitor.id, environment: environment.environment, eventID: eventID.hex)]),
            itemTypes: [])
    }

    private func resolveIncident(_ monitor: StoredMonitor, _ environment: MonitorEnvironmentState, eventID: String) async throws {
        if let id = EventID(eventID), let event = try await reader.event(projectID: monitor.projectID, eventID: id) {
            let queue = pipeline.queue
            let result: Result<Void, any Error> = await withCheckedContinuation { continuation in
                let accepted = queue.offer(command: .setStatus(issueIDs: [event.issueID], status: .resolved, resolveInNextRelease: false)) {
                    continuation.resume(returning: $0)
                }
                if !accepted { continuation.resume(returning: .failure(MonitorWriteError("the writer queue is closed"))) }
            }
            try result.get()
        }
        try await pipeline.submit(
            WriteUnit(
                event: nil, items: [], checkIns: [.incident(monitorID: monitor.id, environment: environment.environment, eventID: nil)]),
            itemTypes: [])
    }
}
