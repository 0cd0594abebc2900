package import PitStorage

/// One `session` item, parsed and checked at ingest (`SessionParser`), for the writer to apply.
package struct SessionUpdate: Sendable, Equatable {
    /// What the SDK said the session's state is.
    package enum Status: String, Sendable, CaseIterable {
        case ok, exited, errored, crashed, abnormal
    }

    package var projectID: Int64
    /// The session id as sent (lowercased), at most `SessionParser.maxIDBytes`.
    package var sid: String
    /// The distinct (user or device) id, nil when the SDK sent none.
    package var did: String?
    package var release: String
    package var environment: String
    /// Milliseconds since the epoch.
    package var started: Int64
    package var status: Status
    package var errors: Int64
    /// Seconds, when the SDK sent a valid one.
    package var duration: Double?

    package init(
        projectID: Int64, sid: String, did: String? = nil, release: String, environment: String = "production", started: Int64,
        status: Status = .ok, errors: Int64 = 0, duration: Double? = nil
    ) {
        self.projectID = projectID
        self.sid = sid
        self.did = did
        self.release = release
        self.environment = environment
        self.started = started
        self.status = status
        self.errors = errors
        self.duration = duration
    }

    /// What this update alone says the session came to.
    package var outcome: SessionOutcome {
        switch status {
        case .crashed: .crashed
        case .abnormal: .abnormal
        case .errored: .errored
        case .ok, .exited: errors > 0 ? .errored : .healthy
        }
    }

    /// A final status: later updates of the session change nothing (Relay: terminal states are
    /// immutable).
    package var isTerminal: Bool { status == .exited || status == .crashed || status == .abnormal || status == .errored }
}

/// One bucket of a `sessions` item (request mode): sessions that started in one minute, counted
/// by how they ended, for one user when `did` is set.
package struct SessionAggregate: Sendable, Equatable {
    package var projectID: Int64
    package var did: String?
    package var release: String
    package var environment: String
    /// Milliseconds since the epoch.
    package var started: Int64
    package var exited: Int64
    package var errored: Int64
    package var abnormal: Int64
    package var crashed: Int64

    package init(
        projectID: Int64, did: String? = nil, release: String, environment: String = "production", started: Int64, exited: Int64 = 0,
        errored: Int64 = 0, abnormal: Int64 = 0, crashed: Int64 = 0
    ) {
        self.projectID = projectID
        self.did = did
        self.release = release
        self.environment = environment
        self.started = started
        self.exited = exited
        self.errored = errored
        self.abnormal = abnormal
        self.crashed = crashed
    }

    package var total: Int64 { exited + errored + abnormal + crashed }

    /// The worst outcome among the bucket's sessions: its user's, when it names one.
    package var worst: SessionOutcome {
        crashed > 0 ? .crashed : abnormal > 0 ? .abnormal : errored > 0 ? .errored : .healthy
    }
}

/// What a unit carries for release health.
package enum SessionRecord: Sendable, Equatable {
    case update(SessionUpdate)
    case aggregates([SessionAggregate])
}
