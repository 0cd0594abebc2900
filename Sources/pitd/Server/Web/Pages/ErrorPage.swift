/// 403, 404, 500 and friends, inside the chrome so the way back is one click.
enum ErrorPage {
    static func render(_ model: ErrorModel, chrome: Chrome) -> HTML {
        let body: HTML =
            "<div class=\"errorbox\"><div class=\"code\">\(model.status)</div><h1>\(model.title)</h1><p class=\"muted\">\(model.message)</p><p><a href=\"\(SafeURL(path: Paths.projects(org: chrome.organizationSlug)))\">Back to projects</a></p></div>"
        return Layout.page(title: model.title, chrome: chrome, body: body)
    }
}
