import Hummingbird
import PitIngest
import PitModel
import PitQuery
import PitStorage

/// API tokens: list, create (the secret is in the answer once), revoke; admin only.
extension APIRoutes {
    func listTokens(_ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        var writer = JSONWriter()
        writer.beginArray()
        for token in try await admin({ try await $0.tokens() }) { SentryAPIRenderer.apiToken(token, plainToken: nil, into: &writer) }
        writer.endArray()
        return HTTPResponses.json(writer)
    }

    /// `POST /api/0/api-tokens/` with `{"name": "...", "scopes": ["project:read", ...]}`; the
    /// response carries the token once.
    func createToken(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let identity = try context.require(.admin)
        let (name, scopeNames) = try await APIBody.read(request) { json in
            (
                json.string(json.member(0, "name")),
                json.member(0, "scopes").map { scopes in json.elements(scopes).compactMap { json.string($0) } } ?? []
            )
        }
        let scopes = try APIToken.requestedScopes(scopeNames)
        let (token, plain) = try await TokenIssuer(admin: admin).issue(label: name ?? "API token", scopes: scopes, userID: identity.userID)
        var writer = JSONWriter()
        SentryAPIRenderer.apiToken(token, plainToken: plain, into: &writer)
        return HTTPResponses.json(writer, status: .created)
    }

    func revokeToken(_ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        guard let id = context.parameters.get("id").flatMap({ Int64($0) }),
            try await admin({ try await $0.revokeToken(id: id, now: ClockTime.nowMilliseconds) })
        else { throw HTTPError(.notFound, message: "The requested resource does not exist") }
        return Response(status: .noContent)
    }
}
