import Foundation

/// What a delivery tells its channel, stored with the delivery (as JSON) so that a restart sends
/// exactly what was decided; the channel's format (webhook JSON, Slack blocks, email) is made from
/// it when it is sent, with the issue's current short id and link.
package struct AlertNotification: Sendable, Equatable, Codable {
    package enum Kind: String, Sendable, Codable {
        case newIssue = "new-issue"
        case regression
        case frequency
        case users
        case newReleaseIssue = "new-release-issue"
        /// The project's crash-free session rate fell below the rule's threshold (`rate`).
        case crashFreeRate = "crash-free-rate"
        /// A cron monitor's incident opened.
        case monitorFailure = "monitor-failure"
        /// A channel's "send test".
        case test
        /// A channel's batch of the notifications of one interval.
        case digest
        /// The project's hourly ceiling was reached: how many notifications were held back.
        case suppressed
    }

    /// One notification folded into a digest.
    package struct Entry: Sendable, Equatable, Codable {
        package var kind: Kind
        package var issueID: Int64?
        package var title: String

        package init(kind: Kind, issueID: Int64?, title: String) {
            self.kind = kind
            self.issueID = issueID
            self.title = title
        }
    }

    package var kind: Kind
    package var projectID: Int64?
    package var issueID: Int64?
    package var eventID: String?
    package var ruleID: Int64?
    package var ruleName: String?
    package var title: String?
    package var level: String?
    package var environment: String?
    /// Events or users counted (frequency and users rules), sessions (crash-free rate), or
    /// notifications held back (suppressed).
    package var count: Int64?
    package var entries: [Entry]?
    /// The crash-free session rate in percent, and the rule's threshold (crash-free rate).
    package var rate: Double?
    package var threshold: Double?

    package init(
        kind: Kind, projectID: Int64? = nil, issueID: Int64? = nil, eventID: String? = nil, ruleID: Int64? = nil, ruleName: String? = nil,
        title: String? = nil, level: String? = nil, environment: String? = nil, count: Int64? = nil, entries: [Entry]? = nil,
        rate: Double? = nil, threshold: Double? = nil
    ) {
        self.kind = kind
        self.projectID = projectID
        self.issueID = issueID
        self.eventID = eventID
        self.ruleID = ruleID
        self.ruleName = ruleName
        self.title = title
        self.level = level
        self.environment = environment
        self.count = count
        self.entries = entries
        self.rate = rate
        self.threshold = threshold
    }

    package var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    package static func decode(_ json: String) -> AlertNotification? {
        try? JSONDecoder().decode(AlertNotification.self, from: Data(json.utf8))
    }
}

