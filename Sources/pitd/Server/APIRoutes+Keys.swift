import HTTPTypes
import Hummingbird
import PitIngest
import PitModel
import PitQuery
import PitStorage

/// A project's DSN keys: list, create, update (name, active, rate limit), disable.
extension APIRoutes {
    func listKeys(_ context: PitRequestContext) async throws -> Response {
        let project = try await project(context)
        var writer = JSONWriter()
        writer.beginArray()
        for key in try await admin({ try await $0.keys(projectID: project.id) }) {
            SentryAPIRenderer.projectKey(key, dsn: DataDirectory.dsn(publicURL: baseURL, key: key), into: &writer)
        }
        writer.endArray()
        return HTTPResponses.json(writer)
    }

    func keyResponse(_ key: ProjectKey, status: HTTPResponse.Status = .ok) -> Response {
        var writer = JSONWriter()
        SentryAPIRenderer.projectKey(key, dsn: DataDirectory.dsn(publicURL: baseURL, key: key), into: &writer)
        return HTTPResponses.json(writer, status: status)
    }

    /// `POST …/keys/` with `{"name": "...", "rateLimit": {"count": n, "window": s}}`.
    func createKey(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let project = try await project(context)
        let (name, limit) = try await APIBody.read(request, allowEmpty: true) { json in
            (json.string(json.member(0, "name")), try Self.rateLimit(json))
        }
        let key = try await admin({ try await $0.createKey(projectID: project.id, label: name, rateLimit: limit ?? nil) })
        _ = try? await admin({ try await keys.reload(from: $0) })
        return keyResponse(key, status: .created)
    }

    /// `rateLimit` absent → unchanged (nil); `null` (or `{"count": null, "window": null}`, as
    /// Sentry's form sends to clear it) → remove (.some(nil)); object → set, 400 when out of range.
    static func rateLimit(_ json: JSONView) throws -> ProjectKey.RateLimit?? {
        guard let member = json.member(0, "rateLimit") else { return nil }
        guard json.kind(member) == .object else { return .some(nil) }
        let count = json.member(member, "count")
        let window = json.member(member, "window")
        if json.isNull(count) && json.isNull(window) { return .some(nil) }
        return .some(
            try ProjectKey.RateLimit.validated(
                count: json.int(count).map(Int64.init),
                windowSeconds: json.int(window).map(Int64.init)))
    }

    func projectKey(_ context: PitRequestContext) async throws -> (Project, ProjectKey) {
        let project = try await project(context)
        guard let publicKey = context.parameters.get("key"),
            let key = try await admin({ try await $0.keys(projectID: project.id) }).first(where: { $0.publicKey == publicKey })
        else { throw HTTPError(.notFound, message: "The requested resource does not exist") }
        return (project, key)
    }

    /// `PUT …/keys/{public_key}/` with any of `name`, `isActive`, `rateLimit`.
    func updateKey(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let (_, key) = try await projectKey(context)
        let (name, active, limit) = try await APIBody.read(request) { json in
            (json.string(json.member(0, "name")), json.bool(json.member(0, "isActive")), try Self.rateLimit(json))
        }
        guard let updated = try await admin({ try await $0.updateKey(id: key.id, label: name, enabled: active, rateLimit: limit) }) else {
            throw HTTPError(.notFound, message: "The requested resource does not exist")
        }
        _ = try? await admin({ try await keys.reload(from: $0) })
        return keyResponse(updated)
    }

    /// Keys are disabled, never deleted: stored events keep pointing at their project either way,
    /// and a disabled key can be re-enabled if it was a mistake.
    func disableKey(_ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let (_, key) = try await projectKey(context)
        _ = try await admin({ try await $0.updateKey(id: key.id, label: nil, enabled: false, rateLimit: nil) })
        _ = try? await admin({ try await keys.reload(from: $0) })
        return Response(status: .noContent)
    }
}
