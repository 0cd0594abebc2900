import Hummingbird
import PitModel
import PitQuery
import PitStorage

/// Release health: Sentry's sessions API, and `healthData` on the release routes.
extension APIRoutes {
    /// `GET /api/0/organizations/{org}/sessions/?field=sum(session)&groupBy=session.status&project=ID&statsPeriod=24h&interval=1h`.
    func sessions(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let projects = try await organizationProjects(context)
        let parameters = FormFields(query: request).pairs.map { ($0.name, $0.value) }
        let sessionsRequest: SessionsRequest
        do {
            sessionsRequest = try SessionsRequest(parameters: parameters, nowMilliseconds: ClockTime.nowMilliseconds)
        } catch {
            throw HTTPError(.badRequest, message: error.detail)
        }
        let known = Set(projects.map(\.id))
        // A project outside the organisation is answered as Sentry does for one the caller may
        // not read, without saying whether it exists.
        if let other = sessionsRequest.projectIDs.first(where: { !known.contains($0) }) {
            throw HTTPError(.forbidden, message: "You do not have permission to perform this action. (project \(other))")
        }
        let ids = sessionsRequest.projectIDs.isEmpty ? projects.map(\.id) : sessionsRequest.projectIDs
        let totals = try await reader.sessionStats(sessionsRequest.sessionQuery(projectIDs: ids, byInterval: false))
        let series = try await reader.sessionStats(sessionsRequest.sessionQuery(projectIDs: ids, byInterval: true))
        var writer = JSONWriter()
        sessionsRequest.render(totals: totals, series: series, into: &writer)
        return HTTPResponses.json(writer)
    }

    /// The organisation's projects; 404 for another organisation's slug.
    func organizationProjects(_ context: PitRequestContext) async throws -> [Project] {
        guard context.parameters.get("org") == organization else {
            throw HTTPError(.notFound, message: "The requested resource does not exist")
        }
        return try await admin({ try await $0.projects() }).filter { $0.organizationSlug == organization }
    }

    /// Each release's health per project, when the request asks with `health=1`.
    func releaseHealth(_ request: Request, rows: [ReleaseRow]) async throws -> [ReleaseHealth.Key: ReleaseHealth]? {
        let flag = FormFields(query: request)["health"]
        guard flag == "1" || flag == "true" else { return nil }
        return try await ReleaseHealth.load(
            rows.map { ReleaseHealth.Key(projectID: $0.projectID, release: $0.version) }, reader: reader,
            nowMilliseconds: ClockTime.nowMilliseconds)
    }
}