/// One notification on its way to one channel: a durable outbox row, claimed by a dispatcher,
/// retried with back-off until it is delivered or 24 hours have passed.
package struct AlertDelivery: Sendable, Equatable {
    package enum Status: String, Sendable {
        /// Waiting for its next attempt.
        case pending
        /// Claimed by a dispatcher until `leaseUntil`.
        case sending
        case delivered
        /// Given up after retrying for `AlertDelivery.retryPeriodMilliseconds`.
        case failed
        /// Held for its channel's next digest (sent when `nextAttemptAt` passes).
        case digest
        /// Sent as part of a digest (`digestID`).
        case digested
    }

    package var id: Int64
    package var channelID: Int64
    package var ruleID: Int64?
    package var projectID: Int64?
    package var issueID: Int64?
    package var notification: AlertNotification
    package var status: Status
    package var attempts: Int64
    package var nextAttemptAt: Int64?
    package var responseCode: Int64?
    package var latencyMilliseconds: Int64?
    package var lastError: String?
    package var createdAt: Int64
    package var deliveredAt: Int64?
    package var digestID: Int64?

    package init(
        id: Int64, channelID: Int64, ruleID: Int64?, projectID: Int64?, issueID: Int64?, notification: AlertNotification, status: Status,
        attempts: Int64, nextAttemptAt: Int64?, responseCode: Int64?, latencyMilliseconds: Int64?, lastError: String?, createdAt: Int64,
        deliveredAt: Int64?, digestID: Int64?
    ) {
        self.id = id
        self.channelID = channelID
        self.ruleID = ruleID
        self.projectID = projectID
        self.issueID = issueID
        self.notification = notification
        self.status = status
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt
        self.responseCode = responseCode
        self.latencyMilliseconds = latencyMilliseconds
        self.lastError = lastError
        self.createdAt = createdAt
        self.deliveredAt = deliveredAt
        self.digestID = digestID
    }

    /// A notification decided, not stored yet.
    package struct Draft: Sendable, Equatable {
        package var channelID: Int64
        package var ruleID: Int64?
        package var notification: AlertNotification
        /// When to send it: now, or the end of its channel's digest interval (then `digest`).
        package var sendAt: Int64
        package var digest: Bool

        package init(channelID: Int64, ruleID: Int64?, notification: AlertNotification, sendAt: Int64, digest: Bool = false) {
            self.channelID = channelID
            self.ruleID = ruleID
            self.notification = notification
            self.sendAt = sendAt
            self.digest = digest
        }
    }

    /// The result of one attempt, as the delivery log shows it.
    package struct Attempt: Sendable, Equatable {
        package var deliveryID: Int64
        package var attemptedAt: Int64
        package var responseCode: Int64?
        package var latencyMilliseconds: Int64
        package var error: String?
        /// nil when it succeeded or was the last try; else when the next one is due.
        package var nextAttemptAt: Int64?
        package var succeeded: Bool

        package init(
            deliveryID: Int64, attemptedAt: Int64, responseCode: Int64?, latencyMilliseconds: Int64, error: String?, nextAttemptAt: Int64?,
            succeeded: Bool
        ) {
            self.deliveryID = deliveryID
            self.attemptedAt = attemptedAt
            self.responseCode = responseCode
            self.latencyMilliseconds = latencyMilliseconds
            self.error = error
            self.nextAttemptAt = nextAttemptAt
            self.succeeded = succeeded
        }
    }

    /// Failed deliveries are retried for a day, as the issue asks.
    package static let retryPeriodMilliseconds: Int64 = 24 * 3600 * 1000

    /// When attempt `attempts + 1` is due after a failure at `now`: exponential back-off from
    /// `base`, capped at an hour, nil once the retry period since `createdAt` is over.
    package static func nextAttempt(after attempts: Int64, now: Int64, createdAt: Int64, baseMilliseconds: Int64) -> Int64? {
        let exponent = min(max(attempts - 1, 0), 20)
        let delay = min(baseMilliseconds * (Int64(1) << exponent), 3600 * 1000)
        let next = now + delay
        return next - createdAt <= retryPeriodMilliseconds ? next : nil
    }
}

/// Folds the notifications a digest channel held over its interval into one.
package enum AlertDigest {
    package static func notification(of held: [AlertNotification]) -> AlertNotification {
        var entries: [AlertNotification.Entry] = []
        for notification in held {
            if let folded = notification.entries {
                entries += folded
            } else {
                entries.append(
                    AlertNotification.Entry(kind: notification.kind, issueID: notification.issueID, title: notification.title ?? ""))
            }
        }
        let projects = Set(held.compactMap(\.projectID))
        return AlertNotification(
            kind: .digest, projectID: projects.count == 1 ? projects.first : nil, count: Int64(entries.count), entries: entries)
    }

    /// "7 new issues, 2 regressions": what a digest holds, by kind.
    package static func summary(of entries: [AlertNotification.Entry]) -> String {
        var counts: [AlertNotification.Kind: Int] = [:]
        for entry in entries { counts[entry.kind, default: 0] += 1 }
        let order: [(AlertNotification.Kind, String, String)] = [
            (.newIssue, "new issue", "new issues"), (.regression, "regression", "regressions"),
            (.frequency, "frequent issue", "frequent issues"), (.users, "issue affecting many users", "issues affecting many users"),
            (.newReleaseIssue, "new issue in a new release", "new issues in a new release"),
            (.crashFreeRate, "crash-free rate drop", "crash-free rate drops"),
            (.monitorFailure, "cron monitor failure", "cron monitor failures"), (.test, "test", "tests"),
            (.suppressed, "held-back notice", "held-back notices"),
        ]
        let parts = order.compactMap { kind, one, many in counts[kind].map { "\($0) \($0 == 1 ? one : many)" } }
        return parts.isEmpty ? "nothing new" : parts.joined(separator: ", ")
    }
}
