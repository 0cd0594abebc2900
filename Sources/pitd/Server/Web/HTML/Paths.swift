import PitModel

/// The web UI's URLs, Sentry-shaped. Every piece of data is percent-encoded here, so pages never
/// concatenate URLs themselves.
enum Paths {
    static let login = "/login"
    static let logout = "/logout"
    static let stylesheet = "/static/pit.css"
    static let script = "/static/pit.js"

    private static func e(_ value: String) -> String { PercentEncoding.component(value) }

    static func projects(org: String) -> String { "/organizations/\(e(org))/projects/" }

    static func issues(
        org: String, project: Int64?, query: String? = nil, sort: String? = nil, environment: String? = nil,
        statsPeriod: String? = nil, cursor: String? = nil
    ) -> String {
        "/organizations/\(e(org))/issues/"
            + PercentEncoding.query([
                ("project", project.map { String($0) }), ("query", query), ("sort", sort), ("environment", environment),
                ("statsPeriod", statsPeriod), ("cursor", cursor),
            ])
    }

    static func bulk(org: String) -> String { "/organizations/\(e(org))/issues/bulk" }

    static func issue(org: String, id: Int64, environment: String? = nil, statsPeriod: String? = nil) -> String {
        "/organizations/\(e(org))/issues/\(id)/" + PercentEncoding.query([("environment", environment), ("statsPeriod", statsPeriod)])
    }

    static func issueStatus(org: String, id: Int64) -> String { "/organizations/\(e(org))/issues/\(id)/status" }

    static func issueEvent(org: String, issue: Int64, rowID: Int64, environment: String? = nil) -> String {
        "/organizations/\(e(org))/issues/\(issue)/events/\(rowID)/" + PercentEncoding.query([("environment", environment)])
    }

    /// An event's attachment; `download` asks for `Content-Disposition: attachment`.
    static func eventAttachment(org: String, project: String, eventID: EventID, id: Int64, download: Bool) -> String {
        "/organizations/\(e(org))/projects/\(e(project))/events/\(eventID.hex)/attachments/\(id)/" + (download ? "?download=1" : "")
    }

    static func issueEventJSON(org: String, issue: Int64, rowID: Int64) -> String {
        "/organizations/\(e(org))/issues/\(issue)/events/\(rowID)/json/"
    }

    static func issueEvents(
        org: String, issue: Int64, environment: String? = nil, release: String? = nil, level: String? = nil,
        cursor: Int64? = nil
    ) -> String {
        "/organizations/\(e(org))/issues/\(issue)/events/"
            + PercentEncoding.query([
                ("environment", environment), ("release", release), ("level", level), ("cursor", cursor.map { String($0) }),
            ])
    }

    static func projectEvents(
        org: String, project: String, environment: String? = nil, release: String? = nil, level: String? = nil,
        cursor: Int64? = nil
    ) -> String {
        "/organizations/\(e(org))/projects/\(e(project))/events/"
            + PercentEncoding.query([
                ("environment", environment), ("release", release), ("level", level), ("cursor", cursor.map { String($0) }),
            ])
    }

    static func projectEvent(org: String, project: String, eventID: String) -> String {
        "/organizations/\(e(org))/projects/\(e(project))/events/\(e(eventID))/"
    }

    /// Every transaction, span and error of a trace in the organisation's projects (Sentry's path).
    static func trace(org: String, traceID: TraceID) -> String { "/organizations/\(e(org))/performance/trace/\(traceID.hex)/" }

    /// A profile's flame graph (Sentry's path).
    static func profile(org: String, project: String, profileID: EventID) -> String {
        "/organizations/\(e(org))/profiling/profile/\(e(project))/\(profileID.hex)/flamegraph/"
    }

    static func projectStats(org: String, project: String, statsPeriod: String? = nil) -> String {
        "/organizations/\(e(org))/projects/\(e(project))/stats/" + PercentEncoding.query([("statsPeriod", statsPeriod)])
    }

    static func projectFeedback(org: String, project: String, cursor: Int64? = nil) -> String {
        "/organizations/\(e(org))/projects/\(e(project))/feedback/" + PercentEncoding.query([("cursor", cursor.map { String($0) })])
    }

    static func projectLogs(org: String, project: String, filters: LogFilters = LogFilters(), cursor: String? = nil) -> String {
        "/organizations/\(e(org))/projects/\(e(project))/logs/"
            + PercentEncoding.query([
                ("period", filters.period == LogFilters.periods[0].0 ? nil : filters.period), ("level", filters.level?.description),
                ("q", filters.text), ("attr", filters.attribute), ("trace", filters.trace),
                ("live", filters.live ? "1" : nil), ("cursor", cursor),
            ])
    }

    static func performance(
        org: String, project: String, filters: PerformanceFilters = PerformanceFilters(), query: String? = nil, sort: String? = nil
    ) -> String {
        "/organizations/\(e(org))/projects/\(e(project))/performance/"
            + PercentEncoding.query([("query", query)] + filters.items + [("sort", sort)])
    }

    /// One transaction name's summary; the name goes in the query, as Sentry's does, since names
    /// hold slashes.
    static func transactionSummary(org: String, project: String, transaction: String, filters: PerformanceFilters = PerformanceFilters())
        -> String
    {
        "/organizations/\(e(org))/projects/\(e(project))/performance/summary/"
            + PercentEncoding.query([("transaction", transaction)] + filters.items)
    }

    /// The span summary of a project, or of one transaction name.
    static func spans(
        org: String, project: String, transaction: String? = nil, filters: PerformanceFilters = PerformanceFilters(), sort: String? = nil
    ) -> String {
        "/organizations/\(e(org))/projects/\(e(project))/performance/spans/"
            + PercentEncoding.query([("transaction", transaction)] + filters.items + [("sort", sort)])
    }

    static func webVitals(org: String, project: String, filters: PerformanceFilters = PerformanceFilters()) -> String {
        "/organizations/\(e(org))/projects/\(e(project))/performance/vitals/" + PercentEncoding.query(filters.items)
    }

    static func releases(org: String) -> String { "/organizations/\(e(org))/releases/" }

    static func release(org: String, version: String) -> String { "/organizations/\(e(org))/releases/\(e(version))/" }

    static func monitors(org: String) -> String { "/organizations/\(e(org))/monitors/" }

    static func projectMonitors(org: String, project: String) -> String { "/organizations/\(e(org))/projects/\(e(project))/monitors/" }

    /// `project` picks among monitors of several projects that share the slug.
    static func monitor(org: String, slug: String, project: Int64) -> String {
        "/organizations/\(e(org))/monitors/\(e(slug))/" + PercentEncoding.query([("project", String(project))])
    }

    static func projectSettings(slug: String) -> String { "/settings/projects/\(e(slug))/" }
    static func projectKeys(slug: String) -> String { "/settings/projects/\(e(slug))/keys" }
    static func projectKey(slug: String, id: Int64) -> String { "/settings/projects/\(e(slug))/keys/\(id)" }
    static let tokens = "/settings/tokens/"
    static let alerts = "/settings/alerts/"
    static let alertChannels = "/settings/alerts/channels/"
    static func alertChannel(id: Int64) -> String { "/settings/alerts/channels/\(id)/" }
    static let alertRules = "/settings/alerts/rules/"
    static let alertCeilings = "/settings/alerts/ceilings/"
    static func alertRule(id: Int64) -> String { "/settings/alerts/rules/\(id)/" }
    static func revokeToken(id: Int64) -> String { "/settings/tokens/\(id)/revoke" }
    static let account = "/settings/account/"
}
