import ArgumentParser
import PitModel
import PitStorage
import PitdServer

extension ProjectCommand {
    /// `pitd project retention ID [DAYS|default]`: shows or sets how long a project keeps events.
    struct Retention: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show or set how many days a project keeps its events (overrides the setting retention_days).",
            discussion:
                "DAYS is a number (0 keeps events forever) or `default` for the server's retention_days. A running server applies it at its next purge pass."
        )

        @OptionGroup var common: CommonOptions
        @Argument(help: "Project id.") var id: Int64
        @Argument(help: "Days, or `default`.") var days: String?

        func run() async throws {
            let settings = try await common.settings()
            let setup = try await DataDirectory(settings: settings).initialise()
            guard let project = try await setup.store.project(id: id) else { throw ValidationError("no project \(id)") }
            let policy = settings.retentionPolicy
            try await policy.reload(from: setup.store)
            if let days {
                let value: Int?
                if days == "default" {
                    value = nil
                } else if let number = Int(days) {
                    do throws(AdminError) { value = try RetentionPolicy.validatedDays(number) } catch {
                        throw ValidationError(error.message)
                    }
                } else {
                    throw ValidationError("DAYS must be a number or `default`")
                }
                try await policy.setOverride(value, projectID: project.id, store: setup.store)
            }
            let effective = policy.days(projectID: project.id)
            let source = policy.override(projectID: project.id) == nil ? "server setting retention_days" : "project override"
            print("Project \(project.id) (\(project.slug)) keeps events \(effective == 0 ? "forever" : "\(effective) days") (\(source)).")
        }
    }
}
