import ArgumentParser
import Foundation
import PitBackends
import PitdServer
import SQLiteStore

/// `pitd backup FILE`: an online, consistent copy of the SQLite database, taken beside a running
/// server (see `SQLiteBackup`).
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the database to FILE while the server keeps running (SQLite online backup).",
        discussion: "With PostgreSQL, use pg_dump instead (see the README)."
    )

    @OptionGroup var common: CommonOptions
    @Argument(help: "The backup file to write (replaced if it exists).") var file: String

    func run() async throws {
        let settings = try await common.settings()
        if settings.backend.isPostgres {
            print(Self.postgresAdvice)
            throw ExitCode(2)
        }
        do {
            let summary = try SQLiteBackup.backup(from: settings.databasePath, to: file)
            print("Backed up \(summary.events) events (\(summary.bytes) bytes) to \(file) in \(String(format: "%.1f", summary.seconds)) s.")
        } catch let error as SQLiteBackup.Failure {
            throw ValidationError(error.description)
        }
    }

    static let postgresAdvice = """
        This server stores its data in PostgreSQL; back it up with PostgreSQL's own tools, e.g.
          pg_dump --format=custom --file=pit.dump "$PIT_DATABASE_URL"
        and restore into an empty database with
          pg_restore --no-owner --dbname="$PIT_DATABASE_URL" pit.dump
        pg_dump takes a consistent snapshot while pitd keeps writing.
        """
}

/// `pitd restore FILE`: installs a backup as the data directory's database, refusing while a
/// server uses the directory.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Check a backup (PRAGMA integrity_check) and install it as the data directory's database.",
        discussion: """
            The server must be stopped. The database it replaces is kept beside it as \
            pit.sqlite.before-restore-<time>. With PostgreSQL, use pg_restore (see the README).
            """
    )

    @OptionGroup var common: CommonOptions
    @Argument(help: "A file written by `pitd backup`.") var file: String

    func run() async throws {
        let settings = try await common.settings()
        if settings.backend.isPostgres {
            print(BackupCommand.postgresAdvice)
            throw ExitCode(2)
        }
        try FileManager.default.createDirectory(
            atPath: settings.dataDirectory, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        let lock: ServerLock
        switch try ServerLock.exclusive(path: settings.serverLockPath) {
        case .success(let held): lock = held
        case .failure(let running): throw ValidationError(running.description)
        }
        defer { withExtendedLifetime(lock) {} }
        do {
            let (events, previous) = try SQLiteBackup.restore(from: file, into: settings.databasePath)
            print("Restored \(events) events from \(file) into \(settings.databasePath).")
            if let previous { print("The previous database is kept as \(previous).") }
        } catch let error as SQLiteBackup.Failure {
            throw ValidationError(error.description)
        }
    }
}

/// `pitd vacuum`: rebuilds the SQLite file, switching it to incremental auto-vacuum so the
/// retention purge can give space back while the server runs. Databases created before Pit set
/// auto_vacuum=INCREMENTAL need this once; it rewrites the whole file (needs that much free space
/// and the server stopped).
struct VacuumCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vacuum",
        abstract: "Rebuild the SQLite database with incremental auto-vacuum (server stopped; once, for databases from before it)."
    )

    @OptionGroup var common: CommonOptions

    func run() async throws {
        let settings = try await common.settings()
        guard !settings.backend.isPostgres else {
            throw ValidationError(
                "PostgreSQL gives space back through autovacuum; VACUUM FULL or pg_repack shrink the files (see the README)")
        }
        guard FileManager.default.fileExists(atPath: settings.databasePath) else {
            throw ValidationError("no database at \(settings.databasePath)")
        }
        let lock: ServerLock
        switch try ServerLock.exclusive(path: settings.serverLockPath) {
        case .success(let held): lock = held
        case .failure(let running): throw ValidationError(running.description.replacingOccurrences(of: "restoring", with: "vacuuming"))
        }
        defer { withExtendedLifetime(lock) {} }
        let before = Self.size(settings.databasePath)
        let connection = try SQLiteConnection(path: settings.databasePath)
        try connection.execute("PRAGMA auto_vacuum=INCREMENTAL")
        try connection.execute("VACUUM")
        try connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        print("Vacuumed \(settings.databasePath): \(before) → \(Self.size(settings.databasePath)) bytes, auto_vacuum=INCREMENTAL.")
    }

    static func size(_ path: String) -> Int64 {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
    }
}
