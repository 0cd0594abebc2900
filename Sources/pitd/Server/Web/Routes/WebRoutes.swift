import Foundation
import HTTPTypes
import Hummingbird
import PitIngest
import PitModel
import PitQuery
import PitStorage

/// The web UI's pages: each handler loads what its page shows from the stores into the page's
/// model and renders it. Pages never query anything themselves.
///
/// Isolation: every page that takes an issue or event id checks that it belongs to the project
/// the page is about, so a crafted URL never shows one project's data under another's name.
struct WebRoutes: Sendable {
    let admin: AdminAccess
    let reader: any ReadStore
    let queue: IngestQueue
    let authenticator: Authenticator
    let publicURL: String
    let organization: String
    let keys: KeyCache
    /// Alert rules and channels (Settings → Alerts); nil where the server runs without them.
    var alerts: AlertAccess? = nil

    func register(on router: Router<PitRequestContext>) {
        let actions = WebActions(
            admin: admin, reader: reader, queue: queue, authenticator: authenticator,
            organization: organization, keys: keys)
        router.get("static/pit.css") { _, _ in Self.asset(Layout.stylesheet, type: "text/css; charset=utf-8") }
        router.get("static/pit.js") { _, _ in Self.asset(Layout.script, type: "text/javascript; charset=utf-8") }
        router.get("login") { request, _ in try await loginPage(request) }
        router.post("login") { request, context in
            try await login(request, client: authenticator.clientAddress(request, peer: context.clientIP))
        }

        let pages = router.group().add(middleware: WebAuthMiddleware(authenticator: authenticator))
            .add(middleware: WebErrorMiddleware(routes: self))
        pages.get("/") { _, _ in WebResponses.redirect(Paths.projects(org: organization)) }
        pages.post("logout") { _, context in try await logout(context) }
        let org = pages.group("organizations/:org")
        org.get("projects") { request, context in try await projectsPage(request, context) }
        org.get("issues") { request, context in try await issueListPage(request, context) }
        org.post("issues/bulk") { request, context in try await actions.bulk(request, context) }
        org.get("issues/:id") { request, context in try await issueDetailPage(request, context, rowID: nil) }
        org.post("issues/:id/status") { request, context in try await actions.setStatus(request, context) }
        org.get("issues/:id/events") { request, context in try await eventListPage(request, context, issueScoped: true) }
        org.get("issues/:id/events/:row") { request, context in
            guard let row = context.parameters.get("row").flatMap({ Int64($0) }) else { throw HTTPError(.notFound) }
            return try await issueDetailPage(request, context, rowID: row)
        }
        org.get("issues/:id/events/:row/json") { _, context in try await rawEvent(context) }
        org.get("projects/:project/events") { request, context in try await eventListPage(request, context, issueScoped: false) }
        org.get("projects/:project/events/:event") { request, context in try await eventDetailPage(request, context) }
        org.get("projects/:project/events/:event/attachments/:attachment") { request, context in
            try await attachmentDownload(request, context)
        }
        registerPerformance(on: org)
        org.get("projects/:project/feedback") { request, context in try await feedbackPage(request, context) }
        org.get("projects/:project/logs") { request, context in try await logExplorerPage(request, context) }
        org.get("projects/:project/stats") { request, context in try await outcomesPage(request, context) }
        registerTraces(on: org)
        org.get("releases") { request, context in try await releasesPage(request, context) }
        org.get("releases/:version") { request, context in try await releaseDetailPage(request, context) }
        org.get("monitors") { request, context in try await monitorsPage(request, context, projectScoped: false) }
        org.get("projects/:project/monitors") { request, context in try await monitorsPage(request, context, projectScoped: true) }
        org.get("monitors/:slug") { request, context in try await monitorDetailPage(request, context) }
        let settings = pages.group("settings")
        settings.get("projects/:project") { request, context in try await projectSettingsPage(request, context) }
        settings.post("projects/:project") { request, context in try await actions.renameProject(request, context) }
        settings.post("projects/:project/keys") { request, context in try await actions.createKey(request, context) }
        settings.post("projects/:project/keys/:key") { request, context in try await actions.updateKey(request, context) }
        settings.get("alerts") { request, context in try await alertsPage(request, context) }
        settings.post("alerts/channels") { request, context in try await createAlertChannel(request, context) }
        settings.get("alerts/channels/:id") { request, context in try await alertChannelPage(request, context) }
        settings.post("alerts/channels/:id") { request, context in try await alertChannelAction(request, context) }
        settings.post("alerts/rules") { request, context in try await createAlertRule(request, context) }
        settings.post("alerts/rules/:id") { request, context in try await alertRuleAction(request, context) }
        settings.post("alerts/ceilings") { request, context in try await setAlertCeiling(request, context) }
        settings.get("tokens") { request, context in try await tokensPage(request, context, created: nil) }
        settings.post("tokens") { request, context in try await createToken(request, context) }
        settings.post("tokens/:id/revoke") { request, context in try await actions.revokeToken(request, context) }
        settings.get("account") { request, context in try await accountPage(request, context) }
        settings.post("account") { request, context in try await actions.changePassword(request, context) }
    }

