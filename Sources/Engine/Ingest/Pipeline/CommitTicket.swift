package import NIOConcurrencyHelpers
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
    /// The ticket's place in its sink's deadline list.
    fileprivate let serial: UInt64

    /// Made on the waiter's loop, which is the sink's: the sink starts the ticket's deadline.
    package init(sink: EventLoopCommitSink, waiter: NIOLoopBound<any CommitWaiter>, sequence: UInt32) {
        self.sink = sink
        self.waiter = waiter
        self.sequence = sequence
        serial = sink.track(waiter.value, sequence: sequence)
    }

    /// The unit never made it into the queue (full, or shutting down): its deadline is moot.
    /// On the waiter's loop.
    package func withdraw() {
        sink.settle(serial)
    }
}

/// A request waited longer than the ack deadline for its batch to commit. Its event stays
/// queued and will be written; the client is told to retry, which a duplicate id makes harmless.
package struct CommitDeadlineExceeded: Error, CustomStringConvertible {
    package let seconds: Double

    package init(seconds: Double) {
        self.seconds = seconds
    }

    package var description: String { "the event did not commit within \(seconds) s; it stays queued" }
}

/// One per event loop: delivers the outcome of a batch to every waiter of that loop in one task.
///
/// It also keeps the waiters' deadlines: a database that hangs (a lock, a stalled disk, a network
/// partition) must not hang every client with it. A waiter still waiting `deadline` after its
/// ticket was made is told `CommitDeadlineExceeded`; the writer's later word on that ticket is
/// stale by then and the waiter ignores it (it checks the sequence).
package final class EventLoopCommitSink: Sendable {
    package let eventLoop: any EventLoop
    private let deadline: TimeAmount
    /// Tickets in the order they were made, which is queue order on this loop. Touched on the loop only.
    private let pending: NIOLoopBoundBox<Pending>

    /// Set once at startup (`ack_timeout_seconds`), before the first sink is made.
    package static let defaultDeadline = NIOLockedValueBox(TimeAmount.seconds(30))

    private final class Pending {
        struct Entry {
            let waiter: any CommitWaiter
            let sequence: UInt32
            let expires: NIODeadline
            var settled = false
        }

        /// In serial order; `entries.first` has serial `firstSerial`. Settled entries leave from
        /// the front, so one answered late (another writer's batch) or never queued costs a flag
        /// until those before it are settled or expire.
        var entries = CircularBuffer<Entry>()
        var firstSerial: UInt64 = 0
        var timer: Scheduled<Void>?

        func settle(_ serial: UInt64) {
            guard serial >= firstSerial, serial - firstSerial < UInt64(entries.count) else { return }
            entries[entries.index(entries.startIndex, offsetBy: Int(serial - firstSerial))].settled = true
            while entries.first?.settled == true {
                entries.removeFirst()
                firstSerial += 1
            }
        }
    }

    package init(eventLoop: any EventLoop, deadline: TimeAmount? = nil) {
        self.eventLoop = eventLoop
        self.deadline = deadline ?? Self.defaultDeadline.withLockedValue { $0 }
        pending = NIOLoopBoundBox.makeBoxSendingValue(Pending(), eventLoop: eventLoop)
    }

    /// Called on the writer thread once per batch with this loop's tickets, in queue order.
    package func deliver(_ tickets: [CommitTicket], result: Result<Void, any Error>) {
        eventLoop.execute {
            let pending = self.pending.value
            for ticket in tickets {
                pending.settle(ticket.serial)
                ticket.waiter.value.batchFinished(sequence: ticket.sequence, result: result)
            }
        }
    }

    /// Starts a ticket's deadline; returns its serial. On the loop.
    fileprivate func track(_ waiter: any CommitWaiter, sequence: UInt32) -> UInt64 {
        let pending = self.pending.value
        pending.entries.append(.init(waiter: waiter, sequence: sequence, expires: eventLoop.now + deadline))
        if pending.timer == nil { schedule(pending) }
        return pending.firstSerial + UInt64(pending.entries.count - 1)
    }

    fileprivate func settle(_ serial: UInt64) {
        pending.value.settle(serial)
    }

    /// Tickets whose deadline is still running (for tests).
    package var tracked: Int { pending.value.entries.count }

    private func schedule(_ pending: Pending) {
        guard let first = pending.entries.first else { return }
        // Expiries are gathered to the next 100 ms: one timer per loop, not per request.
        pending.timer = eventLoop.assumeIsolated().scheduleTask(deadline: first.expires + .milliseconds(100)) {
            pending.timer = nil
            let now = self.eventLoop.now
            let seconds = Double(self.deadline.nanoseconds) / 1e9
            while let first = pending.entries.first, first.settled || first.expires <= now {
                pending.entries.removeFirst()
                pending.firstSerial += 1
                guard !first.settled else { continue }
                first.waiter.batchFinished(sequence: first.sequence, result: .failure(CommitDeadlineExceeded(seconds: seconds)))
            }
            self.schedule(pending)
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
