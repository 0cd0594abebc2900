import PitIngest
import PitStorage
import Testing

/// The counting rules both back ends apply: monotonic outcomes, one start per session, ended
/// sessions frozen, durations once.
@Suite struct SessionWritesTests {
    static let started: Int64 = 1_700_000_000_000
    static let bucket = SessionWrites.BucketKey(projectID: 1, release: "1.0", environment: "production", hour: started / 3_600_000)

    func update(_ sid: String, _ status: SessionUpdate.Status = .ok, errors: Int64 = 0, duration: Double? = nil, did: String? = "u1")
        -> WriteUnit
    {
        WriteUnit(
            event: nil, items: [],
            sessions: [
                .update(
                    SessionUpdate(
                        projectID: 1, sid: sid, did: did, release: "1.0", started: Self.started, status: status, errors: errors,
                        duration: duration))
            ])
    }

    @Test func outcomesOnlyGetWorse() {
        let units = [
            update("a"), update("a", errors: 2), update("a", .ok, errors: 1), update("a", .crashed), update("a", .exited),
            update("b", .exited, duration: 30), update("b", .crashed), update("c", .abnormal, did: "u2"),
        ]
        let writes = SessionWrites.collect(units, stored: [:])
        #expect(writes.sessions[Self.bucket] == SessionTally(started: 3, errored: 0, abnormal: 1, crashed: 1))
        #expect(writes.users[SessionWrites.UserKey(bucket: Self.bucket, did: "u1")] == .crashed)
        #expect(writes.users[SessionWrites.UserKey(bucket: Self.bucket, did: "u2")] == .abnormal)
        let a = writes.states[SessionWrites.StateKey(projectID: 1, sid: "a")]
        #expect(a?.outcome == .crashed && a?.errors == 2 && a?.ended == true)
        // b exited cleanly with a duration; its later crash update changes nothing.
        #expect(writes.states[SessionWrites.StateKey(projectID: 1, sid: "b")]?.outcome == .healthy)
        #expect(writes.durations == [SessionWrites.DurationKey(bucket: Self.bucket, index: SessionDurations.bucket(seconds: 30)!): 1])
    }

    @Test func storedStatesCarryOver() {
        let key = SessionWrites.StateKey(projectID: 1, sid: "a")
        let stored = SessionWrites.State(
            release: "1.0", environment: "production", started: Self.started, did: "u1", outcome: .errored, errors: 1, ended: false)
        // Errored before: a crash moves the session from errored to crashed, no new start.
        let writes = SessionWrites.collect([update("a", .crashed), update("x", .exited, did: nil)], stored: [key: stored])
        #expect(writes.sessions[Self.bucket] == SessionTally(started: 1, errored: -1, abnormal: 0, crashed: 1))
        #expect(writes.users.count == 1, "a session without did counts no user")
        // Ended before: nothing.
        var ended = stored
        ended.ended = true
        let none = SessionWrites.collect([update("a", .crashed)], stored: [key: ended])
        #expect(none.sessions.isEmpty && none.states.isEmpty && none.users.isEmpty)
    }

    @Test func attributesOfTheFirstUpdateStay() {
        var later = SessionUpdate(projectID: 1, sid: "a", release: "2.0", environment: "other", started: Self.started + 7_200_000)
        later.status = .exited
        let writes = SessionWrites.collect(
            [update("a"), WriteUnit(event: nil, items: [], sessions: [.update(later)])], stored: [:])
        #expect(Array(writes.sessions.keys) == [Self.bucket])
        #expect(writes.releases.count == 1)
    }

    @Test func aggregatesAdd() {
        let aggregate = SessionAggregate(projectID: 1, did: "u9", release: "1.0", started: Self.started, exited: 5, errored: 2, crashed: 1)
        let writes = SessionWrites.collect(
            [WriteUnit(event: nil, items: [], sessions: [.aggregates([aggregate, aggregate])])], stored: [:])
        #expect(writes.sessions[Self.bucket] == SessionTally(started: 16, errored: 4, abnormal: 0, crashed: 2))
        #expect(writes.sessions[Self.bucket]?.healthy == 10)
        #expect(writes.users[SessionWrites.UserKey(bucket: Self.bucket, did: "u9")] == .crashed)
        #expect(writes.states.isEmpty)
    }

    @Test func durationBuckets() {
        #expect(SessionDurations.bucket(seconds: -1) == nil && SessionDurations.bucket(seconds: .nan) == nil)
        #expect(SessionDurations.bucket(seconds: 0) == 0)
        #expect(SessionDurations.bucket(seconds: 1e300) == SessionDurations.bucketCount - 1)
        for seconds in [0.5, 3.0, 60.0, 3600.0, 86400.0] {
            let value = SessionDurations.representative(SessionDurations.bucket(seconds: seconds)!)
            #expect(abs(value - seconds) <= (seconds + 1) * 0.1, "\(seconds) → \(value)")
        }
        var counts: [Int64: Int64] = [:]
        for seconds in 1...100 { counts[SessionDurations.bucket(seconds: Double(seconds))!, default: 0] += 1 }
        let p50 = SessionDurations.percentile(0.5, of: counts)!
        let p90 = SessionDurations.percentile(0.9, of: counts)!
        #expect(abs(p50 - 50) < 6 && abs(p90 - 90) < 10, "\(p50) \(p90)")
        #expect(SessionDurations.percentile(0.5, of: [:]) == nil)
    }
}
