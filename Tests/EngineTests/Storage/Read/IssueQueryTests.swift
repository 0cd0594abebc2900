import PitModel
import PitStorage
import Testing

private func tags(_ query: IssueQuery) -> [String] { query.tags.map { "\($0.key)=\($0.value)" } }

@Suite struct IssueQueryTests {
    @Test func parsesEveryKindOfTerm() throws {
        let query = try IssueQuery(
            parsing: #"is:unresolved level:error release:1.2 environment:prod user.email:a@b.c tag:value "free text""#)
        #expect(query.statuses == [.unresolved])
        #expect(query.levels == [.error])
        #expect(query.releases == ["1.2"])
        #expect(query.environments == ["prod"])
        #expect(tags(query) == ["user.email=a@b.c", "tag=value"])
        #expect(query.text == ["free text"])
        #expect(query.sort == .date && query.limit == 100 && query.cursor == nil)

        var expected = IssueQuery()
        expected.statuses = [.unresolved]
        expected.levels = [.error]
        expected.releases = ["1.2"]
        expected.environments = ["prod"]
        expected.tags = [("user.email", "a@b.c"), ("tag", "value")]
        expected.text = ["free text"]
        #expect(query == expected)
    }

    @Test func emptyQuery() throws {
        #expect(try IssueQuery(parsing: "") == IssueQuery())
        #expect(try IssueQuery(parsing: "   ") == IssueQuery())
    }

    @Test(arguments: [
        ("is:unresolved", IssueStatus.unresolved), ("is:resolved", .resolved), ("is:resolvedInNextRelease", .resolved),
        ("is:ignored", .ignored), ("is:muted", .ignored), ("is:archived", .ignored),
    ])
    func statuses(term: String, status: IssueStatus) throws {
        #expect(try IssueQuery(parsing: term).statuses == [status])
    }

    @Test(arguments: ["is:bogus", "is:", "level:bogus", "level:", "is:unresolved is:nope"])
    func unknownValuesAreErrors(term: String) {
        let error = #expect(throws: IngestError.self) { try IssueQuery(parsing: term) }
        #expect(error?.status == 400)
    }

    @Test func levelAliasesAndRepeats() throws {
        let query = try IssueQuery(parsing: "level:warn level:FATAL is:resolved is:ignored")
        #expect(query.levels == [.warning, .fatal])
        #expect(query.statuses == [.resolved, .ignored])
    }

    @Test func tagForms() throws {
        #expect(tags(try IssueQuery(parsing: "tag:browser:firefox")) == ["browser=firefox"])
        #expect(tags(try IssueQuery(parsing: "browser:firefox server_name:web-1")) == ["browser=firefox", "server_name=web-1"])
        #expect(tags(try IssueQuery(parsing: #"message:"hello world""#)) == ["message=hello world"])
        #expect(tags(try IssueQuery(parsing: "url:http://x/y")) == ["url=http://x/y"])
    }

    @Test func freeText() throws {
        #expect(try IssueQuery(parsing: "foo  bar").text == ["foo", "bar"])
        #expect(try IssueQuery(parsing: #""a b" c "d:e""#).text == ["a b", "c", "d:e"])
        #expect(try IssueQuery(parsing: #""""#).text == [])
    }

    @Test func quotedTermsStayWhole() throws {
        let query = try IssueQuery(parsing: #"a "b c" d:"e f"  g"#)
        #expect(query.text == ["a", "b c", "g"])
        #expect(tags(query) == ["d=e f"])
    }

    @Test func cursors() {
        #expect(IssueQuery.Cursor("1700000000000:42") == IssueQuery.Cursor(value: 1_700_000_000_000, id: 42))
        #expect(IssueQuery.Cursor(value: 5, id: 6).description == "5:6")
        for bad in ["", "1", "a:b", "1:2:3", "1:"] { #expect(IssueQuery.Cursor(bad) == nil) }
    }

    @Test func sortNames() {
        #expect(IssueQuery.Sort.allCases.map(\.rawValue) == ["date", "new", "freq", "user"])
    }

    /// Client numbers in the search (issue 10): spans are multiplied into milliseconds, so any
    /// amount that could overflow must be refused rather than trap.
    @Test(arguments: ["-99999999999999999999h", "nanh", "-1e300d", "9223372036854775807w", "-100000w", "-0h", "h", "-", ""])
    func hostileSpansAreRefused(text: String) {
        #expect(IssueQuery.relativeSpan(text) == nil)
        #expect(throws: IngestError.self) { try IssueQuery(parsing: "lastSeen:\(text)") }
        #expect(throws: IngestError.self) { try IssueQuery(parsing: "age:\(text)") }
    }

    @Test func largestSpanFitsInMilliseconds() {
        let expected: Int64 = 99999 * 7 * 86400 * 1000
        #expect(IssueQuery.relativeSpan("-99999w") == expected)
    }
}
