package import PitStorage
import PostgresNIO

/// Cron monitor reads: `MonitorSQL`'s statements, decoded.
extension PostgresReadStore {
    package func monitors(projectIDs: [Int64]?, slug: String?) async throws -> [MonitorRow] {
        var monitors: [StoredMonitor] = []
        let statement = MonitorSQL.monitors(projectIDs: projectIDs, slug: slug, dialect: Self.dialect)
        for try await row in try await client.query(PostgresQuery(statement), logger: logger) {
            if let monitor = try Self.monitor(row) { monitors.append(monitor) }
        }
        var byMonitor: [Int64: [MonitorEnvironmentState]] = [:]
        if !monitors.isEmpty {
            let statement = MonitorSQL.environments(monitorIDs: monitors.map(\.id), dialect: Self.dialect)
            for try await row in try await client.query(PostgresQuery(statement), logger: logger) {
                let environment = try Self.environment(row)
                byMonitor[environment.monitorID, default: []].append(environment)
            }
        }
        return monitors.map { MonitorRow(monitor: $0, environments: byMonitor[$0.id] ?? []) }
    }

    package func checkIns(monitorID: Int64, environment: String?, limit: Int, before: CheckInCursor?) async throws -> [StoredCheckIn] {
        let statement = MonitorSQL.checkIns(
            monitorID: monitorID, environment: environment, limit: limit, before: before, dialect: Self.dialect)
        var result: [StoredCheckIn] = []
        for try await row in try await client.query(PostgresQuery(statement), logger: logger) {
            if let checkIn = try Self.checkIn(row) { result.append(checkIn) }
        }
        return result
    }

    package func overdueCheckIns(now: Int64) async throws -> [RunningCheckIn] {
        let statement = MonitorSQL.overdueCheckIns(
            now: now, defaultMaxRuntime: Int64(MonitorConfig.defaultMaxRuntime), dialect: Self.dialect)
        var result: [RunningCheckIn] = []
        for try await row in try await client.query(PostgresQuery(statement), logger: logger) {
            let (id, projectID, monitorID, created) = try row.decode((Int64, Int64, Int64, Int64).self)
            result.append(RunningCheckIn(rowID: id, projectID: projectID, monitorID: monitorID, created: created))
        }
        return result
    }

    /// A row of `MonitorSQL.monitorColumns`.
    static func monitor(_ row: PostgresRow) throws -> StoredMonitor? {
        let (id, projectID, slug, name, type, schedule, unit, timezone, margin, maxRuntime, failure, recovery, created) = try row.decode(
            (Int64, Int64, String, String, String, String, String?, String, Int64?, Int64?, Int64, Int64, Int64).self)
        return StoredMonitor.decode(
            id: id, projectID: projectID, slug: slug, name: name, scheduleType: type, schedule: schedule, unit: unit, timezone: timezone,
            margin: margin, maxRuntime: maxRuntime, failureThreshold: failure, recoveryThreshold: recovery, created: created)
    }

    /// A row of `MonitorSQL.environmentColumns`.
    static func environment(_ row: PostgresRow) throws -> MonitorEnvironmentState {
        let (monitorID, environment, status, last, next, failures, oks, incident, created) = try row.decode(
            (Int64, String, String, Int64?, Int64?, Int64, Int64, String?, Int64).self)
        return MonitorEnvironmentState(
            monitorID: monitorID, environment: environment, status: status, lastCheckIn: last, nextCheckIn: next, failures: failures,
            oks: oks, incidentEvent: incident, created: created)
    }

    /// A row of `MonitorSQL.checkInColumns`.
    static func checkIn(_ row: PostgresRow) throws -> StoredCheckIn? {
        let (id, projectID, monitorID, environment, guid, status, duration, created, updated, expected) = try row.decode(
            (Int64, Int64, Int64, String, String, String, Int64?, Int64, Int64, Int64?).self)
        guard let status = CheckInStatus(rawValue: status) else { return nil }
        return StoredCheckIn(
            rowID: id, projectID: projectID, monitorID: monitorID, environment: environment, guid: guid, status: status,
            duration: duration, created: created, updated: updated, expected: expected)
    }
}
