import Hummingbird
import PitIngest
import PitModel
import PitQuery
import PitStorage

/// `GET /api/0/`, what `sentry-cli info` and `login` read: who the token belongs to and its
/// scopes; and Sentry's organization auth tokens (`/organizations/{org}/org-auth-tokens/`).
extension APIRoutes {
    func apiRoot(_ context: PitRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        let user = try await identity.actingUserID.asyncFlatMap { id in try await admin({ try await $0.user(id: id) }) }
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("version", "0")
        writer.key("user")
        if let user {
            writer.beginObject()
            writer.field("id", String(user.id))
            writer.field("email", user.email)
            writer.field("username", user.email)
            writer.field("isSuperuser", user.isAdmin)
            writer.endObject()
        } else {
            writer.null()
        }
        writer.key("auth")
        writer.beginObject()
        writer.key("scopes")
        writer.beginArray()
        for scope in Self.sentryScopes(identity) { writer.value(scope) }
        writer.endArray()
        writer.endObject()
        writer.endObject()
        return HTTPResponses.json(writer)
    }

    /// Pit's scopes as Sentry names them; an organization token is Sentry's `org:ci`.
    static func sentryScopes(_ identity: Identity) -> [String] {
        if case .apiToken(let token) = identity.principal, OrganizationToken.isOrganizationToken(token) { return ["org:ci"] }
        let read = ["event:read", "member:read", "org:read", "project:read", "project:releases", "team:read"]
        let write = ["event:write", "org:write", "project:write", "team:write"]
        let admin = ["event:admin", "member:admin", "org:admin", "project:admin", "team:admin"]
        switch identity.scope {
        case .read: return read
        case .write: return (read + write).sorted()
        case .admin: return (read + write + admin).sorted()
        }
    }

    /// `POST /organizations/{org}/org-auth-tokens/` with `{"name"}`: the token, shown once.
    func createOrganizationToken(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let identity = try context.require(.admin)
        _ = try await organizationProjects(context)
        let name = try await APIBody.read(request) { json in json.string(json.member(0, "name")) }
        guard let name, !name.trimmingSpaces.isEmpty else { throw HTTPError(.badRequest, message: "name: This field is required.") }
        let (token, plain) = try await TokenIssuer(admin: admin).issueOrganizationToken(
            label: name.trimmingSpaces, organization: organization, url: baseURL, userID: identity.userID)
        var writer = JSONWriter()
        Self.organizationToken(token, plainToken: plain, into: &writer)
        return HTTPResponses.json(writer, status: .created)
    }

    func listOrganizationTokens(_ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        _ = try await organizationProjects(context)
        var writer = JSONWriter()
        writer.beginArray()
        for token in try await admin({ try await $0.tokens() }) where OrganizationToken.isOrganizationToken(token) && !token.isRevoked {
            Self.organizationToken(token, plainToken: nil, into: &writer)
        }
        writer.endArray()
        return HTTPResponses.json(writer)
    }

    /// Sentry's `OrgAuthTokenSerializer` shape.
    private static func organizationToken(_ token: APIToken, plainToken: String?, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", String(token.id))
        writer.field("name", token.label)
        writer.key("scopes")
        writer.beginArray()
        writer.value("org:ci")
        writer.endArray()
        writer.field("tokenLastCharacters", plainToken.map { String($0.suffix(4)) })
        writer.field("dateCreated", Timestamp.format(milliseconds: token.createdAt))
        writer.field("dateLastUsed", token.lastUsedAt.map { Timestamp.format(milliseconds: $0) })
        writer.field("projectLastUsedId", nil)
        if let plainToken { writer.field("token", plainToken) }
        writer.endObject()
    }
}
