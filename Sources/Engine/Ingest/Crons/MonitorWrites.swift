import PitModel
package import PitStorage

/// The row operations `MonitorWrites` needs from a batch store, inside the batch's transaction.
/// PostgreSQL locks the monitor's row, then the environment's, until the batch commits, so two
/// writers apply check-ins of one monitor one after the other.
package protocol MonitorWriteTarget {
    /// Creates the monitor or replaces its config, and returns it.
    func upsertMonitor(projectID: Int64, slug: String, config: MonitorConfig, now: Int64) throws -> StoredMonitor
    func monitor(projectID: Int64, slug: String) throws -> StoredMonitor?
    func monitor(id: Int64) throws -> StoredMonitor?
    func environment(monitorID: Int64, name: String) throws -> MonitorEnvironmentState?
    /// Inserts or replaces the environment's row.
    func saveEnvironment(_ state: MonitorEnvironmentState) throws
    func checkIn(projectID: Int64, guid: String) throws -> StoredCheckIn?
    func latestInProgress(monitorID: Int64, environment: String) throws -> StoredCheckIn?
    func checkIn(rowID: Int64) throws -> StoredCheckIn?
    /// Inserts a check-in whose `rowID` is 0, updates the row of any other.
    func saveCheckIn(_ checkIn: StoredCheckIn) throws
}

/// The rules of cron check-ins, shared by both back ends: a check-in with a `monitor_config`
/// upserts its monitor, one without needs the monitor to exist (Sentry drops it otherwise); a
/// check-in id seen before updates that check-in while it is `in_progress` and never after it
/// ended; a new check-in moves the environment's next expected check-in along its schedule;
/// every ended check-in counts into the failure or ok streak that opens and resolves incidents.
package enum MonitorWrites {
    /// `units`: the batch's units that carry check-in records, in queue order.
    package static func apply(_ units: [WriteUnit], to target: some MonitorWriteTarget) throws {
        for unit in units {
            for record in unit.checkIns { try apply(record, to: target) }
        }
    }

    package static func apply(_ record: CheckInRecord, to target: some MonitorWriteTarget) throws {
        switch record {
        case .update(let update): try apply(update, to: target)
        case .missed(let monitorID, let name, let expected, let next, let at):
            guard let monitor = try target.monitor(id: monitorID),
                var environment = try target.environment(monitorID: monitorID, name: name), environment.nextCheckIn == expected
            else { return }
            try target.saveCheckIn(
                StoredCheckIn(
                    projectID: monitor.projectID, monitorID: monitorID, environment: name,
                    guid: EventID.random().hex, status: .missed, created: at, updated: at, expected: expected))
            environment.nextCheckIn = next
            environment.record(.missed)
            try target.saveEnvironment(environment)
        case .timeout(let rowID, let at):
            guard var checkIn = try target.checkIn(rowID: rowID), checkIn.status == .inProgress,
                let monitor = try target.monitor(id: checkIn.monitorID)
            else { return }
            checkIn.status = .timeout
            checkIn.duration = monitor.config.maxRuntimeMilliseconds
            checkIn.updated = at
            try target.saveCheckIn(checkIn)
            if var environment = try target.environment(monitorID: monitor.id, name: checkIn.environment) {
                environment.record(.timeout)
                try target.saveEnvironment(environment)
            }
        case .incident(let monitorID, let name, let eventID):
            guard try target.monitor(id: monitorID) != nil, var environment = try target.environment(monitorID: monitorID, name: name)
            else { return }
            environment.incidentEvent = eventID
            try target.saveEnvironment(environment)
        }
    }

    private static func apply(_ update: CheckInUpdate, to target: some MonitorWriteTarget) throws {
        let now = update.received
        let monitor: StoredMonitor
        if let config = update.config {
            monitor = try target.upsertMonitor(projectID: update.projectID, slug: update.slug, config: config, now: now)
        } else if let existing = try target.monitor(projectID: update.projectID, slug: update.slug) {
            monitor = existing
        } else {
            return
        }
        var environment =
            try target.environment(monitorID: monitor.id, name: update.environment)
            ?? MonitorEnvironmentState(monitorID: monitor.id, environment: update.environment, nextCheckIn: nil, created: now)
        let earlier =
            update.guid.isEmpty
            ? try target.latestInProgress(monitorID: monitor.id, environment: update.environment)
            : try target.checkIn(projectID: update.projectID, guid: update.guid)
        if var earlier {
            // A finished check-in is final, and an id is not reused across monitors.
            guard earlier.monitorID == monitor.id, earlier.status == .inProgress, update.status != .inProgress else { return }
            earlier.status = update.status
            earlier.duration = update.duration ?? max(0, now - earlier.created)
            earlier.updated = now
            try target.saveCheckIn(earlier)
            environment.record(update.status)
            try target.saveEnvironment(environment)
            return
        }
        try target.saveCheckIn(
            StoredCheckIn(
                projectID: update.projectID, monitorID: monitor.id, environment: update.environment,
                guid: update.guid.isEmpty ? EventID.random().hex : update.guid, status: update.status,
                duration: update.status == .inProgress ? nil : update.duration, created: now, updated: now,
                expected: environment.nextCheckIn))
        environment.lastCheckIn = now
        environment.nextCheckIn = monitor.config.next(afterMilliseconds: now)
        environment.record(update.status)
        try target.saveEnvironment(environment)
    }
}

/// A row a write just stored was not there to read back.
package struct MonitorWriteError: Error, CustomStringConvertible {
    package var description: String

    package init(_ description: String) { self.description = description }
}
