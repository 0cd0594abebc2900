/// What code above the storage layer needs to know about a back end's error without knowing the
/// back end: the writer retries a busy database and splits a batch whose data may be at fault,
/// the retention purger reopens a store whose session may be gone.
package protocol StoreError: Error {
    /// Another connection holds the write lock past the busy timeout (SQLite's BUSY/LOCKED): the
    /// same write may well succeed a moment later.
    var isBusy: Bool { get }
    /// The statement refused the values it was given (a constraint, a value too big): another
    /// unit of the same batch may well write. Errors about the database itself fail any write.
    var mayBeCausedByData: Bool { get }
    /// The store is still usable after this error (a local file); false when its connection or
    /// session may be lost and a fresh store should be opened.
    var leavesStoreUsable: Bool { get }
}
