import NIOCore
import NIOEmbedded
import PitIngest
import Testing

/// Records the outcomes a waiter is told, with the loop it was told on.
private final class RecordingWaiter: CommitWaiter {
    var outcomes: [(sequence: UInt32, success: Bool)] = []
    func batchFinished(sequence: UInt32, result: Result<Void, any Error>) {
        if case .success = result { outcomes.append((sequence, true)) } else { outcomes.append((sequence, false)) }
    }
}

private struct WriteFailed: Error {}

@Suite struct CommitTicketTests {
    @Test func oneDeliveryPerLoopPerBatchInQueueOrder() throws {
        let loopA = EmbeddedEventLoop()
        let loopB = EmbeddedEventLoop()
        let sinkA = EventLoopCommitSink(eventLoop: loopA)
        let sinkB = EventLoopCommitSink(eventLoop: loopB)
        let waiterA = RecordingWaiter()
        let waiterB = RecordingWaiter()
        let tickets = [
            CommitTicket(sink: sinkA, waiter: NIOLoopBound(waiterA, eventLoop: loopA), sequence: 1),
            CommitTicket(sink: sinkB, waiter: NIOLoopBound(waiterB, eventLoop: loopB), sequence: 7),
            CommitTicket(sink: sinkA, waiter: NIOLoopBound(waiterA, eventLoop: loopA), sequence: 2),
        ]
        EventLoopCommitSink.deliver(tickets, result: .success(()))
        // Nothing runs until each loop gets its turn: the writer thread only schedules.
        #expect(waiterA.outcomes.isEmpty && waiterB.outcomes.isEmpty)
        loopA.run()
        #expect(waiterA.outcomes.map(\.sequence) == [1, 2])
        #expect(waiterB.outcomes.isEmpty)
        loopB.run()
        #expect(waiterB.outcomes.map(\.sequence) == [7])
        #expect(waiterA.outcomes.allSatisfy(\.success) && waiterB.outcomes.allSatisfy(\.success))
        try loopA.syncShutdownGracefully()
        try loopB.syncShutdownGracefully()
    }

    @Test func failuresReachEveryWaiter() throws {
        let loop = EmbeddedEventLoop()
        let sink = EventLoopCommitSink(eventLoop: loop)
        let waiter = RecordingWaiter()
        EventLoopCommitSink.deliver(
            [CommitTicket(sink: sink, waiter: NIOLoopBound(waiter, eventLoop: loop), sequence: 3)],
            result: .failure(WriteFailed()))
        loop.run()
        #expect(waiter.outcomes.count == 1 && waiter.outcomes[0].sequence == 3 && !waiter.outcomes[0].success)
        try loop.syncShutdownGracefully()
    }
}

/// A database that hangs must not hang the clients: past the deadline a waiter is told the
/// commit failed, once; a ticket answered in time is not.
@Suite struct CommitDeadlineTests {
    @Test func aWaiterStillWaitingAtTheDeadlineIsToldSo() throws {
        let loop = EmbeddedEventLoop()
        let sink = EventLoopCommitSink(eventLoop: loop, deadline: .seconds(2))
        let waiter = RecordingWaiter()
        let late = CommitTicket(sink: sink, waiter: NIOLoopBound(waiter, eventLoop: loop), sequence: 1)
        loop.advanceTime(by: .seconds(1))
        #expect(waiter.outcomes.isEmpty)
        loop.advanceTime(by: .seconds(2))
        #expect(waiter.outcomes.count == 1 && waiter.outcomes[0].sequence == 1 && !waiter.outcomes[0].success)
        // The writer's word comes later; the waiter sees the same sequence again and ignores it.
        EventLoopCommitSink.deliver([late], result: .success(()))
        loop.run()
        #expect(waiter.outcomes.count == 2)
        try loop.syncShutdownGracefully()
    }

    @Test func aTicketAnsweredInTimeDoesNotExpire() throws {
        let loop = EmbeddedEventLoop()
        let sink = EventLoopCommitSink(eventLoop: loop, deadline: .seconds(2))
        let waiter = RecordingWaiter()
        let tickets = (1...3).map { CommitTicket(sink: sink, waiter: NIOLoopBound(waiter, eventLoop: loop), sequence: $0) }
        EventLoopCommitSink.deliver(tickets, result: .success(()))
        loop.run()
        loop.advanceTime(by: .seconds(10))
        #expect(waiter.outcomes.map(\.sequence) == [1, 2, 3])
        #expect(waiter.outcomes.allSatisfy { $0.success })
        try loop.syncShutdownGracefully()
    }

    /// Another writer's batch may commit first, and a unit the queue refused is never delivered:
    /// neither keeps the others' entries (and their handlers) around until the deadline.
    @Test func outOfOrderAndWithdrawnTicketsAreForgottenAtOnce() throws {
        let loop = EmbeddedEventLoop()
        let sink = EventLoopCommitSink(eventLoop: loop, deadline: .seconds(30))
        let waiter = RecordingWaiter()
        let tickets = (1...4).map { CommitTicket(sink: sink, waiter: NIOLoopBound(waiter, eventLoop: loop), sequence: $0) }
        #expect(sink.tracked == 4)
        tickets[0].withdraw()
        EventLoopCommitSink.deliver([tickets[3]], result: .success(()))
        loop.run()
        #expect(sink.tracked == 3, "the 1st is gone; the 4th is settled but waits behind the 2nd and 3rd")
        EventLoopCommitSink.deliver([tickets[2], tickets[1]], result: .success(()))
        loop.run()
        #expect(sink.tracked == 0)
        loop.advanceTime(by: .seconds(60))
        #expect(waiter.outcomes.map(\.sequence) == [4, 3, 2], "no deadline failure for anyone")
        try loop.syncShutdownGracefully()
    }
}
