package import PitModel
package import PitStorage

/// Sentry's `GET /api/0/organizations/{org}/stats_v2/`: outcomes summed per group (`groupBy`
/// outcome, category, reason, project) over hour-aligned intervals, from `ReadStore.outcomes`.
/// As Sentry does, default and security events count as category `error` (and `category=error`
/// selects all three), and an outcome without a reason shows reason `none`.
package struct StatsV2Request: Sendable, Equatable {
    package enum Field: String, Sendable, CaseIterable {
        case quantity = "sum(quantity)"
        case timesSeen = "sum(times_seen)"
    }

    package enum GroupBy: String, Sendable, CaseIterable {
        case outcome, category, reason, project
    }

    package var fields: [Field]
    package var groupBy: [GroupBy]
    /// Project ids asked for; empty: every project of the organisation.
    package var projectIDs: [Int64]
    /// Filters; empty: any.
    package var categories: Set<String>
    package var outcomes: Set<OutcomeKind>
    package var reasons: Set<String>
    package var intervals: StatsIntervals

    /// `parameters` as (name, value) pairs in query-string order.
    package init(parameters: [(String, String)], nowMilliseconds: Int64) throws(IngestError) {
        func all(_ name: String) -> [String] {
            // Sentry takes a repeated parameter or a comma-separated list.
            parameters.filter { $0.0 == name }.flatMap { $0.1.split(separator: ",").map(String.init) }.filter { !$0.isEmpty }
        }
        fields = []
        for name in all("field") {
            guard let field = Field(rawValue: name) else { throw .badRequest("Invalid field: \"\(name)\"") }
            if !fields.contains(field) { fields.append(field) }
        }
        guard !fields.isEmpty else { throw .badRequest("Request is missing a \"field\"") }
        groupBy = []
        for name in all("groupBy") {
            guard let group = GroupBy(rawValue: name) else { throw .badRequest("Invalid groupBy: \"\(name)\"") }
            if !groupBy.contains(group) { groupBy.append(group) }
        }
        projectIDs = []
        for text in all("project") where text != "-1" {
            guard let id = Int64(text), id > 0 else { throw .badRequest("Invalid project: \"\(text)\"") }
            if !projectIDs.contains(id) { projectIDs.append(id) }
        }
        categories = []
        for name in all("category") {
            guard !name.isEmpty, name.utf8.count <= OutcomeCategory.maxNameBytes,
                name.utf8.allSatisfy({ ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || $0 == UInt8(ascii: "_") })
            else { throw .badRequest("Invalid category: \"\(name)\"") }
            categories.insert(name)
        }
        outcomes = []
        for name in all("outcome") {
            guard let outcome = OutcomeKind(rawValue: name) else { throw .badRequest("Invalid outcome: \"\(name)\"") }
            outcomes.insert(outcome)
        }
        reasons = Set(all("reason"))
        intervals = try StatsIntervals(
            interval: all("interval").first, statsPeriod: all("statsPeriod").first, start: all("start").first, end: all("end").first,
            nowMilliseconds: nowMilliseconds)
    }

    /// The rows to read; `projectIDs` are the projects the caller may read.
    package func query(projectIDs: [Int64]) -> OutcomeQuery {
        OutcomeQuery(projectIDs: projectIDs, fromHour: intervals.firstHour, toHour: intervals.lastHour)
    }

    /// A group's key: the dimensions grouped by (the others are nil).
    private struct GroupKey: Hashable, Comparable {
        var outcome: String?
        var category: String?
        var reason: String?
        var projectID: Int64?

        static func < (a: GroupKey, b: GroupKey) -> Bool {
            (a.projectID ?? 0, a.outcome ?? "", a.category ?? "", a.reason ?? "")
                < (b.projectID ?? 0, b.outcome ?? "", b.category ?? "", b.reason ?? "")
        }
    }

    /// The answer from the rows of `query`.
    package func render(_ rows: [OutcomeRow], into writer: inout JSONWriter) {
        let count = Int(intervals.intervalCount)
        var groups: [GroupKey: (totals: OutcomeTally, series: [OutcomeTally])] = [:]
        for row in rows {
            let category = OutcomeCategory.statsName(row.key.category)
            let reason = row.key.reason.isEmpty ? "none" : row.key.reason
            if !categories.isEmpty, !categories.contains(category), !categories.contains(row.key.category) { continue }
            if !outcomes.isEmpty, !outcomes.contains(row.key.outcome) { continue }
            if !reasons.isEmpty, !reasons.contains(reason) { continue }
            guard let index = intervals.index(ofHour: row.key.hour) else { continue }
            let key = GroupKey(
                outcome: groupBy.contains(.outcome) ? row.key.outcome.rawValue : nil,
                category: groupBy.contains(.category) ? category : nil,
                reason: groupBy.contains(.reason) ? reason : nil,
                projectID: groupBy.contains(.project) ? row.key.projectID : nil)
            var group = groups[key] ?? (OutcomeTally(), [OutcomeTally](repeating: OutcomeTally(), count: count))
            group.totals.add(row.tally)
            group.series[index].add(row.tally)
            groups[key] = group
        }
        // Not grouped at all: one group, as Sentry answers, even without outcomes.
        if groupBy.isEmpty, groups.isEmpty {
            groups[GroupKey()] = (OutcomeTally(), [OutcomeTally](repeating: OutcomeTally(), count: count))
        }
        writer.beginObject()
        intervals.writeRange(into: &writer)
        writer.key("groups")
        writer.beginArray()
        for key in groups.keys.sorted() {
            let group = groups[key]!
            writer.beginObject()
            writer.key("by")
            writer.beginObject()
            for by in groupBy {
                switch by {
                case .outcome: writer.field("outcome", key.outcome ?? "")
                case .category: writer.field("category", key.category ?? "")
                case .reason: writer.field("reason", key.reason ?? "")
                case .project: writer.field("project", key.projectID ?? 0)
                }
            }
            writer.endObject()
            writer.key("totals")
            writer.beginObject()
            for field in fields { writer.field(field.rawValue, Self.value(field, group.totals)) }
            writer.endObject()
            writer.key("series")
            writer.beginObject()
            for field in fields {
                writer.key(field.rawValue)
                writer.beginArray()
                for tally in group.series { writer.value(Self.value(field, tally)) }
                writer.endArray()
            }
            writer.endObject()
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
    }

    private static func value(_ field: Field, _ tally: OutcomeTally) -> Int64 {
        switch field {
        case .quantity: tally.quantity
        case .timesSeen: tally.timesSeen
        }
    }
}

/// A project's outcomes for the "what was dropped and why" panel: per category (Sentry's stats
/// names), the total of each outcome and its reasons, largest first.
package struct OutcomeSummary: Sendable, Equatable {
    package struct Line: Sendable, Equatable {
        package var outcome: OutcomeKind
        package var quantity: Int64
        package var reasons: [(reason: String, quantity: Int64)]

        package static func == (a: Line, b: Line) -> Bool {
            a.outcome == b.outcome && a.quantity == b.quantity && a.reasons.map(\.reason) == b.reasons.map(\.reason)
                && a.reasons.map(\.quantity) == b.reasons.map(\.quantity)
        }
    }

    package struct Category: Sendable, Equatable {
        package var name: String
        package var lines: [Line]

        package func quantity(_ outcome: OutcomeKind) -> Int64 { lines.first { $0.outcome == outcome }?.quantity ?? 0 }
    }

    package var categories: [Category]

    package init(rows: [OutcomeRow]) {
        var totals: [String: [OutcomeKind: [String: Int64]]] = [:]
        for row in rows {
            let reason = row.key.reason.isEmpty ? "none" : row.key.reason
            totals[OutcomeCategory.statsName(row.key.category), default: [:]][row.key.outcome, default: [:]][reason, default: 0] +=
                row.tally.quantity
        }
        categories = totals.keys.sorted().map { name in
            let byOutcome = totals[name]!
            let lines = OutcomeKind.allCases.compactMap { outcome -> Line? in
                guard let reasons = byOutcome[outcome] else { return nil }
                let sorted = reasons.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { (reason: $0.key, quantity: $0.value) }
                return Line(outcome: outcome, quantity: sorted.reduce(0) { $0 + $1.quantity }, reasons: sorted)
            }
            return Category(name: name, lines: lines)
        }
    }
}
