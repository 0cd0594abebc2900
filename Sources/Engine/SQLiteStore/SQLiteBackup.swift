import CSQLite
import Foundation
import PitModel

/// `pitd backup` and `pitd restore` for SQLite.
///
/// The backup copies with SQLite's online backup API from a read-only connection, so it runs
/// beside a serving `pitd` (another process) without stopping it. It copies in one step: a
/// step-wise backup restarts from the first page whenever another connection writes the source,
/// which under steady ingest is always. One step holds a single WAL read snapshot for the whole
/// copy; readers never block the writer in WAL mode, so ingest goes on, and the copy holds
/// exactly what had committed (every acknowledged event) when it began.
package enum SQLiteBackup {
    package struct Summary: Sendable {
        package var bytes: Int64
        package var pages: Int64
        package var events: Int64
        package var seconds: Double
    }

    package struct Failure: Error, CustomStringConvertible {
        package let description: String
        package init(_ description: String) { self.description = description }
    }

    /// Copies the database at `source` into a new file `destination` (replaced if it exists),
    /// checks the copy's integrity and leaves it as one self-contained file (journal_mode DELETE).
    package static func backup(from source: String, to destination: String, timeout: Double = 600) throws -> Summary {
        guard FileManager.default.fileExists(atPath: source) else { throw Failure("no database at \(source)") }
        let started = ClockTime.monotonicSeconds
        let partial = destination + ".partial"
        try? FileManager.default.removeItem(atPath: partial)
        do {
            let from = try SQLiteConnection(path: source, readOnly: true)
            let to = try SQLiteConnection(path: partial)
            try copy(from: from, to: to, timeout: timeout)
            // The copy carries the source's WAL flag; a backup is a file to keep, move and open
            // anywhere, so give it a rollback journal.
            try to.execute("PRAGMA journal_mode=DELETE")
            try check(to)
            let pages = try to.scalarInt("PRAGMA page_count") ?? 0
            let pageSize = try to.scalarInt("PRAGMA page_size") ?? 0
            let events = try to.scalarInt("SELECT COUNT(*) FROM events") ?? 0
            try syncFile(partial)
            try? FileManager.default.removeItem(atPath: destination)
            try FileManager.default.moveItem(atPath: partial, toPath: destination)
            return Summary(bytes: pages * pageSize, pages: pages, events: events, seconds: ClockTime.monotonicSeconds - started)
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
    }

    private static func copy(from: SQLiteConnection, to: SQLiteConnection, timeout: Double) throws {
        guard let backup = sqlite3_backup_init(to.handle, "main", from.handle, "main") else {
            throw Failure("backup could not start: \(String(cString: sqlite3_errmsg(to.handle)))")
        }
        let deadline = ClockTime.monotonicSeconds + timeout
        var rc: Int32
        repeat {
            rc = sqlite3_backup_step(backup, -1)
            // BUSY/LOCKED: the writer holds a lock the read snapshot needs for a moment (a WAL
            // restart); try again shortly.
            if rc == SQLITE_BUSY || rc == SQLITE_LOCKED { usleep(20_000) }
        } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && ClockTime.monotonicSeconds < deadline
        let finished = sqlite3_backup_finish(backup)
        guard rc == SQLITE_DONE, finished == SQLITE_OK else {
            throw Failure("backup failed: \(rc == SQLITE_DONE ? to.error(finished).description : from.error(rc).description)")
        }
    }

    /// `PRAGMA integrity_check` and the schema version: a file to restore must be a sound Pit
    /// database no newer than this binary.
    package static func verify(_ path: String) throws -> (events: Int64, schemaVersion: Int) {
        guard FileManager.default.fileExists(atPath: path) else { throw Failure("no such file: \(path)") }
        let connection: SQLiteConnection
        do {
            connection = try SQLiteConnection(path: path, readOnly: true)
        } catch {
            throw Failure("\(path) is not an SQLite database: \(error)")
        }
        let version: Int
        do {
            try check(connection)
            version = Int(try connection.scalarInt("PRAGMA user_version") ?? 0)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure("\(path) is not a sound SQLite database: \(error)")
        }
        guard version > 0, (try? connection.scalarInt("SELECT COUNT(*) FROM projects")) != nil else {
            throw Failure("\(path) is not a Pit database")
        }
        guard version <= SQLiteSchema.migrations.count else {
            throw Failure("\(path) has schema version \(version); this pitd knows \(SQLiteSchema.migrations.count): upgrade pitd first")
        }
        return (try connection.scalarInt("SELECT COUNT(*) FROM events") ?? 0, version)
    }

    private static func check(_ connection: SQLiteConnection) throws {
        let result = try connection.statement("PRAGMA integrity_check").query([]) { $0.text(0) ?? "" }
        guard result == ["ok"] else {
            throw Failure("integrity check failed: \(result.prefix(5).joined(separator: "; "))")
        }
    }

    /// Installs a verified backup as the database at `databasePath`. The caller makes sure no
    /// server uses it. The current database (with its WAL folded in) is kept beside it as
    /// `<name>.before-restore-<time>`; the new one is written to a temporary name, synced and
    /// renamed, so a crash midway leaves either the old database or the new one.
    package static func restore(from backupPath: String, into databasePath: String) throws -> (events: Int64, previous: String?) {
        let (events, _) = try verify(backupPath)
        let staging = databasePath + ".restoring"
        try? FileManager.default.removeItem(atPath: staging)
        do {
            let from = try SQLiteConnection(path: backupPath, readOnly: true)
            let to = try SQLiteConnection(path: staging)
            try copy(from: from, to: to, timeout: 3600)
            try to.execute("PRAGMA journal_mode=WAL")
            try check(to)
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            throw error
        }
        try syncFile(staging)
        var previous: String?
        if FileManager.default.fileExists(atPath: databasePath) {
            // Fold the old WAL into its file first so the kept copy stands on its own.
            if let old = try? SQLiteConnection(path: databasePath) { try? old.execute("PRAGMA wal_checkpoint(TRUNCATE)") }
            let stamp = Int64(Date().timeIntervalSince1970)
            let kept = "\(databasePath).before-restore-\(stamp)"
            try FileManager.default.moveItem(atPath: databasePath, toPath: kept)
            previous = kept
        }
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: databasePath + suffix) }
        try FileManager.default.moveItem(atPath: staging, toPath: databasePath)
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: staging + suffix) }
        return (events, previous)
    }

    private static func syncFile(_ path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw Failure("cannot open \(path) to sync it") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw Failure("fsync \(path) failed") }
    }
}
