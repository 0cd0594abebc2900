import Synchronization

/// The bytes of request bodies held in memory across every connection and event loop at once
/// (`ingest_inflight_bytes`): bodies being collected and, while a request is prepared, its
/// decompressed body. Per-request caps bound one request; without this nothing bounded how many
/// of them were held together (20 parallel gzip bodies held ~4 GiB).
///
/// One atomic word shared by all loops: a reservation is one add (and a subtract when refused),
/// a release one subtract, so the hot path pays two uncontended atomics per request.
package final class InflightBudget: Sendable {
    package let limit: Int
    private let used = Atomic<Int>(0)

    package init(limit: Int) {
        self.limit = max(0, limit)
    }

    /// Takes `bytes` from the budget; false (and nothing taken) when that would exceed it.
    package func reserve(_ bytes: Int) -> Bool {
        guard bytes > 0 else { return true }
        // Add first and undo on overshoot: one atomic on the common path instead of a CAS loop.
        // Two racing requests near the limit may both be refused; either may retry.
        if used.wrappingAdd(bytes, ordering: .relaxed).newValue <= limit { return true }
        used.wrappingSubtract(bytes, ordering: .relaxed)
        return false
    }

    package func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        used.wrappingSubtract(bytes, ordering: .relaxed)
    }

    /// Bytes reserved now.
    package var inUse: Int { used.load(ordering: .relaxed) }

    /// Bytes that may still be reserved.
    package var available: Int { max(0, limit - inUse) }
}
