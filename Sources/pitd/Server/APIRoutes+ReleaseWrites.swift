import Foundation
import HTTPTypes
import Hummingbird
import PitIngest
import PitModel
import PitQuery
import PitStorage

/// What `sentry-cli releases new|finalize` and `deploys new|list` call: Sentry's
/// `POST /organizations/{org}/releases/`, `PUT …/releases/{version}/` and
/// `…/releases/{version}/deploys/`. Commits and refs (`set-commits --local`, `--auto` and
/// `--commit`, sent in the release's update) are accepted and not kept: Pit has no repositories.
extension APIRoutes {
    /// `{"version", "projects": [slug], "url"?, "ref"?, "dateReleased"?}`: 201 with the release;
    /// a release that exists already is answered 208 as Sentry does, with the projects added.
    /// The project-scoped form (`POST /projects/{org}/{project}/releases/`, which sentry-cli uses
    /// for a release of one project) creates it in that project.
    func createRelease(_ request: Request, _ context: PitRequestContext, projectScoped: Bool = false) async throws -> Response {
        let projects = try await organizationProjects(context)
        let scoped = projectScoped ? try await project(context) : nil
        let (version, slugs, change) = try await APIBody.read(request) { json in
            (
                json.string(json.member(0, "version")),
                json.member(0, "projects").map { json.elements($0).compactMap { json.string($0) } } ?? [],
                Self.releaseChange(json)
            )
        }
        let checked = try ReleaseChange.validatedVersion(version)
        let projectIDs = try Self.projects(named: slugs.isEmpty ? scoped.map { [$0.slug] } ?? [] : slugs, in: projects).map(\.id)
        var release = change
        release.version = checked
        let existed = try await admin({ try await $0.storedReleases(projectID: nil) }).contains { $0.version == checked }
        let stored = try await admin({ [release, projectIDs] in
            try await $0.saveRelease(release, projectIDs: projectIDs, now: ClockTime.nowMilliseconds)
        })
        return try await releaseResponse(
            stored, status: existed ? HTTPResponse.Status(code: 208, reasonPhrase: "Already Reported") : .created)
    }

    /// `{"dateReleased"?, "url"?, "ref"?}`; `sentry-cli releases finalize` sends `dateReleased`.
    func updateRelease(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try await organizationProjects(context)
        var change = try await APIBody.read(request, allowEmpty: true) { Self.releaseChange($0) }
        change.version = releaseVersion(context)
        guard let stored = try await admin({ [change] in try await $0.updateRelease(change) }) else {
            // A release known from events only gets its record on its first change.
            let seenIn = try await reader.releases(projectID: nil).filter { $0.version == change.version }.map(\.projectID)
            guard !seenIn.isEmpty else { throw HTTPError(.notFound, message: "The requested resource does not exist") }
            let now = ClockTime.nowMilliseconds
            let stored = try await admin({ [change] in try await $0.saveRelease(change, projectIDs: seenIn, now: now) })
            return try await releaseResponse(stored, status: .ok)
        }
        return try await releaseResponse(stored, status: .ok)
    }

    private static func releaseChange(_ json: JSONView) -> ReleaseChange {
        ReleaseChange(
            version: "", url: json.string(json.member(0, "url")), ref: json.string(json.member(0, "ref")),
            dateReleased: Self.milliseconds(json, "dateReleased"))
    }

    /// An ISO 8601 date field as milliseconds; nil when absent or unreadable.
    static func milliseconds(_ json: JSONView, _ key: StaticString) -> Int64? {
        json.string(json.member(0, key)).flatMap(Timestamp.parse).map { Int64(($0 * 1000).rounded()) }
    }

    func releaseVersion(_ context: PitRequestContext) -> String {
        context.parameters.get("version").map { $0.removingPercentEncoding ?? $0 } ?? ""
    }

    private func releaseResponse(_ stored: StoredRelease, status: HTTPResponse.Status) async throws -> Response {
        let projects = Dictionary(try await admin({ try await $0.projects() }).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let rows = try await reader.releases(projectID: nil).filter { $0.version == stored.version }
        let deploys = try await admin({ try await $0.deploys(version: stored.version) })
        var writer = JSONWriter()
        SentryAPIRenderer.release(rows, projects: projects, stored: stored, deploys: deploys, into: &writer)
        return HTTPResponses.json(writer, status: status)
    }

    /// `{"environment", "name"?, "url"?, "dateStarted"?, "dateFinished"?}`: 201 with the deploy.
    func createDeploy(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try await organizationProjects(context)
        let version = releaseVersion(context)
        guard try await releaseExists(version) else { throw HTTPError(.notFound, message: "The requested resource does not exist") }
        let now = ClockTime.nowMilliseconds
        let deploy = try await APIBody.read(request) { json in
            Deploy(
                version: version, environment: json.string(json.member(0, "environment")) ?? "",
                name: json.string(json.member(0, "name")), url: json.string(json.member(0, "url")),
                dateStarted: Self.milliseconds(json, "dateStarted"), dateFinished: Self.milliseconds(json, "dateFinished") ?? now)
        }
        guard !deploy.environment.isEmpty, deploy.environment.count <= 64, !deploy.environment.contains(where: { "\n\r/".contains($0) })
        else {
            throw HTTPError(.badRequest, message: "environment: This field is required and must be a valid environment name.")
        }
        let stored = try await admin({ try await $0.createDeploy(deploy) })
        var writer = JSONWriter()
        SentryAPIRenderer.deploy(stored, into: &writer)
        return HTTPResponses.json(writer, status: .created)
    }

    func listDeploys(_ context: PitRequestContext) async throws -> Response {
        _ = try await organizationProjects(context)
        let version = releaseVersion(context)
        guard try await releaseExists(version) else { throw HTTPError(.notFound, message: "The requested resource does not exist") }
        var writer = JSONWriter()
        writer.beginArray()
        for deploy in try await admin({ try await $0.deploys(version: version) }) { SentryAPIRenderer.deploy(deploy, into: &writer) }
        writer.endArray()
        return HTTPResponses.json(writer)
    }

    /// `GET /organizations/{org}/repos/`: Pit connects no repositories, so the list is empty;
    /// `sentry-cli releases set-commits` (`--auto`, `--commit`) then takes the commits from the
    /// local git log and sends them in the release's update (accepted and not kept).
    func listRepositories(_ context: PitRequestContext) async throws -> Response {
        _ = try await organizationProjects(context)
        return HTTPResponses.json(Array("[]".utf8))
    }

    /// `GET /organizations/{org}/releases/{version}/previous-with-commits/`, which set-commits asks
    /// for the last commit already sent: Sentry answers `{}` when no earlier release has commits,
    /// and no release of Pit keeps any.
    func previousReleaseWithCommits(_ context: PitRequestContext) async throws -> Response {
        _ = try await organizationProjects(context)
        guard try await releaseExists(releaseVersion(context)) else {
            throw HTTPError(.notFound, message: "The requested resource does not exist")
        }
        return HTTPResponses.json(Array("{}".utf8))
    }

    private func releaseExists(_ version: String) async throws -> Bool {
        if try await admin({ try await $0.storedReleases(projectID: nil) }).contains(where: { $0.version == version }) { return true }
        return try await reader.releases(projectID: nil).contains { $0.version == version }
    }
}
