import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers
import PitIngest
import PitModel
import PitQuery
import PitStorage

/// The Sentry-shaped JSON API under `/api/0`, behind `Authorization: Bearer <token>` (the admin
/// token or an API token; reads need `read`, changes `write`, keys/tokens/projects `admin`).
///
/// Every handler resolves the project from the URL first and checks that the object asked for
/// belongs to it, so one project's data is never reachable through another project's URL.
struct APIRoutes: Sendable {
    let admin: AdminAccess
    let reader: any ReadStore
    let queue: IngestQueue
    let baseURL: String
    /// Reloaded after a key changes here, so this instance applies it at once (others within
    /// `key_refresh_seconds`).
    let keys: KeyCache
    /// Per-project retention overrides (`/retention/`); nil where the server runs without one.
    var retention: RetentionPolicy? = nil
    /// The one organisation's slug, for the member routes.
    var organization = "pit"

    func register(on router: Router<PitRequestContext>, authenticator: Authenticator) {
        let api = router.group("api/0").add(middleware: APIAuthMiddleware(authenticator: authenticator))
        api.get("projects") { _, _ in try await listProjects() }
        api.get("organizations/:org/projects") { _, _ in try await listProjects() }
        api.post("teams/:org/:team/projects") { request, context in try await createProject(request, context) }
        api.get("projects/:org/:project") { _, context in try await projectDetail(context) }
        api.put("projects/:org/:project") { request, context in try await renameProject(request, context) }
        api.get("projects/:org/:project/issues") { request, context in try await listIssues(request, context) }
        api.put("projects/:org/:project/issues") { request, context in try await bulkUpdate(request, context) }
        api.get("organizations/:org/issues") { request, context in try await listOrganizationIssues(request, context) }
        api.get("projects/:org/:project/events") { request, context in try await projectEvents(request, context) }
        api.get("projects/:org/:project/events/:event") { _, context in try await projectEvent(context) }
        registerVerify(on: api)
        api.get("projects/:org/:project/releases") { _, context in try await releases(context, projectScoped: true) }
        api.get("projects/:org/:project/stats") { request, context in try await projectStats(request, context) }
        api.get("projects/:org/:project/environments") { _, context in try await environments(context) }
        api.get("projects/:org/:project/retention") { _, context in try await projectRetention(context) }
        api.put("projects/:org/:project/retention") { request, context in try await setProjectRetention(request, context) }
        api.get("organizations/:org/releases") { _, context in try await releases(context, projectScoped: false) }
        api.get("organizations/:org/releases/:version") { _, context in try await releaseDetail(context) }
        api.get("projects/:org/:project/keys") { _, context in try await listKeys(context) }
        api.post("projects/:org/:project/keys") { request, context in try await createKey(request, context) }
        api.put("projects/:org/:project/keys/:key") { request, context in try await updateKey(request, context) }
        api.delete("projects/:org/:project/keys/:key") { _, context in try await disableKey(context) }
        api.get("api-tokens") { _, context in try await listTokens(context) }
        api.post("api-tokens") { request, context in try await createToken(request, context) }
        api.delete("api-tokens/:id") { _, context in try await revokeToken(context) }
        api.get("users/:user") { _, context in try await userDetail(context) }
        api.put("users/:user") { request, context in try await updateUser(request, context) }
        api.get("organizations/:org/members") { _, context in try await listMembers(context) }
        api.get("organizations/:org/members/:member") { _, context in try await memberDetail(context) }
        api.delete("organizations/:org/members/:member") { _, context in try await removeMember(context) }
        api.get("issues/:id") { _, context in try await issueDetail(context) }
        api.put("issues/:id") { request, context in try await updateIssue(request, context) }
        api.get("issues/:id/events") { request, context in try await issueEvents(request, context) }
        api.get("issues/:id/events/:event") { _, context in try await issueEvent(context) }
        api.get("issues/:id/tags") { request, context in try await issueTags(request, context) }
        api.get("issues/:id/tags/:key") { request, context in try await issueTag(request, context) }
        api.get("issues/:id/tags/:key/values") { request, context in try await issueTagValues(request, context) }
    }

    // MARK: Projects

