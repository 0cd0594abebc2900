import ArgumentParser
import Foundation
import PitModel
import PitStorage
import PitdServer

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create the data directory, database, default project, DSN key and admin token."
    )

    @OptionGroup var common: CommonOptions

    @Option(help: "Address the server will listen on (sets the URL in the DSN).")
    var bind: String?

    @Flag(help: "Print one JSON object {dsn, project_id, public_key, admin_token, url}.")
    var json = false

    func run() async throws {
        let settings = try await common.settings(extra: bind.map { ["bind": $0] } ?? [:])
        let directory = DataDirectory(settings: settings)
        let setup = try await directory.initialise()
        let dsn = directory.dsn(for: setup.key)
        if json {
            var writer = JSONWriter()
            writer.beginObject()
            writer.field("dsn", dsn)
            writer.field("project_id", setup.project.id)
            writer.field("public_key", setup.key.publicKey)
            writer.field("admin_token", setup.adminToken)
            writer.field("url", settings.publicURL)
            writer.field("data_dir", settings.dataDirectory)
            writer.endObject()
            print(writer.string)
        } else {
            print("Data directory: \(settings.dataDirectory)")
            print("URL:            \(settings.publicURL)")
            print("DSN:            \(dsn)")
            if let token = setup.adminToken {
                print("Admin token:    \(token)\(setup.createdToken ? "" : " (unchanged)")")
            } else {
                print(
                    "Admin token:    unchanged; the database keeps only its hash, and \(settings.adminTokenPath) is missing or holds an older token (rotated from another instance?). `pitd token rotate-admin` makes a new one."
                )
            }
        }
    }
}
