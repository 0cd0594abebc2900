import HTTPTypes
import Hummingbird
import PitIngest
import PitModel
import PitQuery
import PitStorage

/// Issues: search and list (`X-Hits`, cursor `Link`), detail, status changes one at a time or in bulk.
extension APIRoutes {
    /// The issue search of a request: `query` (Sentry syntax, default `is:unresolved`), `sort`,
    /// `limit`, `cursor`, and Sentry's separate `environment` and `statsPeriod` parameters.
    static func issueQuery(_ request: Request) throws -> IssueQuery {
        let parameters = FormFields(query: request)
        var query: IssueQuery
        do {
            query = try IssueQuery(parsing: parameters["query"] ?? "is:unresolved")
        } catch {
            throw HTTPError(.badRequest, message: error.detail)
        }
        if let sort = parameters["sort"] {
            guard let value = IssueQuery.Sort(rawValue: String(sort)) else { throw HTTPError(.badRequest, message: "unknown sort \(sort)") }
            query.sort = value
        }
        if let limit = parameters["limit"].flatMap({ Int($0) }) { query.limit = max(1, min(limit, 100)) }
        if let cursor = parameters["cursor"] {
            guard let value = IssueQuery.Cursor(String(cursor)) else { throw HTTPError(.badRequest, message: "invalid cursor") }
            query.cursor = value
        }
        for environment in parameters.all("environment") where !environment.isEmpty {
            query.environments.append(String(environment))
        }
        if let period = parameters["statsPeriod"], !period.isEmpty {
            guard let span = IssueQuery.relativeSpan(String(period)) else {
                throw HTTPError(.badRequest, message: "statsPeriod takes a span such as 24h or 14d")
            }
            query.lastSeenWithin = span
        }
        return query
    }

    func issuesResponse(_ request: Request, project: Project, query: IssueQuery) async throws -> Response {
        let issues = try await reader.issues(projectID: project.id, query: query)
        // Sentry adds per-issue stats when asked with `groupStatsPeriod=24h`.
        let stats = FormFields(query: request)["groupStatsPeriod"] == "24h" ? try await issueStats(issues.map(\.id)) : nil
        var writer = JSONWriter(capacity: 1024 * max(1, issues.count))
        writer.beginArray()
        for issue in issues {
            if let stats {
                var one = JSONWriter()
                SentryAPIRenderer.issue(issue, project: project, baseURL: baseURL, into: &one)
                writer.raw(Self.splice(one.bytes, key: "stats", raw: stats[issue.id] ?? Self.emptyStats))
            } else {
                SentryAPIRenderer.issue(issue, project: project, baseURL: baseURL, into: &writer)
            }
        }
        writer.endArray()
        var headers: HTTPFields = [:]
        var countQuery = query
        countQuery.cursor = nil
        headers[HTTPField.Name("X-Hits")!] = String(
            min(
                try await reader.issueCount(projectID: project.id, query: countQuery),
                IssueQuery.maxHits))
        headers[HTTPField.Name("X-Max-Hits")!] = String(IssueQuery.maxHits)
        if issues.count == query.limit, let last = issues.last {
            let cursor = IssueQuery.Cursor(value: query.sort.value(of: last), id: last.id).description
            headers[.link] = "<\(baseURL)\(request.uri.path)?cursor=\(cursor)>; rel=\"next\"; results=\"true\"; cursor=\"\(cursor)\""
        }
        return HTTPResponses.json(writer, headers: headers)
    }

    func listIssues(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        try await issuesResponse(request, project: try project(context), query: try Self.issueQuery(request))
    }

    /// `GET /api/0/organizations/{org}/issues/?project={id}`: one project per request here.
    func listOrganizationIssues(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let projects = try await admin({ try await $0.projects() })
        let wanted = FormFields(query: request)["project"].flatMap { Int64($0) }
        guard let project = wanted.flatMap({ id in projects.first { $0.id == id } }) ?? (wanted == nil ? projects.first : nil),
            project.organizationSlug == context.parameters.get("org")
        else { throw HTTPError(.notFound, message: "The requested resource does not exist") }
        return try await issuesResponse(request, project: project, query: try Self.issueQuery(request))
    }

    func issueID(_ context: PitRequestContext) throws -> Int64 {
        guard let id = context.parameters.get("id").flatMap({ Int64($0) }) else {
            throw HTTPError(.notFound, message: "The requested resource does not exist")
        }
        return id
    }

    func loadIssue(_ id: Int64) async throws -> (IssueRow, Project) {
        guard let issue = try await reader.issue(id: id), let project = try await admin({ try await $0.project(id: issue.projectID) })
        else {
            throw HTTPError(.notFound, message: "The requested resource does not exist")
        }
        return (issue, project)
    }

    func issueDetail(_ context: PitRequestContext) async throws -> Response {
        let (issue, project) = try await loadIssue(try issueID(context))
        var writer = JSONWriter()
        SentryAPIRenderer.issueDetail(issue, project: project, baseURL: baseURL, into: &writer)
        let stats = try await issueStats([issue.id])
        return HTTPResponses.json(Self.splice(writer.bytes, key: "stats", raw: stats[issue.id] ?? Self.emptyStats))
    }

    /// `{"status": "resolved"|"unresolved"|"ignored"|"resolvedInNextRelease", "statusDetails": {"inNextRelease": true}}`.
    func statusUpdate(_ request: Request) async throws -> (IssueStatus, Bool) {
        try await APIBody.read(request) { json in
            guard let name = json.string(json.member(0, "status")), let status = IssueStatus(name: name) else {
                throw HTTPError(.badRequest, message: "status must be resolved, resolvedInNextRelease, unresolved or ignored")
            }
            let inNextRelease =
                name == "resolvedInNextRelease"
                || json.bool(json.path(0, "statusDetails", "inNextRelease")) == true
            return (status, inNextRelease)
        }
    }

    func updateIssue(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let id = try issueID(context)
        _ = try await loadIssue(id)
        let (status, inNextRelease) = try await statusUpdate(request)
        try await IssueActions(queue: queue).apply([id], status, inNextRelease: inNextRelease)
        return try await issueDetail(context)
    }

    /// Sentry's bulk mutate: `PUT …/issues/?id=1&id=2` (or `?query=` for every match).
    func bulkUpdate(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let project = try await project(context)
        let ids = FormFields(query: request).all("id").compactMap { Int64($0) }
        let (status, inNextRelease) = try await statusUpdate(request)
        let updated: Int
        if ids.isEmpty {
            updated = try await IssueActions(queue: queue).applyToMatches(
                of: try Self.issueQuery(request), project: project,
                reader: reader, status: status,
                inNextRelease: inNextRelease)
        } else {
            updated = try await IssueActions(queue: queue).apply(
                ids: ids, project: project, reader: reader, status: status,
                inNextRelease: inNextRelease)
        }
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("status", status.name)
        writer.field("updated", updated)
        writer.endObject()
        return HTTPResponses.json(writer)
    }
}
