import NIOConcurrencyHelpers

/// Whether the writers can reach the database, for `/ready` and the logs: a load balancer takes an
/// instance that cannot commit out of rotation while it answers 503 and reconnects.
package final class StorageHealth: Sendable {
    private struct State {
        var failing = false
        var lastError: String?
        var failures = 0
    }

    private let state = NIOLockedValueBox(State())

    package init() {}

    package var isHealthy: Bool { state.withLockedValue { !$0.failing } }
    package var lastError: String? { state.withLockedValue { $0.failing ? $0.lastError : nil } }

    /// Returns true when this changes the state (so the caller logs the transition once).
    @discardableResult
    package func recordSuccess() -> Bool {
        state.withLockedValue { state in
            defer {
                state.failing = false
                state.failures = 0
            }
            return state.failing
        }
    }

    @discardableResult
    package func recordFailure(_ error: any Error) -> Bool {
        state.withLockedValue { state in
            defer {
                state.failing = true
                state.failures += 1
                state.lastError = "\(error)"
            }
            return !state.failing
        }
    }
}
