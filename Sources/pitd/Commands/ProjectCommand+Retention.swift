import ArgumentParser
import PitModel
import PitStorage
import PitdServer

extension ProjectCommand {
    /// `pitd project retention ID [DAYS|default] [--logs]`: shows or sets how long a project keeps
    /// events, or with `--logs` its logs.
    struct Retention: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Show or set how many days a project keeps its events (overrides the setting retention_days), or with --logs its logs (log_retention_days).",
            discussion:
                "DAYS is a number (0 keeps them forever) or `default` for the server's retention_days (log_retention_days with --logs). A running server applies it at its next purge pass."
        )

        @OptionGroup var common: CommonOptions
        @Argument(help: "Project id.") var id: Int64
        @Argument(help: "Days, or `default`.") var days: String?
        @Flag(help: "The project's log retention instead of its events'.") var logs = false

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
                if logs {
                    try await policy.logs.setOverride(value, projectID: project.id, store: setup.store)
                } else {
                    try await policy.setOverride(value, projectID: project.id, store: setup.store)
                }
            }
            if logs {
                let effective = policy.logs.days(projectID: project.id)
                let source = policy.logs.override(projectID: project.id) == nil ? "server setting log_retention_days" : "project override"
                print("Project \(project.id) (\(project.slug)) keeps logs \(effective == 0 ? "forever" : "\(effective) days") (\(source)).")
                return
            }
            let effective = policy.days(projectID: project.id)
            let source = policy.override(projectID: project.id) == nil ? "server setting retention_days" : "project override"
            print("Project \(project.id) (\(project.slug)) keeps events \(effective == 0 ? "forever" : "\(effective) days") (\(source)).")
        }
    }
}
