/// A cron monitor as stored: one per project and slug, its config from the last check-in that
/// carried one.
package struct StoredMonitor: Sendable, Equatable {
    package var id: Int64
    package var projectID: Int64
    package var slug: String
    package var name: String
    package var config: MonitorConfig
    /// Milliseconds since the epoch.
    package var created: Int64

    package init(id: Int64, projectID: Int64, slug: String, name: String, config: MonitorConfig, created: Int64) {
        self.id = id
        self.projectID = projectID
        self.slug = slug
        self.name = name
        self.config = config
        self.created = created
    }
}

/// A monitor's state in one environment: what the scheduler and the pages read.
package struct MonitorEnvironmentState: Sendable, Equatable {
    package var monitorID: Int64
    package var environment: String
    /// `active` until the first check-in ends, then Sentry's ok, error, missed_checkin, timeout.
    package var status: String
    package var lastCheckIn: Int64?
    /// When the next check-in is expected (ms); nil when the schedule never runs.
    package var nextCheckIn: Int64?
    /// Failures (error, missed, timeout) since the last ok, and oks since the last failure.
    package var failures: Int64
    package var oks: Int64
    /// The event that opened the current incident's issue; nil when none is open.
    package var incidentEvent: String?
    package var created: Int64

    package init(
        monitorID: Int64, environment: String, status: String = "active", lastCheckIn: Int64? = nil, nextCheckIn: Int64?,
        failures: Int64 = 0, oks: Int64 = 0, incidentEvent: String? = nil, created: Int64
    ) {
        self.monitorID = monitorID
        self.environment = environment
        self.status = status
        self.lastCheckIn = lastCheckIn
        self.nextCheckIn = nextCheckIn
        self.failures = failures
        self.oks = oks
        self.incidentEvent = incidentEvent
        self.created = created
    }

    /// Counts a finished check-in into the streaks and the status.
    package mutating func record(_ status: CheckInStatus) {
        guard status != .inProgress else { return }
        self.status = status.environmentStatus
        if status.isFailure {
            failures += 1
            oks = 0
        } else {
            oks += 1
            failures = 0
        }
    }
}

/// One check-in as stored. `rowID` is the database's; `guid` the SDK's `check_in_id` (32 hex
/// characters), or one made up for a missed check-in.
package struct StoredCheckIn: Sendable, Equatable {
    package var rowID: Int64
    package var projectID: Int64
    package var monitorID: Int64
    package var environment: String
    package var guid: String
    package var status: CheckInStatus
    /// Milliseconds, once known.
    package var duration: Int64?
    package var created: Int64
    package var updated: Int64
    /// When the schedule expected it (ms); nil for a monitor's first check-in.
    package var expected: Int64?

    package init(
        rowID: Int64 = 0, projectID: Int64, monitorID: Int64, environment: String, guid: String, status: CheckInStatus,
        duration: Int64? = nil, created: Int64, updated: Int64, expected: Int64? = nil
    ) {
        self.rowID = rowID
        self.projectID = projectID
        self.monitorID = monitorID
        self.environment = environment
        self.guid = guid
        self.status = status
        self.duration = duration
        self.created = created
        self.updated = updated
        self.expected = expected
    }
}

/// A monitor with its environments, for the API and the pages.
package struct MonitorRow: Sendable, Equatable {
    package var monitor: StoredMonitor
    package var environments: [MonitorEnvironmentState]

    package init(monitor: StoredMonitor, environments: [MonitorEnvironmentState]) {
        self.monitor = monitor
        self.environments = environments
    }
}

/// A check-in the scheduler may have to time out: still `in_progress`.
package struct RunningCheckIn: Sendable, Equatable {
    package var rowID: Int64
    package var projectID: Int64
    package var monitorID: Int64
    package var created: Int64

    package init(rowID: Int64, projectID: Int64, monitorID: Int64, created: Int64) {
        self.rowID = rowID
        self.projectID = projectID
        self.monitorID = monitorID
        self.created = created
    }
}
