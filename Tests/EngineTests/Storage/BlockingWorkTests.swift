import Foundation
import PitStorage
import Testing

@Suite struct BlockingWorkTests {
    @Test func answersComeBackAndErrorsPassThrough() async throws {
        #expect(try await BlockingWork.run(timeout: 5) { 6 * 7 } == 42)
        await #expect(throws: AdminError.self) { try await BlockingWork.run(timeout: 5) { throw AdminError("no") } }
    }

    /// A call that hangs (a locked database) gives up its caller at the deadline.
    @Test func aHungCallTimesOut() async throws {
        let started = ContinuousClock.now
        await #expect(throws: BlockingWork.TimedOut.self) {
            try await BlockingWork.run(timeout: 0.2) { Thread.sleep(forTimeInterval: 30) }
        }
        // Far less than the work's 30 s; not a tight bound, since the rest of the suite may hold
        // the test's own threads for seconds.
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    /// The deadline of async admin calls (`AdminAccess`): answers and errors pass, a call that
    /// does not answer in time gives up its caller and is cancelled.
    @Test func asyncWorkHasADeadlineToo() async throws {
        // Generous deadlines where an answer is expected: the whole suite shares two cores.
        #expect(try await BlockingWork.withDeadline(60) { 6 * 7 } == 42)
        await #expect(throws: AdminError.invalid("no")) { try await BlockingWork.withDeadline(60) { throw AdminError.invalid("no") } }
        let started = ContinuousClock.now
        await #expect(throws: BlockingWork.TimedOut.self) {
            try await BlockingWork.withDeadline(0.2) { try await Task.sleep(for: .seconds(30)) }
        }
        #expect(ContinuousClock.now - started < .seconds(20))
    }
}
