import PitIngest
import PitStorage

/// `MonitorWrites`' row operations on the writer's connection, inside its transaction (which
/// holds SQLite's write lock, so nothing else changes these rows meanwhile).
struct SQLiteMonitorWrites: MonitorWriteTarget {
    let connection: SQLiteConnection

    func upsertMonitor(projectID: Int64, slug: String, config: MonitorConfig, now: Int64) throws -> StoredMonitor {
        let columns = config.scheduleColumns
        try connection.statement(
            """
            INSERT INTO monitors (project_id, slug, name, schedule_type, schedule, schedule_unit, timezone, checkin_margin,
                max_runtime, failure_threshold, recovery_threshold, created)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (project_id, slug) DO UPDATE SET schedule_type = excluded.schedule_type, schedule = excluded.schedule,
                schedule_unit = excluded.schedule_unit, timezone = excluded.timezone, checkin_margin = excluded.checkin_margin,
                max_runtime = excluded.max_runtime, failure_threshold = excluded.failure_threshold,
                recovery_threshold = excluded.recovery_threshold
            """
        ).run([
            .int(projectID), .text(slug), .text(slug), .text(columns.type), .text(columns.value), .optional(columns.unit),
            .text(config.timezone), .optional(config.checkinMargin.map(Int64.init)), .optional(config.maxRuntime.map(Int64.init)),
            .int(Int64(config.failureIssueThreshold)), .int(Int64(config.recoveryThreshold)), .int(now),
        ])
        guard let monitor = try monitor(projectID: projectID, slug: slug) else { throw MonitorWriteError("monitor \(slug) not stored") }
        return monitor
    }

    func monitor(projectID: Int64, slug: String) throws -> StoredMonitor? {
        try monitors("WHERE project_id = ? AND slug = ?", [.int(projectID), .text(slug)])
    }

    func monitor(id: Int64) throws -> StoredMonitor? { try monitors("WHERE id = ?", [.int(id)]) }

    private func monitors(_ filter: String, _ values: [SQLiteValue]) throws -> StoredMonitor? {
        try connection.statement("SELECT \(MonitorSQL.monitorColumns) FROM monitors \(filter)").query(values) { row in
            StoredMonitor.decode(
                id: row.int(0), projectID: row.int(1), slug: row.text(2) ?? "", name: row.text(3) ?? "", scheduleType: row.text(4) ?? "",
                schedule: row.text(5) ?? "", unit: row.text(6), timezone: row.text(7) ?? "UTC", margin: row.isNull(8) ? nil : row.int(8),
                maxRuntime: row.isNull(9) ? nil : row.int(9), failureThreshold: row.int(10), recoveryThreshold: row.int(11),
                created: row.int(12))
        }.first ?? nil
    }

    func environment(monitorID: Int64, name: String) throws -> MonitorEnvironmentState? {
        try connection.statement(
            "SELECT \(MonitorSQL.environmentColumns) FROM monitor_environments WHERE monitor_id = ? AND environment = ?"
        ).query([.int(monitorID), .text(name)], SQLiteReadStore.environment).first
    }

    func saveEnvironment(_ state: MonitorEnvironmentState) throws {
        try connection.statement(
            """
            INSERT OR REPLACE INTO monitor_environments (\(MonitorSQL.environmentColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
        ).run([
            .int(state.monitorID), .text(state.environment), .text(state.status), .optional(state.lastCheckIn),
            .optional(state.nextCheckIn), .int(state.failures), .int(state.oks), .optional(state.incidentEvent), .int(state.created),
        ])
    }

    func checkIn(projectID: Int64, guid: String) throws -> StoredCheckIn? {
        try checkIns("WHERE project_id = ? AND guid = ?", [.int(projectID), .text(guid)])
    }

    func latestInProgress(monitorID: Int64, environment: String) throws -> StoredCheckIn? {
        try checkIns(
            "WHERE monitor_id = ? AND environment = ? AND status = 'in_progress' ORDER BY created DESC, id DESC LIMIT 1",
            [.int(monitorID), .text(environment)])
    }

    func checkIn(rowID: Int64) throws -> StoredCheckIn? { try checkIns("WHERE id = ?", [.int(rowID)]) }

    private func checkIns(_ filter: String, _ values: [SQLiteValue]) throws -> StoredCheckIn? {
        try connection.statement("SELECT \(MonitorSQL.checkInColumns) FROM monitor_checkins \(filter)").query(
            values, SQLiteReadStore.checkIn
        ).first ?? nil
    }

    func saveCheckIn(_ checkIn: StoredCheckIn) throws {
        if checkIn.rowID == 0 {
            try connection.statement(
                """
                INSERT INTO monitor_checkins (project_id, monitor_id, environment, guid, status, duration, created, updated, expected)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
            ).run([
                .int(checkIn.projectID), .int(checkIn.monitorID), .text(checkIn.environment), .text(checkIn.guid),
                .text(checkIn.status.rawValue), .optional(checkIn.duration), .int(checkIn.created), .int(checkIn.updated),
                .optional(checkIn.expected),
            ])
        } else {
            try connection.statement("UPDATE monitor_checkins SET status = ?, duration = ?, updated = ? WHERE id = ?").run([
                .text(checkIn.status.rawValue), .optional(checkIn.duration), .int(checkIn.updated), .int(checkIn.rowID),
            ])
        }
    }
}
