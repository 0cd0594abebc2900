/// The write side of a storage back end: it turns batches from the ingest queue into one
/// transaction. Implementations are driven by exactly one `BatchWriter` thread, so they may keep
/// non-thread-safe state (prepared statements, the fingerprint-to-issue index).
///
/// SQLite implements it today; PostgreSQL implements the same protocol for scale-out.
package protocol BatchStore: AnyObject {
    /// Writes every entry of `batch` in one transaction and returns what it did. Throws when the
    /// transaction could not commit; then nothing of the batch is durable.
    func write(_ batch: [IngestQueue.Entry]) throws -> BatchOutcome
    /// The same, told whether the queue held nothing more when the batch was taken: a store may
    /// then defer work that later batches can share (SQLiteBatchStore's counters).
    func write(_ batch: [IngestQueue.Entry], queueEmpty: Bool) throws -> BatchOutcome
    /// How long the store may wait for the next batch before it writes the work it deferred;
    /// nil when it deferred nothing.
    var deferredWorkDeadline: Double? { get }
    /// Writes deferred work now (the writer calls it when no batch came in time).
    func writeDeferredWork() throws
    /// Releases the connection; called once, after the last batch.
    func close()
}

extension BatchStore {
    package func write(_ batch: [IngestQueue.Entry], queueEmpty: Bool) throws -> BatchOutcome { try write(batch) }
    package var deferredWorkDeadline: Double? { nil }
    package func writeDeferredWork() throws {}
}

package struct BatchOutcome: Sendable, Equatable {
    package var events = 0
    package var duplicates = 0
    package var items = 0
    package var newIssues = 0
    package var regressions = 0
    /// The events written, in order, each with what it did to its issue (for alert rules).
    package var committedEvents: [CommittedEvent] = []

    package init() {}
}
