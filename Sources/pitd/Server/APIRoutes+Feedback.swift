import HTTPTypes
import Hummingbird
import PitModel
import PitQuery
import PitStorage

/// User feedback of a project (`GET /api/0/projects/{org}/{project}/user-feedback/`), newest
/// first, with a cursor `Link` as the event lists have.
extension APIRoutes {
    func userFeedback(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let project = try await project(context)
        let parameters = FormFields(query: request)
        var query = FeedbackQuery(projectID: project.id)
        query.limit = max(1, min(parameters["limit"].flatMap { Int($0) } ?? 50, 100))
        if let cursor = parameters["cursor"] {
            guard let value = Int64(cursor) else { throw HTTPError(.badRequest, message: "invalid cursor") }
            query.before = value
        }
        let rows = try await reader.feedback(query)
        var issues: [Int64: IssueRow] = [:]
        var writer = JSONWriter(capacity: 1024 * max(1, rows.count))
        writer.beginArray()
        for row in rows {
            var issue: IssueRow?
            if let issueID = row.issueID {
                if issues[issueID] == nil, let loaded = try await reader.issue(id: issueID), loaded.projectID == project.id {
                    issues[issueID] = loaded
                }
                issue = issues[issueID]
            }
            SentryAPIRenderer.userReport(row, issue: issue, project: project, baseURL: baseURL, into: &writer)
        }
        writer.endArray()
        var headers: HTTPFields = [:]
        if rows.count == query.limit, let last = rows.last {
            headers[.link] =
                "<\(baseURL)\(request.uri.path)?cursor=\(last.id)>; rel=\"next\"; results=\"true\"; cursor=\"\(last.id)\""
        }
        return HTTPResponses.json(writer, headers: headers)
    }
}
