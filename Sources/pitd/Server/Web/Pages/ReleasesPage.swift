import PitStorage

/// `/organizations/{org}/releases/`: every release of every project.
enum ReleasesPage {
    static func render(_ model: ReleasesModel, chrome: Chrome) -> HTML {
        let org = chrome.organizationSlug
        var body: HTML = "<div class=\"pagehead\"><h1>Releases</h1></div>"
        guard !model.releases.isEmpty else {
            body += Widgets.empty("No releases yet. Events with a <code>release</code> create them.")
            return Layout.page(title: "Releases", chrome: chrome, body: body)
        }
        body +=
            "<table class=\"list\"><thead><tr><th>Version</th><th>Project</th><th>First seen</th><th>Last seen</th><th class=\"num\">Events</th><th class=\"num\">New issues</th></tr></thead><tbody>"
        for release in model.releases {
            let project = model.projects[release.projectID]
            body +=
                "<tr class=\"kbd-row\"><td><a class=\"mono row-link\" href=\"\(SafeURL(path: Paths.release(org: org, version: release.version)))\">\(Format.truncated(release.version, limit: 120))</a></td>"
            body += "<td>\(project?.name ?? "project \(release.projectID)")</td>"
            body +=
                "<td class=\"nowrap small\">\(Format.time(release.firstSeen, now: chrome.now))</td><td class=\"nowrap small\">\(Format.time(release.lastSeen, now: chrome.now))</td>"
            body += "<td class=\"num\">\(Format.count(release.events))</td><td class=\"num\">\(Format.count(release.newIssues))</td></tr>"
        }
        body += "</tbody></table>"
        return Layout.page(title: "Releases", chrome: chrome, body: body)
    }
}

/// `/organizations/{org}/releases/{version}/`: one version across the projects that saw it.
enum ReleaseDetailPage {
    static func render(_ model: ReleaseDetailModel, chrome: Chrome) -> HTML {
        let org = chrome.organizationSlug
        var body: HTML =
            "<div class=\"pagehead\"><div><div class=\"small muted\"><a href=\"\(SafeURL(path: Paths.releases(org: org)))\">Releases</a></div><h1 class=\"mono\">\(model.version)</h1></div></div>"
        guard !model.rows.isEmpty else {
            body += Widgets.empty("No project has seen this release.")
            return Layout.page(title: "Release \(model.version)", chrome: chrome, body: body)
        }
        body +=
            "<table class=\"list\"><thead><tr><th>Project</th><th>First seen</th><th>Last seen</th><th class=\"num\">Events</th><th class=\"num\">New issues</th><th></th></tr></thead><tbody>"
        for row in model.rows {
            let project = model.projects[row.projectID]
            let quotedVersion =
                model.version.contains(where: { $0 == " " || $0 == "\"" }) ? "\"\(model.version.filter { $0 != "\"" })\"" : model.version
            body += "<tr><td>\(project?.name ?? "project \(row.projectID)")</td>"
            body +=
                "<td class=\"nowrap small\">\(Format.time(row.firstSeen, now: chrome.now))</td><td class=\"nowrap small\">\(Format.time(row.lastSeen, now: chrome.now))</td>"
            body +=
                "<td class=\"num\">\(Format.count(row.events))</td><td class=\"num\">\(Format.count(row.newIssues))</td><td class=\"nowrap\">"
            body +=
                "<a href=\"\(SafeURL(path: Paths.issues(org: org, project: row.projectID, query: "release:\(quotedVersion)")))\">Issues in this release</a>"
            if let project {
                body +=
                    " · <a href=\"\(SafeURL(path: Paths.projectEvents(org: org, project: project.slug, release: model.version)))\">Events</a>"
            }
            body += "</td></tr>"
        }
        body += "</tbody></table>"
        return Layout.page(title: "Release \(model.version)", chrome: chrome, body: body)
    }
}
