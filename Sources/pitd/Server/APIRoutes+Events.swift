import HTTPTypes
import Hummingbird
import PitIngest
import PitModel
import PitQuery
import PitStorage

/// Events of a project or an issue (cursor `Link`), and one event by id, `latest` or `oldest`.
extension APIRoutes {
    static func eventQuery(_ request: Request, projectID: Int64, issueID: Int64?) throws -> EventQuery {
        let parameters = FormFields(query: request)
        var query = EventQuery(projectID: projectID, issueID: issueID)
        query.limit = max(1, min(parameters["limit"].flatMap { Int($0) } ?? 50, 100))
        query.before = parameters["cursor"].flatMap { Int64($0) }
        if let environment = parameters["environment"], !environment.isEmpty { query.environment = String(environment) }
        if let release = parameters["release"], !release.isEmpty { query.release = String(release) }
        if let level = parameters["level"], !level.isEmpty {
            guard let value = Level(name: String(level)) else { throw HTTPError(.badRequest, message: "unknown level \(level)") }
            query.level = value
        }
        if let user = parameters["user"], !user.isEmpty { query.userKey = String(user) }
        if let period = parameters["statsPeriod"], !period.isEmpty {
            guard let span = IssueQuery.relativeSpan(String(period)) else {
                throw HTTPError(.badRequest, message: "statsPeriod takes a span such as 24h or 14d")
            }
            query.since = ClockTime.nowMilliseconds - span
        }
        return query
    }

    func eventsResponse(_ request: Request, query: EventQuery, issue: IssueRow?) async throws -> Response {
        let events = try await reader.events(query)
        var issues: [Int64: IssueRow] = [:]
        if let issue { issues[issue.id] = issue }
        var writer = JSONWriter(capacity: 4096 * max(1, events.count))
        writer.beginArray()
        for event in events {
            if issues[event.issueID] == nil, let row = try await reader.issue(id: event.issueID) { issues[row.id] = row }
            SentryAPIRenderer.event(event, issue: issues[event.issueID], into: &writer)
        }
        writer.endArray()
        var headers: HTTPFields = [:]
        if events.count == query.limit, let last = events.last {
            headers[.link] =
                "<\(baseURL)\(request.uri.path)?cursor=\(last.rowID)>; rel=\"next\"; results=\"true\"; cursor=\"\(last.rowID)\""
        }
        return HTTPResponses.json(writer, headers: headers)
    }

    func issueEvents(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let (issue, _) = try await loadIssue(try issueID(context))
        return try await eventsResponse(
            request, query: try Self.eventQuery(request, projectID: issue.projectID, issueID: issue.id),
            issue: issue)
    }

    /// `GET /api/0/issues/{id}/events/{event_id|latest|oldest}/`.
    func issueEvent(_ context: PitRequestContext) async throws -> Response {
        let (issue, _) = try await loadIssue(try issueID(context))
        let which = context.parameters.get("event") ?? ""
        let event: EventRow?
        switch which {
        case "latest":
            event = try await reader.latestEvent(issueID: issue.id)
        case "oldest":
            let navigation = try await reader.eventNavigation(issueID: issue.id, rowID: 0, environment: nil)
            event = try await navigation.first.asyncFlatMap { try await reader.event(issueID: issue.id, rowID: $0) }
        default:
            guard let eventID = EventID(which) else { throw HTTPError(.notFound, message: "The requested resource does not exist") }
            event = try await reader.event(projectID: issue.projectID, eventID: eventID).flatMap { $0.issueID == issue.id ? $0 : nil }
        }
        guard let event else { throw HTTPError(.notFound, message: "The requested resource does not exist") }
        var writer = JSONWriter()
        SentryAPIRenderer.event(event, issue: issue, into: &writer)
        return HTTPResponses.json(writer)
    }

    func projectEvents(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let project = try await project(context)
        return try await eventsResponse(request, query: try Self.eventQuery(request, projectID: project.id, issueID: nil), issue: nil)
    }

    /// An error event, or else a transaction (`SentryAPIRenderer.transactionEvent`).
    func projectEvent(_ context: PitRequestContext) async throws -> Response {
        let project = try await project(context)
        guard let text = context.parameters.get("event"), let eventID = EventID(text) else {
            throw HTTPError(.notFound, message: "The requested resource does not exist")
        }
        guard let event = try await reader.event(projectID: project.id, eventID: eventID) else {
            guard let transaction = try await reader.transaction(projectID: project.id, eventID: eventID) else {
                throw HTTPError(.notFound, message: "The requested resource does not exist")
            }
            var writer = JSONWriter()
            SentryAPIRenderer.transactionEvent(transaction, into: &writer)
            return HTTPResponses.json(writer)
        }
        let issue = try await reader.issue(id: event.issueID)
        var writer = JSONWriter()
        SentryAPIRenderer.event(event, issue: issue, into: &writer)
        return HTTPResponses.json(writer)
    }
}
