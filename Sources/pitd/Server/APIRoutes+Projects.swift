import Hummingbird
import PitIngest
import PitModel
import PitQuery
import PitStorage

/// Projects: list, detail, create (`POST /teams/{org}/{team}/projects/`), rename, environments;
/// `project(_:)` resolves the project of every project-scoped URL.
extension APIRoutes {
    func listProjects() async throws -> Response {
        var writer = JSONWriter()
        writer.beginArray()
        for project in try await admin({ try await $0.projects() }) { SentryAPIRenderer.project(project, into: &writer) }
        writer.endArray()
        return HTTPResponses.json(writer)
    }

    func project(_ context: PitRequestContext) async throws -> Project {
        guard let org = context.parameters.get("org"), let slug = context.parameters.get("project"),
            let project = try await admin({ try await $0.project(organizationSlug: org, slug: slug) })
        else { throw HTTPError(.notFound, message: "The requested resource does not exist") }
        return project
    }

    func projectDetail(_ context: PitRequestContext) async throws -> Response {
        let project = try await project(context)
        var writer = JSONWriter()
        SentryAPIRenderer.project(project, into: &writer)
        return HTTPResponses.json(writer)
    }

    /// Sentry's `POST /api/0/teams/{org}/{team}/projects/` with `{"name", "platform"}`.
    func createProject(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let (name, platform) = try await APIBody.read(request) { json in
            (json.string(json.member(0, "name")), json.string(json.member(0, "platform")))
        }
        guard let name, !name.trimmingSpaces.isEmpty else { throw HTTPError(.badRequest, message: "name is required") }
        let project = try await admin({ try await $0.createProject(name: name.trimmingSpaces, id: nil, platform: platform) })
        _ = try? await admin({ try await keys.reload(from: $0) })
        var writer = JSONWriter()
        SentryAPIRenderer.project(project, into: &writer)
        return HTTPResponses.json(writer, status: .created)
    }

    func renameProject(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let project = try await project(context)
        let name = try await APIBody.read(request) { json in json.string(json.member(0, "name")) }
        var updated = project
        if let name {
            updated = try await admin({ try await $0.renameProject(id: project.id, name: name) }) ?? project
        }
        var writer = JSONWriter()
        SentryAPIRenderer.project(updated, into: &writer)
        return HTTPResponses.json(writer)
    }

    func environments(_ context: PitRequestContext) async throws -> Response {
        let project = try await project(context)
        var writer = JSONWriter()
        writer.beginArray()
        for (index, name) in try await reader.environments(projectID: project.id).enumerated() {
            writer.beginObject()
            writer.field("id", String(index + 1))
            writer.field("name", name)
            writer.field("isHidden", false)
            writer.endObject()
        }
        writer.endArray()
        return HTTPResponses.json(writer)
    }
}