    // MARK: Rendering

    static func asset(_ text: String, type: String) -> Response {
        // Versioned by `Layout.assetVersion` in the page's link, so it may be cached for long.
        Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=31536000, immutable"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static let securityHeaders: HTTPFields = [
        .contentType: "text/html; charset=utf-8",
        .cacheControl: "no-store",
        HTTPField.Name("X-Frame-Options")!: "DENY",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "same-origin",
        // Inline scripts are never emitted; data can at worst become text.
        HTTPField.Name("Content-Security-Policy")!:
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ]

    static func page(_ html: HTML, status: HTTPResponse.Status = .ok, request: Request? = nil) -> Response {
        var response = Response(
            status: status, headers: securityHeaders,
            body: ResponseBody(byteBuffer: ByteBuffer(string: html.description)))
        if let request, WebActions.flash(request) != nil {
            response.setCookie(Cookie(name: WebActions.flashCookie, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .lax))
        }
        return response
    }

    func chrome(_ request: Request, _ context: PitRequestContext, section: Chrome.Section, project: Project?) async throws -> Chrome {
        let identity = try context.requireIdentity()
        let flash = WebActions.flash(request).map { Chrome.Flash(.info, $0) }
        return Chrome(
            organizationSlug: organization, userLabel: identity.principal.isAdminToken ? "admin token" : identity.displayName,
            csrfToken: identity.session?.csrfToken ?? "", projects: try await admin({ try await $0.projects() }), currentProject: project,
            section: section, flash: flash, now: ClockTime.nowMilliseconds)
    }

    func errorPage(_ request: Request, _ context: PitRequestContext, status: HTTPResponse.Status, message: String) async throws -> Response
    {
        let model = ErrorModel(status: Int(status.code), title: status.reasonPhrase, message: message)
        return await Self.page(ErrorPage.render(model, chrome: try chrome(request, context, section: .none, project: nil)), status: status)
    }

    // MARK: Sign-in

    func loginPage(_ request: Request, error: String? = nil, email: String = "", status: HTTPResponse.Status = .ok) async throws -> Response
    {
        // Signed in already: go on.
        let parameters = FormFields(query: request)
        if error == nil, try await authenticator.session(request) != nil {
            return WebResponses.redirect(WebResponses.safeNext(parameters["next"]))
        }
        let csrf = Secret.generate(prefix: "")
        let model = LoginModel(csrfToken: csrf, next: WebResponses.safeNext(parameters["next"]), email: email, error: error)
        var response = Self.page(LoginPage.render(model), status: status)
        response.setCookie(authenticator.loginCSRFCookie(csrf, secure: authenticator.isSecure(request)))
        return response
    }

