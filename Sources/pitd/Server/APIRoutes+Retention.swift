import Hummingbird
import PitIngest
import PitModel
import PitStorage

/// `GET|PUT /api/0/projects/{org}/{project}/retention/`: Pit's own endpoint (Sentry's retention
/// is a plan setting, not in its API). The body and answer are
/// `{"retentionDays": 30 | null, "effectiveRetentionDays": 30, "serverRetentionDays": 90,
/// "logRetentionDays": 7 | null, "effectiveLogRetentionDays": 7, "serverLogRetentionDays": 30}`;
/// a PUT sets either or both; `null` returns the project to the server's `retention_days` (or
/// `log_retention_days` for its logs), 0 keeps them forever.
extension APIRoutes {
    func projectRetention(_ context: PitRequestContext) async throws -> Response {
        let project = try await project(context)
        return retentionAnswer(project)
    }

    func setProjectRetention(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let project = try await project(context)
        guard let retention else { throw HTTPError(.serviceUnavailable, message: "retention is not configured on this server") }
        // Each member present is set (a number, or null for the server setting).
        let (days, logDays): (Int??, Int??) = try await APIBody.read(request) { (json) throws -> (Int??, Int??) in
            func days(_ name: StaticString) throws -> Int?? {
                guard let member = json.member(0, name) else { return nil }
                if json.isNull(member) { return .some(nil) }
                guard let value = json.int(member) else {
                    throw HTTPError(.badRequest, message: "\(name) must be a whole number or null")
                }
                return .some(try RetentionPolicy.validatedDays(value))
            }
            let both = (try days("retentionDays"), try days("logRetentionDays"))
            guard both.0 != nil || both.1 != nil else {
                throw HTTPError(
                    .badRequest,
                    message: "retentionDays or logRetentionDays is required (a number of days, or null for the server setting)")
            }
            return both
        }
        if let days { try await admin { store in try await retention.setOverride(days, projectID: project.id, store: store) } }
        if let logDays { try await admin { store in try await retention.logs.setOverride(logDays, projectID: project.id, store: store) } }
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
            writer.key("logRetentionDays")
            if let days = retention.logs.override(projectID: project.id) { writer.value(days) } else { writer.value(nil as String?) }
            writer.field("effectiveLogRetentionDays", retention.logs.days(projectID: project.id))
            writer.field("serverLogRetentionDays", retention.logs.defaultDays)
        }
        writer.endObject()
        return HTTPResponses.json(writer)
    }
}
