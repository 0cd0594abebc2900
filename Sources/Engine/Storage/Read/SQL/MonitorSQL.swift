/// The cron monitor reads of both back ends, compiled once; each back end decodes the fixed
/// column lists below.
package enum MonitorSQL {
    /// id, project_id, slug, name, schedule_type, schedule, schedule_unit, timezone,
    /// checkin_margin, max_runtime, failure_threshold, recovery_threshold, created.
    package static let monitorColumns =
        "id, project_id, slug, name, schedule_type, schedule, schedule_unit, timezone, checkin_margin, max_runtime, "
        + "failure_threshold, recovery_threshold, created"
    /// monitor_id, environment, status, last_checkin, next_checkin, failures, oks, incident_event, created.
    package static let environmentColumns =
        "monitor_id, environment, status, last_checkin, next_checkin, failures, oks, incident_event, created"
    /// id, project_id, monitor_id, environment, guid, status, duration, created, updated, expected.
    package static let checkInColumns = "id, project_id, monitor_id, environment, guid, status, duration, created, updated, expected"

    /// The monitors of `projectIDs` (all when nil), by project and slug; one slug when given.
    package static func monitors(projectIDs: [Int64]?, slug: String?, dialect: any SQLDialect) -> SQLStatement {
        var statement = SQLStatement(dialect)
        var conditions: [String] = []
        if let projectIDs { conditions.append(statement.isOneOf("project_id", projectIDs.isEmpty ? [-1] : projectIDs)) }
        if let slug { conditions.append("slug = \(statement.bind(slug))") }
        statement.sql =
            "SELECT \(monitorColumns) FROM monitors"
            + (conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")) + " ORDER BY project_id, slug"
        return statement
    }

    package static func environments(monitorIDs: [Int64], dialect: any SQLDialect) -> SQLStatement {
        var statement = SQLStatement(dialect)
        let filter = statement.isOneOf("monitor_id", monitorIDs.isEmpty ? [-1] : monitorIDs)
        statement.sql = "SELECT \(environmentColumns) FROM monitor_environments WHERE \(filter) ORDER BY monitor_id, environment"
        return statement
    }

    /// A monitor's check-ins, newest first, before `cursor` (created, id) when given.
    package static func checkIns(
        monitorID: Int64, environment: String?, limit: Int, before cursor: CheckInCursor?, dialect: any SQLDialect
    ) -> SQLStatement {
        var statement = SQLStatement(dialect)
        var conditions = ["monitor_id = \(statement.bind(monitorID))"]
        if let environment { conditions.append("environment = \(statement.bind(environment))") }
        if let cursor {
            let created = statement.bind(cursor.created)
            let createdAgain = statement.bind(cursor.created)
            conditions.append("(created < \(created) OR (created = \(createdAgain) AND id < \(statement.bind(cursor.id))))")
        }
        statement.sql =
            "SELECT \(checkInColumns) FROM monitor_checkins WHERE \(conditions.joined(separator: " AND "))"
            + " ORDER BY created DESC, id DESC LIMIT \(statement.bind(Int64(limit)))"
        return statement
    }

    /// `in_progress` check-ins that have run longer than their monitor allows at `now` (ms).
    package static func overdueCheckIns(now: Int64, defaultMaxRuntime: Int64, dialect: any SQLDialect) -> SQLStatement {
        var statement = SQLStatement(dialect)
        let fallback = statement.bind(defaultMaxRuntime)
        let nowValue = statement.bind(now)
        statement.sql =
            "SELECT c.id, c.project_id, c.monitor_id, c.created FROM monitor_checkins c JOIN monitors m ON m.id = c.monitor_id"
            + " WHERE c.status = 'in_progress' AND c.created + COALESCE(m.max_runtime, \(fallback)) * 60000 <= \(nowValue)"
            + " ORDER BY c.id LIMIT 1000"
        return statement
    }
}

/// Where a page of check-ins starts: after the check-in created at `created` with row `id`.
package struct CheckInCursor: Sendable, Equatable, CustomStringConvertible {
    package var created: Int64
    package var id: Int64

    package init(created: Int64, id: Int64) {
        self.created = created
        self.id = id
    }

    package init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 2, let created = Int64(parts[0]), let id = Int64(parts[1]) else { return nil }
        self.init(created: created, id: id)
    }

    package var description: String { "\(created):\(id)" }
}

extension StoredMonitor {
    /// From `MonitorSQL.monitorColumns`; nil when the stored schedule no longer parses.
    package static func decode(
        id: Int64, projectID: Int64, slug: String, name: String, scheduleType: String, schedule: String, unit: String?,
        timezone: String, margin: Int64?, maxRuntime: Int64?, failureThreshold: Int64, recoveryThreshold: Int64, created: Int64
    ) -> StoredMonitor? {
        guard let parsed = try? MonitorConfig.schedule(type: scheduleType, value: schedule, unit: unit) else { return nil }
        let config = MonitorConfig(
            schedule: parsed, timezone: timezone, checkinMargin: margin.map { Int($0) }, maxRuntime: maxRuntime.map { Int($0) },
            failureIssueThreshold: Int(failureThreshold), recoveryThreshold: Int(recoveryThreshold))
        return StoredMonitor(id: id, projectID: projectID, slug: slug, name: name, config: config, created: created)
    }
}
