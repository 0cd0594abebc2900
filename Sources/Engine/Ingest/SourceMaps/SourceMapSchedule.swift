import NIOConcurrencyHelpers

/// How long an event's acknowledgement may wait for its source maps, and how many resolutions
/// run at once. A cached map resolves in microseconds, but a cold one is read from the store and
/// parsed first (a multi-MB bundle map: its whole mappings decoded), and no ack may wait for
/// that: past `deadline` the event is queued as sent and its resolution goes on in the
/// background, so that the map is parsed and cached for the events that follow.
///
/// The late result goes to the caller's `whenLate`: the pipeline holds a late event durably
/// (`deferred_events`, acknowledged with its batch) and writes it when its resolution finishes
/// (`IngestPipeline+DeferredEvents`), as Sentry shows an event once its processing is done.
///
/// Bounded: at most `maximumRunning` resolutions run and `maximumWaiting` wait for a turn;
/// an event that finds no room is queued as sent without trying (`Outcome.skipped`).
package final class SourceMapSchedule: Sendable {
    /// The longest an event waits for its resolution; zero: it never waits (every resolution
    /// runs in the background).
    package let deadline: Duration
    /// How long the instance that holds a late event has to write it before any instance may
    /// claim it (`IngestPipeline+DeferredEvents`): far longer than a resolution takes.
    package let holdLease: Duration
    /// Resolutions running at once: each may parse a multi-MB map, a CPU-bound task.
    package let maximumRunning: Int
    /// Resolutions admitted beyond the running ones, waiting for a turn.
    package let maximumWaiting: Int
    private let state = NIOLockedValueBox(State())

    private struct State {
        var running = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
        var admitted = 0
    }

    package enum Outcome<Value: Sendable>: Sendable {
        /// The work finished within the deadline.
        case finished(Value)
        /// The deadline passed first; the work goes on and its result goes to `whenLate`.
        case late
        /// No room to run it; it was not started.
        case skipped
    }

    package init(
        deadline: Duration = .milliseconds(50), holdLease: Duration = .seconds(60), maximumRunning: Int = 4, maximumWaiting: Int = 256
    ) {
        self.deadline = max(deadline, .zero)
        self.holdLease = max(holdLease, .milliseconds(1))
        self.maximumRunning = max(1, maximumRunning)
        self.maximumWaiting = max(0, maximumWaiting)
    }

    /// Resolutions admitted and not finished (running or waiting).
    package var admitted: Int { state.withLockedValue { $0.admitted } }

    /// `work`'s result if it finishes within the deadline; past it, the result goes to
    /// `whenLate` when the work finishes. The work runs in a task of its own either way, so that
    /// what it caches serves the next events.
    package func run<Value: Sendable>(
        _ work: @escaping @Sendable () async -> Value, whenLate: (@Sendable (Value) async -> Void)? = nil
    ) async -> Outcome<Value> {
        let admitted = state.withLockedValue { state in
            guard state.admitted < maximumRunning + maximumWaiting else { return false }
            state.admitted += 1
            return true
        }
        guard admitted else { return .skipped }
        return await withCheckedContinuation { continuation in
            let answer = Answer(continuation)
            let timer: Task<Void, Never>?
            if deadline == .zero {
                answer.give(.late)
                timer = nil
            } else {
                timer = Task { [deadline] in
                    try? await Task.sleep(for: deadline)
                    guard !Task.isCancelled else { return }
                    answer.give(.late)
                }
            }
            // Unstructured on purpose: it outlives the request that started it. Shutdown may
            // drop it: a late event is held durably already, and the next start resolves it.
            Task {
                await self.takeTurn()
                let value = await work()
                self.finishTurn()
                timer?.cancel()
                if !answer.give(.finished(value)) { await whenLate?(value) }
            }
        }
    }

    private func takeTurn() async {
        let mustWait = state.withLockedValue { state in
            guard state.running >= maximumRunning else {
                state.running += 1
                return false
            }
            return true
        }
        guard mustWait else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            // The turn may have come free meanwhile: then it is taken at once.
            let now = state.withLockedValue { state in
                guard state.running >= maximumRunning else {
                    state.running += 1
                    return true
                }
                state.waiting.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Hands the turn to the longest waiting resolution, if any.
    private func finishTurn() {
        let next = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            state.admitted -= 1
            guard !state.waiting.isEmpty else {
                state.running -= 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }

    /// The first of the deadline and the work to come answers; the other finds it answered.
    private final class Answer<Value: Sendable>: Sendable {
        private let continuation: NIOLockedValueBox<CheckedContinuation<Outcome<Value>, Never>?>

        init(_ continuation: CheckedContinuation<Outcome<Value>, Never>) {
            self.continuation = NIOLockedValueBox(continuation)
        }

        /// False when the other had answered already.
        @discardableResult
        func give(_ outcome: Outcome<Value>) -> Bool {
            let waiting = continuation.withLockedValue { value in
                defer { value = nil }
                return value
            }
            waiting?.resume(returning: outcome)
            return waiting != nil
        }
    }
}
