import Foundation
package import PitModel

/// When a project's events notify a channel, and which of them.
package struct AlertRule: Sendable, Equatable {
    package enum Trigger: String, Sendable, CaseIterable {
        /// An event created its issue.
        case newIssue = "new-issue"
        /// An event reopened a resolved issue.
        case regression
        /// An issue reached `threshold` events within `windowSeconds`.
        case frequency
        /// An issue reached `threshold` distinct users within `windowSeconds`.
        case users
        /// An issue first seen in a release that had not been seen before in the project.
        case newReleaseIssue = "new-release-issue"
        /// The project's crash-free session rate over `windowSeconds` fell below `threshold`
        /// hundredths of a percent (9950: 99.5 %). Fires when it crosses below, again only after
        /// the rate has recovered (and the cooldown passed).
        case crashFreeRate = "crash-free-rate"
        /// A cron monitor opened an incident: its failure threshold of missed, timed-out or
        /// failed check-ins was reached (the incident's issue was created or regressed).
        case monitorFailure = "monitor-failure"

        /// Triggers decided per event and issue; the others are decided on the project's state.
        package var isPerEvent: Bool { self != .crashFreeRate }
    }

    package enum TagMatch: String, Sendable {
        case equals, contains
    }

    package struct Filters: Sendable, Equatable {
        package var minimumLevel: Level?
        package var environment: String?
        package var tagKey: String?
        package var tagValue: String?
        package var tagMatch: TagMatch
        package var titleContains: String?

        package init(
            minimumLevel: Level? = nil, environment: String? = nil, tagKey: String? = nil, tagValue: String? = nil,
            tagMatch: TagMatch = .equals, titleContains: String? = nil
        ) {
            self.minimumLevel = minimumLevel
            self.environment = environment
            self.tagKey = tagKey
            self.tagValue = tagValue
            self.tagMatch = tagMatch
            self.titleContains = titleContains
        }

        /// Whether an event passes every filter set.
        package func admit(level: Level, environment: String, title: String, tags: [(key: String, value: String)]) -> Bool {
            if let minimumLevel, level < minimumLevel { return false }
            if let wanted = self.environment, wanted != environment { return false }
            if let titleContains, title.range(of: titleContains, options: .caseInsensitive) == nil { return false }
            if let tagKey {
                let wanted = tagValue ?? ""
                let found = tags.contains { tag in
                    guard tag.key == tagKey else { return false }
                    switch tagMatch {
                    case .equals: return tag.value == wanted
                    case .contains: return tag.value.range(of: wanted, options: .caseInsensitive) != nil
                    }
                }
                if !found { return false }
            }
            return true
        }
    }

    package var id: Int64
    package var projectID: Int64
    package var name: String
    package var trigger: Trigger
    package var threshold: Int64
    package var windowSeconds: Int64
    package var channelID: Int64
    package var filters: Filters
    package var cooldownSeconds: Int64
    package var createdAt: Int64

    package init(
        id: Int64, projectID: Int64, name: String, trigger: Trigger, threshold: Int64, windowSeconds: Int64, channelID: Int64,
        filters: Filters, cooldownSeconds: Int64, createdAt: Int64
    ) {
        self.id = id
        self.projectID = projectID
        self.name = name
        self.trigger = trigger
        self.threshold = threshold
        self.windowSeconds = windowSeconds
        self.channelID = channelID
        self.filters = filters
        self.cooldownSeconds = cooldownSeconds
        self.createdAt = createdAt
    }

    package static let defaultCooldownSeconds: Int64 = 1800

    package struct Draft: Sendable {
        package var projectID: Int64
        package var name: String
        package var trigger: Trigger
        package var threshold: Int64
        package var windowSeconds: Int64
        package var channelID: Int64
        package var filters: Filters
        package var cooldownSeconds: Int64

        package init(
            projectID: Int64, name: String? = nil, trigger: Trigger, threshold: Int64 = 0, windowSeconds: Int64 = 0, channelID: Int64,
            filters: Filters = Filters(), cooldownSeconds: Int64 = AlertRule.defaultCooldownSeconds
        ) {
            self.projectID = projectID
            self.name = name ?? ""
            self.trigger = trigger
            self.threshold = threshold
            self.windowSeconds = windowSeconds
            self.channelID = channelID
            self.filters = filters
            self.cooldownSeconds = cooldownSeconds
        }

        package func validated() throws(AdminError) -> Draft {
            var draft = self
            draft.name = name.trimmingCharacters(in: .whitespacesAndNewlines)
            if draft.name.isEmpty { draft.name = trigger.rawValue }
            guard draft.name.count <= 200 else { throw .invalid("the name is longer than 200 characters") }
            switch trigger {
            case .frequency, .users:
                guard threshold >= 1, threshold <= 1_000_000_000 else {
                    throw .invalid("a \(trigger.rawValue) rule needs a count of at least 1")
                }
                guard windowSeconds >= 60, windowSeconds <= 30 * 86400 else {
                    throw .invalid("a \(trigger.rawValue) rule needs a window between 1m and 30d")
                }
            case .crashFreeRate:
                guard threshold >= 1, threshold <= 9999 else {
                    throw .invalid("a crash-free-rate rule needs a rate between 0.01 and 99.99 %")
                }
                // Sessions are counted per hour: the window is whole hours.
                guard windowSeconds >= 3600, windowSeconds <= 30 * 86400 else {
                    throw .invalid("a crash-free-rate rule needs a window between 1h and 30d")
                }
                draft.windowSeconds = (windowSeconds + 3599) / 3600 * 3600
            case .newIssue, .regression, .newReleaseIssue, .monitorFailure:
                draft.threshold = 0
                draft.windowSeconds = 0
            }
            guard (0...30 * 86400).contains(cooldownSeconds) else { throw .invalid("the cooldown must be between 0 and 30d") }
            if draft.filters.tagKey != nil, draft.filters.tagValue == nil { throw .invalid("a tag filter needs a value") }
            if trigger == .crashFreeRate,
                draft.filters.minimumLevel != nil || draft.filters.tagKey != nil || draft.filters.titleContains != nil
            {
                throw .invalid("a crash-free-rate rule is about sessions, not events: it filters by environment only")
            }
            for text in [draft.filters.environment, draft.filters.tagKey, draft.filters.tagValue, draft.filters.titleContains] {
                if let text, text.utf8.count > 512 { throw .invalid("a filter is longer than 512 bytes") }
            }
            return draft
        }
    }

    package static func missing(_ id: Int64) -> AdminError { .notFound("alert rule \(id) does not exist") }

    /// A crash-free threshold as given ("99.5", "99.5%") in hundredths of a percent, nil when it
    /// is not a number.
    package static func parsePercent(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "%", with: "")
        guard let value = Double(trimmed), value.isFinite, value >= 0, value <= 100 else { return nil }
        return Int64((value * 100).rounded())
    }

    /// Hundredths of a percent as people write it: 9950 is "99.5", 9900 is "99".
    package static func percentText(_ hundredths: Int64) -> String {
        let whole = hundredths / 100
        let fraction = hundredths % 100
        if fraction == 0 { return "\(whole)" }
        return fraction % 10 == 0 ? "\(whole).\(fraction / 10)" : "\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    /// "30m", "1h", "2d", "45s" or a number of seconds.
    package static func parseDuration(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard let last = trimmed.last else { return nil }
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800]
        if let unit = units[last] {
            guard let value = Int64(trimmed.dropLast()), value >= 0, value <= Int64.max / unit else { return nil }
            return value * unit
        }
        guard let value = Int64(trimmed), value >= 0 else { return nil }
        return value
    }
}

/// The buckets a frequency rule's sliding window is counted in (`AlertStore.addToWindows`): 60
/// per window, at least a second wide, so a rule's state per issue is at most 60 small rows
/// whatever its event rate, and the window's start is exact to within one bucket.
package enum AlertWindowBuckets {
    package static func width(windowMilliseconds: Int64) -> Int64 { max(1000, windowMilliseconds / 60) }

    /// The start of the bucket `now` falls in.
    package static func start(now: Int64, windowMilliseconds: Int64) -> Int64 {
        let width = width(windowMilliseconds: windowMilliseconds)
        return now / width * width
    }

    /// Buckets starting at or before this have left the window at `now`.
    package static func expired(now: Int64, windowMilliseconds: Int64) -> Int64 { now - windowMilliseconds }

    /// How long any rule state is needed at most: the longest window and cooldown.
    package static let longestMilliseconds: Int64 = 30 * 86_400_000
}
