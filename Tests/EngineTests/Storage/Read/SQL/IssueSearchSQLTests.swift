import PitModel
import PitStorage
import PostgresStore
import SQLiteStore
import Testing

/// The issue search compiled once, per dialect: the SQL text and the parameters in placeholder
/// order. (What the statements return is checked against both databases by `PostgresParityTests`.)
@Suite struct IssueSearchSQLTests {
    private static let now: Int64 = 1_800_000_000_000

    private func compile(_ text: String, _ dialect: any SQLDialect, cursor: IssueQuery.Cursor? = nil) throws -> SQLStatement {
        var query = try IssueQuery(parsing: text)
        query.cursor = cursor
        query.limit = 25
        var statement = SQLStatement(dialect)
        let condition = IssueSearchSQL.condition(projectID: 7, query: query, now: Self.now, into: &statement)
        let after = IssueSearchSQL.afterCursor(query, into: &statement)
        let page = IssueSearchSQL.page(query, into: &statement)
        statement.sql = condition + after + page
        return statement
    }

    @Test func statusesAndLevels() throws {
        let sqlite = try compile("is:unresolved is:ignored level:error", SQLiteDialect())
        #expect(
            sqlite.sql == "project_id = ? AND status IN (?,?) AND level IN (?) ORDER BY last_seen DESC, id DESC LIMIT ?")
        #expect(sqlite.parameters == [.int(7), .int(0), .int(2), .int(40), .int(25)])

