import Hummingbird
import PitModel
import PitQuery
import PitStorage

/// Cron monitors: the organisation's monitors and one monitor's check-ins (`limit`, `cursor`
/// `Link`), in Sentry's shapes. Only the organisation's projects are read; `project=ID` narrows
/// to some of them (403 for a project outside it, as the sessions route answers).
extension APIRoutes {
    /// `GET /api/0/organizations/{org}/monitors/`.
    func monitors(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let (projects, ids) = try await monitorProjects(request, context)
        var writer = JSONWriter()
        writer.beginArray()
        for row in try await reader.monitors(projectIDs: ids, slug: nil) {
            SentryAPIRenderer.monitor(row, project: projects[row.monitor.projectID], into: &writer)
        }
        writer.endArray()
        return HTTPResponses.json(writer)
    }

    /// `GET /api/0/organizations/{org}/monitors/{slug}/`.
    func monitorDetail(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let (projects, row) = try await monitor(request, context)
        var writer = JSONWriter()
        SentryAPIRenderer.monitor(row, project: projects[row.monitor.projectID], into: &writer)
        return HTTPResponses.json(writer)
    }

    /// `GET /api/0/organizations/{org}/monitors/{slug}/checkins/?environment=&limit=&cursor=`.
    func monitorCheckIns(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let (_, row) = try await monitor(request, context)
        let parameters = FormFields(query: request)
        let limit = min(max(Int(parameters["limit"] ?? "") ?? 50, 1), 100)
        var cursor: CheckInCursor?
        if let text = parameters["cursor"], !text.isEmpty {
            guard let value = CheckInCursor(String(text)) else { throw HTTPError(.badRequest, message: "invalid cursor") }
            cursor = value
        }
        let environment = parameters["environment"].flatMap { $0.isEmpty ? nil : String($0) }
        // One more than a page says whether another follows.
        var checkIns = try await reader.checkIns(monitorID: row.monitor.id, environment: environment, limit: limit + 1, before: cursor)
        var headers = HTTPFields()
        if checkIns.count > limit {
            checkIns.removeLast(checkIns.count - limit)
            if let last = checkIns.last {
                let next = CheckInCursor(created: last.created, id: last.rowID).description
                headers[.link] = "<\(baseURL)\(request.uri.path)?cursor=\(next)>; rel=\"next\"; results=\"true\"; cursor=\"\(next)\""
            }
        }
        var writer = JSONWriter()
        writer.beginArray()
        for checkIn in checkIns { SentryAPIRenderer.checkIn(checkIn, into: &writer) }
        writer.endArray()
        return HTTPResponses.json(writer, headers: headers)
    }

    private func monitorProjects(_ request: Request, _ context: PitRequestContext) async throws -> ([Int64: Project], [Int64]) {
        let projects = try await organizationProjects(context)
        let known = Dictionary(projects.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var ids: [Int64] = []
        for value in FormFields(query: request).pairs where value.name == "project" {
            guard let id = Int64(value.value) else { throw HTTPError(.badRequest, message: "invalid project \(value.value)") }
            if id == -1 { continue }
            guard known[id] != nil else {
                throw HTTPError(.forbidden, message: "You do not have permission to perform this action. (project \(id))")
            }
            ids.append(id)
        }
        return (known, ids.isEmpty ? projects.map(\.id) : ids)
    }

    /// The monitor named in the URL among the projects asked (the first project's, when several
    /// projects have one with that slug); 404 when there is none.
    private func monitor(_ request: Request, _ context: PitRequestContext) async throws -> ([Int64: Project], MonitorRow) {
        let (projects, ids) = try await monitorProjects(request, context)
        let slug = context.parameters.get("slug") ?? ""
        guard let row = try await reader.monitors(projectIDs: ids, slug: slug).first else {
            throw HTTPError(.notFound, message: "The requested resource does not exist")
        }
        return (projects, row)
    }
}
