import PitIngest
import PitStorage
import PostgresNIO

/// `MonitorWrites`' row operations on a writer's session, inside its transaction. The monitor's
/// row is locked first (the upsert locks it, a read takes it `FOR UPDATE`), then the
/// environment's, so writers apply one monitor's check-ins one at a time and in one lock order.
struct PostgresMonitorWrites: MonitorWriteTarget {
    let session: PostgresSession

    func upsertMonitor(projectID: Int64, slug: String, config: MonitorConfig, now: Int64) throws -> StoredMonitor {
        let columns = config.scheduleColumns
        let margin = config.checkinMargin.map(Int64.init)
        let maxRuntime = config.maxRuntime.map(Int64.init)
        let rows = try session.query(
            """
            INSERT INTO monitors (project_id, slug, name, schedule_type, schedule, schedule_unit, timezone, checkin_margin,
                max_runtime, failure_threshold, recovery_threshold, created)
            VALUES (\(projectID), \(slug), \(slug), \(columns.type), \(columns.value), \(columns.unit), \(config.timezone), \(margin),
                \(maxRuntime), \(Int64(config.failureIssueThreshold)), \(Int64(config.recoveryThreshold)), \(now))
            ON CONFLICT (project_id, slug) DO UPDATE SET schedule_type = excluded.schedule_type, schedule = excluded.schedule,
                schedule_unit = excluded.schedule_unit, timezone = excluded.timezone, checkin_margin = excluded.checkin_margin,
                max_runtime = excluded.max_runtime, failure_threshold = excluded.failure_threshold,
                recovery_threshold = excluded.recovery_threshold
            RETURNING \(unescaped: MonitorSQL.monitorColumns)
            """)
        for row in rows {
            if let monitor = try PostgresReadStore.monitor(row) { return monitor }
        }
        throw MonitorWriteError("monitor \(slug) not stored")
    }

    func monitor(projectID: Int64, slug: String) throws -> StoredMonitor? {
        try first(
            session.query(
                "SELECT \(unescaped: MonitorSQL.monitorColumns) FROM monitors WHERE project_id = \(projectID) AND slug = \(slug) FOR UPDATE"
            ),
            PostgresReadStore.monitor)
    }

    func monitor(id: Int64) throws -> StoredMonitor? {
        try first(
            session.query("SELECT \(unescaped: MonitorSQL.monitorColumns) FROM monitors WHERE id = \(id) FOR UPDATE"),
            PostgresReadStore.monitor)
    }

    func environment(monitorID: Int64, name: String) throws -> MonitorEnvironmentState? {
        try first(
            session.query(
                """
                SELECT \(unescaped: MonitorSQL.environmentColumns) FROM monitor_environments
                WHERE monitor_id = \(monitorID) AND environment = \(name) FOR UPDATE
                """), PostgresReadStore.environment)
    }

    func saveEnvironment(_ state: MonitorEnvironmentState) throws {
        session.enqueue(
            """
            INSERT INTO monitor_environments (\(unescaped: MonitorSQL.environmentColumns))
            VALUES (\(state.monitorID), \(state.environment), \(state.status), \(state.lastCheckIn), \(state.nextCheckIn),
                \(state.failures), \(state.oks), \(state.incidentEvent), \(state.created))
            ON CONFLICT (monitor_id, environment) DO UPDATE SET status = excluded.status, last_checkin = excluded.last_checkin,
                next_checkin = excluded.next_checkin, failures = excluded.failures, oks = excluded.oks,
                incident_event = excluded.incident_event
            """)
    }

    func checkIn(projectID: Int64, guid: String) throws -> StoredCheckIn? {
        try first(
            session.query(
                """
                SELECT \(unescaped: MonitorSQL.checkInColumns) FROM monitor_checkins WHERE project_id = \(projectID) AND guid = \(guid)
                FOR UPDATE
                """), PostgresReadStore.checkIn) ?? nil
    }

    func latestInProgress(monitorID: Int64, environment: String) throws -> StoredCheckIn? {
        try first(
            session.query(
                """
                SELECT \(unescaped: MonitorSQL.checkInColumns) FROM monitor_checkins
                WHERE monitor_id = \(monitorID) AND environment = \(environment) AND status = 'in_progress'
                ORDER BY created DESC, id DESC LIMIT 1 FOR UPDATE
                """), PostgresReadStore.checkIn) ?? nil
    }

    func checkIn(rowID: Int64) throws -> StoredCheckIn? {
        try first(
            session.query("SELECT \(unescaped: MonitorSQL.checkInColumns) FROM monitor_checkins WHERE id = \(rowID) FOR UPDATE"),
            PostgresReadStore.checkIn) ?? nil
    }

    func saveCheckIn(_ checkIn: StoredCheckIn) throws {
        if checkIn.rowID == 0 {
            session.enqueue(
                """
                INSERT INTO monitor_checkins (project_id, monitor_id, environment, guid, status, duration, created, updated, expected)
                VALUES (\(checkIn.projectID), \(checkIn.monitorID), \(checkIn.environment), \(checkIn.guid), \(checkIn.status.rawValue),
                    \(checkIn.duration), \(checkIn.created), \(checkIn.updated), \(checkIn.expected))
                """)
        } else {
            session.enqueue(
                """
                UPDATE monitor_checkins SET status = \(checkIn.status.rawValue), duration = \(checkIn.duration),
                    updated = \(checkIn.updated) WHERE id = \(checkIn.rowID)
                """)
        }
    }

    private func first<T>(_ rows: PostgresQueryResult, _ decode: (PostgresRow) throws -> T?) throws -> T? {
        for row in rows {
            if let value = try decode(row) { return value }
        }
        return nil
    }
}
