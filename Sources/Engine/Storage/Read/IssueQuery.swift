package import PitModel

/// A parsed issue search, from Sentry's query syntax:
/// `is:unresolved level:error release:1.2 environment:prod "free text"`.
package struct IssueQuery: Sendable, Equatable {
    package enum Sort: String, Sendable, CaseIterable {
        /// Sentry's names: `date` = last seen, `new` = first seen, `freq` = events, `user` = users.
        case date, new, freq, user

        /// The `issues` column this sort orders by.
        package var column: String {
            switch self {
            case .date: "last_seen"
            case .new: "first_seen"
            case .freq: "times_seen"
            case .user: "users_seen"
            }
        }

        package func value(of issue: IssueRow) -> Int64 {
            switch self {
            case .date: issue.lastSeen
            case .new: issue.firstSeen
            case .freq: issue.timesSeen
            case .user: issue.usersSeen
            }
        }
    }

    package var statuses: [IssueStatus] = []
    package var levels: [Level] = []
    package var environments: [String] = []
    package var releases: [String] = []
    package var text: [String] = []
    /// Other `key:value` terms, matched against the issue's tag facets.
    package var tags: [(key: String, value: String)] = []
    /// Time range terms: `lastSeen:-24h` (seen since), `firstSeen:-7d` / `age:-7d` (new since),
    /// as milliseconds relative to now (negative) resolved when the query runs.
    package var lastSeenWithin: Int64?
    package var firstSeenWithin: Int64?
    package var sort: Sort = .date
    package var limit = 100
    /// Keyset cursor: the sort value and id of the last issue of the previous page.
    package var cursor: Cursor?

    package struct Cursor: Sendable, Equatable {
        package var value: Int64
        package var id: Int64

        package init(value: Int64, id: Int64) {
            self.value = value
            self.id = id
        }

        package init?(_ text: String) {
            let parts = text.split(separator: ":")
            guard parts.count == 2, let value = Int64(parts[0]), let id = Int64(parts[1]) else { return nil }
            self.init(value: value, id: id)
        }

        package var description: String { "\(value):\(id)" }
    }

    package init() {}

    /// Counts stop here, as Sentry's issue search reports `X-Max-Hits: 1000`.
    package static let maxHits = 1000

    package static func == (a: IssueQuery, b: IssueQuery) -> Bool {
        a.statuses == b.statuses && a.levels == b.levels && a.environments == b.environments && a.releases == b.releases
            && a.text == b.text && a.tags.map { "\($0.key)=\($0.value)" } == b.tags.map { "\($0.key)=\($0.value)" }
            && a.sort == b.sort && a.limit == b.limit && a.cursor == b.cursor
            && a.lastSeenWithin == b.lastSeenWithin && a.firstSeenWithin == b.firstSeenWithin
    }

    /// Parses the `query` parameter. Unknown `is:` values and malformed terms are errors so a typo
    /// does not silently widen a bulk action.
    package init(parsing query: String) throws(IngestError) {
        self.init()
        for term in Self.tokenize(query) {
            guard let colon = term.firstIndex(of: ":"), !term.hasPrefix("\"") else {
                let text = term.hasPrefix("\"") ? String(term.dropFirst().dropLast()) : term
                if !text.isEmpty { self.text.append(text) }
                continue
            }
            let key = String(term[..<colon])
            var value = String(term[term.index(after: colon)...])
            if value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            switch key {
            case "is":
                guard let status = IssueStatus(name: value) else { throw .badRequest("unknown status is:\(value)") }
                statuses.append(status)
            case "level":
                guard let level = Level(name: value) else { throw .badRequest("unknown level \(value)") }
                levels.append(level)
            case "environment": environments.append(value)
            case "lastSeen", "firstSeen", "age":
                guard let span = Self.relativeSpan(value) else {
                    throw .badRequest("\(key) takes a relative time such as -24h, -7d or -30m")
                }
                if key == "lastSeen" { lastSeenWithin = span } else { firstSeenWithin = span }
            case "release": releases.append(value)
            case "tag" where value.contains(":"):
                let parts = value.split(separator: ":", maxSplits: 1)
                tags.append((String(parts[0]), String(parts[1])))
            default:
                tags.append((key, value))
            }
        }
    }

    /// `-24h`, `-7d`, `-30m`, `-2w` (the leading minus is optional) → milliseconds.
    package static func relativeSpan(_ text: String) -> Int64? {
        var body = Substring(text)
        if body.hasPrefix("-") { body = body.dropFirst() }
        guard let unit = body.last, let amount = Int64(body.dropLast()), amount > 0, amount < 100_000 else { return nil }
        let seconds: Int64
        switch unit {
        case "m": seconds = 60
        case "h": seconds = 3600
        case "d": seconds = 86400
        case "w": seconds = 7 * 86400
        default: return nil
        }
        return amount * seconds * 1000
    }

    /// Splits on spaces outside double quotes.
    package static func tokenize(_ query: String) -> [String] {
        var terms: [String] = []
        var current = ""
        var quoted = false
        for c in query {
            if c == "\"" {
                quoted.toggle()
                current.append(c)
                continue
            }
            if c == " " && !quoted {
                if !current.isEmpty { terms.append(current) }
                current = ""
            } else {
                current.append(c)
            }
        }
        if !current.isEmpty { terms.append(current) }
        return terms
    }
}
