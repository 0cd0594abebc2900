package import PitStorage

/// SQLite's side of the read statements compiled in `PitStorage` (`IssueSearchSQL`, `ReadSQL`).
package struct SQLiteDialect: SQLDialect {
    package init() {}

    package func placeholder(_ index: Int) -> String { "?" }

    package var lists: SQLListBinding { .expanded }

    /// Three characters or more go through the trigram index (`issue_search`, a quoted phrase is a
    /// substring match on title or culprit); shorter ones, which a trigram cannot find, scan with
    /// `LIKE`, which ignores ASCII case as the trigram tokenizer does.
    package func issueTextMatch(_ text: String, into statement: inout SQLStatement) -> String {
        if text.unicodeScalars.count >= 3 {
            let phrase = "\"" + text.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
            return "id IN (SELECT rowid FROM issue_search WHERE issue_search MATCH \(statement.bind(phrase)))"
        }
        let pattern = "%" + LikePattern.escape(text) + "%"
        return "(title LIKE \(statement.bind(pattern)) ESCAPE '\\' OR culprit LIKE \(statement.bind(pattern)) ESCAPE '\\')"
    }

    package var issueTagValues: String { "issue_tag_values" }
    package var outcomesHourly: String { "outcomes_hourly" }
    package var sessionHourly: String { "session_hourly" }
    package var sessionDurations: String { "session_durations" }
    package var transactionMinutes: String { "transaction_minutes" }
    package var transactionHours: String { "transaction_hours" }

    package func byteOrder(_ expression: String) -> String { expression }

    package func sum(_ expression: String) -> String { "SUM(\(expression))" }
}

extension SQLiteValue {
    /// A compiled statement's parameter. SQLite binds lists element by element
    /// (`SQLListBinding.expanded`), so no array reaches it.
    init(_ value: SQLValue) {
        switch value {
        case .int(let number): self = .int(number)
        case .text(let text): self = .text(text)
        case .bytes(let bytes): self = .blob(bytes)
        case .ints, .texts: preconditionFailure("SQLiteDialect binds lists element by element")
        }
    }
}

extension SQLiteConnection {
    /// Runs a compiled read statement.
    func query<T>(_ statement: SQLStatement, _ row: (SQLiteStatement) throws -> T) throws -> [T] {
        try self.statement(statement.sql).query(statement.parameters.map(SQLiteValue.init), row)
    }
}
