package import PitModel
package import PitStorage

/// Sentry's `/api/0` shapes for cron monitors and their check-ins.
extension SentryAPIRenderer {
    /// A monitor as `GET /api/0/organizations/{org}/monitors/` lists it.
    package static func monitor(_ row: MonitorRow, project: Project?, into writer: inout JSONWriter) {
        let monitor = row.monitor
        let config = monitor.config
        writer.beginObject()
        writer.field("id", String(monitor.id))
        writer.field("slug", monitor.slug)
        writer.field("name", monitor.name)
        writer.field("status", "active")
        writer.field("isMuted", false)
        writer.field("type", "cron_job")
        writer.key("config")
        writer.beginObject()
        writer.field("schedule_type", config.schedule.type)
        writer.key("schedule")
        switch config.schedule {
        case .crontab(_, let text): writer.value(text)
        case .interval(let count, let unit):
            writer.beginArray()
            writer.value(count)
            writer.value(unit.rawValue)
            writer.endArray()
        }
        writer.key("checkin_margin")
        if let margin = config.checkinMargin { writer.value(margin) } else { writer.null() }
        writer.key("max_runtime")
        if let runtime = config.maxRuntime { writer.value(runtime) } else { writer.null() }
        writer.field("timezone", config.timezone)
        writer.field("failure_issue_threshold", config.failureIssueThreshold)
        writer.field("recovery_threshold", config.recoveryThreshold)
        writer.endObject()
        writer.field("dateCreated", Timestamp.format(milliseconds: monitor.created))
        writer.key("project")
        writer.beginObject()
        writer.field("id", String(monitor.projectID))
        writer.field("slug", project?.slug)
        writer.field("name", project?.name)
        writer.endObject()
        writer.key("environments")
        writer.beginArray()
        for environment in row.environments {
            writer.beginObject()
            writer.field("name", environment.environment)
            writer.field("status", environment.status)
            writer.field("isMuted", false)
            writer.field("dateCreated", Timestamp.format(milliseconds: environment.created))
            writer.field("lastCheckIn", environment.lastCheckIn.map { Timestamp.format(milliseconds: $0) })
            writer.field("nextCheckIn", environment.nextCheckIn.map { Timestamp.format(milliseconds: $0) })
            writer.field(
                "nextCheckInLatest", environment.nextCheckIn.map { Timestamp.format(milliseconds: $0 + config.marginMilliseconds) })
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
    }

    /// A check-in as `GET /api/0/organizations/{org}/monitors/{slug}/checkins/` lists it.
    package static func checkIn(_ checkIn: StoredCheckIn, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", checkIn.guid)
        writer.field("status", checkIn.status.rawValue)
        writer.key("duration")
        if let duration = checkIn.duration { writer.value(duration) } else { writer.null() }
        writer.field("dateCreated", Timestamp.format(milliseconds: checkIn.created))
        writer.field("dateAdded", Timestamp.format(milliseconds: checkIn.created))
        writer.field("dateUpdated", Timestamp.format(milliseconds: checkIn.updated))
        writer.field("environment", checkIn.environment)
        writer.field("expectedTime", checkIn.expected.map { Timestamp.format(milliseconds: $0) })
        writer.endObject()
    }
}
