import PitIngest
package import PitModel
package import PitStorage

/// Renders stored rows in the shapes of Sentry's `/api/0` so existing tooling can read them.
package enum SentryAPIRenderer {
    /// Sentry's short ids: the project slug upper-cased and the per-project number in base 36.
    package static func shortID(projectSlug: String, number: Int64) -> String {
        "\(projectSlug.uppercased())-\(String(number, radix: 36).uppercased())"
    }

    package static func project(_ project: Project, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", String(project.id))
        writer.field("slug", project.slug)
        writer.field("name", project.name)
        writer.field("platform", project.platform)
        writer.field("dateCreated", Timestamp.format(milliseconds: project.createdAt))
        writer.field("isMember", true)
        writer.key("organization")
        writer.beginObject()
        writer.field("slug", project.organizationSlug)
        writer.field("name", project.organizationSlug)
        writer.endObject()
        writer.endObject()
    }

    package static func issue(_ issue: IssueRow, project: Project, baseURL: String, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", String(issue.id))
        writer.field("shortId", shortID(projectSlug: project.slug, number: issue.shortID))
        writer.field("title", issue.title)
        writer.field("culprit", issue.culprit)
        writer.field("permalink", "\(baseURL)/organizations/\(project.organizationSlug)/issues/\(issue.id)/")
        writer.field("level", issue.level.name)
        writer.field("status", issue.status.name)
        writer.field("substatus", issue.substatus.name)
        writer.key("statusDetails")
        writer.beginObject()
        if let release = issue.resolvedInRelease { writer.field("inRelease", release) }
        writer.endObject()
        writer.field("type", issue.kind)
        writer.key("metadata")
        writer.raw(issue.metadata)
        writer.field("count", String(issue.timesSeen))
        writer.field("userCount", issue.usersSeen)
        writer.field("firstSeen", Timestamp.format(milliseconds: issue.firstSeen))
        writer.field("lastSeen", Timestamp.format(milliseconds: issue.lastSeen))
        writer.field("firstRelease", issue.firstRelease)
        writer.field("lastRelease", issue.lastRelease)
        writer.field("isPublic", false)
        writer.field("numComments", 0)
        writer.key("project")
        writer.beginObject()
        writer.field("id", String(project.id))
        writer.field("slug", project.slug)
        writer.field("name", project.name)
        writer.endObject()
        writer.endObject()
    }

    /// Issue detail adds the grouping explanation ("why are these events grouped").
    package static func issueDetail(_ issue: IssueRow, project: Project, baseURL: String, into writer: inout JSONWriter) {
        var inner = JSONWriter()
        self.issue(issue, project: project, baseURL: baseURL, into: &inner)
        // Splice `"grouping": [...]` before the closing brace of the issue object.
        var bytes = inner.bytes
        bytes.removeLast()
        bytes.append(contentsOf: Array(",\"grouping\":".utf8))
        bytes.append(contentsOf: Array(issue.grouping.utf8))
        bytes.append(UInt8(ascii: "}"))
        writer.raw(bytes)
    }

    /// Keys of the stored payload that the rendered event replaces with normalised values.
    static let overriddenKeys: Set<String> = [
        "event_id", "timestamp", "received", "environment", "level", "tags", "errors", "id", "eventID", "groupID",
        "projectID", "dateCreated", "dateReceived", "title", "culprit", "type", "message",
    ]

    /// The stored event: Sentry's event fields plus every member of the original payload.
    package static func event(_ row: EventRow, issue: IssueRow?, into writer: inout JSONWriter) {
        row.payload.withUnsafeBytes { raw in
            guard let tape = try? JSONTape.parse(raw), tape[0].kind == .object else {
                writer.beginObject()
                writer.field("eventID", row.eventID.hex)
                writer.endObject()
                return
            }
            let json = JSONView(tape: tape, bytes: raw)
            let view = row.view ?? derivedView(json, row)
            writer.beginObject()
            writer.field("id", row.eventID.hex)
            writer.field("eventID", row.eventID.hex)
            writer.field("event_id", row.eventID.hex)
            writer.field("groupID", String(row.issueID))
            writer.field("projectID", String(row.projectID))
            writer.field("title", issue?.title ?? view.title)
            writer.field("culprit", issue?.culprit ?? view.culprit)
            writer.field("type", view.kind)
            writer.field("message", view.message ?? "")
            writer.field("dateCreated", Timestamp.format(milliseconds: row.timestamp))
            writer.field("dateReceived", Timestamp.format(milliseconds: row.received))
            writer.key("timestamp")
            writer.value(Double(row.timestamp) / 1000)
            writer.key("received")
            writer.value(Double(row.received) / 1000)
            writer.field("level", row.level.name)
            writer.field("environment", row.environment)
            writer.key("tags")
            writer.beginArray()
            for (key, value) in Self.eventTags(row, view) {
                writer.beginObject()
                writer.field("key", key)
                writer.field("value", value)
                writer.endObject()
            }
            writer.endArray()
            writer.key("errors")
            errors(row, into: &writer)
            json.forEachMember(0) { key, value in
                guard let name = json.string(key), !overriddenKeys.contains(name) else { return }
                writer.key(name)
                writer.raw(json.source(value))
            }
            writer.endObject()
        }
    }

    /// An event's tags as Sentry's event API lists them: its own, plus the level, environment and
    /// release Sentry adds as tags (an SDK's own tag of that name wins), sorted by key.
    static func eventTags(_ row: EventRow, _ view: EventReadView) -> [(key: String, value: String)] {
        var tags = view.tags
        func add(_ key: String, _ value: String?) {
            guard let value, !tags.contains(where: { $0.key == key }) else { return }
            tags.append((key, value))
        }
        add("level", row.level.name)
        add("environment", row.environment)
        add("release", row.release)
        return tags.sorted { $0.key < $1.key }
    }

    /// What ingest derived of `row` for reading (`EventReadView`), the one reading of the event's
    /// schema that the API and the web UI's event page share. For an event stored before ingest
    /// kept it, derived now (`derivedView`); nothing for a payload that is not a JSON object.
    package static func readView(of row: EventRow) -> EventReadView {
        if let view = row.view { return view }
        return row.payload.withUnsafeBytes { raw in
            guard let tape = try? JSONTape.parse(raw), tape[0].kind == .object else {
                return EventReadView(kind: "default", title: "", culprit: "", message: nil, tags: [])
            }
            return derivedView(JSONView(tape: tape, bytes: raw), row)
        }
    }

    /// The read view of an event stored before ingest kept one (`events.read_view`, migration 8):
    /// derived from its payload with today's extraction, normalisation and grouping, as every
    /// event was read before. Events stored since never come here.
    static func derivedView(_ json: JSONView, _ row: EventRow) -> EventReadView {
        let extracted = (try? EventExtractor.extract(json)) ?? ExtractedEvent()
        let normalized = EventNormalizer.normalize(
            extracted, headerEventID: row.eventID, sentAt: nil, received: Double(row.received) / 1000)
        let grouping = Grouper.group(extracted)
        return EventReadView(
            kind: grouping.kind, title: grouping.title, culprit: grouping.culprit, message: extracted.message?.display,
            tags: normalized.tags)
    }

    /// The stored processing errors, plus one for a payload that could not be decoded.
    static func errors(_ row: EventRow, into writer: inout JSONWriter) {
        guard let problem = row.payloadError else {
            writer.raw(row.processingErrors ?? "[]")
            return
        }
        writer.beginArray()
        if let stored = row.processingErrors {
            Array(stored.utf8).withUnsafeBytes { raw in
                guard let tape = try? JSONTape.parse(raw), tape[0].kind == .array else { return }
                let json = JSONView(tape: tape, bytes: raw)
                json.forEachElement(0) { writer.raw(json.source($0)) }
            }
        }
        writer.beginObject()
        writer.field("type", "unreadable_payload")
        writer.field("name", "payload")
        writer.field("value", problem)
        writer.endObject()
        writer.endArray()
    }

    package static func detail(_ message: String) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("detail", message)
        writer.endObject()
        return writer.bytes
    }
}
