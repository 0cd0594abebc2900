import Foundation
import PitIngest
import PitStorage
import PostgresNIO
import PostgresStore
import Testing

/// The batch writer's statements are parsed and planned once per connection
/// (`PostgresPreparedSQL`), not on every commit.
@Suite struct PostgresPreparedSQLTests {
    /// postgres-nio prepares without parameter types, and `unnest($1)` gives PostgreSQL nothing to
    /// infer one from: each placeholder names its type.
    @Test func placeholdersNameTheirTypes() {
        let statement: PostgresPreparedSQL = "SELECT * FROM unnest(\([Int64(1), 2]), \(["a", "b"]), \([true, false])) WHERE \(Int64(3)) > 0"
        #expect(statement.sql == "SELECT * FROM unnest($1::BIGINT[], $2::TEXT[], $3::BOOLEAN[]) WHERE $4::BIGINT > 0")
        #expect(statement.binds.map(\.type) == [.int8Array, .textArray, .boolArray, .int8])
    }

    @Test func parametersBuiltInALoopContinueTheNumbering() {
        var statement: PostgresPreparedSQL = "SELECT \(Int64(1)), "
        let placeholders = (0..<3).map { statement.bind([Int64($0)]) }
        statement.append(sql: placeholders.joined(separator: ", "))
        #expect(statement.sql == "SELECT $1::BIGINT, $2::BIGINT[], $3::BIGINT[], $4::BIGINT[]")
        #expect(statement.binds.count == 4)
    }
}

@Suite(.enabled(if: PostgresTestDatabase.adminURL != nil, "PIT_TEST_DATABASE_URL is not set"))
struct PostgresPreparedStatementTests {
    /// Turns event payloads into records, as the ingest pipeline does.
    private let fixture: StoreFixture

    init() throws { fixture = try StoreFixture() }

    /// A fresh database with its default project, and a batch store writing into it.
    private func writer() async throws -> (PostgresDatabaseURL, PostgresBatchStore) {
        let database = try PostgresTestDatabase.create()
        let admin = try await PostgresAdminStore.open(url: database, logger: PostgresTestDatabase.logger)
        _ = try await admin.ensureDefaults(organizationSlug: "pit", projectSlug: "default")
        await admin.close()
        return (database, try PostgresBatchStore(url: database, logger: PostgresTestDatabase.logger))
    }

    private func batch(_ ids: ClosedRange<Int>) throws -> [IngestQueue.Entry] {
        try ids.map { id in
            .write(
                WriteUnit(
                    event: try fixture.record(
                        eventJSON(
                            id, type: id % 2 == 0 ? "KeyError" : "ValueError", release: "1.\(id % 3)",
                            user: #"{"id":"u\#(id % 5)"}"#, environment: "prod")),
                    items: []))
        }
    }

    /// The writer's session: each statement text prepared once however many batches it writes,
    /// and executed from that one preparation.
    @Test func eachStatementIsPreparedOncePerConnection() async throws {
        let (database, store) = try await writer()
        defer { store.close() }

        /// Per prepared text: (generic plans, custom plans) executed so far.
        func prepared() throws -> [String: (generic: Int64, custom: Int64)] {
            var executions: [String: (generic: Int64, custom: Int64)] = [:]
            for row in try store.session.query("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements") {
                let (text, generic, custom) = try row.decode((String, Int64, Int64).self)
                executions[text] = (generic, custom)
            }
            return executions
        }
        func issueDeltas(_ executions: [String: (generic: Int64, custom: Int64)]) -> (generic: Int64, custom: Int64)? {
            executions.first { $0.key.contains("INSERT INTO issue_deltas") }?.value
        }
        for round in 0..<3 { _ = try store.write(try batch(round * 10 + 1...round * 10 + 10)) }
        let afterThree = try prepared()
        #expect(issueDeltas(afterThree) != nil)
        // The events statement reads the table (already stored ids): planned on each call instead.
        #expect(!afterThree.keys.contains { $0.contains("INSERT INTO events") })
        for round in 3..<10 { _ = try store.write(try batch(round * 10 + 1...round * 10 + 10)) }
        let afterTen = try prepared()
        // No new preparations for the same statements; one generic plan, never planned again.
        #expect(Set(afterTen.keys) == Set(afterThree.keys))
        #expect(issueDeltas(afterTen)?.generic == 10 && issueDeltas(afterTen)?.custom == 0)
        #expect(try PostgresTestDatabase.count("SELECT COUNT(*) FROM events", database) == 100)
    }

    /// A new connection has none of the old one's statements: the session prepares them again
    /// instead of executing names the server no longer knows.
    @Test func aLostConnectionIsPreparedAgain() async throws {
        let (database, store) = try await writer()
        defer { store.close() }
        _ = try store.write(try batch(1...10))
        let backend = try #require(try store.session.query("SELECT pg_backend_pid()").first).decode(Int32.self)
        #expect(try PostgresTestDatabase.count("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = \(backend)", database) == 1)
        _ = try PostgresTestDatabase.count("SELECT COUNT(*) FROM pg_terminate_backend(\(backend))", database)

        // The server closed the connection; depending on whether the session has seen that yet,
        // the next write fails once (the writer retries such a batch) or reconnects at once.
        // Either way the write that reaches the new connection prepares and stores.
        let entries = try batch(11...20)
        let outcome = try (try? store.write(entries)) ?? store.write(entries)
        #expect(outcome.events == 10)
        let newBackend = try #require(try store.session.query("SELECT pg_backend_pid()").first).decode(Int32.self)
        #expect(newBackend != backend)
        #expect(try PostgresTestDatabase.count("SELECT COUNT(*) FROM events", database) == 20)
    }
}

/// A caller building statement texts from values would prepare without end: past 256 texts a
/// session runs the rest unnamed, with the same answers.
@Suite(.enabled(if: PostgresTestDatabase.adminURL != nil, "PIT_TEST_DATABASE_URL is not set"))
struct PostgresPreparedLimitTests {
    @Test func textsPastTheLimitRunUnnamed() throws {
        let session = try PostgresSession(url: try PostgresTestDatabase.create(), logger: PostgresTestDatabase.logger)
        defer { session.close() }
        for index in 0..<300 {
            let rows = try session.query(prepared: "SELECT \(unescaped: String(index))::BIGINT + \(Int64(1))")
            #expect(try rows.first?.decode(Int64.self) == Int64(index) + 1)
        }
        let count = try #require(try session.query("SELECT COUNT(*) FROM pg_prepared_statements").first).decode(Int64.self)
        #expect(count == 256)
    }
}

extension PostgresTestDatabase {
    /// The first column of the first row of `sql`, on a connection of its own.
    static func count(_ sql: String, _ url: PostgresDatabaseURL) throws -> Int64 {
        let session = try PostgresSession(url: url, logger: logger)
        defer { session.close() }
        var value: Int64 = 0
        for row in try session.query(PostgresQuery(unsafeSQL: sql)) { value = try row.decode(Int64.self) }
        return value
    }
}
