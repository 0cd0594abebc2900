package import NIOCore

/// Something that waits, on an event loop, for the batch holding its write unit to commit: the
/// ingest channel handler of one connection.
package protocol CommitWaiter: AnyObject {
    /// Runs on the waiter's event loop. `sequence` is the number the waiter gave its ticket, so a
    /// waiter that moved on (connection closed, next request) can tell a stale outcome.
    func batchFinished(sequence: UInt32, result: Result<Void, any Error>)
}

/// A write unit's claim on the outcome of its batch.
///
/// Completing a request used to resume a continuation per event: one thread hop (writer → pool
/// → event loop) per request. Tickets are gathered per event loop instead, and the writer wakes
/// each loop once per batch (`EventLoopCommitSink`), whatever the batch size.
package struct CommitTicket: Sendable {
    package let sink: EventLoopCommitSink
    package let waiter: NIOLoopBound<any CommitWaiter>
    package let sequence: UInt32

    package init(sink: EventLoopCommitSink, waiter: NIOLoopBound<any CommitWaiter>, sequence: UInt32) {
        self.sink = sink
        self.waiter = waiter
        self.sequence = sequence
    }
}

/// One per event loop: delivers the outcome of a batch to every waiter of that loop in one task.
package final class EventLoopCommitSink: Sendable {
    package let eventLoop: any EventLoop

    package init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Called on the writer thread once per batch with this loop's tickets, in queue order.
    package func deliver(_ tickets: [CommitTicket], result: Result<Void, any Error>) {
        eventLoop.execute {
            for ticket in tickets { ticket.waiter.value.batchFinished(sequence: ticket.sequence, result: result) }
        }
    }

    /// Hands each sink its share of a batch's tickets: one `deliver` per event loop.
    package static func deliver(_ tickets: [CommitTicket], result: Result<Void, any Error>) {
        guard let first = tickets.first else { return }
        // A batch usually holds tickets of one or two loops (one per core): a linear partition
        // beats hashing here.
        if tickets.allSatisfy({ $0.sink === first.sink }) {
            first.sink.deliver(tickets, result: result)
            return
        }
        var groups: [(sink: EventLoopCommitSink, tickets: [CommitTicket])] = []
        for ticket in tickets {
            if let index = groups.firstIndex(where: { $0.sink === ticket.sink }) {
                groups[index].tickets.append(ticket)
            } else {
                groups.append((ticket.sink, [ticket]))
            }
        }
        for group in groups { group.sink.deliver(group.tickets, result: result) }
    }
}
