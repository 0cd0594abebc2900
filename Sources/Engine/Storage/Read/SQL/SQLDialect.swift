/// What differs between the back ends' SQL for the read statements that `ReadSQL` compiles once:
/// placeholders, how a list is bound, free-text matching, where the tag counters live, text
/// ordering and integer sums. Everything else in those statements is written once.
package protocol SQLDialect: Sendable {
    /// The placeholder of the `index`-th parameter, counted from 1: `?` or `$1`.
    func placeholder(_ index: Int) -> String
    /// How `column IN list` is bound: one placeholder per element, or one array parameter.
    var lists: SQLListBinding { get }
    /// A condition that an issue's title or culprit contains `text`, ignoring ASCII case
    /// (SQLite's `LIKE` does, PostgreSQL's `ILIKE` does).
    func issueTextMatch(_ text: String, into statement: inout SQLStatement) -> String
    /// The per-issue tag counters as they stand: a table, or a subquery that adds pending deltas.
    var issueTagValues: String { get }
    /// The hourly outcome counters as they stand: a table, or a subquery that adds pending deltas.
    var outcomesHourly: String { get }
    /// The release-health hourly counters as they stand (a table, or one with pending deltas appended).
    var sessionHourly: String { get }
    /// The session-duration histogram counters as they stand, likewise.
    var sessionDurations: String { get }
    /// The per-minute transaction aggregates as they stand (a table, or one with pending deltas appended).
    var transactionMinutes: String { get }
    /// The per-hour transaction aggregates as they stand, likewise.
    var transactionHours: String { get }
    /// `expression` compared byte-wise as text, as SQLite's default collation does.
    func byteOrder(_ expression: String) -> String
    /// `SUM(expression)` decoded as a 64-bit integer.
    func sum(_ expression: String) -> String
}

package enum SQLListBinding: Sendable {
    /// `column IN (?, ?, ?)`, one parameter per element (SQLite has no array type).
    case expanded
    /// `column = ANY($1)` with one array parameter, so the statement text does not depend on the
    /// list's length (PostgreSQL).
    case array
}

/// A parameter of a compiled statement. The arrays appear only under `SQLListBinding.array`.
package enum SQLValue: Sendable, Equatable {
    case int(Int64)
    case text(String)
    case ints([Int64])
    case texts([String])
    case bytes([UInt8])
}

/// A statement being compiled: its text and its parameters, in placeholder order.
package struct SQLStatement: Sendable {
    package let dialect: any SQLDialect
    package var sql: String
    package private(set) var parameters: [SQLValue] = []

    package init(_ dialect: any SQLDialect, _ sql: String = "") {
        self.dialect = dialect
        self.sql = sql
    }

    /// Appends a parameter and returns its placeholder.
    package mutating func bind(_ value: SQLValue) -> String {
        parameters.append(value)
        return dialect.placeholder(parameters.count)
    }

    package mutating func bind(_ value: Int64) -> String { bind(.int(value)) }
    package mutating func bind(_ value: String) -> String { bind(.text(value)) }
    package mutating func bind(_ value: [UInt8]) -> String { bind(.bytes(value)) }

    /// `column` is one of `values` (not empty).
    package mutating func isOneOf(_ column: String, _ values: [Int64]) -> String {
        switch dialect.lists {
        case .expanded: "\(column) IN (\(values.map { bind($0) }.joined(separator: ",")))"
        case .array: "\(column) = ANY(\(bind(.ints(values))))"
        }
    }

    package mutating func isOneOf(_ column: String, _ values: [String]) -> String {
        switch dialect.lists {
        case .expanded: "\(column) IN (\(values.map { bind($0) }.joined(separator: ",")))"
        case .array: "\(column) = ANY(\(bind(.texts(values))))"
        }
    }
}
