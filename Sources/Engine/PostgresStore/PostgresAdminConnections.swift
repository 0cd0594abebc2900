package import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PitStorage
package import PostgresNIO

/// The admin store's connections, used with postgres-nio's async API: a call leases one (opening
/// it when none is idle), at most `limit` at once, and later calls wait their turn in order. No
/// call blocks a thread: the waits are continuations, the I/O runs on NIO's event loops.
///
/// Not `PostgresClient`: its pool needs a running service, and the CLI opens this store for one
/// command with no service group around it.
package final class PostgresAdminConnections: Sendable {
    private enum Lease {
        case use(PostgresConnection)
        case open
    }

    private struct State {
        var idle: [PostgresConnection] = []
        /// Connections leased, idle or being opened.
        var open = 0
        var waiters: [CheckedContinuation<Lease, Never>] = []
    }

    private let state = NIOLockedValueBox(State())
    private let configuration: PostgresConnection.Configuration
    private let logger: Logger
    private let limit: Int
    private let nextID = NIOLockedValueBox(0)

    package init(configuration: PostgresConnection.Configuration, limit: Int, logger: Logger) {
        self.configuration = configuration
        self.limit = max(1, limit)
        self.logger = logger
    }

    /// Runs `body` on a leased connection. A connection that gives no answer within
    /// `PostgresSession.answerDeadline` (a vanished peer) is closed, which fails the call, and
    /// one whose state is unknown after an error is dropped; the next lease opens a fresh one.
    package func withConnection<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await lease()
        let watchdog = connection.eventLoop.scheduleTask(in: PostgresSession.answerDeadline) { Self.close(connection) }
        do {
            let result = try await body(connection)
            watchdog.cancel()
            release(connection, broken: false)
            return result
        } catch {
            watchdog.cancel()
            release(connection, broken: !Self.leavesConnectionUsable(error))
            throw error
        }
    }

    /// A refusal of the rules, or an error the server answered with (after which the statement
    /// was rolled back), leaves the connection as it was; anything else may not have.
    private static func leavesConnectionUsable(_ error: any Error) -> Bool {
        if error is AdminError { return true }
        if let error = error as? PSQLError { return error.code == .server }
        return false
    }

    deinit {
        for connection in state.withLockedValue({ $0.idle }) { Self.close(connection) }
    }

    /// Closes without waiting. The connection is kept until it has closed: postgres-nio insists
    /// that one is closed before it is released.
    private static func close(_ connection: PostgresConnection) {
        connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    package func close() async {
        let idle = state.withLockedValue { state in
            defer {
                state.open -= state.idle.count
                state.idle.removeAll()
            }
            return state.idle
        }
        for connection in idle { try? await connection.close() }
    }

    private func lease() async throws -> PostgresConnection {
        let lease = await withCheckedContinuation { (continuation: CheckedContinuation<Lease, Never>) in
            let ready = state.withLockedValue { state -> Lease? in
                while let connection = state.idle.popLast() {
                    if !connection.isClosed { return .use(connection) }
                    state.open -= 1
                }
                if state.open < limit {
                    state.open += 1
                    return .open
                }
                state.waiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
        switch lease {
        case .use(let connection):
            return connection
        case .open:
            do {
                let id = nextID.withLockedValue { id in
                    id += 1
                    return id
                }
                return try await PostgresConnection.connect(
                    on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: id, logger: logger)
            } catch {
                release(nil, broken: true)
                throw PostgresUnavailable(underlying: error)
            }
        }
    }

    /// Hands `connection` to the first waiter, or keeps it idle; a broken one (or none, after a
    /// failed connect) frees its slot for the next waiter to open.
    private func release(_ connection: PostgresConnection?, broken: Bool) {
        let usable = connection.flatMap { !broken && !$0.isClosed ? $0 : nil }
        if usable == nil, let connection { Self.close(connection) }
        let waiter = state.withLockedValue { state -> CheckedContinuation<Lease, Never>? in
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            if let usable {
                state.idle.append(usable)
            } else {
                state.open -= 1
            }
            return nil
        }
        waiter?.resume(returning: usable.map(Lease.use) ?? .open)
    }
}
