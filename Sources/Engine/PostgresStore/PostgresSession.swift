import Foundation
package import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PitModel
import PitStorage
package import PostgresNIO

/// One PostgreSQL connection used synchronously: each call blocks the calling thread until the
/// server answers. The batch writers own one each on their dedicated threads (never an event
/// loop, never the cooperative pool), as SQLite's writer owns its connection; the payload dictionary
/// reader keeps one behind a lock, and migrations run on one on a blocking thread (the admin store
/// itself is async, `PostgresAdminConnections`). The I/O itself runs on NIO's event loops, so blocking here stalls nothing else.
///
/// A lost connection is dropped and re-opened on the next call, with a growing delay between
/// attempts (0.1 s to 2 s) so a database that is down costs one quick error per call, not a
/// connect timeout each time.
///
/// Statements written as `PostgresPreparedSQL` are prepared on the connection the first time
/// they are sent and executed by name afterwards; the preparations go with the connection.
///
/// `@unchecked Sendable`: used by one thread at a time (its writer thread, or under the payload
/// dictionary reader's lock); the mutable fields are never touched concurrently.
package final class PostgresSession: @unchecked Sendable {
    private let configuration: PostgresConnection.Configuration
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    private var connection: PostgresConnection?
    private var retryAt = 0.0
    private var backoff = 0.1
    private var lastConnectError: (any Error)?
    /// Statements whose answers nobody waits for yet: they go out with the next `query`, in one
    /// write, and the server runs them in order (see `enqueue`).
    private var deferred: [(statement: Statement, handler: (([PostgresRow]) throws -> Void)?)] = []
    /// The statements prepared on `connection`, by text. Emptied with each new connection.
    private var prepared: [String: PreparedQuery] = [:]
    /// A bound on `prepared`: the writer has a few dozen texts; anything past this (a caller
    /// building texts from values) runs unnamed rather than growing the server's memory.
    private static let preparedLimit = 256
    private static let nextID = NIOLockedCounter()
    /// How long a round trip may take before the connection is presumed dead: well past
    /// `statement_timeout`, after which the server itself would have answered with an error.
    package static let answerDeadline = TimeAmount.seconds(Int64(2 * PostgresDatabaseURL.statementTimeoutSeconds))

    package init(
        url: PostgresDatabaseURL, logger: Logger, parameters: [(String, String)] = PostgresDatabaseURL.sessionParameters,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws {
        configuration = try url.connectionConfiguration(parameters: parameters)
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    deinit { close() }

    package func close() {
        if let connection {
            try? connection.close().wait()
            self.connection = nil
        }
    }

    /// The open connection, connecting first when there is none (or it was lost).
    package func open() throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        connection = nil
        let now = ClockTime.monotonicSeconds
        if now < retryAt, let lastConnectError { throw PostgresUnavailable(underlying: lastConnectError) }
        do {
            let fresh = try PostgresConnection.connect(
                on: eventLoopGroup.any(), configuration: configuration,
                id: Self.nextID.next(), logger: logger
            ).wait()
            connection = fresh
            prepared.removeAll()
            backoff = 0.1
            lastConnectError = nil
            return fresh
        } catch {
            lastConnectError = error
            retryAt = now + backoff
            backoff = min(backoff * 2, 2)
            throw PostgresUnavailable(underlying: error)
        }
    }

    private enum Statement {
        case unnamed(PostgresQuery)
        case prepared(PostgresPreparedSQL)
    }

    /// Queues a statement to be sent with the next `query`. Each round trip to the server costs
    /// three thread wake-ups (this thread, the event loop, the server's backend), more than most of
    /// the writer's statements cost to run, so statements whose results are not needed before
    /// the next one are pipelined: a batch waits twice instead of a dozen times. `handler` sees
    /// the statement's rows when they arrive. An error in any of them fails that `query`.
    package func enqueue(_ query: PostgresQuery, handler: (([PostgresRow]) throws -> Void)? = nil) {
        deferred.append((.unnamed(query), handler))
    }

    /// `enqueue` for a statement parsed and planned once per connection.
    package func enqueue(prepared statement: PostgresPreparedSQL, handler: (([PostgresPreparedRow]) throws -> Void)? = nil) {
        deferred.append((.prepared(statement), handler.map { handler in { rows in try handler(rows.map(PostgresPreparedRow.init)) } }))
    }

    /// Runs the queued statements, then this one, and collects its rows.
    @discardableResult
    package func query(_ query: PostgresQuery) throws -> PostgresQueryResult {
        try send(.unnamed(query)) { connection, _ in connection.query(query, logger: logger) }
    }

    /// `query` for a statement parsed and planned once per connection.
    @discardableResult
    package func query(prepared statement: PostgresPreparedSQL) throws -> [PostgresPreparedRow] {
        try send(.prepared(statement)) { connection, preparation in
            self.start(.prepared(statement), preparation, on: connection)
        }.map(PostgresPreparedRow.init)
    }

    private func send<Result: Sendable>(
        _ last: Statement, _ startLast: (PostgresConnection, PreparedQuery?) -> EventLoopFuture<Result>
    ) throws -> Result {
        let queued = deferred
        deferred.removeAll()
        let connection = try open()
        // `statement_timeout` bounds the server's work, not the network: a peer that vanished
        // without a reset (a partition, a dead host) would leave these waits hanging. Closing the
        // connection fails every pending query, and the next call reconnects.
        let watchdog = connection.eventLoop.scheduleTask(in: Self.answerDeadline) { connection.close().whenComplete { _ in } }
        defer { watchdog.cancel() }
        let preparations: [PreparedQuery?]
        do {
            preparations = try prepare(queued.map(\.statement) + [last], on: connection)
        } catch {
            dropIfBroken(error)
            throw error
        }
        let futures = zip(queued, preparations).map { start($0.statement, $1, on: connection) }
        let lastFuture = startLast(connection, preparations[queued.count])
        var failure: (any Error)?
        for (future, entry) in zip(futures, queued) {
            do {
                let rows = try future.wait()
                if failure == nil { try entry.handler?(rows) }
            } catch {
                failure = failure ?? error
            }
        }
        do {
            let result = try lastFuture.wait()
            if let failure { throw failure }
            return result
        } catch {
            let error = failure ?? error
            dropIfBroken(error)
            throw error
        }
    }

    /// Each statement's preparation on `connection` (nil for unnamed ones), preparing the texts
    /// it has not seen all in one round trip, before any statement that uses them is sent:
    /// postgres-nio runs a connection's requests in the order they were written, so an execute
    /// must not be written before its prepare has been answered. One lookup per statement: the
    /// keys are whole statement texts.
    private func prepare(_ statements: [Statement], on connection: PostgresConnection) throws -> [PreparedQuery?] {
        var preparations: [PreparedQuery?] = []
        preparations.reserveCapacity(statements.count)
        var missing: [String: [Int]] = [:]
        for (index, statement) in statements.enumerated() {
            guard case .prepared(let statement) = statement, let known = prepared[statement.sql] else {
                preparations.append(nil)
                if case .prepared(let statement) = statement,
                    missing[statement.sql] != nil || prepared.count + missing.count < Self.preparedLimit
                {
                    missing[statement.sql, default: []].append(index)
                }
                continue
            }
            preparations.append(known)
        }
        let pending = missing.map { text, indices in (text, indices, connection.prepare(query: text)) }
        for (text, indices, future) in pending {
            let preparation = try future.wait()
            prepared[text] = preparation
            for index in indices { preparations[index] = preparation }
        }
        return preparations
    }

    /// Sends `statement`: by name when it has a preparation, else unnamed.
    private func start(_ statement: Statement, _ preparation: PreparedQuery?, on connection: PostgresConnection)
        -> EventLoopFuture<[PostgresRow]>
    {
        switch (statement, preparation) {
        case (.prepared(let statement), let preparation?):
            return preparation.execute(statement.binds)
        case (.prepared(let statement), nil):
            return connection.query(statement.unnamed, logger: logger).map(\.rows)
        case (.unnamed(let query), _):
            return connection.query(query, logger: logger).map(\.rows)
        }
    }

    /// `body` inside BEGIN … COMMIT; rolls back when it throws. BEGIN goes out with the body's
    /// first statement.
    package func transaction<T>(_ body: () throws -> T) throws -> T {
        enqueue("BEGIN")
        do {
            let result = try body()
            let tag = try query("COMMIT").metadata.command
            // COMMIT of a transaction that failed on a pipelined statement answers ROLLBACK.
            guard tag == "COMMIT" else { throw AdminError("transaction rolled back (\(tag))") }
            return result
        } catch {
            deferred.removeAll()
            if let connection, !connection.isClosed { _ = try? connection.query("ROLLBACK", logger: logger).wait() }
            throw error
        }
    }

    /// Any error that did not come from the server (reset, closed channel, timeout) leaves the
    /// connection in an unknown state: drop it so the next call reconnects.
    private func dropIfBroken(_ error: any Error) {
        if PostgresServerReply(error) != nil { return }
        if let connection { connection.close().whenComplete { _ in } }
        connection = nil
    }
}

/// The database could not be reached; what the writer reports while it waits for it to return.
package struct PostgresUnavailable: Error, CustomStringConvertible {
    package let underlying: any Error
    package var description: String { "PostgreSQL unavailable: \(String(reflecting: underlying))" }
}

/// The server's error reply inside an error from either of postgres-nio's APIs: `query` throws
/// `PSQLError`, the prepared statements of `PostgresPreparedSQL` the older `PostgresError`.
package struct PostgresServerReply {
    /// `40P01` deadlock, `40001` serialization failure…
    package let sqlState: String?
    package let message: String
    package let detail: String?

    package init?(_ error: any Error) {
        if let error = error as? PSQLError, let info = error.serverInfo {
            sqlState = info[.sqlState]
            message = info[.message] ?? ""
            detail = info[.detail]
        } else if case .server(let reply)? = error as? PostgresError {
            sqlState = reply.fields[.sqlState]
            message = reply.fields[.message] ?? ""
            detail = reply.fields[.detail]
        } else {
            return nil
        }
    }

    /// Deadlock and serialization failures: the transaction was rolled back and may simply be run again.
    package var isTransient: Bool { sqlState == "40P01" || sqlState == "40001" }

    /// What went wrong, without the bound values (payloads) that `String(reflecting:)` would print.
    package var summary: String { "PostgreSQL \(sqlState ?? "?"): \(message)" + (detail.map { " (\($0))" } ?? "") }
}

/// A statement or connection failure, described for logs and 503 bodies.
package struct PostgresStoreError: StoreError, CustomStringConvertible {
    package let description: String
    /// The server's SQLSTATE, nil for a connection-level failure.
    package let sqlState: String?

    package init(_ error: any Error) {
        if let reply = PostgresServerReply(error) {
            description = reply.summary
            sqlState = reply.sqlState
        } else if let error = error as? PSQLError {
            description = "PostgreSQL connection: \(error.code)" + (error.underlying.map { " (\($0))" } ?? "")
            sqlState = nil
        } else if let error = error as? PostgresError {
            description = "PostgreSQL connection: \(error)"
            sqlState = nil
        } else {
            description = "\(error)"
            sqlState = nil
        }
    }

    /// The server refused the values of a statement: data exceptions (22: invalid text such as
    /// a NUL byte), integrity violations (23), program limits (54: an index row too big) and
    /// errors raised by triggers (P0). Another unit of the same batch may well write. Connection,
    /// resource, operator and rollback errors (08, 53, 57, 58, 40) fail any write.
    package var mayBeCausedByData: Bool {
        guard let sqlState else { return false }
        return ["22", "23", "54", "P0"].contains(sqlState.prefix(2))
    }

    /// Lock waits are the server's business (the writer does not retry them itself).
    package var isBusy: Bool { false }

    /// The session may be gone: a fresh store reconnects and re-reads the schema.
    package var leavesStoreUsable: Bool { false }
}

/// Connection ids for postgres-nio's log metadata.
private final class NIOLockedCounter: Sendable {
    private let value = NIOLockedValueBox(0)
    func next() -> Int {
        value.withLockedValue {
            $0 += 1
            return $0
        }
    }
}
