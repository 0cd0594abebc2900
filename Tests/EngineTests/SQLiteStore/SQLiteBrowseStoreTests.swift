import Foundation
import PitIngest
import PitStorage
import SQLiteStore
import Testing

/// The browsing side of the SQLite store: accounts, sessions, tokens, hourly counters, tag
/// facets per environment, event navigation and the upgrade from schema 2.
@Suite struct SQLiteBrowseStoreTests {
    @Test func passwordsAreSaltedScryptAndVerifyOnlyTheRightPassword() async throws {
        let hash = try PasswordHash.make("correct horse battery", logN: 10)
        #expect(hash.hasPrefix("scrypt$10$8$1$"))
        #expect(PasswordHash.verify("correct horse battery", against: hash))
        #expect(!PasswordHash.verify("correct horse batterY", against: hash))
        #expect(try PasswordHash.make("correct horse battery", logN: 10) != hash, "salted")
        #expect(!PasswordHash.verify("x", against: "scrypt$99$8$1$AAAA$AAAA"), "absurd cost parameters are refused")
        #expect(!PasswordHash.verify("x", against: "plain"))
    }

    @Test func usersSessionsAndTokens() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteAdminStore(path: directory.path("pit.db"))
        let user = try await store.createUser(email: "Ops@Example.com", passwordHash: "h", isAdmin: true)
        #expect(try await store.user(email: "ops@example.com")?.id == user.id, "emails are case-insensitive")
        await #expect(throws: AdminError.self) { try await store.createUser(email: "OPS@example.com", passwordHash: "h", isAdmin: false) }
        await #expect(throws: AdminError.self) { try await store.createUser(email: "nobody", passwordHash: "h", isAdmin: false) }

        let session = WebSession(tokenHash: Secret.hash("cookie"), userID: user.id, csrfToken: "c", createdAt: 0, expiresAt: 1000)
        try await store.createSession(session)
        #expect(try await store.session(tokenHash: Secret.hash("cookie"), now: 999) == session)
        #expect(try await store.session(tokenHash: Secret.hash("cookie"), now: 1000) == nil, "expired")
        #expect(try await store.session(tokenHash: Secret.hash("other"), now: 0) == nil)
        #expect(try await store.deleteExpiredSessions(now: 1000) == 1)

        try await store.createSession(
            WebSession(
                tokenHash: Secret.hash("c2"), userID: user.id, csrfToken: "c", createdAt: 0,
                expiresAt: .max))
        try await store.setPassword(userID: user.id, passwordHash: "new", revokeTokens: false)
        #expect(try await store.session(tokenHash: Secret.hash("c2"), now: 0) == nil, "a new password signs out everywhere")