    /// `POST /login`: `email` + `password`, or `token` (the admin token). The
    /// login form's CSRF token is a double-submit cookie (there is no session yet).
    func login(_ request: Request, client: String) async throws -> Response {
        let body = try await request.body.collect(upTo: WebAuthMiddleware.maxFormBytes)
        let form = FormFields(urlEncoded: String(buffer: body))
        let next = WebResponses.safeNext(form["next"])
        guard let cookie = request.cookies[Authenticator.loginCSRFCookie]?.value, !cookie.isEmpty,
            let presented = form["csrf"], Secret.constantTimeEqual(Array(cookie.utf8), Array(presented.utf8))
        else {
            return try await loginPage(request, error: "The sign-in form expired. Try again.", status: .forbidden)
        }
        var identity: Identity?
        let email = (form["email"] ?? "").trimmingSpaces
        do {
            if let token = form["token"]?.trimmingSpaces, !token.isEmpty {
                identity = try await authenticator.signIn(token: token, client: client)
            } else if !email.isEmpty {
                identity = try await authenticator.signIn(email: email, password: form["password"] ?? "", client: client)
            }
        } catch let refusal as Authenticator.Refusal {
            var response: Response
            switch refusal {
            case .throttled(let seconds):
                response = try await loginPage(
                    request, error: "Too many failed sign-ins. Wait \(Self.duration(seconds)) and try again.",
                    email: email, status: .tooManyRequests)
                response.headers[.retryAfter] = String(seconds)
            case .busy:
                response = try await loginPage(
                    request, error: "The server is busy signing others in. Try again in a moment.",
                    email: email, status: .serviceUnavailable)
                response.headers[.retryAfter] = "1"
            }
            return response
        }
        guard let identity else {
            return try await loginPage(
                request, error: email.isEmpty ? "That token is not valid." : "Wrong email or password.",
                email: email, status: .unauthorized)
        }
        // API tokens are for the API: a browser session outlives a request, and a session opened
        // with a token would survive the token's revocation. The admin token and accounts sign in.
        let sessionIdentity: Identity
        switch identity.principal {
        case .apiToken:
            return try await loginPage(
                request, error: "API tokens work with the API only; sign in with the admin token or an account.",
                status: .unauthorized)
        default:
            sessionIdentity = identity
        }
        let cookieValue = try await authenticator.openSession(for: sessionIdentity, secure: authenticator.isSecure(request))
        var response = WebResponses.redirect(next == "/login" ? "/" : next)
        response.setCookie(cookieValue)
        response.setCookie(
            Cookie(
                name: Authenticator.loginCSRFCookie, value: "", maxAge: 0, path: "/login", httpOnly: true,
                sameSite: .strict))
        return response
    }

    /// "45 seconds", "3 minutes": how long a throttled sign-in waits, for people.
    static func duration(_ seconds: Int) -> String {
        if seconds < 120 { return seconds == 1 ? "1 second" : "\(seconds) seconds" }
        let minutes = (seconds + 59) / 60
        return "\(minutes) minutes"
    }

    func logout(_ context: PitRequestContext) async throws -> Response {
        try await authenticator.closeSession(try context.requireIdentity())
        return WebResponses.redirect(Paths.login, cookies: [authenticator.expiredSessionCookie()])
    }

    // MARK: Helpers

    /// The `project` query parameter (a project id), else the first project.
    func selectedProject(_ parameters: FormFields) async throws -> Project? {
        if let id = parameters["project"].flatMap({ Int64($0) }) {
            guard let project = try await admin({ try await $0.project(id: id) })
            else { throw HTTPError(.notFound, message: "This project does not exist.") }
            return project
        }
        return try await admin({ try await $0.projects() }).first
    }

    func pathProject(_ context: PitRequestContext) async throws -> Project {
        guard let slug = context.parameters.get("project"),
            let project = try await admin({ try await $0.project(organizationSlug: organization, slug: slug) })
        else { throw HTTPError(.notFound, message: "This project does not exist.") }
        return project
    }

    func pathIssue(_ context: PitRequestContext) async throws -> (IssueRow, Project) {
        guard let id = context.parameters.get("id").flatMap({ Int64($0) }), let issue = try await reader.issue(id: id),
            let project = try await admin({ try await $0.project(id: issue.projectID) })
        else { throw HTTPError(.notFound, message: "This issue does not exist.") }
        return (issue, project)
    }

    static func nonEmpty(_ text: String?) -> String? {
        guard let text = text?.trimmingSpaces, !text.isEmpty else { return nil }
        return text
    }

