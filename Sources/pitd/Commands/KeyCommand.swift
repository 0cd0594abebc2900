import ArgumentParser
import PitModel
import PitStorage
import PitdServer

struct KeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Create and list a project's DSN keys.",
        subcommands: [Create.self, List.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a DSN key to a project. A running server accepts it within a few seconds."
        )

        @OptionGroup var common: CommonOptions
        @Option(help: "Project id.") var project: Int64
        @Option(help: "Keep an existing public key (e.g. from Sentry or GlitchTip) so SDK configs need no change.")
        var publicKey: String?
        @Option(help: "Label shown in the key list.") var label: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let settings = try await common.settings()
            let directory = DataDirectory(settings: settings)
            let setup = try await directory.initialise()
            let key: ProjectKey
            do {
                key = try await setup.store.createKey(projectID: project, publicKey: publicKey, label: label)
            } catch let error as AdminError {
                throw ValidationError(error.description)
            }
            if json {
                var writer = JSONWriter()
                writeKey(key, directory: directory, into: &writer)
                print(writer.string)
            } else {
                print("DSN: \(directory.dsn(for: key))")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a project's DSN keys.")

        @OptionGroup var common: CommonOptions
        @Option(help: "Project id.") var project: Int64
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let settings = try await common.settings()
            let directory = DataDirectory(settings: settings)
            let setup = try await directory.initialise()
            guard try await setup.store.project(id: project) != nil else { throw ValidationError("project \(project) does not exist") }
            let keys = try await setup.store.keys(projectID: project)
            if json {
                var writer = JSONWriter()
                writer.beginArray()
                for key in keys { writeKey(key, directory: directory, into: &writer) }
                writer.endArray()
                print(writer.string)
            } else {
                for key in keys {
                    print("\(key.publicKey)\t\(key.enabled ? "enabled" : "disabled")\t\(key.label)\t\(directory.dsn(for: key))")
                }
            }
        }
    }
}

func writeKey(_ key: ProjectKey, directory: DataDirectory, into writer: inout JSONWriter) {
    writer.beginObject()
    writer.field("public_key", key.publicKey)
    writer.field("project_id", key.projectID)
    writer.field("label", key.label)
    writer.field("enabled", key.enabled)
    writer.field("dsn", directory.dsn(for: key))
    writer.endObject()
}
