import ArgumentParser
import Logging
import PitModel
import PostgresStore

/// Fresh PostgreSQL databases for throw-away servers (pit-bench's spawned pitd, soak scripts):
/// the load generator runs these as a process instead of linking a database client.
struct DatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "database",
        abstract: "Create, measure and drop PostgreSQL databases for throw-away servers (pit-bench --spawn).",
        subcommands: [Create.self, Size.self, Drop.self]
    )

    static let logger = Logger(label: "pitd.database")

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an empty database on the server --url names and print its URL (the same URL with the new name)."
        )
        @Option(help: "A PostgreSQL URL on the server to create the database on.") var url: String
        @Option(help: "Name prefix; a random suffix follows.") var prefix = "pit_bench"

        func validate() throws {
            guard prefix.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }), prefix.first?.isLetter == true else {
                throw ValidationError("--prefix takes lowercase letters, digits and _, starting with a letter")
            }
        }

        func run() async throws {
            let server = try PostgresDatabaseURL(url)
            print(try PostgresInspection.createDatabase(on: server, prefix: prefix, logger: DatabaseCommand.logger).url)
        }
    }

    struct Size: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the size of the database --url names, in bytes.")
        @Option(help: "The database's PostgreSQL URL.") var url: String

        func run() async throws {
            print(try PostgresInspection.databaseBytes(try PostgresDatabaseURL(url), logger: DatabaseCommand.logger))
        }
    }

    struct Drop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Drop the database --url names (closing its connections).")
        @Option(help: "The database's PostgreSQL URL.") var url: String
        @Option(help: "A URL of another database on the same server to connect to for the drop (default: the database postgres).")
        var via: String?

        func run() async throws {
            let database = try PostgresDatabaseURL(url)
            var server = try via.map(PostgresDatabaseURL.init) ?? database
            if via == nil { server.database = "postgres" }
            try PostgresInspection.dropDatabase(database, server: server, logger: DatabaseCommand.logger)
        }
    }
}
