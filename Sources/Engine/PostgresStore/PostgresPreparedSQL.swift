import NIOCore
package import PostgresNIO

/// A statement that `PostgresSession` parses and plans once per connection, then only binds and
/// executes. The batch writer's statements are the same dozen texts on every commit, with whole
/// columns bound as arrays; sent unnamed, PostgreSQL parsed and planned each of them every time,
/// which was almost half of its statement time
/// (`results/2026-12-03T1530Z-pg-commit-delay/summary.md`).
///
/// Only for statements whose plan cannot depend on a table's size: those that only insert (an
/// `ON CONFLICT` arbiter is fixed by the table's definition). A generic plan made while a table
/// was small kept scanning it as it grew (`INSERT INTO events … WHERE NOT EXISTS`, 0.4 → 90 ms
/// per batch in 15 s, `results/2026-12-03T1905Z-pg-prepared-statements`), so a statement that
/// reads a table stays a `PostgresQuery`, planned on every call.
///
/// Written like a `PostgresQuery` (values interpolated become parameters), with one difference:
/// each parameter carries its type in the text (`$1::BIGINT[]`). postgres-nio prepares a
/// statement without parameter types, and PostgreSQL cannot infer them from `unnest($1)`.
package struct PostgresPreparedSQL: Sendable, ExpressibleByStringInterpolation {
    package private(set) var sql: String
    package private(set) var binds: [PostgresData]

    package init(stringLiteral value: String) {
        sql = value
        binds = []
    }

    package init(stringInterpolation: StringInterpolation) {
        sql = stringInterpolation.sql
        binds = stringInterpolation.binds
    }

    /// Adds `value` as the next parameter and returns its placeholder, for statements whose
    /// parameter list is built in a loop.
    package mutating func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value) -> String {
        Self.bind(value, to: &binds)
    }

    /// Appends statement text, such as a parameter list made with `bind`.
    package mutating func append(sql more: String) { sql += more }

    /// The same statement as an unnamed `PostgresQuery`.
    package var unnamed: PostgresQuery {
        var bindings = PostgresBindings(capacity: binds.count)
        for bind in binds { bindings.append(bind) }
        return PostgresQuery(unsafeSQL: sql, binds: bindings)
    }

    fileprivate static func bind<Value: PostgresDynamicTypeEncodable>(_ value: Value, to binds: inout [PostgresData]) -> String {
        var buffer = ByteBuffer()
        value.encode(into: &buffer, context: .default)
        let type = value.psqlType
        binds.append(PostgresData(type: type, formatCode: value.psqlFormat, value: buffer))
        return type.knownSQLName.map { "$\(binds.count)::\($0)" } ?? "$\(binds.count)"
    }

    package struct StringInterpolation: StringInterpolationProtocol {
        var sql = ""
        var binds: [PostgresData] = []

        package init(literalCapacity: Int, interpolationCount: Int) {
            sql.reserveCapacity(literalCapacity + 16 * interpolationCount)
            binds.reserveCapacity(interpolationCount)
        }

        package mutating func appendLiteral(_ literal: String) { sql += literal }

        package mutating func appendInterpolation<Value: PostgresDynamicTypeEncodable>(_ value: Value) {
            sql += PostgresPreparedSQL.bind(value, to: &binds)
        }

        /// Text that is part of the statement itself (a shared fragment), never a value.
        package mutating func appendInterpolation(unescaped fragment: String) { sql += fragment }
    }
}

/// A row of a prepared statement's answer. postgres-nio (1.x) asks for every result column in
/// binary, but its `prepare(query:)` path labels the columns with the formats of the statement's
/// description, which are text until bound, so `PostgresRow.decode` would read binary bytes as
/// text. These cells carry the format that was asked for.
package struct PostgresPreparedRow {
    private let cells: [PostgresCell]

    init(_ row: PostgresRow) {
        cells = row.map { cell in
            var cell = cell
            cell.format = .binary
            return cell
        }
    }

    package func decode<each Value: PostgresDecodable>(_: (repeat each Value).Type) throws -> (repeat each Value) {
        var index = 0
        func next<Column: PostgresDecodable>(_: Column.Type) throws -> Column {
            defer { index += 1 }
            return try cells[index].decode(Column.self)
        }
        return (repeat try next((each Value).self))
    }
}
