import Engine
import HTTPTypes
import Hummingbird

/// The Sentry-shaped read API under `/api/0`, behind `Authorization: Bearer <token>`.
struct APIRoutes: Sendable {
    let admin: any AdminStore
    let reader: any ReadStore
    let queue: IngestQueue
    let baseURL: String

    func register(on router: Router<BasicRequestContext>, tokenHash: String) {
        let api = router.group("api/0").add(middleware: BearerTokenMiddleware(tokenHash: tokenHash))
        api.get("projects") { _, _ in try await listProjects() }
        api.get("projects/:org/:project/issues") { request, context in try await listIssues(request, context) }
        api.put("projects/:org/:project/issues") { request, context in try await bulkUpdate(request, context) }
        api.get("projects/:org/:project/events/:event") { _, context in try await projectEvent(context) }
        api.get("issues/:id") { _, context in try await issueDetail(context) }
        api.put("issues/:id") { request, context in try await updateIssue(request, context) }
        api.get("issues/:id/events") { request, context in try await issueEvents(request, context) }
        api.get("issues/:id/events/latest") { _, context in try await latestEvent(context) }
    }

    // MARK: Handlers

    func listProjects() async throws -> Response {
        var writer = JSONWriter()
        writer.beginArray()
        for project in try admin.projects() { SentryAPIRenderer.project(project, into: &writer) }
        writer.endArray()
        return HTTPResponses.json(writer)
    }

    func project(_ context: BasicRequestContext) throws -> Project {
        guard let org = context.parameters.get("org"), let slug = context.parameters.get("project"),
              let project = try admin.project(organizationSlug: org, slug: slug)
        else { throw HTTPError(.notFound, message: "project not found") }
        return project
    }

