import HTTPTypes
import Hummingbird
import PitModel
import PitQuery
import PitStorage

/// Sentry's events table endpoint, `GET /api/0/organizations/{org}/events/`, for the logs
/// dataset (`dataset=logs` or `ourlogs`; `LogsRequest`). Only the organisation's projects are
/// read; `project=ID` narrows to some of them (403 for a project outside it, as the sessions route
/// answers). Pages follow Sentry's `Link` header (`rel="previous"` and `rel="next"` with
/// `results` and `cursor`), each link repeating the request's other parameters.
extension APIRoutes {
    func organizationEvents(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let projects = try await organizationProjects(context)
        let parameters = FormFields(query: request).pairs.map { ($0.name, $0.value) }
        let dataset = parameters.first { $0.0 == "dataset" }?.1 ?? ""
        if TransactionsRequest.datasets.contains(dataset) {
            return try await transactionsTable(request, parameters: parameters, projects: projects)
        }
        guard LogsRequest.datasets.contains(dataset) else {
            throw HTTPError(
                .badRequest,
                message: dataset.isEmpty
                    ? "dataset is required: Pit's events table serves dataset=logs (or ourlogs) and dataset=transactions"
                    : "dataset \(dataset) is not supported: Pit's events table serves dataset=logs (or ourlogs) and dataset=transactions")
        }
        var logs: LogsRequest
        do {
            logs = try LogsRequest(parameters: parameters, nowMilliseconds: ClockTime.nowMilliseconds)
        } catch {
            throw HTTPError(.badRequest, message: error.detail)
        }
        let known = Dictionary(projects.map { ($0.id, $0.slug) }, uniquingKeysWith: { a, _ in a })
        if let other = logs.projectIDs.first(where: { known[$0] == nil }) {
            throw HTTPError(.forbidden, message: "You do not have permission to perform this action. (project \(other))")
        }
        logs.query.projectIDs = logs.projectIDs.isEmpty ? projects.map(\.id) : logs.projectIDs
        let limit = logs.query.limit
        // One more than a page says whether another follows.
        logs.query.limit = limit + 1
        var rows = try await reader.logs(logs.query)
        let more = rows.count > limit
        if more { rows.removeLast(rows.count - limit) }
        var writer = JSONWriter(capacity: 512 * max(1, rows.count))
        logs.render(rows, projects: known, into: &writer)
        var headers = HTTPFields()
        let others: [(String, String?)] = parameters.filter { $0.0 != "cursor" }.map { (name, value) -> (String, String?) in (name, value) }
        func link(_ cursor: String, rel: String, results: Bool) -> String {
            let url = baseURL + request.uri.path + PercentEncoding.query(others + [("cursor", cursor)])
            return "<\(url)>; rel=\"\(rel)\"; results=\"\(results)\"; cursor=\"\(cursor)\""
        }
        let next = rows.last.map { $0.cursor.description } ?? (logs.query.before?.description ?? "")
        let previous = logs.query.before?.description ?? ""
        headers[.link] = link(previous, rel: "previous", results: false) + ", " + link(next, rel: "next", results: more)
        return HTTPResponses.json(writer, headers: headers)
    }
}
