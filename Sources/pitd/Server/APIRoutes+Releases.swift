import Foundation
import Hummingbird
import PitIngest
import PitModel
import PitQuery
import PitStorage

/// Releases of the organisation or one project.
extension APIRoutes {
    func releases(_ request: Request, _ context: PitRequestContext, projectScoped: Bool) async throws -> Response {
        let projects = Dictionary(try await admin({ try await $0.projects() }).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let rows = try await reader.releases(projectID: projectScoped ? try project(context).id : nil)
        var byVersion: [String: [ReleaseRow]] = [:]
        var order: [String] = []
        for row in rows {
            if byVersion[row.version] == nil { order.append(row.version) }
            byVersion[row.version, default: []].append(row)
        }
        let health = try await releaseHealth(request, rows: rows)
        var writer = JSONWriter()
        writer.beginArray()
        for version in order { SentryAPIRenderer.release(byVersion[version] ?? [], projects: projects, health: health, into: &writer) }
        writer.endArray()
        return HTTPResponses.json(writer)
    }

    func releaseDetail(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let version = context.parameters.get("version").map { $0.removingPercentEncoding ?? $0 } ?? ""
        let projects = Dictionary(try await admin({ try await $0.projects() }).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let rows = try await reader.releases(projectID: nil).filter { $0.version == version }
        guard !rows.isEmpty else { throw HTTPError(.notFound, message: "The requested resource does not exist") }
        var writer = JSONWriter()
        SentryAPIRenderer.release(rows, projects: projects, health: try await releaseHealth(request, rows: rows), into: &writer)
        return HTTPResponses.json(writer)
    }
}
