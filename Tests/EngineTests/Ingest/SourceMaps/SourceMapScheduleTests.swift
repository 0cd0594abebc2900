import Foundation
import NIOConcurrencyHelpers
import NIOCore
import PitIngest
import PitModel
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
    /// The first event's map is slow to read: it is stored as sent at the deadline, its map is
    /// parsed meanwhile, and the next event resolves from the cache.
    @Test func aLateEventIsStoredAsSentAndTheNextOneIsResolved() async throws {
        let lookup = SlowArtifactLookup()
        try lookup.base.addFixture(projectID: 1, release: SourceMapResolverTests.release)
        let resolver = SourceMapResolver(lookup: lookup)
        let fixture = try await PipelineFixture(
            sourceMaps: resolver, sourceMapSchedule: SourceMapSchedule(deadline: .milliseconds(500)))
        let debugID = try SourceMapFixture.expected().debugID
        let first = try SourceMapFixture.event(debugID: debugID)
        let late = String(repeating: "a", count: 32)
        let resolved = String(repeating: "b", count: 32)
        try await fixture.withWriter {
            let answered = try await fixture.pipeline.envelope(fixture.request(SourceMapIngestTests.envelope(late, first)))
            #expect(answered?.hex == late, "acknowledged without its map")
            lookup.gate.open()
            #expect(await eventually { resolver.cache.count == 1 }, "the late resolution parsed and cached the map")
            _ = try await fixture.pipeline.envelope(
                fixture.request(SourceMapIngestTests.envelope(resolved, SourceMapIngestTests.renamedBuild(first))))
        }
        let lateRow = try #require(try await fixture.reader.event(projectID: 1, eventID: EventID(late)!))
        let lateFrames = try SourceMapResolverTests.resolved(lateRow.payload)
        #expect(lateFrames.rawFrames.isEmpty, "stored as sent")
        #expect(lateFrames.frames.last?["function"] as? String == "c")
        let resolvedRow = try #require(try await fixture.reader.event(projectID: 1, eventID: EventID(resolved)!))
        let resolvedFrames = try SourceMapResolverTests.resolved(resolvedRow.payload)
        #expect(resolvedFrames.frames.last?["function"] as? String == "parseConfig")
        #expect(resolvedFrames.rawFrames.last?["function"] as? String == "zz")
        #expect(lateRow.issueID != resolvedRow.issueID, "the late event keeps the issue of its minified frames")
        #expect(try await fixture.reader.issues(projectID: 1, query: IssueQuery()).count == 2)
    }
}
