import Hummingbird
import PitModel
import PitStorage

/// The cron monitor pages.
extension WebRoutes {
    func monitorsPage(_ request: Request, _ context: PitRequestContext, projectScoped: Bool) async throws -> Response {
        let project = projectScoped ? try await pathProject(context) : nil
        let projects = try await projectsByID()
        let rows = try await reader.monitors(projectIDs: project.map { [$0.id] } ?? Array(projects.keys), slug: nil)
        var recent: [Int64: [String: [StoredCheckIn]]] = [:]
        for row in rows {
            for environment in row.environments {
                recent[row.monitor.id, default: [:]][environment.environment] = try await reader.checkIns(
                    monitorID: row.monitor.id, environment: environment.environment, limit: MonitorsModel.timelineLength, before: nil)
            }
        }
        let model = MonitorsModel(rows: rows, projects: projects, recent: recent, project: project)
        let chrome = try await chrome(request, context, section: .monitors, project: project)
        return Self.page(MonitorsPage.render(model, chrome: chrome), request: request)
    }

    func monitorDetailPage(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let projects = try await projectsByID()
        var ids = Array(projects.keys).sorted()
        if let wanted = FormFields(query: request)["project"].flatMap({ Int64($0) }), projects[wanted] != nil { ids = [wanted] }
        let slug = context.parameters.get("slug") ?? ""
        guard let row = try await reader.monitors(projectIDs: ids, slug: slug).first else {
            throw HTTPError(.notFound, message: "This monitor does not exist.")
        }
        var recent: [String: [StoredCheckIn]] = [:]
        for environment in row.environments {
            recent[environment.environment] = try await reader.checkIns(
                monitorID: row.monitor.id, environment: environment.environment, limit: MonitorsModel.timelineLength, before: nil)
        }
        let checkIns = try await reader.checkIns(monitorID: row.monitor.id, environment: nil, limit: 100, before: nil)
        let project = projects[row.monitor.projectID]
        let chrome = try await chrome(request, context, section: .monitors, project: project)
        return Self.page(
            MonitorDetailPage.render(row, project: project, checkIns: checkIns, recent: recent, chrome: chrome), request: request)
    }
}
