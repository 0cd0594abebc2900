import Foundation
import Hummingbird
import PitIngest
import PitModel
import PitStorage

/// The web UI's form posts. Each one changes something and redirects (post/redirect/get), with a
/// one-shot flash message in a cookie, so a reload never repeats an action.
struct WebActions: Sendable {
    let admin: AdminAccess
    let reader: any ReadStore
    let queue: IngestQueue
    let authenticator: Authenticator
    let organization: String
    let keys: KeyCache

    static let flashCookie = "pit_flash"

    static func redirect(_ location: String, flash: String? = nil) -> Response {
        var cookies: [Cookie] = []
        if let flash {
            cookies.append(
                Cookie(
                    name: flashCookie, value: WebResponses.queryEscape(String(flash.prefix(300))), maxAge: 60, path: "/",
                    httpOnly: true, sameSite: .lax))
        }
        return WebResponses.redirect(location, cookies: cookies)
    }

    /// The flash message of the previous action, if any (the caller clears the cookie).
    static func flash(_ request: Request) -> String? {
        guard let value = request.cookies[flashCookie]?.value, !value.isEmpty else { return nil }
        return value.removingPercentEncoding
    }

    // MARK: Issues

    /// `POST /organizations/{org}/issues/{id}/status` with `status`.
    func setStatus(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.write)
        guard let id = context.parameters.get("id").flatMap({ Int64($0) }), let issue = try await reader.issue(id: id) else {
            throw HTTPError(.notFound, message: "This issue does not exist.")
        }
        let name = context.form["status"] ?? ""
        guard let status = IssueStatus(name: name) else { throw HTTPError(.badRequest, message: "Unknown status \(name).") }
        let inNextRelease = name == "resolvedInNextRelease"
        try await IssueActions(queue: queue).apply([issue.id], status, inNextRelease: inNextRelease)
        let message =
            switch (status, inNextRelease) {
            case (.resolved, true): "Resolved in the next release."
            case (.resolved, false): "Resolved."
            case (.ignored, _): "Ignored."
            case (.unresolved, _): "Marked unresolved."
            }
        return Self.redirect(
            WebResponses.safeNext(context.form["next"]) == "/"
                ? "/organizations/\(organization)/issues/\(issue.id)/"
                : WebResponses.safeNext(context.form["next"]), flash: message)
    }

    /// `POST /organizations/{org}/issues/bulk` with `project`, `action` and either `id`s or
    /// `all=1` + `query` (every issue matching the search).
    func bulk(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.write)
        let form = context.form
        guard let projectID = form["project"].flatMap({ Int64($0) }), let project = try await admin({ try await $0.project(id: projectID) })
        else {
            throw HTTPError(.notFound, message: "This project does not exist.")
        }
        let status: IssueStatus
        switch form["action"] {
        case "resolve": status = .resolved
        case "ignore": status = .ignored
        case "unresolve": status = .unresolved
        default: throw HTTPError(.badRequest, message: "Choose resolve, ignore or unresolve.")
        }
        let actions = IssueActions(queue: queue)
        let updated: Int
        if form["all"] == "1" {
            let query: IssueQuery
            do {
                query = try IssueQuery(parsing: form["query"] ?? "")
            } catch {
                throw HTTPError(.badRequest, message: error.detail)
            }
            updated = try await actions.applyToMatches(of: query, project: project, reader: reader, status: status, inNextRelease: false)
        } else {
            let ids = form.all("id").compactMap { Int64($0) }
            guard !ids.isEmpty else { return Self.redirect(backTo(form), flash: "Select issues first.") }
            updated = try await actions.apply(ids: ids, project: project, reader: reader, status: status, inNextRelease: false)
        }
        let verb =
            switch status {
            case .resolved: "Resolved"
            case .ignored: "Ignored"
            case .unresolved: "Unresolved"
            }
        return Self.redirect(backTo(form), flash: "\(verb) \(updated) issue\(updated == 1 ? "" : "s").")
    }

    private func backTo(_ form: FormFields) -> String {
        let next = WebResponses.safeNext(form["next"])
        return next == "/" ? "/organizations/\(organization)/issues/" : next
    }

    // MARK: Settings

    func projectForSettings(_ context: PitRequestContext) async throws -> Project {
        guard let slug = context.parameters.get("project"),
            let project = try await admin({ try await $0.project(organizationSlug: organization, slug: slug) })
        else {
            throw HTTPError(.notFound, message: "This project does not exist.")
        }
        return project
    }

    /// `POST /settings/projects/{slug}/` with `name`.
    func renameProject(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let project = try await projectForSettings(context)
        do {
            _ = try await admin({ try await $0.renameProject(id: project.id, name: context.form["name"] ?? "") })
        } catch let error as AdminError {
            return Self.redirect("/settings/projects/\(project.slug)/", flash: error.description)
        }
        return Self.redirect("/settings/projects/\(project.slug)/", flash: "Project renamed.")
    }

    /// `POST /settings/projects/{slug}/keys` with `label`.
    func createKey(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let project = try await projectForSettings(context)
        let label = (context.form["label"] ?? "").trimmingSpaces
        _ = try await admin({ try await $0.createKey(projectID: project.id, publicKey: nil, label: label.isEmpty ? nil : label) })
        _ = try? await admin({ try await keys.reload(from: $0) })
        return Self.redirect("/settings/projects/\(project.slug)/", flash: "DSN key created.")
    }

    /// `POST /settings/projects/{slug}/keys/{id}` with `action` = disable | enable | rotate |
    /// ratelimit (+ `count`, `window`; empty count removes the limit).
    func updateKey(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        // Whatever happened, the ingest path's key cache learns of it at once.
        do {
            let response = try await changeKey(request, context)
            _ = try? await admin({ try await keys.reload(from: $0) })
            return response
        } catch {
            _ = try? await admin({ try await keys.reload(from: $0) })
            throw error
        }
    }

    private func changeKey(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        let project = try await projectForSettings(context)
        guard let id = context.parameters.get("key").flatMap({ Int64($0) }),
            let key = try await admin({ try await $0.key(id: id) }), key.projectID == project.id
        else { throw HTTPError(.notFound, message: "This key does not exist.") }
        let back = "/settings/projects/\(project.slug)/"
        let form = context.form
        switch form["action"] {
        case "disable":
            _ = try await admin({ try await $0.updateKey(id: key.id, label: nil, enabled: false, rateLimit: nil) })
            return Self.redirect(back, flash: "Key disabled; SDKs using it get 403 within seconds.")
        case "enable":
            _ = try await admin({ try await $0.updateKey(id: key.id, label: nil, enabled: true, rateLimit: nil) })
            return Self.redirect(back, flash: "Key enabled.")
        case "rotate":
            _ = try await admin({ try await $0.rotateKey(key) })
            return Self.redirect(back, flash: "Key rotated: the old key is disabled; use the new DSN.")
        case "ratelimit":
            let countText = (form["count"] ?? "").trimmingSpaces
            if countText.isEmpty {
                _ = try await admin({ try await $0.updateKey(id: key.id, label: nil, enabled: nil, rateLimit: .some(nil)) })
                return Self.redirect(back, flash: "Rate limit removed.")
            }
            let limit: ProjectKey.RateLimit
            do {
                limit = try ProjectKey.RateLimit.validated(
                    count: Int64(countText),
                    windowSeconds: Int64((form["window"] ?? "60").trimmingSpaces))
            } catch {
                return Self.redirect(back, flash: error.message)
            }
            _ = try await admin({ try await $0.updateKey(id: key.id, label: nil, enabled: nil, rateLimit: .some(limit)) })
            return Self.redirect(back, flash: "Rate limit set to \(limit.count) events per \(limit.windowSeconds) s.")
        default:
            throw HTTPError(.badRequest, message: "Unknown key action.")
        }
    }

    /// `POST /settings/tokens/{id}/revoke`.
    func revokeToken(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        guard let id = context.parameters.get("id").flatMap({ Int64($0) }),
            try await admin({ try await $0.revokeToken(id: id, now: ClockTime.nowMilliseconds) })
        else { throw HTTPError(.notFound, message: "This token does not exist.") }
        return Self.redirect("/settings/tokens/", flash: "Token revoked; it stops working at once.")
    }

    /// `POST /settings/account/` with `current`, `password`, `confirm`.
    func changePassword(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let identity = try context.requireIdentity()
        guard case .user(let user) = identity.principal else {
            return Self.redirect("/settings/account/", flash: "The admin token has no password; create a user with `pitd user create`.")
        }
        let form = context.form
        let current = form["current"] ?? ""
        let stored = user.passwordHash
        let busy = Self.redirect("/settings/account/", flash: "The server is busy; try again in a moment.")
        guard let matches = try? await authenticator.hasher.verify(current, against: stored) else { return busy }
        guard matches else {
            return Self.redirect("/settings/account/", flash: "The current password is wrong.")
        }
        let password = form["password"] ?? ""
        guard password == form["confirm"] else { return Self.redirect("/settings/account/", flash: "The new passwords differ.") }
        do {
            try User.validatePassword(password)
        } catch {
            return Self.redirect("/settings/account/", flash: error.message)
        }
        guard let hash = try? await authenticator.hasher.make(password) else { return busy }
        // The person changing their own password keeps their tokens; an administrator's reset (`pitd user
        // set-password`) revokes them.
        _ = try await admin({ try await $0.setPassword(userID: user.id, passwordHash: hash, revokeTokens: false) })
        // Setting the password signed every session out, this one too: sign this browser in again.
        let cookie = try await authenticator.openSession(for: Identity(principal: .user(user)), secure: authenticator.isSecure(request))
        var response = Self.redirect("/settings/account/", flash: "Password changed; other browsers are signed out.")
        response.setCookie(cookie)
        return response
    }
}