    func issueQuery(_ request: Request) throws -> IssueQuery {
        let parameters = request.uri.queryParameters
        var query: IssueQuery
        do {
            query = try IssueQuery(parsing: parameters["query"].map(String.init) ?? "is:unresolved")
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
        return query
    }

    func listIssues(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let project = try project(context)
        let query = try issueQuery(request)
        let issues = try await reader.issues(projectID: project.id, query: query)
        var writer = JSONWriter(capacity: 1024 * max(1, issues.count))
        writer.beginArray()
        for issue in issues { SentryAPIRenderer.issue(issue, project: project, baseURL: baseURL, into: &writer) }
        writer.endArray()
        var headers: HTTPFields = [:]
        if issues.count == query.limit, let last = issues.last {
            let value: Int64 = switch query.sort {
            case .date: last.lastSeen
            case .new: last.firstSeen
            case .freq: last.timesSeen
            case .user: last.usersSeen
            }
            let cursor = IssueQuery.Cursor(value: value, id: last.id).description
            headers[.link] = "<\(baseURL)\(request.uri.path)?cursor=\(cursor)>; rel=\"next\"; results=\"true\"; cursor=\"\(cursor)\""
        }
        return HTTPResponses.json(writer, headers: headers)
    }

    func issueID(_ context: BasicRequestContext) throws -> Int64 {
        guard let id = context.parameters.get("id").flatMap({ Int64($0) }) else { throw HTTPError(.notFound, message: "issue not found") }
        return id
    }

    func loadIssue(_ id: Int64) async throws -> (IssueRow, Project) {
        guard let issue = try await reader.issue(id: id), let project = try admin.project(id: issue.projectID) else {
            throw HTTPError(.notFound, message: "issue not found")
        }
        return (issue, project)
    }

    func issueDetail(_ context: BasicRequestContext) async throws -> Response {
        let (issue, project) = try await loadIssue(try issueID(context))
        var writer = JSONWriter()
        SentryAPIRenderer.issueDetail(issue, project: project, baseURL: baseURL, into: &writer)
        return HTTPResponses.json(writer)
    }

    /// `{"status": "resolved"|"unresolved"|"ignored"|"resolvedInNextRelease", "statusDetails": {"inNextRelease": true}}`.
    func statusUpdate(_ request: Request) async throws -> (IssueStatus, Bool) {
        let body = try await request.body.collect(upTo: 64 * 1024)
        return try body.withUnsafeReadableBytes { raw in
            guard let tape = try? JSONTape.parse(raw), tape[0].kind == .object else {
                throw HTTPError(.badRequest, message: "body must be a JSON object")
            }
            let json = JSONView(tape: tape, bytes: raw)
            guard let name = json.string(json.member(0, "status")), let status = IssueStatus(name: name) else {
                throw HTTPError(.badRequest, message: "status must be resolved, resolvedInNextRelease, unresolved or ignored")
            }
            let inNextRelease = name == "resolvedInNextRelease"
                || json.bool(json.path(0, "statusDetails", "inNextRelease")) == true
            return (status, inNextRelease)
        }
    }

    func apply(_ ids: [Int64], _ status: IssueStatus, inNextRelease: Bool) async throws {
        let result: Result<Void, any Error>? = await withCheckedContinuation { continuation in
            let queued = queue.offer(command: .setStatus(issueIDs: ids, status: status, resolveInNextRelease: inNextRelease)) {
                continuation.resume(returning: $0)
            }
            if !queued { continuation.resume(returning: nil) }
        }
        switch result {
        case .none: throw HTTPError(.serviceUnavailable, message: "server is shutting down")
        case .failure(let error): throw HTTPError(.serviceUnavailable, message: "could not update: \(error)")
        case .success: return
        }
    }

    func updateIssue(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let id = try issueID(context)
        _ = try await loadIssue(id)
        let (status, inNextRelease) = try await statusUpdate(request)
        try await apply([id], status, inNextRelease: inNextRelease)
        return try await issueDetail(context)
    }

    /// Sentry's bulk mutate: `PUT …/issues/?id=1&id=2` (or `?query=` for every match).
    func bulkUpdate(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let project = try project(context)
        let ids = request.uri.queryParameters.getAll("id").compactMap { Int64($0) }
        var targets: [Int64] = []
        if ids.isEmpty {
            var query = try issueQuery(request)
            query.limit = 1000
            targets = try await reader.issues(projectID: project.id, query: query).map(\.id)
        } else {
            for id in ids {
                // Never touch another project's issue through this project's URL.
                if let issue = try await reader.issue(id: id), issue.projectID == project.id { targets.append(id) }
            }
        }
        let (status, inNextRelease) = try await statusUpdate(request)
        if !targets.isEmpty { try await apply(targets, status, inNextRelease: inNextRelease) }
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("status", status.name)
        writer.field("updated", targets.count)
        writer.endObject()
        return HTTPResponses.json(writer)
    }

    func issueEvents(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let (issue, _) = try await loadIssue(try issueID(context))
        let parameters = request.uri.queryParameters
        let limit = parameters["limit"].flatMap { Int($0) } ?? 100
        let before = parameters["cursor"].flatMap { Int64($0) }
        let events = try await reader.events(issueID: issue.id, limit: limit, before: before)
        var writer = JSONWriter(capacity: 4096 * max(1, events.count))
        writer.beginArray()
        for event in events { SentryAPIRenderer.event(event, issue: issue, into: &writer) }
        writer.endArray()
        var headers: HTTPFields = [:]
        if events.count == limit, let last = events.last {
            headers[.link] = "<\(baseURL)\(request.uri.path)?cursor=\(last.rowID)>; rel=\"next\"; results=\"true\"; cursor=\"\(last.rowID)\""
        }
        return HTTPResponses.json(writer, headers: headers)
    }

    func latestEvent(_ context: BasicRequestContext) async throws -> Response {
        let (issue, _) = try await loadIssue(try issueID(context))
        guard let event = try await reader.latestEvent(issueID: issue.id) else { throw HTTPError(.notFound, message: "no events") }
        var writer = JSONWriter()
        SentryAPIRenderer.event(event, issue: issue, into: &writer)
        return HTTPResponses.json(writer)
    }

    func projectEvent(_ context: BasicRequestContext) async throws -> Response {
        let project = try project(context)
        guard let text = context.parameters.get("event"), let eventID = EventID(text),
              let event = try await reader.event(projectID: project.id, eventID: eventID)
        else { throw HTTPError(.notFound, message: "event not found") }
        let issue = try await reader.issue(id: event.issueID)
        var writer = JSONWriter()
        SentryAPIRenderer.event(event, issue: issue, into: &writer)
        return HTTPResponses.json(writer)
    }
}

/// `Authorization: Bearer <admin token>`, compared by hash in constant time.
struct BearerTokenMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let tokenHash: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            return HTTPResponses.detail("Authentication credentials were not provided.", status: .unauthorized)
        }
        let token = String(header.dropFirst(7)).trimmingSpaces
        guard AdminToken.matches(token, storedHash: tokenHash) else {
            return HTTPResponses.detail("Invalid token.", status: .unauthorized)
        }
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            // Errors keep Sentry's `{"detail": ...}` body.
            return HTTPResponses.detail(error.body ?? "\(error.status)", status: error.status)
        }
    }
}
