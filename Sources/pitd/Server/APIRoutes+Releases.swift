import Foundation
import Hummingbird
import PitIngest
import PitModel
import PitQuery
import PitStorage

/// Releases of the organisation or one project: those seen on events and those created through
/// the API (`releases new`), one entry per version, newest activity first as Sentry lists them.
extension APIRoutes {
    func releases(_ request: Request, _ context: PitRequestContext, projectScoped: Bool) async throws -> Response {
        let projects = Dictionary(try await admin({ try await $0.projects() }).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let projectID = projectScoped ? try await project(context).id : nil
        let rows = try await reader.releases(projectID: projectID)
        let stored = Dictionary(
            try await admin({ try await $0.storedReleases(projectID: projectID) }).map { ($0.version, $0) }, uniquingKeysWith: { a, _ in a }
        )
        var byVersion: [String: [ReleaseRow]] = [:]
        var order: [String] = []
        for row in rows {
            if byVersion[row.version] == nil { order.append(row.version) }
            byVersion[row.version, default: []].append(row)
        }
        // Created but not seen on an event yet: listed first, as the newest.
        let unseen = stored.values.filter { byVersion[$0.version] == nil }.sorted { $0.dateCreated > $1.dateCreated }.map(\.version)
        let health = try await releaseHealth(request, rows: rows)
        var writer = JSONWriter()
        writer.beginArray()
        for version in unseen + order {
            let deploys = stored[version] == nil ? [] : try await admin({ try await $0.deploys(version: version) })
            SentryAPIRenderer.release(
                byVersion[version] ?? [], projects: projects, health: health, stored: stored[version], deploys: deploys, into: &writer)
        }
        writer.endArray()
        return HTTPResponses.json(writer)
    }

    /// The project-scoped form (`/projects/{org}/{project}/releases/{version}/`) answers 404 for a
    /// release the project has neither seen nor been given.
    func releaseDetail(_ request: Request, _ context: PitRequestContext, projectScoped: Bool = false) async throws -> Response {
        let version = releaseVersion(context)
        let projectID = projectScoped ? try await project(context).id : nil
        let projects = Dictionary(try await admin({ try await $0.projects() }).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let rows = try await reader.releases(projectID: projectID).filter { $0.version == version }
        let stored = try await admin({ try await $0.storedReleases(projectID: projectID) }).first { $0.version == version }
        guard !rows.isEmpty || stored != nil else { throw HTTPError(.notFound, message: "The requested resource does not exist") }
        let deploys = try await admin({ try await $0.deploys(version: version) })
        var writer = JSONWriter()
        SentryAPIRenderer.release(
            rows, projects: projects, health: try await releaseHealth(request, rows: rows), stored: stored, deploys: deploys, into: &writer)
        return HTTPResponses.json(writer)
    }
}