        let postgres = try compile("is:unresolved is:ignored level:error", PostgresDialect())
        #expect(
            postgres.sql == "project_id = $1 AND status = ANY($2) AND level = ANY($3) ORDER BY last_seen DESC, id DESC LIMIT $4")
        #expect(postgres.parameters == [.int(7), .ints([0, 2]), .ints([40]), .int(25)])
    }

    @Test func freeTextPerDialect() throws {
        // SQLite: the trigram index from three characters, LIKE below (escaped); PostgreSQL: ILIKE.
        let sqlite = try compile(#"a% "Key Error""#, SQLiteDialect())
        #expect(
            sqlite.sql
                == #"project_id = ? AND (title LIKE ? ESCAPE '\' OR culprit LIKE ? ESCAPE '\')"#
                + " AND id IN (SELECT rowid FROM issue_search WHERE issue_search MATCH ?) ORDER BY last_seen DESC, id DESC LIMIT ?")
        #expect(sqlite.parameters == [.int(7), .text(#"%a\%%"#), .text(#"%a\%%"#), .text(#""Key Error""#), .int(25)])

        let postgres = try compile(#"a% "Key Error""#, PostgresDialect())
        #expect(
            postgres.sql
                == #"project_id = $1 AND (title ILIKE $2 ESCAPE '\' OR culprit ILIKE $2 ESCAPE '\')"#
                + #" AND (title ILIKE $3 ESCAPE '\' OR culprit ILIKE $3 ESCAPE '\') ORDER BY last_seen DESC, id DESC LIMIT $4"#)
        #expect(postgres.parameters == [.int(7), .text(#"%a\%%"#), .text("%Key Error%"), .int(25)])
    }

    @Test func tagsWithinEnvironments() throws {
        let sqlite = try compile("environment:prod environment:staging browser:Firefox release:1.0", SQLiteDialect())
        #expect(
            sqlite.sql
                == "project_id = ?"
                + " AND id IN (SELECT t.issue_id FROM issue_tag_values t WHERE t.key = 'environment' AND t.value IN (?,?))"
                + " AND id IN (SELECT t.issue_id FROM issue_tag_values t WHERE t.key = ? AND t.value = ? AND t.environment IN (?,?))"
                + " AND id IN (SELECT t.issue_id FROM issue_tag_values t WHERE t.key = ? AND t.value = ? AND t.environment IN (?,?))"
                + " ORDER BY last_seen DESC, id DESC LIMIT ?")
        #expect(
            sqlite.parameters == [
                .int(7), .text("prod"), .text("staging"), .text("browser"), .text("Firefox"), .text("prod"), .text("staging"),
                .text("release"), .text("1.0"), .text("prod"), .text("staging"), .int(25),
            ])

        let postgres = try compile("environment:prod browser:Firefox", PostgresDialect())
        let tags = PostgresDialect().issueTagValues
        #expect(
            postgres.sql
                == "project_id = $1"
                + " AND id IN (SELECT t.issue_id FROM \(tags) t WHERE t.key = 'environment' AND t.value = ANY($2))"
                + " AND id IN (SELECT t.issue_id FROM \(tags) t WHERE t.key = $3 AND t.value = $4 AND t.environment = ANY($5))"
                + " ORDER BY last_seen DESC, id DESC LIMIT $6")
        #expect(
            postgres.parameters == [.int(7), .texts(["prod"]), .text("browser"), .text("Firefox"), .texts(["prod"]), .int(25)])
    }

    @Test func tagsWithoutEnvironment() throws {
        let sqlite = try compile("tag:user.email:a@b.c", SQLiteDialect())
        #expect(
            sqlite.sql
                == "project_id = ? AND id IN (SELECT t.issue_id FROM issue_tag_values t WHERE t.key = ? AND t.value = ?)"
                + " ORDER BY last_seen DESC, id DESC LIMIT ?")
        #expect(sqlite.parameters == [.int(7), .text("user.email"), .text("a@b.c"), .int(25)])
    }

    @Test func relativeTimesSortAndCursor() throws {
        var query = try IssueQuery(parsing: "lastSeen:-24h age:-7d")
        query.sort = .freq
        query.cursor = IssueQuery.Cursor(value: 12, id: 99)
        for (dialect, expected) in [
            (
                SQLiteDialect() as any SQLDialect,
                "project_id = ? AND last_seen >= ? AND first_seen >= ? AND (times_seen < ? OR (times_seen = ? AND id < ?))"
                    + " ORDER BY times_seen DESC, id DESC LIMIT ?"
            ),
            (
                PostgresDialect(),
                "project_id = $1 AND last_seen >= $2 AND first_seen >= $3 AND (times_seen < $4 OR (times_seen = $5 AND id < $6))"
                    + " ORDER BY times_seen DESC, id DESC LIMIT $7"
            ),
        ] {
            var statement = SQLStatement(dialect)
            let condition = IssueSearchSQL.condition(projectID: 7, query: query, now: Self.now, into: &statement)
            let after = IssueSearchSQL.afterCursor(query, into: &statement)
            let page = IssueSearchSQL.page(query, into: &statement)
            #expect(condition + after + page == expected)
            #expect(
                statement.parameters == [
                    .int(7), .int(Self.now - 86_400_000), .int(Self.now - 7 * 86_400_000), .int(12), .int(12), .int(99), .int(100),
                ])
        }
    }

    @Test func countStopsPastMaxHits() throws {
        let statement = IssueSearchSQL.count(
            from: "issues", projectID: 3, query: try IssueQuery(parsing: "is:resolved"), now: Self.now, dialect: SQLiteDialect())
        #expect(
            statement.sql == "SELECT COUNT(*) FROM (SELECT 1 FROM issues WHERE project_id = ? AND status IN (?) LIMIT 1001) AS matches")
        #expect(statement.parameters == [.int(3), .int(Int64(IssueStatus.resolved.rawValue))])
    }

    @Test func tagValueRowsPerDialect() {
        let sqlite = ReadSQL.tagValues(issueID: 5, key: "browser", environment: "prod", limit: 10, dialect: SQLiteDialect())
        #expect(
            sqlite.sql
                == "SELECT key, value, SUM(times_seen), MIN(first_seen), MAX(last_seen) FROM issue_tag_values t"
                + " WHERE issue_id = ? AND key = ? AND environment = ?"
                + " GROUP BY key, value ORDER BY key, SUM(times_seen) DESC, value LIMIT ?")
        #expect(sqlite.parameters == [.int(5), .text("browser"), .text("prod"), .int(10)])

        let postgres = ReadSQL.tagValues(issueID: 5, key: nil, environment: nil, limit: 10, dialect: PostgresDialect())
        #expect(
            postgres.sql
                == "SELECT key, value, SUM(times_seen)::BIGINT, MIN(first_seen), MAX(last_seen) FROM \(PostgresDialect().issueTagValues) t"
                + " WHERE issue_id = $1"
                + #" GROUP BY key, value ORDER BY key COLLATE "C", SUM(times_seen)::BIGINT DESC, value COLLATE "C" LIMIT $2"#)
        #expect(postgres.parameters == [.int(5), .int(10)])
    }

    @Test func eventNavigationBindsInTextOrder() {
        let sqlite = ReadSQL.eventNavigation(issueID: 4, rowID: 40, environment: "prod", dialect: SQLiteDialect())
        #expect(
            sqlite.parameters == [
                .int(4), .text("prod"), .int(4), .int(40), .text("prod"), .int(4), .int(40), .text("prod"), .int(4), .text("prod"),
            ])
        #expect(sqlite.sql.filter { $0 == "?" }.count == sqlite.parameters.count)
    }

    @Test func eventListFilters() {
        var query = EventQuery(projectID: 2, issueID: 9)
        query.environment = "prod"
        query.level = .warning
        query.before = 100
        query.limit = 5000
        let postgres = ReadSQL.events(query, dialect: PostgresDialect())
        #expect(
            postgres.sql.hasSuffix(
                "FROM events WHERE issue_id = $1 AND project_id = $2 AND environment = $3 AND level = $4 AND id < $5"
                    + " ORDER BY id DESC LIMIT $6"))
        #expect(postgres.parameters == [.int(9), .int(2), .text("prod"), .int(Int64(Level.warning.rawValue)), .int(100), .int(1000)])
    }
}
