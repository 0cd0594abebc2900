import HTTPTypes
import Hummingbird
import PitIngest
import PitModel
import PitQuery
import PitStorage

/// Performance: the transactions table of `events/?dataset=transactions` (read from the
/// pre-aggregated metrics, `TransactionsRequest`), the trace endpoints `events-trace/{trace_id}/`
/// and `events-trace-light/{trace_id}/?event_id=` (`TraceTree`), and a transaction's detail on
/// the project event route. Only the organisation's projects are read; `project=ID` narrows to
/// some of them (403 for a project outside it, as the logs table answers).
extension APIRoutes {
    func registerTraces(on api: RouterGroup<PitRequestContext>) {
        api.get("organizations/:org/events-trace/:trace") { request, context in try await organizationTrace(request, context, light: false)
        }
        api.get("organizations/:org/events-trace-light/:trace") { request, context in
            try await organizationTrace(request, context, light: true)
        }
        api.get("projects/:org/:project/performance") { _, context in try await projectPerformance(context) }
        api.put("projects/:org/:project/performance") { request, context in try await setProjectPerformance(request, context) }
    }

    /// `GET|PUT /api/0/projects/{org}/{project}/performance/`: Pit's own endpoint for the
    /// project's Apdex threshold, `{"project": slug, "apdexThreshold": 300}` (milliseconds; a PUT
    /// sets it for transactions stored from then on, as Sentry's project setting does).
    func projectPerformance(_ context: PitRequestContext) async throws -> Response {
        let project = try await project(context)
        let threshold = try await admin { try await $0.apdexThreshold(projectID: project.id) } ?? Apdex.defaultThresholdMilliseconds
        return performanceAnswer(project, threshold: threshold)
    }

    func setProjectPerformance(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let project = try await project(context)
        let threshold = try await APIBody.read(request) { json -> Int64 in
            guard let member = json.member(0, "apdexThreshold"), let value = json.int(member) else {
                throw HTTPError(.badRequest, message: "apdexThreshold is required: a whole number of milliseconds")
            }
            return Int64(value)
        }
        try await admin { try await $0.setApdexThreshold(projectID: project.id, milliseconds: threshold) }
        return performanceAnswer(project, threshold: threshold)
    }

    private func performanceAnswer(_ project: Project, threshold: Int64) -> Response {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("project", project.slug)
        writer.field("apdexThreshold", threshold)
        writer.endObject()
        return HTTPResponses.json(writer)
    }

    func transactionsTable(
        _ request: Request, parameters: [(String, String)], projects: [Project]
    ) async throws -> Response {
        var table: TransactionsRequest
        do {
            table = try TransactionsRequest(parameters: parameters, nowMilliseconds: ClockTime.nowMilliseconds)
        } catch {
            throw HTTPError(.badRequest, message: error.detail)
        }
        let known = try Self.readableProjects(table.projectIDs, of: projects)
        table.query.projectIDs = known.ids
        let rows = try await reader.transactionSummaries(table.query)
        var writer = JSONWriter(capacity: 256 * max(1, min(rows.count, table.perPage)))
        let more = table.render(rows, projects: known.slugs, into: &writer)
        let others: [(String, String?)] = parameters.filter { $0.0 != "cursor" }.map { (name, value) -> (String, String?) in (name, value) }
        func link(_ offset: Int, rel: String, results: Bool) -> String {
            let cursor = "0:\(offset):0"
            let url = baseURL + request.uri.path + PercentEncoding.query(others + [("cursor", cursor)])
            return "<\(url)>; rel=\"\(rel)\"; results=\"\(results)\"; cursor=\"\(cursor)\""
        }
        var headers = HTTPFields()
        headers[.link] =
            link(max(0, table.offset - table.perPage), rel: "previous", results: table.offset > 0) + ", "
            + link(table.offset + table.perPage, rel: "next", results: more)
        return HTTPResponses.json(writer, headers: headers)
    }

    /// `events-trace/{trace_id}/` (the tree) and `events-trace-light/{trace_id}/?event_id=`.
    func organizationTrace(_ request: Request, _ context: PitRequestContext, light: Bool) async throws -> Response {
        let projects = try await organizationProjects(context)
        guard let text = context.parameters.get("trace"), let traceID = TraceID(text), text.utf8.count == 32 else {
            throw HTTPError(.badRequest, message: "Invalid trace id")
        }
        let parameters = FormFields(query: request).pairs.map { ($0.name, $0.value) }
        var asked: [Int64] = []
        for value in parameters.filter({ $0.0 == "project" }).map(\.1) where value != "-1" {
            guard let id = Int64(value), id > 0 else { throw HTTPError(.badRequest, message: "Invalid project: \"\(value.prefix(64))\"") }
            asked.append(id)
        }
        var eventID: EventID?
        if light {
            guard let value = parameters.first(where: { $0.0 == "event_id" })?.1, let id = EventID(value) else {
                throw HTTPError(.badRequest, message: "event_id is required: the light trace is the trace around one event")
            }
            eventID = id
        }
        let known = try Self.readableProjects(asked, of: projects)
        let contents = try await reader.trace(traceID, projectIDs: known.ids, limit: Self.traceLimit)
        let tree = TraceTree(contents)
        var writer = JSONWriter(capacity: 512 * max(1, contents.transactions.count + contents.errors.count))
        if let eventID {
            tree.renderLight(eventID: eventID, projects: known.slugs, into: &writer)
        } else {
            tree.render(projects: known.slugs, into: &writer)
        }
        return HTTPResponses.json(writer)
    }

    /// Most transactions, spans and errors one trace answer reads of each.
    static let traceLimit = 10_000

    /// The projects a request may read: those asked (each must be the organisation's), or all of
    /// the organisation's.
    static func readableProjects(_ asked: [Int64], of projects: [Project]) throws -> (ids: [Int64], slugs: [Int64: String]) {
        let known = Dictionary(projects.map { ($0.id, $0.slug) }, uniquingKeysWith: { a, _ in a })
        if let other = asked.first(where: { known[$0] == nil }) {
            throw HTTPError(.forbidden, message: "You do not have permission to perform this action. (project \(other))")
        }
        return (asked.isEmpty ? projects.map(\.id) : asked, known)
    }
}
