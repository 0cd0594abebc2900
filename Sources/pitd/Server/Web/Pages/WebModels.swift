import PitModel
import PitQuery
import PitStorage

// What each page needs, filled by the route handlers from the stores. Pages only read these;
// they never query anything themselves, so rendering is a pure function of the model.

/// The frame around every signed-in page.
struct Chrome: Sendable {
    enum Section: Sendable { case projects, issues, events, performance, feedback, logs, stats, releases, monitors, settings, none }

    enum FlashKind: String, Sendable { case success, error, info }

    struct Flash: Sendable {
        var kind: FlashKind
        var message: String

        init(_ kind: FlashKind, _ message: String) {
            self.kind = kind
            self.message = message
        }
    }

    /// `Project.organizationSlug` of the current project (Pit has one organisation, "pit" by default).
    var organizationSlug: String
    /// Shown in the top bar: `User.email`, or "admin token" for a session opened with the token.
    var userLabel: String
    /// `WebSession.csrfToken`: echoed by every POST form.
    var csrfToken: String
    /// `AdminStore.projects()`, for the project switcher.
    var projects: [Project]
    /// The project the page is about (the `project` query parameter, or the path's slug); the
    /// switcher marks it and the navigation links keep it.
    var currentProject: Project?
    var section: Section
    /// One message after a redirect (e.g. "Issue resolved"), from a short-lived cookie or query.
    var flash: Flash?
    /// Now, epoch milliseconds: relative times ("5 min ago") are computed against it.
    var now: Int64

    init(
        organizationSlug: String, userLabel: String, csrfToken: String, projects: [Project], currentProject: Project?,
        section: Section, flash: Flash? = nil, now: Int64
    ) {
        self.organizationSlug = organizationSlug
        self.userLabel = userLabel
        self.csrfToken = csrfToken
        self.projects = projects
        self.currentProject = currentProject
        self.section = section
        self.flash = flash
        self.now = now
    }
}

struct LoginModel: Sendable {
    /// A CSRF token for the login form (a pre-session cookie value; the handler checks it).
    var csrfToken: String
    /// Where to go after signing in: the `next` query parameter, validated by the handler as a
    /// same-site path.
    var next: String
    /// The email typed before a failed attempt, so it is not lost.
    var email: String = ""
    /// "Wrong email or password", "Too many attempts", …
    var error: String?
}

/// A project's DSN key with its DSN (`DataDirectory.dsn(for:)`, which knows the public URL).
struct KeyWithDSN: Sendable {
    var key: ProjectKey
    var dsn: String
}

struct ProjectsModel: Sendable {
    struct Entry: Sendable {
        var project: Project
        /// `AdminStore.keys(projectID:)` with their DSNs; disabled keys are shown greyed.
        var keys: [KeyWithDSN]
        /// `ReadStore.projectHourly` for the last 24 hours, one value per hour, oldest first,
        /// zero-filled (24 values); `chartStart` is the first hour's start in ms. Both come from
        /// `Charts.Series.hourly(counts, hours: 24, now:)` with `fromHour: Charts.Series.firstHour(hours: 24, now:)`.
        var eventsPerHour: [Int64]
        var newIssuesPerHour: [Int64]
        var chartStart: Int64
        /// `ReadStore.counts(projectID:)`.
        var totalEvents: Int64
        var totalIssues: Int64
    }

    var entries: [Entry]
}

struct IssueListModel: Sendable {
    struct Row: Sendable {
        var issue: IssueRow
        /// `ReadStore.issueHourly` for the last 24 hours, oldest first, 24 values
        /// (`Charts.Series.hourly(counts[issue.id] ?? [:], hours: 24, now:).values`).
        var hourly: [Int64]
    }

    var project: Project
    /// The `query` parameter as given (default `is:unresolved`, decided by the handler).
    var query: String
    var sort: IssueQuery.Sort
    /// The `environment` parameter.
    var environment: String?
    /// The `statsPeriod` parameter: "1h", "24h", "7d", "14d", "30d", "90d" or nil for all time.
    var statsPeriod: String?
    /// `ReadStore.environments(projectID:)`.
    var environments: [String]
    /// Recent release versions of the project (`ReadStore.releases(projectID:)`), for the filter.
    var releases: [String]
    /// `ReadStore.issues(projectID:query:)`.
    var rows: [Row]
    /// `ReadStore.issueCount(projectID:query:)`, shown as "N issues" and in "select all N";
    /// above `IssueQuery.maxHits` it reads "1,000+".
    var totalMatches: Int
    /// `IssueQuery.Cursor.description` of the last row when another page may follow, else nil.
    var nextCursor: String?
    /// The `cursor` parameter was given (so a "First page" link is useful).
    var isPagedIn: Bool
    /// The query could not be parsed (`IssueQuery(parsing:)` threw); shown above the list.
    var queryError: String?
}

