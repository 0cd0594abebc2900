package import PitModel

/// Which logs to list, newest first (by timestamp, then row id): the log explorer's filters and
/// those of the API's `query` (`LogSearch`).
package struct LogQuery: Sendable, Equatable {
    package var projectIDs: [Int64]
    /// Logs stamped at or after this (ms since the epoch).
    package var since: Int64?
    /// Logs stamped before this (ms).
    package var until: Int64?
    /// Any of these levels; empty for all.
    package var severities: [LogSeverity] = []
    /// Each a `LIKE` pattern (escaped, `%` for wildcards) the body must match, ignoring case.
    package var messagePatterns: [String] = []
    /// Each an alternative of exact attribute texts (`LogAttributeText.fragment`); every group must
    /// have one in the log's attributes.
    package var attributeFragments: [[String]] = []
    package var traceID: String?
    package var spanID: String?
    package var release: String?
    /// Any of these environments; empty for all.
    package var environments: [String] = []
    /// Negated filters (`!key:value`): none of these levels, message patterns, attribute groups
    /// or column values.
    package var excludedSeverities: [LogSeverity] = []
    package var excludedMessagePatterns: [String] = []
    package var excludedAttributeFragments: [[String]] = []
    package var excludedValues: [Column: [String]] = [:]
    package var limit = 50
    /// Keyset cursor: the last log of the previous page.
    package var before: LogCursor?

    package init(projectIDs: [Int64]) {
        self.projectIDs = projectIDs
    }

    /// The text columns a filter may exclude values of.
    package enum Column: String, Sendable, CaseIterable {
        case traceID = "trace_id"
        case spanID = "span_id"
        case release, environment
    }
}

/// Where a page of logs ends: its last log's timestamp and row id, as `timestamp:id`.
package struct LogCursor: Sendable, Equatable, CustomStringConvertible, LosslessStringConvertible {
    package var timestamp: Int64
    package var id: Int64

    package init(timestamp: Int64, id: Int64) {
        self.timestamp = timestamp
        self.id = id
    }

    package init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let timestamp = Int64(parts[0]), let id = Int64(parts[1]) else { return nil }
        self.init(timestamp: timestamp, id: id)
    }

    package var description: String { "\(timestamp):\(id)" }
}

/// One stored log.
package struct LogRow: Sendable, Equatable {
    package var id: Int64
    package var projectID: Int64
    /// Milliseconds since the epoch.
    package var timestamp: Int64
    package var received: Int64
    package var severity: LogSeverity
    package var severityNumber: Int
    package var traceID: String?
    package var spanID: String?
    package var body: String
    package var release: String?
    package var environment: String?
    package var sdk: String?
    /// Sentry's typed attributes as JSON, `{"key":{"value":v,"type":"t"}}`.
    package var attributes: String

    package init(
        id: Int64, projectID: Int64, timestamp: Int64, received: Int64, severity: LogSeverity, severityNumber: Int, traceID: String?,
        spanID: String?, body: String, release: String?, environment: String?, sdk: String?, attributes: String
    ) {
        self.id = id
        self.projectID = projectID
        self.timestamp = timestamp
        self.received = received
        self.severity = severity
        self.severityNumber = severityNumber
        self.traceID = traceID
        self.spanID = spanID
        self.body = body
        self.release = release
        self.environment = environment
        self.sdk = sdk
        self.attributes = attributes
    }

    /// The log's id as the API shows it: its row id as 32 hex digits (a stable, unique id in the
    /// shape of Sentry's `sentry.item_id`).
    package var itemID: String {
        let hex = String(UInt64(bitPattern: id), radix: 16)
        return String(repeating: "0", count: 32 - hex.count) + hex
    }

    /// The cursor that continues after this log.
    package var cursor: LogCursor { LogCursor(timestamp: timestamp, id: id) }
}

/// How a log's attributes are written as text (`{"key":{"value":v,"type":"t"}}`, one way per
/// value), shared by ingest, which writes them, and `LogSearch`, which rebuilds an attribute's
/// exact text to match a `key:value` filter.
package enum LogAttributeText {
    /// One attribute as stored: `"key":{"value":v,"type":"t"}`.
    package static func fragment(key: String, type: String, valueJSON: String) -> String {
        quoted(key) + ":" + value(type: type, valueJSON: valueJSON)
    }

    /// An attribute's value object as stored: `{"value":v,"type":"t"}`.
    package static func value(type: String, valueJSON: String) -> String {
        "{\"value\":" + valueJSON + ",\"type\":\"" + type + "\"}"
    }

    /// A string as JSON.
    package static func quoted(_ text: String) -> String {
        var out: [UInt8] = []
        JSONWriter.appendQuoted(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Swift's shortest round-trip text of a finite double (`1.0`, `0.25`, `1e-05`), valid JSON.
    package static func double(_ value: Double) -> String? { value.isFinite ? String(value) : nil }
}
