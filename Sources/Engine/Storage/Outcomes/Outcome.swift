/// What happened to what a client sent, as Sentry's outcomes count it (`stats_v2`): per project,
/// hour, outcome, data category and reason.
package enum OutcomeKind: String, Sendable, CaseIterable, Hashable {
    case accepted
    case filtered
    case rateLimited = "rate_limited"
    case invalid
    case abuse
    case clientDiscard = "client_discard"
    case cardinalityLimited = "cardinality_limited"
}

/// One row of `outcomes_hourly`: its key. `hour` is hours since the epoch; `reason` is "" when
/// the outcome has none (accepted), and Sentry's API shows it as "none".
package struct OutcomeKey: Hashable, Sendable {
    package var projectID: Int64
    package var hour: Int64
    package var outcome: OutcomeKind
    package var category: String
    package var reason: String

    package init(projectID: Int64, hour: Int64, outcome: OutcomeKind, category: String, reason: String = "") {
        self.projectID = projectID
        self.hour = hour
        self.outcome = outcome
        self.category = category
        self.reason = reason
    }
}

/// `quantity` (items, or bytes for attachments and log bytes) and `timesSeen` (how many outcomes
/// were counted into it: requests, items, client report entries).
package struct OutcomeTally: Sendable, Equatable {
    package var quantity: Int64
    package var timesSeen: Int64

    package init(quantity: Int64 = 0, timesSeen: Int64 = 0) {
        self.quantity = quantity
        self.timesSeen = timesSeen
    }

    package mutating func add(_ other: OutcomeTally) {
        quantity &+= other.quantity
        timesSeen &+= other.timesSeen
    }
}

/// One outcome to count: a key and its tally.
package struct OutcomeCount: Sendable, Equatable {
    package var key: OutcomeKey
    package var tally: OutcomeTally

    package init(_ key: OutcomeKey, quantity: Int64, timesSeen: Int64 = 1) {
        self.key = key
        self.tally = OutcomeTally(quantity: quantity, timesSeen: timesSeen)
    }
}

/// Sentry's data categories by their API names (`DataCategory.api_name`), and how pitd's items map
/// to them.
package enum OutcomeCategory {
    package static let error = "error"
    package static let `default` = "default"
    package static let security = "security"
    package static let transaction = "transaction"
    package static let attachment = "attachment"
    package static let session = "session"
    package static let monitor = "monitor"
    package static let logItem = "log_item"
    package static let logByte = "log_byte"
    package static let feedback = "feedback"
    package static let profile = "profile"
    package static let profileChunk = "profile_chunk"
    package static let replay = "replay"
    package static let span = "span"
    package static let traceMetric = "trace_metric"

    /// The category of a stored event by its type (`GroupingResult.kind`): security reports,
    /// default (message) events and errors.
    package static func ofEvent(kind: String) -> String {
        switch kind {
        case "error": error
        case "csp", "hpkp", "expectct", "expectstaple", "nel": security
        default: `default`
        }
    }

    /// The category `stats_v2` answers with: Sentry folds default and security events into
    /// `error` (`DataCategory.error_categories`), and a `category=error` filter matches all three.
    package static func statsName(_ category: String) -> String {
        category == `default` || category == security ? error : category
    }

    /// The longest category or reason name kept: client reports name them, and a client could
    /// otherwise make each row as wide as it likes.
    package static let maxNameBytes = 200
}

/// Rows of `outcomes_hourly` are kept this long (Sentry keeps outcomes 90 days).
package enum OutcomeRetention {
    package static let hours: Int64 = 90 * 24
}

/// What `ReadStore.outcomes` reads: the projects and the hours [fromHour, toHour].
package struct OutcomeQuery: Sendable, Equatable {
    package var projectIDs: [Int64]
    package var fromHour: Int64
    package var toHour: Int64

    package init(projectIDs: [Int64], fromHour: Int64, toHour: Int64) {
        self.projectIDs = projectIDs
        self.fromHour = fromHour
        self.toHour = toHour
    }
}

/// One stored row of `outcomes_hourly`.
package struct OutcomeRow: Sendable, Equatable {
    package var key: OutcomeKey
    package var tally: OutcomeTally

    package init(key: OutcomeKey, tally: OutcomeTally) {
        self.key = key
        self.tally = tally
    }
}
