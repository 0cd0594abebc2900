import ArgumentParser
import PitdServer

@main
struct PitdCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pitd",
        abstract: "Pit: a Sentry-compatible event server. One binary, one SQLite file, or PostgreSQL for scale-out.",
        subcommands: [
            ServeCommand.self, InitCommand.self, ProjectCommand.self, KeyCommand.self, UserCommand.self, TokenCommand.self,
            BackupCommand.self, RestoreCommand.self, VacuumCommand.self, DatabaseCommand.self, AlertCommand.self,
        ],
        defaultSubcommand: ServeCommand.self
    )
}

/// Options every subcommand takes.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: "Data directory (default: $PIT_DATA_DIR or ./pit-data).")
    var dataDir: String?

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a setting, e.g. --set ingest_batch_size=5000.", valueName: "key=value"))
    var overrides: [String] = []

    @Option(
        name: .customLong("database-url"),
        help:
            "PostgreSQL URL postgres://user:password@host:5432/db (default: $PIT_DATABASE_URL, the setting database_url, else SQLite in the data directory)."
    )
    var databaseURL: String?

    func settings(extra: [String: String] = [:]) async throws -> PitSettings {
        var values: [String: String] = [:]
        if let databaseURL { values["database_url"] = databaseURL }
        for override in overrides {
            let parts = override.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw ValidationError("--set takes key=value, not \(override)") }
            values[String(parts[0])] = String(parts[1])
        }
        values.merge(extra) { _, new in new }
        return try await PitSettings.load(dataDirectory: dataDir, overrides: values)
    }
}
