import ArgumentParser
import PitModel
import PitStorage
import PitdServer

struct ProjectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project",
        abstract: "Create and list projects; set their retention.",
        subcommands: [Create.self, List.self, Retention.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a project with a DSN key.")

        @OptionGroup var common: CommonOptions
        @Argument(help: "Project name; its slug is derived from it.") var name: String
        @Option(help: "Project id to use, e.g. the id the project had in Sentry, so DSNs keep working.") var id: Int64?
        @Option(help: "Platform, e.g. python.") var platform: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let settings = try await common.settings()
            let directory = DataDirectory(settings: settings)
            let setup = try await directory.initialise()
            let project: Project
            do {
                project = try await setup.store.createProject(name: name, id: id, platform: platform)
            } catch let error as AdminError {
                throw ValidationError(error.description)
            }
            let key = try await setup.store.keys(projectID: project.id)[0]
            printProject(project, key: key, directory: directory, json: json)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List projects with their DSNs.")

        @OptionGroup var common: CommonOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let settings = try await common.settings()
            let directory = DataDirectory(settings: settings)
            let setup = try await directory.initialise()
            let projects = try await setup.store.projects()
            if json {
                var writer = JSONWriter()
                writer.beginArray()
                for project in projects {
                    let key = try await setup.store.keys(projectID: project.id).first
                    writeProject(project, key: key, directory: directory, into: &writer)
                }
                writer.endArray()
                print(writer.string)
            } else {
                for project in projects {
                    let key = try await setup.store.keys(projectID: project.id).first
                    print("\(project.id)\t\(project.slug)\t\(project.name)\t\(key.map(directory.dsn(for:)) ?? "-")")
                }
            }
        }
    }
}

func writeProject(_ project: Project, key: ProjectKey?, directory: DataDirectory, into writer: inout JSONWriter) {
    writer.beginObject()
    writer.field("id", project.id)
    writer.field("slug", project.slug)
    writer.field("name", project.name)
    writer.field("organization", project.organizationSlug)
    writer.field("dsn", key.map(directory.dsn(for:)))
    writer.field("public_key", key?.publicKey)
    writer.endObject()
}

func printProject(_ project: Project, key: ProjectKey, directory: DataDirectory, json: Bool) {
    if json {
        var writer = JSONWriter()
        writeProject(project, key: key, directory: directory, into: &writer)
        print(writer.string)
    } else {
        print("Project \(project.id) (\(project.slug)) created.")
        print("DSN: \(directory.dsn(for: key))")
    }
}