    /// Zero-filled hourly values for the `hours` hours ending with the current one.
    static func hourly(_ counts: [Int64: Int64], hours: Int, now: Int64) -> [Int64] {
        let last = HourlyCounts.hour(ofMilliseconds: now)
        return (0..<hours).map { counts[last - Int64(hours - 1 - $0)] ?? 0 }
    }

    func dsn(_ key: ProjectKey) -> KeyWithDSN { KeyWithDSN(key: key, dsn: DataDirectory.dsn(publicURL: publicURL, key: key)) }

    // MARK: Pages

    func projectsPage(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let now = ClockTime.nowMilliseconds
        let hour = HourlyCounts.hour(ofMilliseconds: now)
        var entries: [ProjectsModel.Entry] = []
        for project in try await admin({ try await $0.projects() }) {
            let hourly = try await reader.projectHourly(projectID: project.id, fromHour: hour - 23, toHour: hour)
            let counts = try await reader.counts(projectID: project.id)
            entries.append(
                ProjectsModel.Entry(
                    project: project, keys: try await admin({ try await $0.keys(projectID: project.id) }).map(dsn),
                    eventsPerHour: Self.hourly(hourly.mapValues(\.events), hours: 24, now: now),
                    newIssuesPerHour: Self.hourly(hourly.mapValues(\.newIssues), hours: 24, now: now),
                    chartStart: (hour - 23) * 3_600_000, totalEvents: counts.events, totalIssues: counts.issues
                ))
        }
        let chrome = try await chrome(request, context, section: .projects, project: nil)
        return Self.page(ProjectsPage.render(ProjectsModel(entries: entries), chrome: chrome), request: request)
    }

    func issueListPage(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let parameters = FormFields(query: request)
        guard let project = try await selectedProject(parameters) else {
            return try await errorPage(request, context, status: .notFound, message: "There are no projects yet.")
        }
        // The filter form without script sends its selects separately; fold them into the query.
        let text =
            parameters["status"] != nil || parameters["level"] != nil || parameters["release"] != nil
            ? IssueFilter.compose(
                status: parameters["status"], level: parameters["level"], release: parameters["release"],
                text: parameters["query"])
            : parameters["query"] ?? "is:unresolved"
        var queryError: String?
        var query = IssueQuery()
        do {
            query = try IssueQuery(parsing: text)
        } catch {
            queryError = error.detail
        }
        if let sort = parameters["sort"].flatMap(IssueQuery.Sort.init(rawValue:)) { query.sort = sort }
        let environment = Self.nonEmpty(parameters["environment"])
        if let environment { query.environments.append(environment) }
        let period = Self.nonEmpty(parameters["statsPeriod"])
        if let period, let span = IssueQuery.relativeSpan(period) { query.lastSeenWithin = span }
        if let cursor = parameters["cursor"].flatMap(IssueQuery.Cursor.init) { query.cursor = cursor }
        query.limit = 50
        var rows: [IssueListModel.Row] = []
        var total = 0
        if queryError == nil {
            let issues = try await reader.issues(projectID: project.id, query: query)
            var countQuery = query
            countQuery.cursor = nil
            total = try await reader.issueCount(projectID: project.id, query: countQuery)
            let now = ClockTime.nowMilliseconds
            let hour = HourlyCounts.hour(ofMilliseconds: now)
            let hourly = try await reader.issueHourly(issueIDs: issues.map(\.id), fromHour: hour - 23, toHour: hour)
            rows = issues.map { IssueListModel.Row(issue: $0, hourly: Self.hourly(hourly[$0.id] ?? [:], hours: 24, now: now)) }
        }
        let next =
            rows.count == query.limit
            ? rows.last.map { IssueQuery.Cursor(value: query.sort.value(of: $0.issue), id: $0.issue.id).description } : nil
        let model = IssueListModel(
            project: project, query: text, sort: query.sort, environment: environment, statsPeriod: period,
            environments: try await reader.environments(projectID: project.id),
            releases: try await reader.releases(projectID: project.id).prefix(50).map(\.version), rows: rows, totalMatches: total,
            nextCursor: next, isPagedIn: query.cursor != nil, queryError: queryError
        )
        let chrome = try await chrome(request, context, section: .issues, project: project)
        return Self.page(IssueListPage.render(model, chrome: chrome), status: queryError == nil ? .ok : .badRequest, request: request)
    }

