import Hummingbird
import PitIngest
import PitModel
import PitStorage

/// `GET|PUT /api/0/projects/{org}/{project}/retention/`: Pit's own endpoint (Sentry's retention
/// is a plan setting, not in its API). The body and answer are
/// `{"retentionDays": 30 | null, "effectiveRetentionDays": 30, "serverRetentionDays": 90}`;
/// `null` returns the project to the server's `retention_days`, 0 keeps its events forever.
extension APIRoutes {
    func projectRetention(_ context: PitRequestContext) async throws -> Response {
        let project = try await project(context)
        return retentionAnswer(project)
    }

    func setProjectRetention(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let project = try await project(context)
        guard let retention else { throw HTTPError(.serviceUnavailable, message: "retention is not configured on this server") }
        let days: Int? = try await APIBody.read(request) { (json) throws -> Int? in
            guard let member = json.member(0, "retentionDays") else {
                throw HTTPError(.badRequest, message: "retentionDays is required (a number of days, or null for the server setting)")
            }
            if json.isNull(member) { return nil }
            guard let value = json.int(member) else {
                throw HTTPError(.badRequest, message: "retentionDays must be a whole number or null")
            }
            return try RetentionPolicy.validatedDays(value)
        }
        try await admin { store in try await retention.setOverride(days, projectID: project.id, store: store) }
        return retentionAnswer(project)
    }

    private func retentionAnswer(_ project: Project) -> Response {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("project", project.slug)
        writer.key("retentionDays")
        if let days = retention?.override(projectID: project.id) { writer.value(days) } else { writer.value(nil as String?) }
        if let retention {
            writer.field("effectiveRetentionDays", retention.days(projectID: project.id))
            writer.field("serverRetentionDays", retention.defaultDays)
        }
        writer.endObject()
        return HTTPResponses.json(writer)
    }
}