struct IssueDetailModel: Sendable {
    var project: Project
    var issue: IssueRow
    /// The event shown: `ReadStore.event(issueID:rowID:)` for `/events/{rowID}/`, else
    /// `ReadStore.latestEvent(issueID:)`. Nil when the issue's events were all deleted.
    var event: EventRow?
    /// `ReadStore.eventNavigation(issueID:rowID:environment:)` around the shown event.
    var navigation: EventNavigation
    /// `ReadStore.tagFacets(issueID:environment:topValues: 5)`.
    var tagFacets: [TagFacet]
    /// The `environment` parameter (scopes the tag counts and event navigation).
    var environment: String?
    /// `ReadStore.environments(projectID:)`, for the environment switcher.
    var environments: [String]
    /// `ReadStore.issueHourly` over the chart period: 24 hourly values for "24h", or 14 daily
    /// sums for "14d": `Charts.Series.hourly(counts, hours: 24, now:)` or
    /// `Charts.Series.daily(counts, days: 14, now:)` over `ReadStore.issueHourly(issueIDs: [id], …)[id]`.
    var chart: Charts.Series
    /// "24h" or "14d", the `statsPeriod` parameter.
    var statsPeriod: String
    /// `ReadStore.feedback` about this issue's events, newest first.
    var feedback: [FeedbackRow] = []
    /// The shown event's attachments (`ReadStore.attachments`), nil without an event.
    var attachments: EventAttachmentsView? = nil
}

struct LogExplorerModel: Sendable {
    var project: Project
    var filters: LogFilters
    /// `ReadStore.logs(LogQuery)`, one page, newest first.
    var rows: [LogRow]
    var nextCursor: LogCursor?
    var isPagedIn: Bool
    /// Why the filters could not be applied (a malformed attribute filter).
    var error: String?
}

struct FeedbackListModel: Sendable {
    var project: Project
    /// `ReadStore.feedback(FeedbackQuery(projectID:))`, one page, newest first.
    var rows: [FeedbackRow]
    /// The issues the rows' events belong to, by id.
    var issues: [Int64: IssueRow]
    var nextCursor: Int64?
    var isPagedIn: Bool
}

struct EventListModel: Sendable {
    var project: Project
    /// Set for an issue's events (`/issues/{id}/events/`), nil for a project's.
    var issue: IssueRow?
    /// `ReadStore.events(EventQuery)`, newest first, 50 per page.
    var events: [EventRow]
    /// The `environment`, `release` and `level` parameters.
    var environment: String?
    var release: String?
    var level: Level?
    var environments: [String]
    var releases: [String]
    /// Row id of the last event when another page may follow (the `cursor` of the next page).
    var nextCursor: Int64?
    var isPagedIn: Bool
}

struct EventDetailModel: Sendable {
    var project: Project
    /// `ReadStore.event(projectID:eventID:)`.
    var event: EventRow
    /// `ReadStore.issue(id: event.issueID)`.
    var issue: IssueRow?
    /// The event's attachments (`ReadStore.attachments`).
    var attachments: EventAttachmentsView? = nil
}

struct ReleasesModel: Sendable {
    /// `ReadStore.releases(projectID: nil)`, newest first, after the releases created through
    /// the API that no event has named yet (their `firstSeen` is 0).
    var releases: [ReleaseRow]
    /// Every project by id, to name the project of each row.
    var projects: [Int64: Project]
    var health: [ReleaseHealth.Key: ReleaseHealth] = [:]
}

struct ReleaseDetailModel: Sendable {
    var version: String
    /// The `ReleaseRow`s with this version, one per project that saw it.
    var rows: [ReleaseRow]
    var projects: [Int64: Project]
    var health: [ReleaseHealth.Key: ReleaseHealth] = [:]
    /// Per project, the release's sessions day by day (`ReleaseDetailModel.days`, oldest first).
    var daily: [Int64: [ReleaseDay]] = [:]
    /// Midnight UTC of the first day, epoch milliseconds.
    var firstDay: Int64 = 0
    /// The release as created through the API (`sentry-cli releases new`), if it was.
    var stored: StoredRelease?
    /// Its deploys, newest first.
    var deploys: [Deploy] = []

    static let days = 14
}

/// One day of a release in one project.
struct ReleaseDay: Sendable, Equatable {
    var sessions = SessionTally()
    var projectSessions: Int64 = 0

    /// Percentages, nil on a day without sessions.
    var crashFree: Int64? { sessions.started > 0 ? 100 - (sessions.crashed * 100 + sessions.started - 1) / sessions.started : nil }
    var adoption: Int64? { projectSessions > 0 ? min(100, sessions.started * 100 / projectSessions) : nil }
}

struct ProjectSettingsModel: Sendable {
    var project: Project
    var keys: [KeyWithDSN]
}

struct TokensModel: Sendable {
    /// `AdminStore.tokens()`.
    var tokens: [APIToken]
    /// The secret of a token created by this very request (POST /settings/tokens/), shown once
    /// and never again; nil on an ordinary GET.
    var createdToken: String?
    /// Its label, for the message next to it.
    var createdLabel: String?
}

struct AccountModel: Sendable {
    /// Nil for a session opened with the admin token (which has no password to change).
    var user: User?
}

struct ErrorModel: Sendable {
    /// 403, 404, 500, …
    var status: Int
    var title: String
    var message: String
}
