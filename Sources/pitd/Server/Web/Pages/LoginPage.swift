/// `GET /login`: email and password, or the admin token (API tokens are for the API only). Both forms POST to `/login`.
enum LoginPage {
    static func render(_ model: LoginModel) -> HTML {
        var body: HTML = "<div class=\"login\"><h1>Sign in to Pit</h1>"
        if let error = model.error { body += "<div class=\"flash error\" role=\"alert\">\(error)</div>" }
        body += "<form method=\"post\" action=\"\(SafeURL(path: Paths.login))\" class=\"stack\">"
        body += Layout.csrfField(model.csrfToken)
        body += "<input type=\"hidden\" name=\"next\" value=\"\(model.next)\">"
        body +=
            "<label for=\"email\">Email</label><input type=\"email\" id=\"email\" name=\"email\" value=\"\(model.email)\" autocomplete=\"username\" required autofocus>"
        body +=
            "<label for=\"password\">Password</label><input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>"
        body += "<p><button type=\"submit\" class=\"primary\">Sign in</button></p></form><hr>"
        body += "<form method=\"post\" action=\"\(SafeURL(path: Paths.login))\" class=\"stack\">"
        body += Layout.csrfField(model.csrfToken)
        body += "<input type=\"hidden\" name=\"next\" value=\"\(model.next)\">"
        body +=
            "<label for=\"token\">Or the admin token</label><input type=\"password\" id=\"token\" name=\"token\" autocomplete=\"off\" required>"
        body += "<p><button type=\"submit\">Sign in with token</button></p></form>"
        body += "<p class=\"muted small\">The admin token is printed by <code>pitd init</code>.</p></div>"
        return Layout.bare(title: "Sign in", body: body)
    }
}
