import Hummingbird
import PitModel
import PitStorage

/// Profiles: `GET /api/0/projects/{org}/{project}/profiling/profiles/{profile_id}/` answers the
/// stored profile as the SDK sent it (Sentry's sample format v1), as Sentry's route does; a
/// profile of another project is a 404.
extension APIRoutes {
    func registerProfiles(on api: RouterGroup<PitRequestContext>) {
        api.get("projects/:org/:project/profiling/profiles/:profile") { _, context in try await projectProfile(context) }
    }

    func projectProfile(_ context: PitRequestContext) async throws -> Response {
        let project = try await project(context)
        guard let text = context.parameters.get("profile"), let profileID = EventID(text),
            let stored = try await reader.profile(projectID: project.id, profileID: profileID)
        else { throw HTTPError(.notFound, message: "The requested resource does not exist") }
        if let problem = stored.payloadError { throw HTTPError(.internalServerError, message: problem) }
        return HTTPResponses.json(stored.payload)
    }
}