    func listProjects() async throws -> Response {
        var writer = JSONWriter()
        writer.beginArray()
        for project in try await admin({ try $0.projects() }) { SentryAPIRenderer.project(project, into: &writer) }
        writer.endArray()
        return HTTPResponses.json(writer)
    }

    func project(_ context: PitRequestContext) async throws -> Project {
        guard let org = context.parameters.get("org"), let slug = context.parameters.get("project"),
              let project = try await admin({ try $0.project(organizationSlug: org, slug: slug) })
        else { throw HTTPError(.notFound, message: "The requested resource does not exist") }
        return project
    }

    func projectDetail(_ context: PitRequestContext) async throws -> Response {
        let project = try await project(context)
        var writer = JSONWriter()
        SentryAPIRenderer.project(project, into: &writer)
        return HTTPResponses.json(writer)
    }

    /// Sentry's `POST /api/0/teams/{org}/{team}/projects/` with `{"name", "platform"}`.
    func createProject(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let (name, platform) = try await APIBody.read(request) { json in
            (json.string(json.member(0, "name")), json.string(json.member(0, "platform")))
        }
        guard let name, !name.trimmingSpaces.isEmpty else { throw HTTPError(.badRequest, message: "name is required") }
        let project: Project
        do {
            project = try await admin({ try $0.createProject(name: name.trimmingSpaces, id: nil, platform: platform) })
            _ = try? await admin({ try keys.reload(from: $0) })
        } catch let error as AdminError {
            throw HTTPError(.badRequest, message: error.description)
        }
        var writer = JSONWriter()
        SentryAPIRenderer.project(project, into: &writer)
        return HTTPResponses.json(writer, status: .created)
    }

    func renameProject(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let project = try await project(context)
        let name = try await APIBody.read(request) { json in json.string(json.member(0, "name")) }
        var updated = project
        if let name {
            do {
                updated = try await admin({ try $0.renameProject(id: project.id, name: name) }) ?? project
            } catch let error as AdminError {
                throw HTTPError(.badRequest, message: error.description)
            }
        }
        var writer = JSONWriter()
        SentryAPIRenderer.project(updated, into: &writer)
        return HTTPResponses.json(writer)
    }