    func issueDetailPage(_ request: Request, _ context: PitRequestContext, rowID: Int64?) async throws -> Response {
        let (issue, project) = try await pathIssue(context)
        let parameters = FormFields(query: request)
        let environment = Self.nonEmpty(parameters["environment"])
        let event: EventRow?
        if let rowID {
            guard let found = try await reader.event(issueID: issue.id, rowID: rowID) else {
                throw HTTPError(.notFound, message: "This event does not belong to this issue.")
            }
            event = found
        } else if let environment {
            var latest = EventQuery(projectID: project.id, issueID: issue.id)
            latest.environment = environment
            latest.limit = 1
            event = try await reader.events(latest).first
        } else {
            event = try await reader.latestEvent(issueID: issue.id)
        }
        let navigation =
            try await event.asyncFlatMap { event in
                try await reader.eventNavigation(issueID: issue.id, rowID: event.rowID, environment: environment)
            } ?? EventNavigation()
        let period = parameters["statsPeriod"] == "14d" ? "14d" : "24h"
        let now = ClockTime.nowMilliseconds
        let hour = HourlyCounts.hour(ofMilliseconds: now)
        let chart: Charts.Series
        if period == "14d" {
            let firstDay = now / 86_400_000 - 13
            let counts = try await reader.issueHourly(issueIDs: [issue.id], fromHour: firstDay * 24, toHour: hour)[issue.id] ?? [:]
            var days = Array(repeating: Int64(0), count: 14)
            for (hour, events) in counts {
                let index = Int(hour / 24 - firstDay)
                if days.indices.contains(index) { days[index] += events }
            }
            chart = Charts.Series(values: days, start: firstDay * 86_400_000, bucketMillis: 86_400_000)
        } else {
            let counts = try await reader.issueHourly(issueIDs: [issue.id], fromHour: hour - 23, toHour: hour)[issue.id] ?? [:]
            chart = Charts.Series.hourly(Self.hourly(counts, hours: 24, now: now), endingAt: now)
        }
        let model = IssueDetailModel(
            project: project, issue: issue, event: event, navigation: navigation,
            tagFacets: try await reader.tagFacets(issueID: issue.id, environment: environment, topValues: 5),
            environment: environment, environments: try await reader.environments(projectID: project.id), chart: chart,
            statsPeriod: period, feedback: try await reader.feedback(FeedbackQuery(projectID: project.id, issueID: issue.id, limit: 20)),
            attachments: try await event.asyncFlatMap { try await attachmentsView(project: project, eventID: $0.eventID) }
        )
        let chrome = try await chrome(request, context, section: .issues, project: project)
        return Self.page(IssueDetailPage.render(model, chrome: chrome), request: request)
    }

