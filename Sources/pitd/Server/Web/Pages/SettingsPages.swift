import PitStorage

/// The links between the settings pages.
enum SettingsNav {
    enum Tab { case project, alerts, tokens, account }

    static func render(_ tab: Tab, project: Project?) -> HTML {
        var out: HTML = "<div class=\"toolbar sorts\"><b>Settings</b>"
        if let project {
            out +=
                "<a href=\"\(SafeURL(path: Paths.projectSettings(slug: project.slug)))\"\(HTML.when(tab == .project, " class=\"current\""))>Project: \(project.name)</a>"
        }
        out += "<a href=\"\(SafeURL(path: Paths.alerts))\"\(HTML.when(tab == .alerts, " class=\"current\""))>Alerts</a>"
        out += "<a href=\"\(SafeURL(path: Paths.tokens))\"\(HTML.when(tab == .tokens, " class=\"current\""))>API tokens</a>"
        out += "<a href=\"\(SafeURL(path: Paths.account))\"\(HTML.when(tab == .account, " class=\"current\""))>Account</a></div>"
        return out
    }
}

/// `/settings/projects/{slug}/`: the project's name and its DSN keys.
enum ProjectSettingsPage {
    static func render(_ model: ProjectSettingsModel, chrome: Chrome) -> HTML {
        let project = model.project
        var body = SettingsNav.render(.project, project: project)
        body += "<h1>\(project.name) <span class=\"muted small\">\(project.slug) · id \(project.id)</span></h1>"

        body +=
            "<h2>Name</h2><form method=\"post\" action=\"\(SafeURL(path: Paths.projectSettings(slug: project.slug)))\" class=\"card toolbar\">"
        body += Layout.csrfField(chrome.csrfToken)
        body += "<input type=\"text\" name=\"name\" value=\"\(project.name)\" required maxlength=\"200\" aria-label=\"Project name\">"
        body +=
            "<button type=\"submit\">Rename</button><span class=\"muted small\">The slug (<code>\(project.slug)</code>) and DSNs do not change.</span></form>"

        body += "<h2>Client keys (DSN)</h2>"
        if model.keys.isEmpty {
            body += Widgets.empty("This project has no keys; SDKs cannot send events until one is created.")
        } else {
            body +=
                "<table class=\"list\"><thead><tr><th>Label</th><th>DSN</th><th>Status</th><th>Rate limit</th><th>Created</th><th>Actions</th></tr></thead><tbody>"
            for (index, entry) in model.keys.enumerated() {
                body += keyRow(entry, index: index, project: project, chrome: chrome)
            }
            body += "</tbody></table>"
        }
        body +=
            "<h3>New key</h3><form method=\"post\" action=\"\(SafeURL(path: Paths.projectKeys(slug: project.slug)))\" class=\"card toolbar\">"
        body += Layout.csrfField(chrome.csrfToken)
        body += "<input type=\"text\" name=\"label\" placeholder=\"Label, e.g. backend\" maxlength=\"200\" aria-label=\"Key label\">"
        body += "<button type=\"submit\" class=\"primary\">Create key</button></form>"
        return Layout.page(title: "Settings · \(project.name)", chrome: chrome, body: body)
    }