    // MARK: Issues

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
        headers[HTTPField.Name("X-Hits")!] = String(min(try await reader.issueCount(projectID: project.id, query: countQuery),
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
        let projects = try await admin({ try $0.projects() })
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
        guard let issue = try await reader.issue(id: id), let project = try await admin({ try $0.project(id: issue.projectID) }) else {
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

    // MARK: Stats

    static let emptyStats = Array(#"{"24h":[]}"#.utf8)

    /// Sentry's `stats: {"24h": [[unix seconds, events], ...]}` (24 hourly buckets, oldest
    /// first), from the writer's hourly counters, for each issue.
    func issueStats(_ ids: [Int64]) async throws -> [Int64: [UInt8]] {
        let now = ClockTime.nowMilliseconds
        let hour = HourlyCounts.hour(ofMilliseconds: now)
        let counts = try await reader.issueHourly(issueIDs: ids, fromHour: hour - 23, toHour: hour)
        var result: [Int64: [UInt8]] = [:]
        for id in ids {
            var writer = JSONWriter(capacity: 512)
            writer.beginObject()
            writer.key("24h")
            Self.series(counts[id] ?? [:], from: hour - 23, to: hour, into: &writer)
            writer.endObject()
            result[id] = writer.bytes
        }
        return result
    }

    static func series(_ counts: [Int64: Int64], from: Int64, to: Int64, into writer: inout JSONWriter) {
        writer.beginArray()
        for hour in from...max(from, to) {
            writer.beginArray()
            writer.value(hour * 3600)
            writer.value(counts[hour] ?? 0)
            writer.endArray()
        }
        writer.endArray()
    }

    /// Adds `"key": raw` before the closing brace of a rendered object.
    static func splice(_ object: [UInt8], key: String, raw: [UInt8]) -> [UInt8] {
        var bytes = object
        guard bytes.last == UInt8(ascii: "}") else { return bytes }
        bytes.removeLast()
        bytes.append(contentsOf: Array(",\"\(key)\":".utf8))
        bytes.append(contentsOf: raw)
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    /// `GET /api/0/projects/{org}/{project}/stats/?stat=received|new_issues&resolution=1h&since=&until=`:
    /// `[[unix seconds, count], ...]` per hour (the last 24 hours by default, at most 90 days).
    func projectStats(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let project = try await project(context)
        let parameters = FormFields(query: request)
        let stat = parameters["stat"] ?? "received"
        guard stat == "received" || stat == "new_issues" else {
            throw HTTPError(.badRequest, message: "stat must be received or new_issues")
        }
        let window: StatsWindow
        do {
            window = try StatsWindow(since: parameters["since"], until: parameters["until"], resolution: parameters["resolution"],
                                     nowSeconds: ClockTime.nowMilliseconds / 1000)
        } catch {
            throw HTTPError(.badRequest, message: error.detail)
        }
        let (from, to) = (window.fromHour, window.toHour)
        let hourly = try await reader.projectHourly(projectID: project.id, fromHour: from, toHour: to)
        var writer = JSONWriter()
        Self.series(hourly.mapValues { stat == "received" ? $0.events : $0.newIssues }, from: from, to: to, into: &writer)
        return HTTPResponses.json(writer)
    }

    func environments(_ context: PitRequestContext) async throws -> Response {
        let project = try await project(context)
        var writer = JSONWriter()
        writer.beginArray()
        for (index, name) in try await reader.environments(projectID: project.id).enumerated() {
            writer.beginObject()
            writer.field("id", String(index + 1))
            writer.field("name", name)
            writer.field("isHidden", false)
            writer.endObject()
        }
        writer.endArray()
        return HTTPResponses.json(writer)
    }

    /// `{"status": "resolved"|"unresolved"|"ignored"|"resolvedInNextRelease", "statusDetails": {"inNextRelease": true}}`.
    func statusUpdate(_ request: Request) async throws -> (IssueStatus, Bool) {
        try await APIBody.read(request) { json in
            guard let name = json.string(json.member(0, "status")), let status = IssueStatus(name: name) else {
                throw HTTPError(.badRequest, message: "status must be resolved, resolvedInNextRelease, unresolved or ignored")
            }
            let inNextRelease = name == "resolvedInNextRelease"
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
            updated = try await IssueActions(queue: queue).applyToMatches(of: try Self.issueQuery(request), project: project,
                                                                         reader: reader, status: status,
                                                                         inNextRelease: inNextRelease)
        } else {
            updated = try await IssueActions(queue: queue).apply(ids: ids, project: project, reader: reader, status: status,
                                                                 inNextRelease: inNextRelease)
        }
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("status", status.name)
        writer.field("updated", updated)
        writer.endObject()
        return HTTPResponses.json(writer)
    }

    // MARK: Events

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
            headers[.link] = "<\(baseURL)\(request.uri.path)?cursor=\(last.rowID)>; rel=\"next\"; results=\"true\"; cursor=\"\(last.rowID)\""
        }
        return HTTPResponses.json(writer, headers: headers)
    }

    func issueEvents(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let (issue, _) = try await loadIssue(try issueID(context))
        return try await eventsResponse(request, query: try Self.eventQuery(request, projectID: issue.projectID, issueID: issue.id),
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

    func projectEvent(_ context: PitRequestContext) async throws -> Response {
        let project = try await project(context)
        guard let text = context.parameters.get("event"), let eventID = EventID(text),
              let event = try await reader.event(projectID: project.id, eventID: eventID)
        else { throw HTTPError(.notFound, message: "The requested resource does not exist") }
        let issue = try await reader.issue(id: event.issueID)
        var writer = JSONWriter()
        SentryAPIRenderer.event(event, issue: issue, into: &writer)
        return HTTPResponses.json(writer)
    }

    // MARK: Tags

    func issueTags(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let (issue, _) = try await loadIssue(try issueID(context))
        let environment = FormFields(query: request)["environment"]
        let facets = try await reader.tagFacets(issueID: issue.id, environment: environment, topValues: 9)
        var writer = JSONWriter()
        writer.beginArray()
        for facet in facets { SentryAPIRenderer.tagFacet(facet, into: &writer) }
        writer.endArray()
        return HTTPResponses.json(writer)
    }

    func issueTag(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let (issue, _) = try await loadIssue(try issueID(context))
        let key = context.parameters.get("key") ?? ""
        let environment = FormFields(query: request)["environment"]
        let values = try await reader.tagValues(issueID: issue.id, key: key, environment: environment, limit: 10_000)
        guard !values.isEmpty else { throw HTTPError(.notFound, message: "The requested resource does not exist") }
        let facet = TagFacet(key: key, total: values.reduce(0) { $0 + $1.count }, distinctValues: Int64(values.count),
                             topValues: Array(values.prefix(9)))
        var writer = JSONWriter()
        SentryAPIRenderer.tagFacet(facet, into: &writer)
        return HTTPResponses.json(writer)
    }

    func issueTagValues(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let (issue, _) = try await loadIssue(try issueID(context))
        let key = context.parameters.get("key") ?? ""
        let environment = FormFields(query: request)["environment"]
        let limit = max(1, min(FormFields(query: request)["limit"].flatMap { Int($0) } ?? 1000, 10_000))
        let values = try await reader.tagValues(issueID: issue.id, key: key, environment: environment, limit: limit)
        var writer = JSONWriter()
        writer.beginArray()
        for value in values { SentryAPIRenderer.tagValue(value, key: key, into: &writer) }
        writer.endArray()
        return HTTPResponses.json(writer)
    }

    // MARK: Releases

    func releases(_ context: PitRequestContext, projectScoped: Bool) async throws -> Response {
        let projects = Dictionary(try await admin({ try $0.projects() }).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let rows = try await reader.releases(projectID: projectScoped ? try project(context).id : nil)
        var byVersion: [String: [ReleaseRow]] = [:]
        var order: [String] = []
        for row in rows {
            if byVersion[row.version] == nil { order.append(row.version) }
            byVersion[row.version, default: []].append(row)
        }
        var writer = JSONWriter()
        writer.beginArray()
        for version in order { SentryAPIRenderer.release(byVersion[version] ?? [], projects: projects, into: &writer) }
        writer.endArray()
        return HTTPResponses.json(writer)
    }

    func releaseDetail(_ context: PitRequestContext) async throws -> Response {
        let version = context.parameters.get("version").map { $0.removingPercentEncoding ?? $0 } ?? ""
        let projects = Dictionary(try await admin({ try $0.projects() }).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let rows = try await reader.releases(projectID: nil).filter { $0.version == version }
        guard !rows.isEmpty else { throw HTTPError(.notFound, message: "The requested resource does not exist") }
        var writer = JSONWriter()
        SentryAPIRenderer.release(rows, projects: projects, into: &writer)
        return HTTPResponses.json(writer)
    }

    // MARK: Keys

    func listKeys(_ context: PitRequestContext) async throws -> Response {
        let project = try await project(context)
        var writer = JSONWriter()
        writer.beginArray()
        for key in try await admin({ try $0.keys(projectID: project.id) }) {
            SentryAPIRenderer.projectKey(key, dsn: DataDirectory.dsn(publicURL: baseURL, key: key), into: &writer)
        }
        writer.endArray()
        return HTTPResponses.json(writer)
    }

    func keyResponse(_ key: ProjectKey, status: HTTPResponse.Status = .ok) -> Response {
        var writer = JSONWriter()
        SentryAPIRenderer.projectKey(key, dsn: DataDirectory.dsn(publicURL: baseURL, key: key), into: &writer)
        return HTTPResponses.json(writer, status: status)
    }

    /// `POST …/keys/` with `{"name": "...", "rateLimit": {"count": n, "window": s}}`.
    func createKey(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let project = try await project(context)
        let (name, limit) = try await APIBody.read(request, allowEmpty: true) { json in
            (json.string(json.member(0, "name")), try Self.rateLimit(json))
        }
        do {
            let key = try await admin({ store in
                let key = try store.createKey(projectID: project.id, publicKey: nil, label: name)
                guard case .some(.some) = limit else { return key }
                return try store.updateKey(id: key.id, label: nil, enabled: nil, rateLimit: limit) ?? key
            })
            _ = try? await admin({ try keys.reload(from: $0) })
            return keyResponse(key, status: .created)
        } catch let error as AdminError {
            throw HTTPError(.badRequest, message: error.description)
        }
    }

    /// `rateLimit` absent → unchanged (nil); `null` (or `{"count": null, "window": null}`, as
    /// Sentry's form sends to clear it) → remove (.some(nil)); object → set, 400 when out of range.
    static func rateLimit(_ json: JSONView) throws -> ProjectKey.RateLimit?? {
        guard let member = json.member(0, "rateLimit") else { return nil }
        guard json.kind(member) == .object else { return .some(nil) }
        let count = json.member(member, "count"), window = json.member(member, "window")
        if json.isNull(count) && json.isNull(window) { return .some(nil) }
        do {
            return .some(try ProjectKey.RateLimit.validated(count: json.int(count).map(Int64.init),
                                                            windowSeconds: json.int(window).map(Int64.init)))
        } catch {
            throw HTTPError(.badRequest, message: error.detail)
        }
    }

    func projectKey(_ context: PitRequestContext) async throws -> (Project, ProjectKey) {
        let project = try await project(context)
        guard let publicKey = context.parameters.get("key"),
              let key = try await admin({ try $0.keys(projectID: project.id) }).first(where: { $0.publicKey == publicKey })
        else { throw HTTPError(.notFound, message: "The requested resource does not exist") }
        return (project, key)
    }

    /// `PUT …/keys/{public_key}/` with any of `name`, `isActive`, `rateLimit`.
    func updateKey(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let (_, key) = try await projectKey(context)
        let (name, active, limit) = try await APIBody.read(request) { json in
            (json.string(json.member(0, "name")), json.bool(json.member(0, "isActive")), try Self.rateLimit(json))
        }
        do {
            guard let updated = try await admin({ try $0.updateKey(id: key.id, label: name, enabled: active, rateLimit: limit) }) else {
                throw HTTPError(.notFound, message: "The requested resource does not exist")
            }
            _ = try? await admin({ try keys.reload(from: $0) })
            return keyResponse(updated)
        } catch let error as AdminError {
            throw HTTPError(.badRequest, message: error.description)
        }
    }

    /// Keys are disabled, never deleted: stored events keep pointing at their project either way,
    /// and a disabled key can be re-enabled if it was a mistake.
    func disableKey(_ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let (_, key) = try await projectKey(context)
        _ = try await admin({ try $0.updateKey(id: key.id, label: nil, enabled: false, rateLimit: nil) })
        _ = try? await admin({ try keys.reload(from: $0) })
        return Response(status: .noContent)
    }

    // MARK: Tokens

    func listTokens(_ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        var writer = JSONWriter()
        writer.beginArray()
        for token in try await admin({ try $0.tokens() }) { SentryAPIRenderer.apiToken(token, plainToken: nil, into: &writer) }
        writer.endArray()
        return HTTPResponses.json(writer)
    }

    /// `POST /api/0/api-tokens/` with `{"name": "...", "scopes": ["project:read", ...]}`; the
    /// response carries the token once.
    func createToken(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let identity = try context.require(.admin)
        let (name, scopeNames) = try await APIBody.read(request) { json in
            (json.string(json.member(0, "name")),
             json.member(0, "scopes").map { scopes in json.elements(scopes).compactMap { json.string($0) } } ?? [])
        }
        var scopes: [TokenScope] = []
        for name in scopeNames {
            guard let scope = TokenScope.parse(name) else { throw HTTPError(.badRequest, message: "unknown scope \(name)") }
            if !scopes.contains(scope) { scopes.append(scope) }
        }
        if scopes.isEmpty { scopes = [.read] }
        let (token, plain) = try await TokenIssuer(admin: admin).issue(label: name ?? "API token", scopes: scopes, userID: identity.userID)
        var writer = JSONWriter()
        SentryAPIRenderer.apiToken(token, plainToken: plain, into: &writer)
        return HTTPResponses.json(writer, status: .created)
    }

    func revokeToken(_ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        guard let id = context.parameters.get("id").flatMap({ Int64($0) }),
              try await admin({ try $0.revokeToken(id: id, now: ClockTime.nowMilliseconds) })
        else { throw HTTPError(.notFound, message: "The requested resource does not exist") }
        return Response(status: .noContent)
    }
}

/// Reads a small JSON object body and hands a view of it to `body`.
enum APIBody {
    static let maxBytes = 64 * 1024

    static func read<T>(_ request: Request, allowEmpty: Bool = false, _ body: (JSONView) throws -> T) async throws -> T {
        var buffer = try await request.body.collect(upTo: maxBytes)
        if allowEmpty && buffer.readableBytes == 0 { buffer = ByteBuffer(string: "{}") }
        return try buffer.withUnsafeReadableBytes { raw in
            guard let tape = try? JSONTape.parse(raw), tape[0].kind == .object else {
                throw HTTPError(.badRequest, message: "body must be a JSON object")
            }
            return try body(JSONView(tape: tape, bytes: raw))
        }
    }
}

/// Status changes go through the writer's queue, so they serialise with ingest (a resolve and a
/// regression of the same issue are never interleaved).
struct IssueActions: Sendable {
    let queue: IngestQueue

    /// How long a status change waits for the writer before the request gives up (the change
    /// stays queued and is applied when the database answers).
    static let deadline = 30.0

    func apply(_ ids: [Int64], _ status: IssueStatus, inNextRelease: Bool) async throws {
        let result: Result<Void, any Error>? = await withCheckedContinuation { continuation in
            // The writer's answer or the deadline, whichever comes first.
            let once = NIOLockedValueBox<CheckedContinuation<Result<Void, any Error>?, Never>?>(continuation)
            let resume: @Sendable (Result<Void, any Error>?) -> Void = { result in
                once.withLockedValue { value in defer { value = nil }; return value }?.resume(returning: result)
            }
            let queued = queue.offer(command: .setStatus(issueIDs: ids, status: status, resolveInNextRelease: inNextRelease)) {
                resume($0)
            }
            if queued {
                DispatchQueue.global().asyncAfter(deadline: .now() + Self.deadline) {
                    resume(.failure(CommitDeadlineExceeded(seconds: Self.deadline)))
                }
            } else {
                resume(nil)
            }
        }
        switch result {
        case .none: throw HTTPError(.serviceUnavailable, message: "server is shutting down")
        // The database's error is in the writer's log; the caller learns only that it failed.
        case .failure: throw HTTPError(.serviceUnavailable, headers: [.retryAfter: "1"],
                                       message: "The database did not apply the change; retry later.")
        case .success: return
        }
    }

    /// Only ids of `project` are touched; others are ignored (never another project's issue
    /// through this project's URL). Returns how many were updated.
    func apply(ids: [Int64], project: Project, reader: any ReadStore, status: IssueStatus, inNextRelease: Bool) async throws -> Int {
        var targets: [Int64] = []
        for id in ids.prefix(1000) {
            if let issue = try await reader.issue(id: id), issue.projectID == project.id { targets.append(id) }
        }
        if !targets.isEmpty { try await apply(targets, status, inNextRelease: inNextRelease) }
        return targets.count
    }

    /// Every issue matching `query`, in pages of 1,000.
    func applyToMatches(of query: IssueQuery, project: Project, reader: any ReadStore, status: IssueStatus,
                        inNextRelease: Bool) async throws -> Int
    {
        var query = query
        query.limit = 1000
        query.cursor = nil
        var seen = Set<Int64>()
        while true {
            let page = try await reader.issues(projectID: project.id, query: query)
            let fresh = page.map(\.id).filter { seen.insert($0).inserted }
            if !fresh.isEmpty { try await apply(fresh, status, inNextRelease: inNextRelease) }
            guard page.count == query.limit, let last = page.last else { break }
            query.cursor = IssueQuery.Cursor(value: query.sort.value(of: last), id: last.id)
        }
        return seen.count
    }
}

/// Creates API tokens: the secret is shown once and only its hash is stored.
struct TokenIssuer: Sendable {
    let admin: AdminAccess

    func issue(label: String, scopes: [TokenScope], userID: Int64?) async throws -> (APIToken, String) {
        let plain = Secret.generate(prefix: "pit_tok_")
        do {
            let token = try await admin({ try $0.createToken(hash: Secret.hash(plain), prefix: String(plain.prefix(12)), label: label,
                                              scopes: scopes, userID: userID) })
            return (token, plain)
        } catch let error as AdminError {
            throw HTTPError(.badRequest, message: error.description)
        }
    }
}

extension Optional {
    func asyncFlatMap<U>(_ transform: (Wrapped) async throws -> U?) async rethrows -> U? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
