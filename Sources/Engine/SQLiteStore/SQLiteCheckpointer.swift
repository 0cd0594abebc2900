import Foundation

/// Runs WAL checkpoints on its own thread and connection, so the writer's commits rarely pay for
/// them. With only SQLite's automatic checkpoint, the commit that crosses the threshold copies
/// the whole WAL into the database and fsyncs it: measured at 25-50 ms per checkpoint, which
/// every request waiting on that batch's ack felt. A PASSIVE checkpoint runs beside the writer
/// without blocking it, and leaves the writer's automatic checkpoint only the tail to copy.
final class SQLiteCheckpointer: @unchecked Sendable {
    private let connection: SQLiteConnection
    private let interval: Double
    private let condition = NSCondition()
    private var stopped = false
    private var finished = false

    /// `@unchecked Sendable`: `connection` is used only by the checkpoint thread until `stop()`
    /// has joined it; the flags are guarded by `condition`.
    init(path: String, interval: Double = 0.1) throws {
        connection = try SQLiteConnection(path: path)
        self.interval = interval
        let thread = Thread { [self] in loop() }
        thread.name = "pit-checkpoint"
        thread.start()
    }

    private func loop() {
        condition.lock()
        while !stopped {
            condition.unlock()
            try? connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
            condition.lock()
            if !stopped { _ = condition.wait(until: Date().addingTimeInterval(interval)) }
        }
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    /// Stops the thread and waits for it; the last checkpoint is the writer's, on close.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }
}