    private static func keyRow(_ entry: KeyWithDSN, index: Int, project: Project, chrome: Chrome) -> HTML {
        let key = entry.key
        let action = SafeURL(path: Paths.projectKey(slug: project.slug, id: key.id))
        var out: HTML = "<tr><td>\(key.label)</td><td>\(Widgets.copyable(entry.dsn, id: "dsn-\(index)"))</td>"
        out +=
            "<td>\(key.enabled ? "<span class=\"badge st-resolved\">enabled</span>" : "<span class=\"badge st-ignored\">disabled</span>" as HTML)</td>"
        out += "<td class=\"small\">"
        if let limit = key.rateLimit {
            out += "\(Format.count(limit.count)) / \(windowLabel(limit.windowSeconds))"
        } else {
            out += "<span class=\"muted\">none</span>"
        }
        out += "<form method=\"post\" action=\"\(action)\" class=\"toolbar\">\(Layout.csrfField(chrome.csrfToken))"
        out +=
            "<input type=\"number\" name=\"count\" min=\"1\" placeholder=\"events\" value=\"\(key.rateLimit.map { String($0.count) })\" aria-label=\"Events per window (empty: no limit)\" title=\"Empty removes the limit\">"
        out += "<select name=\"window\" aria-label=\"Window\">"
        for (seconds, label) in [(60, "per minute"), (3600, "per hour"), (86_400, "per day")] {
            out += Widgets.option(String(seconds), label: label, selected: Int64(seconds) == (key.rateLimit?.windowSeconds ?? 60))
        }
        out += "</select><button type=\"submit\" name=\"action\" value=\"ratelimit\" class=\"small\">Set</button></form></td>"
        out += "<td class=\"nowrap small\">\(Format.time(key.createdAt, now: chrome.now))</td>"
        out += "<td><form method=\"post\" action=\"\(action)\" class=\"toolbar\">\(Layout.csrfField(chrome.csrfToken))"
        if key.enabled {
            out += "<button type=\"submit\" name=\"action\" value=\"disable\" class=\"small\">Disable</button>"
        } else {
            out += "<button type=\"submit\" name=\"action\" value=\"enable\" class=\"small\">Enable</button>"
        }
        out +=
            "<button type=\"submit\" name=\"action\" value=\"rotate\" class=\"small danger\" title=\"Replace this key with a new one; SDKs using the old DSN are refused\">Rotate</button>"
        out += "</form></td></tr>"
        return out
    }

    static func windowLabel(_ seconds: Int64) -> String {
        switch seconds {
        case 60: "minute"
        case 3600: "hour"
        case 86_400: "day"
        default: "\(seconds) s"
        }
    }
}

