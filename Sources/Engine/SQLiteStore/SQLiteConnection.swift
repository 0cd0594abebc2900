import CSQLite
import PitStorage

package struct SQLiteError: StoreError, CustomStringConvertible {
    package let code: Int32
    package let message: String
    package var description: String { "SQLite error \(code): \(message)" }

    package init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    /// SQLITE_BUSY / SQLITE_LOCKED: another connection holds the lock past the busy timeout.
    package var isBusy: Bool { code & 0xFF == SQLITE_BUSY || code & 0xFF == SQLITE_LOCKED }

    /// The database is a local file: nothing to reconnect.
    package var leavesStoreUsable: Bool { true }

    /// The statement refused the values it was given (a constraint or trigger, a value too big,
    /// a type or range mismatch): another unit of the same batch may well write. Busy, I/O, full,
    /// read-only, corrupt or missing-table errors are about the database and fail any write.
    package var mayBeCausedByData: Bool {
        switch code & 0xFF {
        case SQLITE_CONSTRAINT, SQLITE_TOOBIG, SQLITE_MISMATCH, SQLITE_RANGE: true
        default: false
        }
    }
}

/// One SQLite connection with a prepared-statement cache.
///
/// `@unchecked Sendable` because SQLite is opened in multi-thread mode (SQLITE_OPEN_NOMUTEX): a
/// connection may move between threads but is never used by two at once. The batch writer owns
/// its connection on its thread; readers are checked out of `SQLiteReaderPool` one at a time.
package final class SQLiteConnection: @unchecked Sendable {
    let handle: OpaquePointer
    private var statements: [String: SQLiteStatement] = [:]

    /// Process-wide SQLite configuration, applied once before the first open.
    private static let configured: Void = { _ = pit_sqlite3_disable_memstatus() }()

    package init(path: String, readOnly: Bool = false, busyTimeoutMilliseconds: Int32 = 5000) throws {
        Self.configured
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open \(path)"
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: rc, message: message)
        }
        handle = db
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
        sqlite3_extended_result_codes(db, 1)
    }

    deinit {
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    package func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &error)
        if rc != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(error)
            throw SQLiteError(code: rc, message: message)
        }
    }

    /// A cached prepared statement, reset and with bindings cleared.
    package func statement(_ sql: String) throws -> SQLiteStatement {
        if let cached = statements[sql] {
            cached.reset()
            return cached
        }
        let statement = try SQLiteStatement(connection: self, sql: sql)
        // Searches compose their SQL from the filters asked for (IN lists of any length, tag
        // conditions), so a reader could otherwise keep a statement for every query shape anyone
        // ever sent. Dropping the cache is safe: a statement a caller still holds lives on until
        // released (it finalizes in deinit), and the hot ones are prepared again at once.
        if statements.count >= Self.statementCacheLimit { statements.removeAll(keepingCapacity: true) }
        statements[sql] = statement
        return statement
    }

    package static let statementCacheLimit = 256

    /// Prepared statements kept (for tests).
    package var cachedStatements: Int { statements.count }

    package var changes: Int { Int(sqlite3_changes(handle)) }
    package var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    func error(_ rc: Int32) -> SQLiteError {
        SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)))
    }

    /// Runs `body` in a transaction; rolls back when it throws.
    package func transaction<T>(immediate: Bool = true, _ body: () throws -> T) throws -> T {
        try execute(immediate ? "BEGIN IMMEDIATE" : "BEGIN")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    package func scalarInt(_ sql: String, _ bindings: [SQLiteValue] = []) throws -> Int64? {
        // `query` resets the statement: a statement left mid-row keeps its read snapshot open,
        // which stops WAL checkpoints from ever completing and lets the WAL grow without bound.
        try statement(sql).query(bindings) { $0.isNull(0) ? nil : $0.int(0) }.first ?? nil
    }
}

package enum SQLiteValue: Sendable {
    case int(Int64)
    case double(Double)
    case text(String)
    case blob([UInt8])
    case null

    package static func optional(_ text: String?) -> SQLiteValue { text.map { .text($0) } ?? .null }
    package static func optional(_ number: Int64?) -> SQLiteValue { number.map { .int($0) } ?? .null }
}

/// SQLite's destructor sentinel meaning "copy the bytes now" (the macro is not imported).
let sqliteTransient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

package final class SQLiteStatement {
    let handle: OpaquePointer
    unowned let connection: SQLiteConnection

    init(connection: SQLiteConnection, sql: String) throws {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(connection.handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw connection.error(rc) }
        self.handle = statement
        self.connection = connection
    }

    deinit { sqlite3_finalize(handle) }

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    package func bind(_ values: [SQLiteValue]) throws {
        for (offset, value) in values.enumerated() { try bind(value, at: Int32(offset + 1)) }
    }

    package func bind(_ value: SQLiteValue, at index: Int32) throws {
        let rc: Int32
        switch value {
        case .int(let v): rc = sqlite3_bind_int64(handle, index, v)
        case .double(let v): rc = sqlite3_bind_double(handle, index, v)
        case .text(let v): rc = sqlite3_bind_text(handle, index, v, -1, sqliteTransient)
        case .blob(let v):
            rc = v.withUnsafeBytes { sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), sqliteTransient) }
        case .null: rc = sqlite3_bind_null(handle, index)
        }
        guard rc == SQLITE_OK else { throw connection.error(rc) }
    }

    /// Steps once; true when a row is available.
    @discardableResult
    package func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw connection.error(rc)
        }
    }

    /// Binds, runs to completion and resets.
    package func run(_ values: [SQLiteValue]) throws {
        reset()
        try bind(values)
        try step()
        sqlite3_reset(handle)
    }

    /// Binds and collects every row through `row`.
    package func query<T>(_ values: [SQLiteValue], _ row: (SQLiteStatement) throws -> T) throws -> [T] {
        reset()
        try bind(values)
        var result: [T] = []
        while try step() { result.append(try row(self)) }
        sqlite3_reset(handle)
        return result
    }

    package func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }
    package func int(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }
    package func double(_ column: Int32) -> Double { sqlite3_column_double(handle, column) }

    package func text(_ column: Int32) -> String? {
        guard let pointer = sqlite3_column_text(handle, column) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    package func blob(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(handle, column))
        guard count > 0, let pointer = sqlite3_column_blob(handle, column) else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: pointer, count: count))
    }
}
