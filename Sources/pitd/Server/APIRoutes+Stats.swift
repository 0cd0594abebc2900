import Hummingbird
import PitIngest
import PitModel
import PitQuery
import PitStorage

/// Hourly series: Sentry's per-issue `stats` and the project's `stats/` endpoint.
extension APIRoutes {
    static let emptyStats = Array(#"{"24h":[]}"#.utf8)

    /// Sentry's `stats: {"24h": [[unix seconds, events], ...]}` (24 hourly buckets, oldest
    /// first), from the writer's hourly counters, for each issue.
    func issueStats(_ ids: [Int64]) async throws -> [Int64: [UInt8]] {
        let now = ClockTime.nowMilliseconds
        let hour = HourlyCounts.hour(ofMilliseconds: now)
        let counts = try await reader.issueHourly(issueIDs: ids, fromHour: hour - 23, toHour: hour)
        var result: [Int64: [UInt8]] = [:]
        for id in ids {
            var writer = JSONWriter(capacity: 512)
            writer.beginObject()
            writer.key("24h")
            Self.series(counts[id] ?? [:], from: hour - 23, to: hour, into: &writer)
            writer.endObject()
            result[id] = writer.bytes
        }
        return result
    }

    static func series(_ counts: [Int64: Int64], from: Int64, to: Int64, into writer: inout JSONWriter) {
        writer.beginArray()
        for hour in from...max(from, to) {
            writer.beginArray()
            writer.value(hour * 3600)
            writer.value(counts[hour] ?? 0)
            writer.endArray()
        }
        writer.endArray()
    }

    /// Adds `"key": raw` before the closing brace of a rendered object.
    static func splice(_ object: [UInt8], key: String, raw: [UInt8]) -> [UInt8] {
        var bytes = object
        guard bytes.last == UInt8(ascii: "}") else { return bytes }
        bytes.removeLast()
        bytes.append(contentsOf: Array(",\"\(key)\":".utf8))
        bytes.append(contentsOf: raw)
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    /// `GET /api/0/projects/{org}/{project}/stats/?stat=received|new_issues&resolution=1h&since=&until=`:
    /// `[[unix seconds, count], ...]` per hour (the last 24 hours by default, at most 90 days).
    func projectStats(_ request: Request, _ context: PitRequestContext) async throws -> Response {
        let project = try await project(context)
        let parameters = FormFields(query: request)
        let stat = parameters["stat"] ?? "received"
        guard stat == "received" || stat == "new_issues" else {
            throw HTTPError(.badRequest, message: "stat must be received or new_issues")
        }
        let window: StatsWindow
        do {
            window = try StatsWindow(
                since: parameters["since"], until: parameters["until"], resolution: parameters["resolution"],
                nowSeconds: ClockTime.nowMilliseconds / 1000)
        } catch {
            throw HTTPError(.badRequest, message: error.detail)
        }
        let (from, to) = (window.fromHour, window.toHour)
        let hourly = try await reader.projectHourly(projectID: project.id, fromHour: from, toHour: to)
        var writer = JSONWriter()
        Self.series(hourly.mapValues { stat == "received" ? $0.events : $0.newIssues }, from: from, to: to, into: &writer)
        return HTTPResponses.json(writer)
    }
}