        let token = try await store.createToken(
            hash: Secret.hash("secret"), prefix: "pit_tok_abcd", label: "ci", scopes: [.write],
            userID: nil)
        #expect(token.allows(.read) && token.allows(.write) && !token.allows(.admin))
        #expect(try await store.activeToken(hash: Secret.hash("secret"), now: 5_000_000)?.id == token.id)
        #expect(try await store.tokens().first?.lastUsedAt == 5_000_000)
        #expect(try await store.revokeToken(id: token.id, now: 6_000_000))
        #expect(try await store.activeToken(hash: Secret.hash("secret"), now: 7_000_000) == nil)
        #expect(try await !store.revokeToken(id: 999, now: 0))
        await #expect(throws: AdminError.self) { try await store.createToken(hash: [1], prefix: "", label: "", scopes: [], userID: nil) }
    }

    @Test func keyUpdatesAndRateLimits() async throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteAdminStore(path: directory.path("pit.db"))
        _ = try await store.ensureDefaults(organizationSlug: "pit", projectSlug: "default")
        let key = try #require(try await store.keys(projectID: 1).first)
        let limited = try await store.updateKey(
            id: key.id, label: "web", enabled: nil,
            rateLimit: .some(ProjectKey.RateLimit(count: 10, windowSeconds: 60)))
        #expect(limited?.label == "web" && limited?.rateLimit == ProjectKey.RateLimit(count: 10, windowSeconds: 60))
        let unchanged = try await store.updateKey(id: key.id, label: nil, enabled: false, rateLimit: nil)
        #expect(unchanged?.rateLimit != nil && unchanged?.enabled == false)
        let lifted = try await store.updateKey(id: key.id, label: nil, enabled: nil, rateLimit: .some(nil))
        #expect(lifted?.rateLimit == nil)

        let cache = KeyCache()
        let limit = ProjectKey.RateLimit(count: 2, windowSeconds: 10)
        #expect(cache.admit("k", limit: limit, nowSeconds: 100) == nil)
        #expect(cache.admit("k", limit: limit, nowSeconds: 101) == nil)
        #expect(cache.admit("k", limit: limit, nowSeconds: 103) == 7)
        #expect(cache.admit("k", limit: limit, nowSeconds: 110) == nil, "a new window")
    }

    @Test func hourlyCountersFacetsAndNavigation() async throws {
        let fixture = try StoreFixture()
        let base = receiveTime
        func event(_ environment: String, _ browser: String) -> String {
            #"{"message":"same","environment":"\#(environment)","tags":{"browser":"\#(browser)"},"release":"r1"}"#
        }
        try fixture.write(
            try fixture.record(event("prod", "Firefox"), received: base),
            try fixture.record(event("prod", "Firefox"), received: base + 1),
            try fixture.record(event("staging", "Chrome"), received: base + 3600))
        let issue = try await fixture.onlyIssue()
        let hour = HourlyCounts.hour(ofMilliseconds: Int64(base * 1000))
        let hourly = try await fixture.reader.issueHourly(issueIDs: [issue.id], fromHour: hour - 1, toHour: hour + 2)
        #expect(hourly[issue.id] == [hour: 2, hour + 1: 1])
        let project = try await fixture.reader.projectHourly(projectID: 1, fromHour: hour, toHour: hour + 1)
        #expect(project[hour]?.events == 2 && project[hour]?.newIssues == 1 && project[hour + 1]?.events == 1)

        let all = try await fixture.reader.tagFacets(issueID: issue.id, environment: nil, topValues: 5)
        let browser = try #require(all.first { $0.key == "browser" })
        #expect(browser.total == 3 && browser.distinctValues == 2 && browser.topValues.map(\.value) == ["Firefox", "Chrome"])
        let prod = try await fixture.reader.tagFacets(issueID: issue.id, environment: "prod", topValues: 5)
        #expect(prod.first { $0.key == "browser" }?.topValues.map(\.count) == [2])

        let events = try await fixture.reader.events(EventQuery(projectID: 1, issueID: issue.id))
        #expect(events.count == 3)
        let middle = events[1].rowID
        let navigation = try await fixture.reader.eventNavigation(issueID: issue.id, rowID: middle, environment: nil)
        #expect(
            navigation
                == EventNavigation(
                    first: events[2].rowID, previous: events[2].rowID, next: events[0].rowID,
                    latest: events[0].rowID))
        var staging = EventQuery(projectID: 1)
        staging.environment = "staging"
        #expect(try await fixture.reader.events(staging).count == 1)
        #expect(
            try await fixture.reader.events(EventQuery(projectID: 2, issueID: issue.id)).isEmpty,
            "an issue id from another project shows nothing")
        #expect(try await fixture.reader.releases(projectID: 1).map(\.events) == [3])
        #expect(try await fixture.reader.environments(projectID: 1) == ["prod", "staging"])
        #expect(try await fixture.reader.issueCount(projectID: 1, query: IssueQuery(parsing: "browser:Chrome")) == 1)
        #expect(try await fixture.reader.issueCount(projectID: 1, query: IssueQuery(parsing: "environment:prod browser:Chrome")) == 0)
    }

    @Test func upgradeFromSchema2BackfillsCountersAndTagValues() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("old.db")
        let connection = try SQLiteConnection(path: path)
        try SQLiteSchema.migrate(connection, through: 2)
        try connection.execute(
            """
            INSERT INTO issues (id, project_id, short_id, kind, title, culprit, metadata, level, first_seen, last_seen, grouping)
                VALUES (1, 1, 1, 'error', 't', 'c', '{}', 4, 7200000, 10800000, '[]');
            INSERT INTO events (id, project_id, issue_id, event_id, timestamp, received, level, environment, payload_size, payload)
                VALUES (1, 1, 1, x'01', 0, 7200000, 4, 'prod', 0, x''), (2, 1, 1, x'02', 0, 7300000, 4, 'prod', 0, x''),
                       (3, 1, 1, x'03', 0, 10800000, 4, 'prod', 0, x'');
            INSERT INTO issue_tags VALUES (1, 'environment', 'prod', 3, 7200000, 10800000), (1, 'browser', 'Firefox', 3, 0, 0);
            """)
        try SQLiteSchema.migrate(connection)
        #expect(try connection.scalarInt("SELECT events FROM issue_hourly WHERE issue_id = 1 AND hour = 2") == 2)
        #expect(try connection.scalarInt("SELECT events FROM project_hourly WHERE project_id = 1 AND hour = 3") == 1)
        #expect(try connection.scalarInt("SELECT new_issues FROM project_hourly WHERE project_id = 1 AND hour = 2") == 1)
        #expect(try connection.scalarInt("SELECT times_seen FROM issue_tag_values WHERE key = 'browser' AND environment = 'prod'") == 3)
    }

    @Test func freeTextSearchMatchesSubstringsOfTitleAndCulprit() async throws {
        let fixture = try StoreFixture()
        try fixture.write(
            try fixture.record(#"{"message":"Payment gateway timeout","culprit":"billing.charge"}"#),
            try fixture.record(#"{"exception":{"values":[{"type":"KeyError","value":"'cart'"}]}}"#))
        func titles(_ query: String) async throws -> [String] { try await fixture.issues(query).map(\.title).sorted() }
        #expect(try await titles("gateway") == ["Payment gateway timeout"])
        #expect(try await titles("GATEWAY xyzzy") == [], "every term must match")
        #expect(try await titles("\"GATEWAY TIME\"") == ["Payment gateway timeout"], "case-insensitive phrase")
        #expect(try await titles("billing.ch") == ["Payment gateway timeout"], "culprit matches too")
        #expect(try await titles("Ke") == ["KeyError: 'cart'"], "two characters fall back to LIKE")
        #expect(try await titles("\"'cart\"") == ["KeyError: 'cart'"])
        #expect(try await titles("nothing-like-this") == [])
        #expect(try await titles("a\"b") == [], "a quote inside a term is not FTS syntax")
    }
}
