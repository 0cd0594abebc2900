import PitIngest
import Testing

@Suite struct SpanDescriptionTests {
    @Test(arguments: [
        ("SELECT * FROM users WHERE id = 42", "SELECT * FROM users WHERE id = %s"),
        ("SELECT * FROM users WHERE name = 'bob' AND age > 3.5", "SELECT * FROM users WHERE name = %s AND age > %s"),
        ("SELECT * FROM t WHERE note = 'it''s'", "SELECT * FROM t WHERE note = %s"),
        ("SELECT id FROM orders WHERE id IN (1, 2, 3, 4)", "SELECT id FROM orders WHERE id IN (%s)"),
        ("SELECT t0.col_1 FROM table2 t0 LIMIT 10", "SELECT t0.col_1 FROM table2 t0 LIMIT %s"),
        ("SELECT * FROM users WHERE id = $1", "SELECT * FROM users WHERE id = $1"),
        ("SELECT *\n  FROM users\tWHERE flag = 0x1F", "SELECT * FROM users WHERE flag = %s"),
        ("INSERT INTO t (a, b) VALUES ('x', 7)", "INSERT INTO t (a, b) VALUES (%s)"),
    ])
    func sqlLiteralsAreMasked(sql: String, expected: String) {
        #expect(SpanDescription.normalize(op: "db.sql.query", description: sql) == expected)
        #expect(SpanDescription.normalize(op: "db", description: sql) == expected)
    }

    @Test func anNPlusOneLoopIsOneDescription() {
        let descriptions = Set(
            (1...50).map { SpanDescription.normalize(op: "db", description: "SELECT * FROM books WHERE author_id = \($0)") })
        #expect(descriptions == ["SELECT * FROM books WHERE author_id = %s"])
    }

    @Test(arguments: [
        ("GET https://api.example.com/users/123/orders?page=2", "GET https://api.example.com/users/*/orders"),
        ("POST /api/items/550e8400-e29b-41d4-a716-446655440000", "POST /api/items/*"),
        ("GET /blobs/9f86d081884c7d659a2feaa0c55ad015", "GET /blobs/*"),
        ("GET /static/app.js#frag", "GET /static/app.js"),
        ("GET /users/profile", "GET /users/profile"),
        ("GET /decade/deadbeefcafe", "GET /decade/deadbeefcafe"),
        ("GET http://host:8080/v2/9/items", "GET http://host:8080/v2/*/items"),
    ])
    func urlIdsAreMasked(description: String, expected: String) {
        #expect(SpanDescription.normalize(op: "http.client", description: description) == expected)
    }

    @Test func otherOpsAreKeptAsSentButBounded() {
        #expect(SpanDescription.normalize(op: "function", description: "render 42 items") == "render 42 items")
        #expect(SpanDescription.normalize(op: "db.redis", description: "GET user:42") == "GET user:42")
        let long = String(repeating: "é", count: 5000)
        #expect(SpanDescription.normalize(op: "ui", description: long).utf8.count <= SpanDescription.maxBytes)
    }
}
