import Foundation
import NIOConcurrencyHelpers
import NIOCore
import PitIngest
import PitModel
import PitObservability
import PitStorage
import SQLiteStore
import Testing

/// A door a task waits at until the test opens it.
private final class Gate: Sendable {
    private let state = NIOLockedValueBox<(open: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let isOpen = state.withLockedValue { state in
                if !state.open { state.waiting.append(continuation) }
                return state.open
            }
            if isOpen { continuation.resume() }
        }
    }

    func open() {
        let waiting = state.withLockedValue { state in
            state.open = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }
}

/// Polls `condition` every 10 ms for up to 10 s.
private func eventually(_ condition: () async throws -> Bool) async rethrows -> Bool {
    for _ in 0..<1000 {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return false
}

@Suite struct SourceMapScheduleTests {
    @Test func workThatFinishesInTimeIsAnswered() async {
        let schedule = SourceMapSchedule(deadline: .seconds(30))
        guard case .finished(let value) = await schedule.run({ 7 }) else {
            Issue.record("expected the work's value")
            return
        }
        #expect(value == 7)
        #expect(await eventually { schedule.admitted == 0 })
    }

    @Test func pastTheDeadlineTheAnswerComesAndTheWorkGoesOn() async {
        let schedule = SourceMapSchedule(deadline: .milliseconds(20))
        let gate = Gate()
        let done = NIOLockedValueBox(false)
        let outcome = await schedule.run {
            await gate.wait()
            done.withLockedValue { $0 = true }
            return 1
        }
        guard case .late = outcome else {
            Issue.record("expected late, got \(outcome)")
            return
        }
        // The work is still held at its gate: the answer came at the deadline, not when it ended.
        #expect(!done.withLockedValue { $0 })
        gate.open()
        #expect(await eventually { done.withLockedValue { $0 } }, "the work finished in the background")
        #expect(await eventually { schedule.admitted == 0 })
    }

    @Test func aZeroDeadlineNeverWaits() async {
        let schedule = SourceMapSchedule(deadline: .zero)
        let ran = NIOLockedValueBox(false)
        guard case .late = await schedule.run({ ran.withLockedValue { $0 = true } }) else {
            Issue.record("expected late")
            return
        }
        #expect(await eventually { ran.withLockedValue { $0 } })
    }

    @Test func runningAndWaitingResolutionsAreBounded() async {
        let schedule = SourceMapSchedule(deadline: .zero, maximumRunning: 1, maximumWaiting: 1)
        let gate = Gate()
        let finished = NIOLockedValueBox(0)
        for _ in 0..<2 {
            guard
                case .late = await schedule.run({
                    await gate.wait()
                    finished.withLockedValue { $0 += 1 }
                })
            else {
                Issue.record("expected late")
                return
            }
        }
        #expect(schedule.admitted == 2)
        guard case .skipped = await schedule.run({ finished.withLockedValue { $0 += 100 } }) else {
            Issue.record("a third resolution finds no room")
            return
        }
        gate.open()
        #expect(await eventually { finished.withLockedValue { $0 } == 2 }, "the waiting one ran after the first, the third never")
        #expect(await eventually { schedule.admitted == 0 })
        guard case .finished = await SourceMapSchedule(deadline: .seconds(30), maximumRunning: 1, maximumWaiting: 0).run({ 0 }) else {
            Issue.record("room again")
            return
        }
    }
}

/// An artifact store whose reads wait at a gate: a cold map that takes longer than the deadline.
private final class SlowArtifactLookup: ArtifactLookup {
    let base = InMemoryArtifactLookup()
    let gate = Gate()

    func file(projectID: Int64, debugID: String, type: ArtifactFileType) async throws -> ArtifactFile? {
        await gate.wait()
        return try await base.file(projectID: projectID, debugID: debugID, type: type)
    }

    func file(projectID: Int64, release: String, dist: String?, url: String) async throws -> ArtifactFile? {
        await gate.wait()
        return try await base.file(projectID: projectID, release: release, dist: dist, url: url)
    }

    func hasArtifacts(projectID: Int64) async throws -> Bool {
        try await base.hasArtifacts(projectID: projectID)
    }
}

@Suite struct SourceMapDeadlineTests {
    /// The first event's map is slow to read: at the deadline the event is held and
    /// acknowledged, nothing of it is shown yet; when its map is parsed it is written resolved,
    /// grouped with the next event, which resolves from the cache.
    @Test func aLateEventIsHeldThenWrittenResolved() async throws {
        let lookup = SlowArtifactLookup()
        try lookup.base.addFixture(projectID: 1, release: SourceMapResolverTests.release)
        let resolver = SourceMapResolver(lookup: lookup)
        let fixture = try await PipelineFixture(
            sourceMaps: resolver, sourceMapSchedule: SourceMapSchedule(deadline: .milliseconds(500)))
        let admin = try SQLiteAdminStore(path: fixture.path)
        let debugID = try SourceMapFixture.expected().debugID
        let first = try SourceMapFixture.event(debugID: debugID)
        let late = String(repeating: "a", count: 32)
        let next = String(repeating: "b", count: 32)
        try await fixture.withWriter {
            let answered = try await fixture.pipeline.envelope(fixture.request(SourceMapIngestTests.envelope(late, first)))
            #expect(answered?.hex == late, "acknowledged without its map")
            #expect(try await admin.deferredEventCount() == 1, "held durably before the answer")
            #expect(try await fixture.reader.event(projectID: 1, eventID: EventID(late)!) == nil, "not shown unresolved")
            lookup.gate.open()
            #expect(await eventually { (try? await admin.deferredEventCount()) == 0 }, "written when its resolution finished")
            _ = try await fixture.pipeline.envelope(
                fixture.request(SourceMapIngestTests.envelope(next, SourceMapIngestTests.renamedBuild(first))))
        }
        let lateRow = try #require(try await fixture.reader.event(projectID: 1, eventID: EventID(late)!))
        let lateFrames = try SourceMapResolverTests.resolved(lateRow.payload)
        #expect(lateFrames.frames.last?["function"] as? String == "parseConfig", "resolved")
        #expect(lateFrames.rawFrames.last?["function"] as? String == "c", "its minified frames kept")
        let nextRow = try #require(try await fixture.reader.event(projectID: 1, eventID: EventID(next)!))
        #expect(lateRow.issueID == nextRow.issueID, "both grouped by their original frames")
        #expect(try await fixture.reader.issues(projectID: 1, query: IssueQuery()).count == 1)
    }

    /// What no resolution wrote (its instance stopped after the hold committed) the sweep of
    /// another pipeline on the same database claims once the lease is over and writes resolved;
    /// a second sweep finds nothing.
    @Test func theSweepWritesWhatNoResolutionWrote() async throws {
        // The first pipeline's resolution waits at a gate that never opens: a lost resolution.
        let stuck = SlowArtifactLookup()
        try stuck.base.addFixture(projectID: 1, release: SourceMapResolverTests.release)
        let fixture = try await PipelineFixture(
            sourceMaps: SourceMapResolver(lookup: stuck), sourceMapSchedule: SourceMapSchedule(deadline: .zero))
        let lookup = InMemoryArtifactLookup()
        try lookup.addFixture(projectID: 1, release: SourceMapResolverTests.release)
        let other = IngestPipeline(
            keys: fixture.keys, queue: fixture.queue, ack: .committed, limits: IngestLimits(), metrics: PitMetrics(),
            retryAfterSeconds: 1, sourceMaps: SourceMapResolver(lookup: lookup))
        let admin = try SQLiteAdminStore(path: fixture.path)
        let debugID = try SourceMapFixture.expected().debugID
        let eventID = String(repeating: "c", count: 32)
        try await fixture.withWriter {
            _ = try await fixture.pipeline.envelope(
                fixture.request(SourceMapIngestTests.envelope(eventID, try SourceMapFixture.event(debugID: debugID))))
            #expect(try await admin.deferredEventCount() == 1)
            #expect(try await other.resolveHeldEvents(from: admin) == 0, "still leased to its instance")
            try SQLiteConnection(path: fixture.path).execute("UPDATE deferred_events SET lease_until = 0")
            #expect(try await other.resolveHeldEvents(from: admin) == 1)
            #expect(await eventually { (try? await admin.deferredEventCount()) == 0 })
            #expect(try await other.resolveHeldEvents(from: admin) == 0)
        }
        let row = try #require(try await fixture.reader.event(projectID: 1, eventID: EventID(eventID)!))
        #expect(try SourceMapResolverTests.resolved(row.payload).frames.last?["function"] as? String == "parseConfig")
        #expect(try await fixture.reader.issues(projectID: 1, query: IssueQuery()).count == 1)
    }

    /// An event claimed more than `maximumHeldEventAttempts` times is written as sent.
    @Test func anEventThatNeverResolvesIsWrittenAsSent() async throws {
        let stuck = SlowArtifactLookup()
        try stuck.base.addFixture(projectID: 1, release: SourceMapResolverTests.release)
        let fixture = try await PipelineFixture(
            sourceMaps: SourceMapResolver(lookup: stuck), sourceMapSchedule: SourceMapSchedule(deadline: .zero))
        let admin = try SQLiteAdminStore(path: fixture.path)
        let eventID = String(repeating: "d", count: 32)
        let event = try SourceMapFixture.event(debugID: try SourceMapFixture.expected().debugID)
        try await fixture.withWriter {
            _ = try await fixture.pipeline.envelope(fixture.request(SourceMapIngestTests.envelope(eventID, event)))
            try SQLiteConnection(path: fixture.path).execute(
                "UPDATE deferred_events SET lease_until = 0, attempts = \(IngestPipeline.maximumHeldEventAttempts)")
            // The resolver's reads would wait forever at the gate: only the attempts let it out.
            #expect(try await fixture.pipeline.resolveHeldEvents(from: admin) == 1)
            #expect(await eventually { (try? await admin.deferredEventCount()) == 0 })
        }
        let row = try #require(try await fixture.reader.event(projectID: 1, eventID: EventID(eventID)!))
        #expect(try SourceMapResolverTests.resolved(row.payload).rawFrames.isEmpty, "as sent")
    }
}
