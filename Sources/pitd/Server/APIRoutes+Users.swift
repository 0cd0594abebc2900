import Hummingbird
import PitIngest
import PitModel
import PitStorage

/// Accounts in Sentry's shapes, for administrators only (an account's email is nobody else's
/// business): `GET|PUT /api/0/users/{id}/` (`{"isActive": false}` disables the account) and the
/// organisation's members, `GET …/members/`, `GET|DELETE …/members/{id}/`.
///
/// Pit has one organisation and every account belongs to it, so removing a member disables the
/// account instead of deleting it: the person loses all access at once (sessions closed, sign-in
/// refused, their API tokens refused), and `PUT /users/{id}/ {"isActive": true}` or
/// `pitd user enable` undoes it.
extension APIRoutes {
    func userDetail(_ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        return Self.userResponse(try await user(context, parameter: "user"))
    }

    func updateUser(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let identity = try context.require(.admin)
        let user = try await user(context, parameter: "user")
        let active = try await APIBody.read(request) { json -> Bool? in
            guard let member = json.member(0, "isActive") else { return nil }
            guard let flag = json.bool(member) else { throw HTTPError(.badRequest, message: "isActive must be true or false") }
            return flag
        }
        guard let active else { return Self.userResponse(user) }
        return Self.userResponse(try await setActive(user, active, by: identity))
    }

    func listMembers(_ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        try requireOrganization(context)
        var writer = JSONWriter()
        writer.beginArray()
        for user in try await admin({ try await $0.users() }) { Self.member(user, into: &writer) }
        writer.endArray()
        return HTTPResponses.json(writer)
    }

    func memberDetail(_ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        try requireOrganization(context)
        var writer = JSONWriter()
        Self.member(try await user(context, parameter: "member"), into: &writer)
        return HTTPResponses.json(writer)
    }

    func removeMember(_ context: PitRequestContext) async throws -> Response {
        let identity = try context.require(.admin)
        try requireOrganization(context)
        _ = try await setActive(try await user(context, parameter: "member"), false, by: identity)
        return Response(status: .noContent)
    }

    private func requireOrganization(_ context: PitRequestContext) throws {
        guard context.parameters.get("org") == organization else {
            throw HTTPError(.notFound, message: "The requested resource does not exist")
        }
    }

    private func user(_ context: PitRequestContext, parameter: String) async throws -> User {
        guard let id = context.parameters.get(parameter).flatMap({ Int64($0) }), let user = try await admin({ try await $0.user(id: id) })
        else {
            throw HTTPError(.notFound, message: "The requested resource does not exist")
        }
        return user
    }

    /// An administrator cannot lock themselves out by accident (with a token of their own, which
    /// would stop working with the account); another administrator or the admin token can.
    private func setActive(_ user: User, _ active: Bool, by identity: Identity) async throws -> User {
        if !active && identity.actingUserID == user.id {
            throw HTTPError(.badRequest, message: "You cannot disable your own account.")
        }
        guard let updated = try await admin({ try await $0.setUserActive(id: user.id, active: active, now: ClockTime.nowMilliseconds) })
        else {
            throw HTTPError(.notFound, message: "The requested resource does not exist")
        }
        return updated
    }

    private static func userResponse(_ user: User) -> Response {
        var writer = JSONWriter()
        Self.user(user, into: &writer)
        return HTTPResponses.json(writer)
    }

    /// Sentry's user serializer, with what Pit knows.
    static func user(_ user: User, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", String(user.id))
        writer.field("name", user.email)
        writer.field("username", user.email)
        writer.field("email", user.email)
        writer.field("isActive", user.isActive)
        writer.field("hasPasswordAuth", true)
        writer.field("isSuperuser", user.isAdmin)
        writer.field("dateJoined", Timestamp.format(milliseconds: user.createdAt))
        writer.endObject()
    }

    /// Sentry's organisation member shape; the member id is the user id (one organisation).
    static func member(_ user: User, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", String(user.id))
        writer.field("email", user.email)
        writer.field("name", user.email)
        writer.key("user")
        Self.user(user, into: &writer)
        let role = user.isAdmin ? "admin" : "member"
        writer.field("role", role)
        writer.field("orgRole", role)
        writer.field("roleName", user.isAdmin ? "Admin" : "Member")
        writer.field("pending", false)
        writer.field("expired", false)
        writer.field("isActive", user.isActive)
        writer.field("dateCreated", Timestamp.format(milliseconds: user.createdAt))
        writer.endObject()
    }
}
