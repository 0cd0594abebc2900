package import PitModel
package import PitStorage

/// Sentry's `/api/0` shapes for tags, releases and API tokens.
extension SentryAPIRenderer {
    /// Sentry's display names for its built-in tag keys.
    package static func tagName(_ key: String) -> String {
        switch key {
        case "level": "Level"
        case "environment": "Environment"
        case "release": "Release"
        case "logger": "Logger"
        case "transaction": "Transaction"
        case "user": "User"
        case "server_name": "Server"
        case "browser": "Browser"
        case "browser.name": "Browser Name"
        case "os": "OS"
        case "os.name": "OS Name"
        case "device": "Device"
        case "runtime": "Runtime"
        case "url": "URL"
        default: key
        }
    }

    package static func tagValue(_ value: TagValue, key: String, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("key", key)
        writer.field("name", value.value)
        writer.field("value", value.value)
        writer.field("count", value.count)
        writer.field("firstSeen", Timestamp.format(milliseconds: value.firstSeen))
        writer.field("lastSeen", Timestamp.format(milliseconds: value.lastSeen))
        writer.endObject()
    }

    package static func tagFacet(_ facet: TagFacet, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("key", facet.key)
        writer.field("name", tagName(facet.key))
        writer.field("totalValues", facet.total)
        writer.field("uniqueValues", facet.distinctValues)
        writer.key("topValues")
        writer.beginArray()
        for value in facet.topValues { tagValue(value, key: facet.key, into: &writer) }
        writer.endArray()
        writer.endObject()
    }

