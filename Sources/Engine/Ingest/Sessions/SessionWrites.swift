package import PitStorage

/// What a batch's session records change, computed once for both back ends: each back end loads
/// the sessions' stored states, hands them to `collect`, and writes the result (upserts that add
/// counts, keep the worst outcome of a user, and replace states) in the batch's transaction.
///
/// Counting follows Relay's rules with exact per-session state instead of Relay's metric sets: a
/// session counts as started once, the first time its id is seen; its outcome only gets worse
/// (errored → abnormal → crashed), moving its count from one column to the other; an update of a
/// session that already ended is ignored; a duration counts once, when the session exits cleanly.
package struct SessionWrites: Sendable {
    package struct StateKey: Hashable, Comparable, Sendable {
        package var projectID: Int64
        package var sid: String

        package init(projectID: Int64, sid: String) {
            self.projectID = projectID
            self.sid = sid
        }

        package static func < (a: StateKey, b: StateKey) -> Bool { (a.projectID, a.sid) < (b.projectID, b.sid) }
    }

    /// What is kept of a session between updates (until `SessionParser.maxAgeSeconds` after it
    /// started): the attributes of its first update, which later ones cannot change.
    package struct State: Sendable, Equatable {
        package var release: String
        package var environment: String
        /// Milliseconds since the epoch.
        package var started: Int64
        package var did: String?
        package var outcome: SessionOutcome
        package var errors: Int64
        package var ended: Bool

        package init(
            release: String, environment: String, started: Int64, did: String?, outcome: SessionOutcome, errors: Int64, ended: Bool
        ) {
            self.release = release
            self.environment = environment
            self.started = started
            self.did = did
            self.outcome = outcome
            self.errors = errors
            self.ended = ended
        }
    }

    /// A project's release and environment in one hour.
    package struct BucketKey: Hashable, Comparable, Sendable {
        package var projectID: Int64
        package var release: String
        package var environment: String
        package var hour: Int64

        package init(projectID: Int64, release: String, environment: String, hour: Int64) {
            self.projectID = projectID
            self.release = release
            self.environment = environment
            self.hour = hour
        }

        package static func < (a: BucketKey, b: BucketKey) -> Bool {
            (a.projectID, a.release, a.environment, a.hour) < (b.projectID, b.release, b.environment, b.hour)
        }
    }

    package struct UserKey: Hashable, Comparable, Sendable {
        package var bucket: BucketKey
        package var did: String

        package init(bucket: BucketKey, did: String) {
            self.bucket = bucket
            self.did = did
        }

        package static func < (a: UserKey, b: UserKey) -> Bool { a.bucket != b.bucket ? a.bucket < b.bucket : a.did < b.did }
    }

    package struct DurationKey: Hashable, Comparable, Sendable {
        package var bucket: BucketKey
        package var index: Int64

        package init(bucket: BucketKey, index: Int64) {
            self.bucket = bucket
            self.index = index
        }

        package static func < (a: DurationKey, b: DurationKey) -> Bool {
            a.bucket != b.bucket ? a.bucket < b.bucket : a.index < b.index
        }
    }

    /// Counter changes per bucket; `errored` and `abnormal` go down when a session moves on to a
    /// worse outcome.
    package var sessions: [BucketKey: SessionTally] = [:]
    /// The worst outcome seen per user and bucket (stored as the maximum of this and the row's).
    package var users: [UserKey: SessionOutcome] = [:]
    package var durations: [DurationKey: Int64] = [:]
    /// States to store, as they stand after the batch.
    package var states: [StateKey: State] = [:]
    /// Releases seen, with their first and last session start (ms): sessions create releases.
    package var releases: [ReleaseKey: (first: Int64, last: Int64)] = [:]

    package struct ReleaseKey: Hashable, Comparable, Sendable {
        package var projectID: Int64
        package var version: String

        package static func < (a: ReleaseKey, b: ReleaseKey) -> Bool { (a.projectID, a.version) < (b.projectID, b.version) }
    }

    package init() {}

    package var isEmpty: Bool { sessions.isEmpty && users.isEmpty && states.isEmpty }

    /// The state keys of the updates in `units`, sorted (the order a back end locks them in).
    package static func stateKeys(of units: [WriteUnit]) -> [StateKey] {
        var keys = Set<StateKey>()
        for unit in units {
            for case .update(let update) in unit.sessions { keys.insert(StateKey(projectID: update.projectID, sid: update.sid)) }
        }
        return keys.sorted()
    }

    /// Applies every session record of `units` in order; `stored` holds the states the database
    /// had for `stateKeys(of:)` (absent: a session not seen yet).
    package static func collect(_ units: [WriteUnit], stored: [StateKey: State]) -> SessionWrites {
        var writes = SessionWrites()
        for unit in units {
            for record in unit.sessions {
                switch record {
                case .update(let update): writes.apply(update, stored: stored)
                case .aggregates(let aggregates): for aggregate in aggregates { writes.add(aggregate) }
                }
            }
        }
        return writes
    }

    mutating func apply(_ update: SessionUpdate, stored: [StateKey: State]) {
        let key = StateKey(projectID: update.projectID, sid: update.sid)
        let previous = states[key] ?? stored[key]
        if previous?.ended == true { return }
        var state =
            previous
            ?? State(
                release: update.release, environment: update.environment, started: update.started, did: update.did, outcome: .healthy,
                errors: 0, ended: false)
        let bucket = BucketKey(
            projectID: update.projectID, release: state.release, environment: state.environment,
            hour: HourlyCounts.hour(ofMilliseconds: state.started))
        var tally = sessions[bucket] ?? SessionTally()
        if previous == nil {
            tally.started += 1
            noteRelease(ReleaseKey(projectID: update.projectID, version: state.release), at: state.started)
        }
        state.errors = max(state.errors, update.errors)
        var outcome = max(state.outcome, update.outcome)
        if state.errors > 0 { outcome = max(outcome, .errored) }
        if outcome != state.outcome {
            Self.move(&tally, from: state.outcome, to: outcome)
            state.outcome = outcome
        }
        sessions[bucket] = tally
        if let did = state.did {
            let userKey = UserKey(bucket: bucket, did: did)
            users[userKey] = max(users[userKey] ?? .healthy, outcome)
        }
        if update.isTerminal {
            state.ended = true
            if update.status == .exited, let duration = update.duration, let index = SessionDurations.bucket(seconds: duration) {
                durations[DurationKey(bucket: bucket, index: index), default: 0] += 1
            }
        }
        states[key] = state
    }

    mutating func add(_ aggregate: SessionAggregate) {
        let bucket = BucketKey(
            projectID: aggregate.projectID, release: aggregate.release, environment: aggregate.environment,
            hour: HourlyCounts.hour(ofMilliseconds: aggregate.started))
        sessions[bucket] =
            (sessions[bucket] ?? SessionTally())
            + SessionTally(started: aggregate.total, errored: aggregate.errored, abnormal: aggregate.abnormal, crashed: aggregate.crashed)
        if let did = aggregate.did {
            let userKey = UserKey(bucket: bucket, did: did)
            users[userKey] = max(users[userKey] ?? .healthy, aggregate.worst)
        }
        noteRelease(ReleaseKey(projectID: aggregate.projectID, version: aggregate.release), at: aggregate.started)
    }

    private mutating func noteRelease(_ key: ReleaseKey, at time: Int64) {
        let seen = releases[key] ?? (time, time)
        releases[key] = (min(seen.first, time), max(seen.last, time))
    }

    private static func move(_ tally: inout SessionTally, from old: SessionOutcome, to new: SessionOutcome) {
        func add(_ outcome: SessionOutcome, _ delta: Int64) {
            switch outcome {
            case .healthy: break
            case .errored: tally.errored += delta
            case .abnormal: tally.abnormal += delta
            case .crashed: tally.crashed += delta
            }
        }
        add(old, -1)
        add(new, 1)
    }
}
