package import PitStorage

/// Cron monitor reads: `MonitorSQL`'s statements, decoded.
extension SQLiteReadStore {
    package func monitors(projectIDs: [Int64]?, slug: String?) async throws -> [MonitorRow] {
        try await read { db in
            let monitors = try db.query(MonitorSQL.monitors(projectIDs: projectIDs, slug: slug, dialect: Self.dialect)) { row in
                StoredMonitor.decode(
                    id: row.int(0), projectID: row.int(1), slug: row.text(2) ?? "", name: row.text(3) ?? "",
                    scheduleType: row.text(4) ?? "", schedule: row.text(5) ?? "", unit: row.text(6), timezone: row.text(7) ?? "UTC",
                    margin: row.isNull(8) ? nil : row.int(8), maxRuntime: row.isNull(9) ? nil : row.int(9),
                    failureThreshold: row.int(10), recoveryThreshold: row.int(11), created: row.int(12))
            }.compactMap { $0 }
            let environments = try db.query(MonitorSQL.environments(monitorIDs: monitors.map(\.id), dialect: Self.dialect)) {
                Self.environment($0)
            }
            let byMonitor = Dictionary(grouping: environments, by: \.monitorID)
            return monitors.map { MonitorRow(monitor: $0, environments: byMonitor[$0.id] ?? []) }
        }
    }

    package func checkIns(monitorID: Int64, environment: String?, limit: Int, before: CheckInCursor?) async throws -> [StoredCheckIn] {
        try await read { db in
            try db.query(
                MonitorSQL.checkIns(monitorID: monitorID, environment: environment, limit: limit, before: before, dialect: Self.dialect)
            ) { Self.checkIn($0) }.compactMap { $0 }
        }
    }

    package func overdueCheckIns(now: Int64) async throws -> [RunningCheckIn] {
        try await read { db in
            try db.query(
                MonitorSQL.overdueCheckIns(now: now, defaultMaxRuntime: Int64(MonitorConfig.defaultMaxRuntime), dialect: Self.dialect)
            ) { RunningCheckIn(rowID: $0.int(0), projectID: $0.int(1), monitorID: $0.int(2), created: $0.int(3)) }
        }
    }

    /// A row of `MonitorSQL.environmentColumns`.
    package static func environment(_ row: SQLiteStatement) -> MonitorEnvironmentState {
        MonitorEnvironmentState(
            monitorID: row.int(0), environment: row.text(1) ?? "", status: row.text(2) ?? "active",
            lastCheckIn: row.isNull(3) ? nil : row.int(3), nextCheckIn: row.isNull(4) ? nil : row.int(4), failures: row.int(5),
            oks: row.int(6), incidentEvent: row.text(7), created: row.int(8))
    }

    /// A row of `MonitorSQL.checkInColumns`.
    package static func checkIn(_ row: SQLiteStatement) -> StoredCheckIn? {
        guard let status = CheckInStatus(rawValue: row.text(5) ?? "") else { return nil }
        return StoredCheckIn(
            rowID: row.int(0), projectID: row.int(1), monitorID: row.int(2), environment: row.text(3) ?? "", guid: row.text(4) ?? "",
            status: status, duration: row.isNull(6) ? nil : row.int(6), created: row.int(7), updated: row.int(8),
            expected: row.isNull(9) ? nil : row.int(9))
    }
}