    /// One release across the projects it was seen in (Sentry's releases are per organisation).
    /// `health` (with `?health=1`) adds each project's `healthData`. `stored` is the release as
    /// created through the API (`releases new`), which may have no events yet: its projects are
    /// listed with zero counts, and its dates, URL and deploys are shown.
    package static func release(
        _ rows: [ReleaseRow], projects: [Int64: Project], health: [ReleaseHealth.Key: ReleaseHealth]? = nil,
        stored: StoredRelease? = nil, deploys: [Deploy] = [], into writer: inout JSONWriter
    ) {
        guard let version = rows.first?.version ?? stored?.version else { return }
        let seenIn = Set(rows.map(\.projectID))
        let rows =
            rows
            + (stored?.projectIDs ?? []).filter { !seenIn.contains($0) }.map {
                ReleaseRow(projectID: $0, version: version, firstSeen: 0, lastSeen: 0, events: 0, newIssues: 0)
            }
        let seen = rows.filter { $0.events > 0 || $0.firstSeen > 0 }
        let firstSeen = seen.map(\.firstSeen).min()
        let lastSeen = seen.map(\.lastSeen).max()
        writer.beginObject()
        writer.field("version", version)
        writer.field("shortVersion", shortVersion(version))
        writer.field("ref", stored?.ref)
        writer.field("url", stored?.url)
        let created = [firstSeen, stored?.dateCreated].compactMap { $0 }.min() ?? 0
        writer.field("dateCreated", Timestamp.format(milliseconds: created))
        writer.field("dateReleased", stored?.dateReleased.map { Timestamp.format(milliseconds: $0) })
        writer.field("firstEvent", firstSeen.map { Timestamp.format(milliseconds: $0) })
        writer.field("lastEvent", lastSeen.map { Timestamp.format(milliseconds: $0) })
        writer.field("newGroups", rows.reduce(0) { $0 + $1.newIssues })
        writer.field("count", rows.reduce(0) { $0 + $1.events })
        writer.field("commitCount", 0)
        writer.field("deployCount", deploys.count)
        writer.key("lastDeploy")
        if let last = deploys.first { deploy(last, into: &writer) } else { writer.null() }
        writer.key("projects")
        writer.beginArray()
        for row in rows {
            writer.beginObject()
            writer.field("id", row.projectID)
            writer.field("slug", projects[row.projectID]?.slug)
            writer.field("name", projects[row.projectID]?.name)
            writer.field("platform", projects[row.projectID]?.platform)
            writer.field("newGroups", row.newIssues)
            writer.field("count", row.events)
            let hasEvents = row.events > 0 || row.firstSeen > 0
            writer.field("firstEvent", hasEvents ? Timestamp.format(milliseconds: row.firstSeen) : nil)
            writer.field("lastEvent", hasEvents ? Timestamp.format(milliseconds: row.lastSeen) : nil)
            if let health {
                writer.key("healthData")
                healthData(health[ReleaseHealth.Key(projectID: row.projectID, release: row.version)] ?? ReleaseHealth(), into: &writer)
            }
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
    }

    /// Sentry's deploy shape (`DeploySerializer`).
    package static func deploy(_ deploy: Deploy, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", String(deploy.id))
        writer.field("environment", deploy.environment)
        writer.field("name", deploy.name)
        writer.field("url", deploy.url)
        writer.field("dateStarted", deploy.dateStarted.map { Timestamp.format(milliseconds: $0) })
        writer.field("dateFinished", Timestamp.format(milliseconds: deploy.dateFinished))
        writer.endObject()
    }

    /// Sentry shortens `package@1.2.3+build` to `1.2.3` for display.
    package static func shortVersion(_ version: String) -> String {
        var text = Substring(version)
        if let at = text.lastIndex(of: "@") { text = text[text.index(after: at)...] }
        if let plus = text.firstIndex(of: "+") { text = text[..<plus] }
        return text.isEmpty ? version : String(text)
    }

    package static func apiToken(_ token: APIToken, plainToken: String?, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", String(token.id))
        writer.field("name", token.label)
        writer.key("scopes")
        writer.beginArray()
        for scope in token.scopes { writer.value(scope.rawValue) }
        writer.endArray()
        writer.field("tokenLastCharacters", String(token.prefix.suffix(4)))
        writer.field("prefix", token.prefix)
        writer.field("dateCreated", Timestamp.format(milliseconds: token.createdAt))
        writer.field("lastUsed", token.lastUsedAt.map { Timestamp.format(milliseconds: $0) })
        writer.field("revoked", token.isRevoked)
        writer.field("dateRevoked", token.revokedAt.map { Timestamp.format(milliseconds: $0) })
        writer.field("expiresAt", nil)
        if let plainToken { writer.field("token", plainToken) }
        writer.endObject()
    }

    /// Sentry's project key shape; `dsn` is the public DSN built by the caller.
    package static func projectKey(_ key: ProjectKey, dsn: String, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("id", key.publicKey)
        writer.field("name", key.label)
        writer.field("label", key.label)
        writer.field("public", key.publicKey)
        writer.field("secret", nil)
        writer.field("projectId", key.projectID)
        writer.field("isActive", key.enabled)
        writer.key("rateLimit")
        if let limit = key.rateLimit {
            writer.beginObject()
            writer.field("count", limit.count)
            writer.field("window", limit.windowSeconds)
            writer.endObject()
        } else {
            writer.raw("null")
        }
        writer.key("dsn")
        writer.beginObject()
        writer.field("public", dsn)
        writer.field("secret", dsn)
        writer.endObject()
        writer.field("dateCreated", Timestamp.format(milliseconds: key.createdAt))
        writer.endObject()
    }
}

extension SentryAPIRenderer {
    /// Sentry's `projects[].healthData` of a release.
    package static func healthData(_ health: ReleaseHealth, into writer: inout JSONWriter) {
        func number(_ name: String, _ value: Double?) {
            writer.key(name)
            if let value { writer.value(value) } else { writer.null() }
        }
        writer.beginObject()
        writer.field("hasHealthData", health.hasHealthData)
        number("crashFreeSessions", health.crashFreeSessions)
        number("crashFreeUsers", health.crashFreeUsers)
        writer.field("totalSessions", health.sessions.started)
        writer.field("totalUsers", health.users)
        writer.field("totalSessions24h", health.sessions24h)
        writer.field("totalUsers24h", health.users24h)
        writer.field("totalProjectSessions24h", health.projectSessions24h)
        writer.field("totalProjectUsers24h", health.projectUsers24h)
        writer.field("sessionsCrashed", health.sessions.crashed)
        writer.field("sessionsErrored", health.sessions.errored)
        writer.field("sessionsAbnormal", health.sessions.abnormal)
        number("adoption", health.adoption)
        number("sessionsAdoption", health.sessionsAdoption)
        number("durationP50", health.durationP50)
        number("durationP90", health.durationP90)
        writer.key("stats")
        writer.beginObject()
        writer.key("24h")
        writer.beginArray()
        for (index, sessions) in health.hourlySessions.enumerated() {
            writer.beginArray()
            writer.value((health.statsFirstHour + Int64(index)) * 3600)
            writer.value(sessions)
            writer.endArray()
        }
        writer.endArray()
        writer.endObject()
        writer.endObject()
    }
}
