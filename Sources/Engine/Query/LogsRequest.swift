import PitIngest
package import PitModel
package import PitStorage

/// Sentry's logs table, `GET /api/0/organizations/{org}/events/?dataset=logs` (or `ourlogs`):
/// the parameters checked (a bad one is a 400 with the reason), the `LogQuery` they ask for, and
/// the answer, `{"data": [{field: value, ..., "id", "project.id"}], "meta": {"fields": {field:
/// type}, "units": {}}}`, newest first.
package struct LogsRequest: Sendable, Equatable {
    /// The datasets this answers.
    package static let datasets: Set<String> = ["logs", "ourlogs"]
    package static let defaultFields = ["timestamp", "message", "severity", "trace"]
    /// Sentry's default page, and the most one page returns here.
    package static let defaultPerPage = 50
    package static let maxPerPage = 1000

    /// The columns asked, in order (`field=`), each once.
    package var fields: [String]
    /// Project ids asked for; empty: every project of the organisation.
    package var projectIDs: [Int64]
    /// Everything but the projects, which the route fills in with those the caller may read.
    package var query: LogQuery

    /// `parameters` as (name, value) pairs in query-string order.
    package init(parameters: [(String, String)], nowMilliseconds: Int64) throws(IngestError) {
        func all(_ name: String) -> [String] { parameters.filter { $0.0 == name }.map(\.1) }
        var fields: [String] = []
        for name in all("field") where !name.isEmpty && !fields.contains(name) {
            guard name.utf8.count <= LogParser.maxAttributeKeyBytes else { throw .badRequest("Invalid field: \"\(name.prefix(64))…\"") }
            fields.append(name)
        }
        self.fields = fields.isEmpty ? Self.defaultFields : fields
        projectIDs = []
        for text in all("project") where text != "-1" {
            guard let id = Int64(text), id > 0 else { throw .badRequest("Invalid project: \"\(text)\"") }
            if !projectIDs.contains(id) { projectIDs.append(id) }
        }
        var query = LogQuery(projectIDs: [])
        if let sort = all("sort").first, sort != "-timestamp" {
            throw .badRequest("Invalid sort: \"\(sort)\" (logs are listed newest first, -timestamp)")
        }
        let startText = all("start").first
        let endText = all("end").first
        if startText != nil || endText != nil {
            let range = ClientNumber.unixSecondsRange
            guard let start = startText.flatMap(Timestamp.parse), let end = endText.flatMap(Timestamp.parse), start.isFinite,
                end.isFinite, Double(range.lowerBound) <= start, start < end, end <= Double(range.upperBound)
            else { throw .badRequest("start and end must both be timestamps, start before end") }
            query.since = Int64(start * 1000)
            query.until = Int64(end * 1000)
        } else {
            let periodText = all("statsPeriod").first ?? "14d"
            guard let period = IssueQuery.relativeSpan(periodText) else { throw .badRequest("Invalid statsPeriod: \"\(periodText)\"") }
            query.since = nowMilliseconds - period
        }
        // Any of the environments asked (Sentry repeats the parameter).
        query.environments = all("environment").filter { !$0.isEmpty }
        do {
            try LogSearch.apply(all("query").first ?? "", to: &query)
        } catch {
            throw .badRequest("Invalid query: \(error.detail)")
        }
        var perPage = Self.defaultPerPage
        if let text = all("per_page").first {
            guard let value = Int(text), value >= 1 else { throw .badRequest("Invalid per_page: \"\(text)\"") }
            perPage = value
        }
        query.limit = min(perPage, Self.maxPerPage)
        if let text = all("cursor").first, !text.isEmpty {
            guard let cursor = LogCursor(text) else { throw .badRequest("Invalid cursor: \"\(text)\"") }
            query.before = cursor
        }
        self.query = query
    }

    /// The answer for one page of `rows` (the page only, without the row that says another follows).
    package func render(_ rows: [LogRow], projects: [Int64: String], into writer: inout JSONWriter) {
        var types: [String: String] = [:]
        writer.beginObject()
        writer.key("data")
        writer.beginArray()
        for row in rows {
            let attributes = fields.contains(where: { Self.builtinType($0) == nil }) ? Self.attributes(row.attributes) : [:]
            writer.beginObject()
            for field in fields where field != "id" && field != "project.id" {
                writer.key(field)
                if let type = Self.builtinType(field) {
                    types[field] = type
                    Self.writeBuiltin(field, row: row, projects: projects, into: &writer)
                } else if let attribute = attributes[field] {
                    if types[field] == nil { types[field] = attribute.type }
                    writer.raw(attribute.json)
                } else {
                    writer.null()
                }
            }
            writer.field("id", row.itemID)
            writer.field("project.id", row.projectID)
            writer.endObject()
        }
        writer.endArray()
        writer.key("meta")
        writer.beginObject()
        writer.key("fields")
        writer.beginObject()
        for field in fields where field != "id" && field != "project.id" {
            writer.field(field, types[field] ?? Self.builtinType(field) ?? "string")
        }
        writer.field("id", "string")
        writer.field("project.id", "integer")
        writer.endObject()
        writer.key("units")
        writer.beginObject()
        for field in fields where field != "id" && field != "project.id" { writer.field(field, nil as String?) }
        writer.endObject()
        writer.field("dataset", "logs")
        writer.endObject()
        writer.endObject()
    }

    /// The type Sentry's meta gives a column of the log itself; nil for an attribute.
    static func builtinType(_ field: String) -> String? {
        switch field {
        case "timestamp", "observed_timestamp": "date"
        case "timestamp_precise", "severity_number", "sentry.severity_number", "project.id": "integer"
        case "id", "sentry.item_id", "message", "severity", "severity_text", "sentry.severity_text", "log.level", "level", "trace",
            "trace_id", "span_id", "project", "release", "sentry.release", "environment", "sentry.environment", "sdk.name",
            "sentry.sdk.name":
            "string"
        default: nil
        }
    }

    private static func writeBuiltin(_ field: String, row: LogRow, projects: [Int64: String], into writer: inout JSONWriter) {
        switch field {
        case "timestamp": writer.value(Timestamp.format(milliseconds: row.timestamp))
        case "observed_timestamp": writer.value(Timestamp.format(milliseconds: row.received))
        case "timestamp_precise": writer.value(row.timestamp * 1_000_000)
        case "severity_number", "sentry.severity_number": writer.value(row.severityNumber)
        case "project.id": writer.value(row.projectID)
        case "id", "sentry.item_id": writer.value(row.itemID)
        case "message": writer.value(row.body)
        case "severity", "severity_text", "sentry.severity_text", "log.level", "level": writer.value(row.severity.description)
        case "trace", "trace_id": writer.value(row.traceID)
        case "span_id": writer.value(row.spanID)
        case "project": writer.value(projects[row.projectID])
        case "release", "sentry.release": writer.value(row.release)
        case "environment", "sentry.environment": writer.value(row.environment)
        case "sdk.name", "sentry.sdk.name": writer.value(row.sdk)
        default: writer.null()
        }
    }

    /// A stored attribute's value as JSON and its type as Sentry's meta names it.
    package struct Attribute: Sendable, Equatable {
        package var json: String
        package var type: String
    }

    /// The stored attributes (`{"key":{"value":v,"type":"t"}}`) by key.
    package static func attributes(_ text: String) -> [String: Attribute] {
        var out: [String: Attribute] = [:]
        var copy = text
        copy.withUTF8 { utf8 in
            let raw = UnsafeRawBufferPointer(utf8)
            guard let tape = try? JSONTape.parse(raw) else { return }
            let json = JSONView(tape: tape, bytes: raw)
            json.forEachMember(tape.root) { key, value in
                guard let name = json.string(key), let member = json.member(value, "value") else { return }
                let type: String
                switch json.string(json.member(value, "type")) {
                case "integer": type = "integer"
                case "double": type = "number"
                case "boolean": type = "boolean"
                default: type = "string"
                }
                out[name] = Attribute(json: String(decoding: json.source(member), as: UTF8.self), type: type)
            }
        }
        return out
    }
}
