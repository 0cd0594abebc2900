package import PitStorage
import PostgresNIO

/// PostgreSQL's side of the read statements compiled in `PitStorage` (`IssueSearchSQL`, `ReadSQL`).
package struct PostgresDialect: SQLDialect {
    package init() {}

    package func placeholder(_ index: Int) -> String { "$\(index)" }

    package var lists: SQLListBinding { .array }

    /// `ILIKE` ignores ASCII case, as SQLite's `LIKE` and trigram index do.
    package func issueTextMatch(_ text: String, into statement: inout SQLStatement) -> String {
        let pattern = statement.bind("%" + LikePattern.escape(text) + "%")
        return "(title ILIKE \(pattern) ESCAPE '\\' OR culprit ILIKE \(pattern) ESCAPE '\\')"
    }

    /// Counters as they stand: the rolled-up rows plus the pending deltas (`PostgresCounters`).
    package var issueTagValues: String { PostgresCounters.allTagValues }
    package var outcomesHourly: String { PostgresCounters.allOutcomesHourly }
    package var sessionHourly: String { PostgresCounters.allSessionHourly }
    package var sessionDurations: String { PostgresCounters.allSessionDurations }
    package var transactionMinutes: String { PostgresCounters.allTransactionMinutes }
    package var transactionHours: String { PostgresCounters.allTransactionHours }

    package func byteOrder(_ expression: String) -> String { "\(expression) COLLATE \"C\"" }

    package func sum(_ expression: String) -> String { "SUM(\(expression))::BIGINT" }
}

extension PostgresQuery {
    /// A compiled read statement, its parameters bound in placeholder order.
    init(_ statement: SQLStatement) {
        var bindings = PostgresBindings()
        for parameter in statement.parameters {
            switch parameter {
            case .int(let number): bindings.append(number)
            case .text(let text): bindings.append(text)
            case .ints(let numbers): bindings.append(numbers)
            case .texts(let texts): bindings.append(texts)
            case .bytes(let bytes): bindings.append(ByteBuffer(bytes: bytes))
            }
        }
        self.init(unsafeSQL: statement.sql, binds: bindings)
    }
}