    /// The stored event as JSON, for "raw JSON" and download.
    func rawEvent(_ context: PitRequestContext) async throws -> Response {
        let (issue, _) = try await pathIssue(context)
        guard let row = context.parameters.get("row").flatMap({ Int64($0) }),
            let event = try await reader.event(issueID: issue.id, rowID: row)
        else { throw HTTPError(.notFound, message: "This event does not exist.") }
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/json",
                .contentDisposition: "attachment; filename=\"event-\(event.eventID.hex).json\"",
                HTTPField.Name("X-Content-Type-Options")!: "nosniff",
            ], body: ResponseBody(byteBuffer: ByteBuffer(bytes: event.payload)))
    }

    func eventListPage(_ request: Request, _ context: PitRequestContext, issueScoped: Bool) async throws -> Response {
        let parameters = FormFields(query: request)
        let project: Project
        var issue: IssueRow?
        if issueScoped {
            let (row, owner) = try await pathIssue(context)
            issue = row
            project = owner
        } else {
            project = try await pathProject(context)
        }
        var query = EventQuery(projectID: project.id, issueID: issue?.id)
        query.environment = Self.nonEmpty(parameters["environment"])
        query.release = Self.nonEmpty(parameters["release"])
        query.level = Self.nonEmpty(parameters["level"]).flatMap { Level(name: $0) }
        query.before = parameters["cursor"].flatMap { Int64($0) }
        query.limit = 50
        let events = try await reader.events(query)
        let model = EventListModel(
            project: project, issue: issue, events: events, environment: query.environment, release: query.release, level: query.level,
            environments: try await reader.environments(projectID: project.id),
            releases: try await reader.releases(projectID: project.id).prefix(50).map(\.version),
            nextCursor: events.count == query.limit ? events.last?.rowID : nil, isPagedIn: query.before != nil
        )
        let chrome = try await chrome(request, context, section: issueScoped ? .issues : .events, project: project)
        return Self.page(EventListPage.render(model, chrome: chrome), request: request)
    }

    func eventDetailPage(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let project = try await pathProject(context)
        guard let text = context.parameters.get("event"), let eventID = EventID(text) else {
            throw HTTPError(.notFound, message: "This event does not exist in this project.")
        }
        guard let event = try await reader.event(projectID: project.id, eventID: eventID) else {
            // Transactions share the event id space and the event URL, as in Sentry.
            guard let transaction = try await reader.transaction(projectID: project.id, eventID: eventID) else {
                throw HTTPError(.notFound, message: "This event does not exist in this project.")
            }
            return try await transactionEventPage(request, context, project: project, transaction: transaction)
        }
        let model = EventDetailModel(
            project: project, event: event, issue: try await reader.issue(id: event.issueID),
            attachments: try await attachmentsView(project: project, eventID: event.eventID))
        let chrome = try await chrome(request, context, section: .events, project: project)
        return Self.page(EventDetailPage.render(model, chrome: chrome), request: request)
    }

    /// The attachments section of an event page, with its view hierarchies parsed.
    func attachmentsView(project: Project, eventID: EventID) async throws -> EventAttachmentsView {
        let rows = try await reader.attachments(projectID: project.id, eventID: eventID)
        let org = organization
        var view = EventAttachmentsView(rows: rows) { row, download in
            Paths.eventAttachment(org: org, project: project.slug, eventID: row.eventID, id: row.id, download: download)
        }
        for row in rows where row.type == "event.view_hierarchy" && row.size <= EventAttachmentsView.maxInlineHierarchyBytes {
            if let content = try await reader.attachmentContent(projectID: project.id, id: row.id), let bytes = try? content.decoded(),
                let tree = ViewHierarchyView.render(bytes)
            {
                view.hierarchies[row.id] = tree
            }
        }
        return view
    }

    /// An attachment's bytes: inline for images (screenshots on the event page), else (and with
    /// `?download=1`) as a download. Another project's attachment is a 404.
    func attachmentDownload(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let project = try await pathProject(context)
        guard let text = context.parameters.get("event"), let eventID = EventID(text),
            let id = context.parameters.get("attachment").flatMap({ Int64($0) }),
            let row = try await reader.attachment(projectID: project.id, id: id), row.eventID == eventID,
            let content = try await reader.attachmentContent(projectID: project.id, id: id)
        else { throw HTTPError(.notFound, message: "This attachment does not exist in this project.") }
        let download = FormFields(query: request)["download"].map { $0 != "0" } ?? false
        return try AttachmentDownload.response(row, content: content, inline: !download)
    }

    func logExplorerPage(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let project = try await pathProject(context)
        let parameters = FormFields(query: request)
        var filters = LogFilters()
        if let period = parameters["period"], LogFilters.periods.contains(where: { $0.0 == period }) { filters.period = period }
        filters.level = Self.nonEmpty(parameters["level"]).flatMap { LogSeverity(name: $0) }
        filters.text = parameters["q"] ?? ""
        filters.attribute = parameters["attr"] ?? ""
        filters.trace = parameters["trace"] ?? ""
        filters.live = parameters["live"] == "1"
        let cursor = parameters["cursor"].flatMap { LogCursor($0) }
        var rows: [LogRow] = []
        var error: String?
        var limit = 0
        do {
            var query = try filters.query(projectID: project.id, now: ClockTime.nowMilliseconds)
            limit = 100
            query.limit = limit + 1
            query.before = cursor
            rows = try await reader.logs(query)
        } catch let invalid as LogSearch.Invalid {
            error = invalid.detail
        }
        let more = rows.count > limit
        if more { rows.removeLast(rows.count - limit) }
        let model = LogExplorerModel(
            project: project, filters: filters, rows: rows, nextCursor: more ? rows.last?.cursor : nil, isPagedIn: cursor != nil,
            error: error)
        let chrome = try await chrome(request, context, section: .logs, project: project)
        var response = Self.page(LogExplorerPage.render(model, chrome: chrome), request: request)
        // The live tail: the browser reloads the newest page, with or without script.
        if filters.live && cursor == nil {
            response.headers[HTTPField.Name("Refresh")!] = String(LogExplorerPage.liveSeconds)
        }
        return response
    }

    func feedbackPage(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let project = try await pathProject(context)
        let parameters = FormFields(query: request)
        let query = FeedbackQuery(projectID: project.id, limit: 50, before: parameters["cursor"].flatMap { Int64($0) })
        let rows = try await reader.feedback(query)
        var issues: [Int64: IssueRow] = [:]
        for issueID in Set(rows.compactMap(\.issueID)) {
            if let issue = try await reader.issue(id: issueID), issue.projectID == project.id { issues[issueID] = issue }
        }
        let model = FeedbackListModel(
            project: project, rows: rows, issues: issues, nextCursor: rows.count == query.limit ? rows.last?.id : nil,
            isPagedIn: query.before != nil)
        let chrome = try await chrome(request, context, section: .feedback, project: project)
        return Self.page(FeedbackListPage.render(model, chrome: chrome), request: request)
    }

    func outcomesPage(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let project = try await pathProject(context)
        let asked = FormFields(query: request)["statsPeriod"] ?? "24h"
        let period = OutcomesModel.periods.contains(asked) ? asked : "24h"
        let hours: Int64 = period == "7d" ? 7 * 24 : 24
        let now = HourlyCounts.hour(ofMilliseconds: ClockTime.nowMilliseconds)
        let rows = try await reader.outcomes(OutcomeQuery(projectIDs: [project.id], fromHour: now - hours + 1, toHour: now))
        let model = OutcomesModel(project: project, statsPeriod: period, summary: OutcomeSummary(rows: rows))
        let chrome = try await chrome(request, context, section: .stats, project: project)
        return Self.page(OutcomesPage.render(model, chrome: chrome), request: request)
    }

    func projectsByID() async throws -> [Int64: Project] {
        Dictionary(try await admin({ try await $0.projects() }).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    }

    func releasesPage(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let seen = try await reader.releases(projectID: nil)
        let seenVersions = Set(seen.map(\.version))
        let created = try await admin({ try await $0.storedReleases(projectID: nil) }).filter { !seenVersions.contains($0.version) }
            .sorted { $0.dateCreated > $1.dateCreated }
        let releases =
            created.flatMap { release in
                release.projectIDs.map {
                    ReleaseRow(projectID: $0, version: release.version, firstSeen: 0, lastSeen: 0, events: 0, newIssues: 0)
                }
            } + seen
        let health = try await ReleaseHealth.load(
            releases.map { ReleaseHealth.Key(projectID: $0.projectID, release: $0.version) }, reader: reader,
            nowMilliseconds: ClockTime.nowMilliseconds)
        let model = await ReleasesModel(releases: releases, projects: try projectsByID(), health: health)
        let chrome = try await chrome(request, context, section: .releases, project: nil)
        return Self.page(ReleasesPage.render(model, chrome: chrome), request: request)
    }

    func releaseDetailPage(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let version = context.parameters.get("version").map { $0.removingPercentEncoding ?? $0 } ?? ""
        let rows = try await reader.releases(projectID: nil).filter { $0.version == version }
        let stored = try await admin({ try await $0.storedReleases(projectID: nil) }).first { $0.version == version }
        guard !rows.isEmpty || stored != nil else { throw HTTPError(.notFound, message: "No events were seen with this release.") }
        let now = ClockTime.nowMilliseconds
        var model = await ReleaseDetailModel(version: version, rows: rows, projects: try projectsByID())
        model.stored = stored
        model.deploys = try await admin({ try await $0.deploys(version: version) })
        model.health = try await ReleaseHealth.load(
            rows.map { ReleaseHealth.Key(projectID: $0.projectID, release: $0.version) }, reader: reader, nowMilliseconds: now)
        (model.firstDay, model.daily) = try await releaseDays(version: version, projectIDs: rows.map(\.projectID), now: now)
        let chrome = try await chrome(request, context, section: .releases, project: nil)
        return Self.page(ReleaseDetailPage.render(model, chrome: chrome), request: request)
    }

    /// The release's sessions per day and project, with the project's, for the detail page's charts.
    private func releaseDays(version: String, projectIDs: [Int64], now: Int64) async throws -> (Int64, [Int64: [ReleaseDay]]) {
        let days = Int64(ReleaseDetailModel.days)
        let firstHour = (now / 86_400_000 - days + 1) * 24
        var query = SessionQuery(projectIDs: projectIDs, fromHour: firstHour, toHour: firstHour + days * 24 - 1)
        query.byProject = true
        query.intervalHours = 24
        let project = try await reader.sessionStats(query)
        query.byRelease = true
        query.releases = [version]
        let release = try await reader.sessionStats(query)
        var daily: [Int64: [ReleaseDay]] = [:]
        for id in projectIDs {
            daily[id] = (0..<days).map { day in
                ReleaseDay(
                    sessions: release.sessions[SessionGroup(projectID: id, release: version, interval: day)] ?? SessionTally(),
                    projectSessions: project.sessions[SessionGroup(projectID: id, interval: day)]?.started ?? 0)
            }
        }
        return (firstHour * 3_600_000, daily)
    }

    func projectSettingsPage(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let project = try await pathProject(context)
        let model = ProjectSettingsModel(project: project, keys: try await admin({ try await $0.keys(projectID: project.id) }).map(dsn))
        let chrome = try await chrome(request, context, section: .settings, project: project)
        return Self.page(ProjectSettingsPage.render(model, chrome: chrome), request: request)
    }

    func tokensPage(_ request: Request, _ context: PitRequestContext, created: (token: String, label: String)?) async throws -> Response {
        _ = try context.require(.admin)
        let model = TokensModel(
            tokens: try await admin({ try await $0.tokens() }), createdToken: created?.token, createdLabel: created?.label)
        let chrome = try await chrome(request, context, section: .settings, project: nil)
        return Self.page(TokensPage.render(model, chrome: chrome), request: request)
    }

    /// `POST /settings/tokens/` with `label` and `scopes`, or `kind=organization` for an
    /// organization token (`sntrys_…`, for sentry-cli in CI): the page itself shows the new token,
    /// once (a redirect would need to carry the secret somewhere).
    func createToken(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let identity = try context.require(.admin)
        let label = Self.nonEmpty(context.form["label"]) ?? "API token"
        if context.form["kind"] == "organization" {
            let (_, plain) = try await TokenIssuer(admin: admin).issueOrganizationToken(
                label: label, organization: organization, url: publicURL, userID: identity.userID)
            return try await tokensPage(request, context, created: (plain, label))
        }
        let scopes = try APIToken.requestedScopes(context.form.all("scopes"))
        let (_, plain) = try await TokenIssuer(admin: admin).issue(label: label, scopes: scopes, userID: identity.userID)
        return try await tokensPage(request, context, created: (plain, label))
    }

    func accountPage(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        var user: User?
        if case .user(let current) = identity.principal { user = current }
        let chrome = try await chrome(request, context, section: .settings, project: nil)
        return Self.page(AccountPage.render(AccountModel(user: user), chrome: chrome), request: request)
    }
}

extension Identity.Principal {
    var isAdminToken: Bool {
        if case .adminToken = self { return true }
        return false
    }
}

/// Errors of signed-in pages render as a page inside the chrome (403, 404, 400), not as bare text.
struct WebErrorMiddleware: RouterMiddleware {
    typealias Context = PitRequestContext
    let routes: WebRoutes

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError {
            return try await routes.errorPage(request, context, status: error.status, message: error.body ?? error.status.reasonPhrase)
        } catch let error as AdminError {
            return try await routes.errorPage(request, context, status: HTTPError.status(for: error.code), message: error.message)
        }
    }
}
