import Crypto
import Foundation
import PitModel
import PitQuery
import PitStorage

/// A notification with what it names resolved (project slug, short id, culprit, link), and its
/// body in each channel's format: Pit's webhook JSON, Slack's Block Kit, Discord's embeds,
/// Mattermost's attachments.
struct AlertMessage: Sendable {
    var notification: AlertNotification
    var organization: String
    var projectSlug: String?
    var shortID: String?
    var title: String?
    var culprit: String?
    var issueURL: String?
    var projectURL: String?
    var deliveryID: Int64

    /// One line a person reads.
    var headline: String {
        let project = projectSlug ?? "pit"
        switch notification.kind {
        case .newIssue: return "New issue in \(project): \(title ?? "")"
        case .regression: return "Regression in \(project): \(title ?? "")"
        case .frequency: return "\(notification.count ?? 0) events in \(project): \(title ?? "")"
        case .users: return "\(notification.count ?? 0) users affected in \(project): \(title ?? "")"
        case .newReleaseIssue: return "New issue in a new release of \(project): \(title ?? "")"
        case .crashFreeRate:
            let environment = notification.environment.map { " (\($0))" } ?? ""
            return "Crash-free rate dropped in \(project)\(environment): \(notification.title ?? "")"
        case .monitorFailure: return "Cron monitor failing in \(project): \(title ?? "")"
        case .test: return "Test notification from Pit"
        case .digest: return "\(AlertDigest.summary(of: notification.entries ?? [])) in \(project)"
        case .suppressed:
            return
                "…and \(notification.count ?? 0) more notifications in \(project) held back this hour (the project's alert ceiling was reached)"
        }
    }

    /// Pit's own webhook body.
    func webhookJSON() -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("id", "\(deliveryID)")
        writer.field("action", notification.kind.rawValue)
        writer.field("message", headline)
        writer.key("project")
        if let projectID = notification.projectID {
            writer.beginObject()
            writer.field("id", "\(projectID)")
            writer.field("slug", projectSlug)
            writer.field("organization", organization)
            writer.endObject()
        } else {
            writer.null()
        }
        writer.key("issue")
        if let issueID = notification.issueID {
            writer.beginObject()
            writer.field("id", "\(issueID)")
            writer.field("shortId", shortID)
            writer.field("title", title ?? notification.title)
            writer.field("culprit", culprit)
            writer.field("level", notification.level)
            writer.field("url", issueURL)
            writer.endObject()
        } else {
            writer.null()
        }
        writer.field("event_id", notification.eventID)
        writer.field("environment", notification.environment)
        writer.key("rule")
        if let ruleID = notification.ruleID {
            writer.beginObject()
            writer.field("id", "\(ruleID)")
            writer.field("name", notification.ruleName)
            writer.endObject()
        } else {
            writer.null()
        }
        if let count = notification.count { writer.field("count", count) }
        if let rate = notification.rate {
            writer.key("crash_free_rate")
            writer.value(rate)
        }
        if let threshold = notification.threshold {
            writer.key("threshold")
            writer.value(threshold)
        }
        if let entries = notification.entries {
            writer.key("issues")
            writer.beginArray()
            for entry in entries {
                writer.beginObject()
                writer.field("action", entry.kind.rawValue)
                writer.field("id", entry.issueID.map { "\($0)" })
                writer.field("title", entry.title)
                writer.endObject()
            }
            writer.endArray()
        }
        writer.endObject()
        return writer.bytes
    }

    /// Lines for a digest's issues, at most 20 (a chat message has limits).
    private var digestLines: [String] {
        let entries = notification.entries ?? []
        var lines = entries.prefix(20).map { "• \($0.kind.rawValue): \($0.title)" }
        if entries.count > 20 { lines.append("…and \(entries.count - 20) more") }
        return lines
    }

    /// Slack incoming webhook: `text` (the notification's fallback) and Block Kit `blocks`.
    func slackJSON() -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("text", headline)
        writer.key("blocks")
        writer.beginArray()
        writer.beginObject()
        writer.field("type", "section")
        writer.key("text")
        writer.beginObject()
        writer.field("type", "mrkdwn")
        var text = "*\(Self.slackEscaped(headline))*"
        if let issueURL, let shortID { text += "\n<\(issueURL)|\(Self.slackEscaped(shortID))>" }
        if let culprit, !culprit.isEmpty { text += "\n`\(Self.slackEscaped(culprit))`" }
        for line in digestLines { text += "\n\(Self.slackEscaped(line))" }
        writer.field("text", String(text.prefix(2900)))
        writer.endObject()
        writer.endObject()
        writer.beginObject()
        writer.field("type", "context")
        writer.key("elements")
        writer.beginArray()
        writer.beginObject()
        writer.field("type", "mrkdwn")
        let context = [
            notification.level.map { "level: \($0)" }, notification.environment.map { "environment: \($0)" },
            notification.ruleName.map { "rule: \($0)" },
        ].compactMap { $0 }
        writer.field("text", Self.slackEscaped(context.isEmpty ? "Pit" : context.joined(separator: " · ")))
        writer.endObject()
        writer.endArray()
        writer.endObject()
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }

    /// Discord webhook: `content` and one embed.
    func discordJSON() -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("content", String(headline.prefix(1900)))
        writer.key("embeds")
        writer.beginArray()
        writer.beginObject()
        writer.field("title", String((shortID.map { "\($0): " } ?? "") + (title ?? headline)).prefix(250).description)
        var description = culprit ?? ""
        for line in digestLines { description += "\n\(line)" }
        writer.field("description", String(description.prefix(4000)))
        if let issueURL { writer.field("url", issueURL) }
        writer.field("color", Self.color(notification.level))
        writer.endObject()
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }

    /// Mattermost incoming webhook: `text` and one Slack-style attachment.
    func mattermostJSON() -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("text", headline)
        writer.key("attachments")
        writer.beginArray()
        writer.beginObject()
        writer.field("fallback", headline)
        writer.field("title", shortID ?? title ?? "Pit")
        if let issueURL { writer.field("title_link", issueURL) }
        var text = culprit ?? ""
        for line in digestLines { text += "\n\(line)" }
        writer.field("text", text)
        writer.field("color", String(format: "#%06X", Self.color(notification.level)))
        writer.endObject()
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }

    static func color(_ level: String?) -> Int {
        switch level {
        case "fatal": 0x8B0000
        case "error": 0xE03E2F
        case "warning": 0xF2B712
        case "info": 0x2F80ED
        default: 0x7A7A7A
        }
    }

    /// Slack's three control characters in mrkdwn text.
    static func slackEscaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(
            of: ">", with: "&gt;")
    }

    /// `X-Pit-Signature`: HMAC-SHA256 of the exact body with the channel's secret, hex.
    static func signature(body: [UInt8], secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8)))
        return mac.map { String(format: "%02x", $0) }.joined()
    }
}
