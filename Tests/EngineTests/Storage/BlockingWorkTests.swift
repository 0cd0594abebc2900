import PitStorage
import Foundation
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
}