/// `/settings/tokens/`: API tokens, and a freshly created token shown once.
enum TokensPage {
    static func render(_ model: TokensModel, chrome: Chrome) -> HTML {
        var body = SettingsNav.render(.tokens, project: chrome.currentProject ?? chrome.projects.first)
        body += "<h1>API tokens</h1><p class=\"muted\">Send as <code>Authorization: Bearer TOKEN</code> to <code>/api/0/</code>.</p>"
        if let token = model.createdToken {
            body +=
                "<div class=\"token-once\" role=\"status\"><b>New token\(model.createdLabel.map { " “" + $0 + "”" } ?? "")</b> — copy it now; it is not shown again."
            body += Widgets.copyable(token, id: "new-token")
            body += "</div>"
        }
        if model.tokens.isEmpty {
            body += Widgets.empty("No API tokens.")
        } else {
            body +=
                "<table class=\"list\"><thead><tr><th>Label</th><th>Token</th><th>Scopes</th><th>Created</th><th>Last used</th><th>Status</th><th></th></tr></thead><tbody>"
            for token in model.tokens {
                body += "<tr><td>\(token.label)</td><td class=\"mono\">\(token.prefix)…</td>"
                let scopes = OrganizationToken.isOrganizationToken(token) ? ["org:ci"] : token.scopes.map(\.rawValue)
                body += "<td>\(HTML.join(scopes.map { "<span class=\"badge\">\($0)</span>" }, separator: " "))</td>"
                body += "<td class=\"nowrap small\">\(Format.time(token.createdAt, now: chrome.now))</td>"
                body +=
                    "<td class=\"nowrap small\">\(token.lastUsedAt.map { Format.time($0, now: chrome.now) } ?? "<span class=\"muted\">never</span>")</td>"
                if let revoked = token.revokedAt {
                    body +=
                        "<td><span class=\"badge st-ignored\">revoked</span> <span class=\"small\">\(Format.time(revoked, now: chrome.now))</span></td><td></td></tr>"
                } else {
                    body +=
                        "<td><span class=\"badge st-resolved\">active</span></td><td><form method=\"post\" action=\"\(SafeURL(path: Paths.revokeToken(id: token.id)))\">"
                    body += Layout.csrfField(chrome.csrfToken)
                    body += "<button type=\"submit\" class=\"small danger\">Revoke</button></form></td></tr>"
                }
            }
            body += "</tbody></table>"
        }
        body += "<h2>New token</h2><form method=\"post\" action=\"\(SafeURL(path: Paths.tokens))\" class=\"card toolbar\">"
        body += Layout.csrfField(chrome.csrfToken)
        body += "<input type=\"text\" name=\"label\" placeholder=\"Label, e.g. CI\" required maxlength=\"200\" aria-label=\"Token label\">"
        for scope in TokenScope.allCases {
            body +=
                "<label><input type=\"checkbox\" name=\"scopes\" value=\"\(scope.rawValue)\"\(HTML.attribute("checked", if: scope == .read))> \(scope.rawValue)</label>"
        }
        body +=
            "<button type=\"submit\" class=\"primary\">Create token</button><span class=\"muted small\">write includes read; admin includes both.</span></form>"
        body += "<h2>New organization token</h2><p class=\"muted\">For <code>sentry-cli</code> and the bundler plugins in CI: "
        body +=
            "releases, deploys, source maps and debug files. It names this server and organisation, so <code>SENTRY_AUTH_TOKEN</code> is all CI needs.</p>"
        body += "<form method=\"post\" action=\"\(SafeURL(path: Paths.tokens))\" class=\"card toolbar\">"
        body += Layout.csrfField(chrome.csrfToken)
        body += "<input type=\"hidden\" name=\"kind\" value=\"organization\">"
        body +=
            "<input type=\"text\" name=\"label\" placeholder=\"Label, e.g. GitHub Actions\" required maxlength=\"200\" aria-label=\"Organization token label\">"
        body += "<button type=\"submit\" class=\"primary\">Create organization token</button></form>"
        return Layout.page(title: "API tokens", chrome: chrome, body: body)
    }
}

/// `/settings/account/`: who is signed in, and the password form.
enum AccountPage {
    static func render(_ model: AccountModel, chrome: Chrome) -> HTML {
        var body = SettingsNav.render(.account, project: chrome.currentProject ?? chrome.projects.first)
        body += "<h1>Account</h1>"
        guard let user = model.user else {
            body +=
                "<div class=\"card\">Signed in with the admin token. It has no password; create users with <code>pitd user create</code>.</div>"
            return Layout.page(title: "Account", chrome: chrome, body: body)
        }
        body += "<div class=\"card\"><div class=\"stat\"><span class=\"muted\">Email</span><b>\(user.email)</b></div>"
        body += "<div class=\"stat\"><span class=\"muted\">Role</span><span>\(user.isAdmin ? "administrator" : "member")</span></div>"
        body += "<div class=\"stat\"><span class=\"muted\">Member since</span>\(Format.time(user.createdAt, now: chrome.now))</div></div>"
        body += "<h2>Change password</h2><form method=\"post\" action=\"\(SafeURL(path: Paths.account))\" class=\"card stack\">"
        body += Layout.csrfField(chrome.csrfToken)
        body += "<input type=\"email\" name=\"email\" value=\"\(user.email)\" autocomplete=\"username\" hidden>"
        body +=
            "<label for=\"current\">Current password</label><input type=\"password\" id=\"current\" name=\"current\" autocomplete=\"current-password\" required>"
        body +=
            "<label for=\"password\">New password</label><input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"new-password\" required>"
        body +=
            "<label for=\"confirm\">Repeat new password</label><input type=\"password\" id=\"confirm\" name=\"confirm\" autocomplete=\"new-password\" required>"
        body += "<p><button type=\"submit\" class=\"primary\">Change password</button></p></form>"
        return Layout.page(title: "Account", chrome: chrome, body: body)
    }
}
