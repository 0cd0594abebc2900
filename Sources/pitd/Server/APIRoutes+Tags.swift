import Hummingbird
import PitIngest
import PitModel
import PitQuery
import PitStorage

/// An issue's tag facets and values.
extension APIRoutes {
    func issueTags(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let (issue, _) = try await loadIssue(try issueID(context))
        let environment = FormFields(query: request)["environment"]
        let facets = try await reader.tagFacets(issueID: issue.id, environment: environment, topValues: 9)
        var writer = JSONWriter()
        writer.beginArray()
        for facet in facets { SentryAPIRenderer.tagFacet(facet, into: &writer) }
        writer.endArray()
        return HTTPResponses.json(writer)
    }

    func issueTag(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let (issue, _) = try await loadIssue(try issueID(context))
        let key = context.parameters.get("key") ?? ""
        let environment = FormFields(query: request)["environment"]
        let values = try await reader.tagValues(issueID: issue.id, key: key, environment: environment, limit: 10_000)
        guard !values.isEmpty else { throw HTTPError(.notFound, message: "The requested resource does not exist") }
        let facet = TagFacet(
            key: key, total: values.reduce(0) { $0 + $1.count }, distinctValues: Int64(values.count),
            topValues: Array(values.prefix(9)))
        var writer = JSONWriter()
        SentryAPIRenderer.tagFacet(facet, into: &writer)
        return HTTPResponses.json(writer)
    }

    func issueTagValues(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let (issue, _) = try await loadIssue(try issueID(context))
        let key = context.parameters.get("key") ?? ""
        let environment = FormFields(query: request)["environment"]
        let limit = max(1, min(FormFields(query: request)["limit"].flatMap { Int($0) } ?? 1000, 10_000))
        let values = try await reader.tagValues(issueID: issue.id, key: key, environment: environment, limit: limit)
        var writer = JSONWriter()
        writer.beginArray()
        for value in values { SentryAPIRenderer.tagValue(value, key: key, into: &writer) }
        writer.endArray()
        return HTTPResponses.json(writer)
    }
}
