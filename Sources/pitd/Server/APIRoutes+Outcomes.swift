import Hummingbird
import PitModel
import PitQuery
import PitStorage

/// Outcomes: Sentry's `stats_v2` API over `outcomes_hourly`.
extension APIRoutes {
    /// `GET /api/0/organizations/{org}/stats_v2/?field=sum(quantity)&groupBy=outcome&groupBy=category&groupBy=reason&project=ID&statsPeriod=24h&interval=1h`.
    func statsV2(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let projects = try await organizationProjects(context)
        let parameters = FormFields(query: request).pairs.map { ($0.name, $0.value) }
        let statsRequest: StatsV2Request
        do {
            statsRequest = try StatsV2Request(parameters: parameters, nowMilliseconds: ClockTime.nowMilliseconds)
        } catch {
            throw HTTPError(.badRequest, message: error.detail)
        }
        let known = Set(projects.map(\.id))
        // As the sessions API: a project outside the organisation is refused without saying
        // whether it exists.
        if let other = statsRequest.projectIDs.first(where: { !known.contains($0) }) {
            throw HTTPError(.forbidden, message: "You do not have permission to perform this action. (project \(other))")
        }
        let ids = statsRequest.projectIDs.isEmpty ? projects.map(\.id) : statsRequest.projectIDs
        let rows = try await reader.outcomes(statsRequest.query(projectIDs: ids))
        var writer = JSONWriter()
        statsRequest.render(rows, into: &writer)
        return HTTPResponses.json(writer)
    }
}
