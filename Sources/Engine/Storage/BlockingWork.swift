import Foundation
import NIOConcurrencyHelpers
import NIOCore
package import NIOPosix

/// Threads for work that blocks (SQLite calls behind a lock, password hashing), and deadlines for
/// async work.
///
/// Swift's cooperative pool has one thread per core; a handler that blocks one of them (SQLite's
/// 5 s busy timeout, a PostgreSQL round trip, 0.1 s of scrypt) takes a core's worth of every
/// other request's progress with it. These pools are small and separate, so the worst a stuck
/// database or a flood of sign-ins can do is queue behind them.
package enum BlockingWork {
    /// Admin-store calls from request handlers (settings pages, sessions, tokens, `/ready`).
    package static let admin: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 4)
        pool.start()
        return pool
    }()

    private static let pending = NIOLockedValueBox(0)
    package static let maxPending = 1024

    /// The work did not finish within its deadline; it may still be running on its thread.
    package struct TimedOut: Error, CustomStringConvertible {
        package let seconds: Double
        package var description: String { "no answer within \(seconds) s" }
    }

    /// Runs `work` on `pool` and waits at most `seconds` for it. A late answer is dropped (the
    /// thread finishes on its own); the caller gets `TimedOut` and goes on.
    package static func run<T: Sendable>(
        on pool: NIOThreadPool = admin, timeout seconds: Double,
        _ work: @escaping @Sendable () throws -> T
    ) async throws -> T {
        // A hung database would otherwise grow the pool's queue by every request that gives up on
        // it; past this many calls waiting or running, new ones fail at once.
        try await admitted(by: pending, deadline: seconds) { finish, release in
            pool.submit { state in
                defer { release() }
                guard case .active = state else {
                    finish(.failure(TimedOut(seconds: 0)))
                    return
                }
                finish(Result { try work() })
            }
            return {}
        }
    }

    private static let pendingAsync = NIOLockedValueBox(0)

    /// Runs async `work` (an admin store's call) and waits at most `seconds` for it: past the
    /// deadline the caller gets `TimedOut` and the work is cancelled, finishing on its own. At
    /// most `maxPending` calls wait at once, as in `run`; past that, new ones fail at once.
    package static func withDeadline<T: Sendable>(
        _ seconds: Double, _ work: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await admitted(by: pendingAsync, deadline: seconds) { finish, release in
            let running = Task {
                defer { release() }
                do {
                    finish(.success(try await work()))
                } catch {
                    finish(.failure(error))
                }
            }
            return { running.cancel() }
        }
    }

    /// What `run` and `withDeadline` share: admission against `counter` (at most `maxPending`
    /// calls in flight), then whichever comes first of the work's result (`start` begins it and
    /// calls `finish`, and `release` once it is done) and the deadline (`start`'s return value
    /// runs then). The continuation is resumed exactly once.
    private static func admitted<T: Sendable>(
        by counter: NIOLockedValueBox<Int>, deadline seconds: Double,
        start: (
            _ finish: @escaping @Sendable (Result<T, any Error>) -> Void, _ release: @escaping @Sendable () -> Void
        ) -> @Sendable () -> Void
    ) async throws -> T {
        let admitted = counter.withLockedValue { count in
            guard count < maxPending else { return false }
            count += 1
            return true
        }
        guard admitted else { throw TimedOut(seconds: 0) }
        let release: @Sendable () -> Void = { counter.withLockedValue { $0 -= 1 } }
        let slot = NIOLockedValueBox<CheckedContinuation<T, any Error>?>(nil)
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            slot.withLockedValue { $0 = continuation }
            let finish: @Sendable (Result<T, any Error>) -> Void = { result in
                slot.withLockedValue { value -> CheckedContinuation<T, any Error>? in
                    defer { value = nil }
                    return value
                }?.resume(with: result)
            }
            let onDeadline = start(finish, release)
            // The deadline runs on an event loop: Dispatch's global queue runs no more blocks at once
            // than there are cores, so blocking work queued there (tests, libraries) held it back.
            MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: .nanoseconds(Int64(seconds * 1e9))) {
                finish(.failure(TimedOut(seconds: seconds)))
                onDeadline()
            }
        }
    }

    /// Waits on this thread for async `work`: for the few callers that run on a thread of their
    /// own (the retention purger's), never on the cooperative pool.
    package static func waitOnThisThread<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
        let result = NIOLockedValueBox<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            do {
                let value = try await work()
                result.withLockedValue { $0 = .success(value) }
            } catch {
                result.withLockedValue { $0 = .failure(error) }
            }
            done.signal()
        }
        done.wait()
        return try result.withLockedValue { $0! }.get()
    }
}
