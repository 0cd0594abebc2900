/// Which release-health counters to read (`ReadStore.sessionStats`): the hours
/// [fromHour, toHour] of some projects, grouped by any of project, release, environment and
/// spans of `intervalHours` hours counted from `fromHour`.
package struct SessionQuery: Sendable, Equatable {
    package var projectIDs: [Int64]
    package var fromHour: Int64
    package var toHour: Int64
    /// Only these releases (nil: all).
    package var releases: [String]?
    package var environments: [String] = []
    package var byProject = false
    package var byRelease = false
    package var byEnvironment = false
    /// Splits the window into spans of this many hours (nil: one span, the whole window).
    package var intervalHours: Int64?

    package init(projectIDs: [Int64], fromHour: Int64, toHour: Int64) {
        self.projectIDs = projectIDs
        self.fromHour = fromHour
        self.toHour = toHour
    }
}

/// One group of a `SessionQuery`: the columns it was not grouped by are 0 and "".
package struct SessionGroup: Hashable, Sendable {
    package var projectID: Int64
    package var release: String
    package var environment: String
    /// The span's index from the window's first hour (0 without `intervalHours`).
    package var interval: Int64

    package init(projectID: Int64 = 0, release: String = "", environment: String = "", interval: Int64 = 0) {
        self.projectID = projectID
        self.release = release
        self.environment = environment
        self.interval = interval
    }
}

/// Sessions of a group by what they came to; `started` counts every session once.
package struct SessionTally: Sendable, Equatable {
    package var started: Int64 = 0
    package var errored: Int64 = 0
    package var abnormal: Int64 = 0
    package var crashed: Int64 = 0

    package init(started: Int64 = 0, errored: Int64 = 0, abnormal: Int64 = 0, crashed: Int64 = 0) {
        self.started = started
        self.errored = errored
        self.abnormal = abnormal
        self.crashed = crashed
    }

    /// Sessions that ended well. Request-mode aggregates and updates of sessions whose start
    /// was never seen can count an outcome without a start; the difference never goes below 0.
    package var healthy: Int64 { max(0, started - errored - abnormal - crashed) }

    package func count(_ outcome: SessionOutcome) -> Int64 {
        switch outcome {
        case .healthy: healthy
        case .errored: errored
        case .abnormal: abnormal
        case .crashed: crashed
        }
    }

    package static func + (a: SessionTally, b: SessionTally) -> SessionTally {
        SessionTally(
            started: a.started + b.started, errored: a.errored + b.errored, abnormal: a.abnormal + b.abnormal,
            crashed: a.crashed + b.crashed)
    }
}

/// What `ReadStore.sessionStats` answers, per group.
package struct SessionStats: Sendable, Equatable {
    package var sessions: [SessionGroup: SessionTally] = [:]
    /// Distinct users (`did`) by the worst outcome each had in the group.
    package var users: [SessionGroup: [SessionOutcome: Int64]] = [:]
    /// Durations of cleanly exited sessions: `SessionDurations` bucket → sessions.
    package var durations: [SessionGroup: [Int64: Int64]] = [:]

    package init() {}

    package func userCount(_ group: SessionGroup) -> Int64 { users[group]?.values.reduce(0, +) ?? 0 }
}
