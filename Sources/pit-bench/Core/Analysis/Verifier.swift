import Foundation
import NIOConcurrencyHelpers
package import PitModel

/// Checks that every event the server acknowledged is stored, through the server's HTTP API:
/// pit-bench never opens a database.
package enum Verifier {
    package struct Outcome: Sendable {
        package var stored: Int
        package var missing: Int
        package var method: String
    }

    /// Where and how to ask: the server's address, the DSN's path prefix, the project and a
    /// token with read scope.
    package struct API: Sendable {
        package var host: String
        package var port: Int
        package var pathPrefix: String
        package var organization: String
        package var project: String
        package var token: String

        package init(host: String, port: Int, pathPrefix: String, organization: String, project: String, token: String) {
            self.host = host
            self.port = port
            self.pathPrefix = pathPrefix
            self.organization = organization
            self.project = project
            self.token = token
        }

        var projectPath: String { "\(pathPrefix)/api/0/projects/\(organization)/\(project)" }
        var headers: [String: String] { ["Authorization": "Bearer \(token)"] }
    }

    /// Ids per request to pitd's verification endpoint (its limit).
    package static let batchSize = 10_000

    /// Every acknowledged id through pitd's `POST …/events/verify/`, `batchSize` per request;
    /// without that endpoint (another Sentry-compatible server), a sample through the read API.
    ///
    /// The server is still running: with ack=queued an event is answered before it commits, so
    /// ids not found at first are asked again for up to `settleSeconds` while the writer drains.
    package static func verify(_ api: API, accepted: [EventID], settleSeconds: Double = 15) throws -> Outcome {
        guard var missing = try missingIDs(api, accepted[...]) else { return sample(api, accepted: accepted) }
        let deadline = Date().addingTimeInterval(settleSeconds)
        while !missing.isEmpty && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.5)
            missing = try missingIDs(api, missing[...]) ?? missing
        }
        return Outcome(
            stored: accepted.count - missing.count, missing: missing.count,
            method: "api: every acknowledged event id looked up (POST …/events/verify/, \(batchSize) per request)")
    }

    /// The ids the server has no event for; nil when it has no verification endpoint (the first
    /// request answered 404 or 405, or not in the endpoint's shape: another Sentry-compatible
    /// server). After the first, batches go out a few at a time (pitd reads with up to 4
    /// connections), missing ids kept in the order asked.
    package static func missingIDs(_ api: API, _ ids: ArraySlice<EventID>) throws -> [EventID]? {
        let batches = stride(from: ids.startIndex, to: max(ids.endIndex, ids.startIndex + 1), by: batchSize).map {
            ids[$0..<min($0 + batchSize, ids.endIndex)]
        }
        let first = try post(api, batches[0])
        if first.status == 404 || first.status == 405 || (first.status == 200 && answer(first.body) == nil) { return nil }
        var firstResults = [Result<[EventID], any Error>](repeating: .success([]), count: batches.count)
        firstResults[0] = Result { try missingIDs(in: first, checked: batches[0].count) }
        let results = NIOLockedValueBox(firstResults)
        let rest = batches.count - 1
        let width = min(rest, 4)
        // `width` workers take every `width`-th batch; `concurrentPerform` runs them in parallel.
        DispatchQueue.concurrentPerform(iterations: width) { worker in
            for index in stride(from: 1 + worker, to: batches.count, by: width) {
                let result = Result { try missingIDs(in: try post(api, batches[index]), checked: batches[index].count) }
                results.withLockedValue { $0[index] = result }
            }
        }
        return try results.withLockedValue { $0 }.flatMap { try $0.get() }
    }

    package static func post(_ api: API, _ batch: ArraySlice<EventID>) throws -> SimpleHTTP.Response {
        try SimpleHTTP.post(
            host: api.host, port: api.port, path: api.projectPath + "/events/verify/",
            headers: api.headers.merging(["Content-Type": "application/json"]) { $1 }, body: body(batch))
    }

    /// `{"event_ids": [...]}`.
    package static func body(_ ids: ArraySlice<EventID>) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16 + ids.count * 35)
        bytes += Array(#"{"event_ids":["#.utf8)
        for (offset, id) in ids.enumerated() {
            if offset > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "\""))
            bytes += Array(id.hex.utf8)
            bytes.append(UInt8(ascii: "\""))
        }
        bytes += Array("]}".utf8)
        return bytes
    }

    /// The answer's `missing` ids, after checking it answered for the whole batch.
    package static func missingIDs(in response: SimpleHTTP.Response, checked: Int) throws -> [EventID] {
        let text = String(decoding: response.body.prefix(300), as: UTF8.self)
        guard response.status == 200 else { throw BenchError("verification request answered \(response.status): \(text)") }
        guard let answer = answer(response.body) else { throw BenchError("verification answer is not {checked, missing}: \(text)") }
        guard answer.checked == checked else { throw BenchError("verification checked \(answer.checked) of \(checked) ids") }
        return try answer.missing.map { text in
            guard let id = EventID(text) else { throw BenchError("verification answered a malformed event id \(text)") }
            return id
        }
    }

    package static func answer(_ body: [UInt8]) -> (checked: Int, missing: [String])? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let checked = object["checked"] as? Int, let missing = object["missing"] as? [String]
        else { return nil }
        return (checked, missing)
    }

    /// A sample of the acknowledged events, one read-API request each (any Sentry-compatible
    /// server).
    package static func sample(_ api: API, accepted: [EventID], sample: Int = 500) -> Outcome {
        let step = max(1, accepted.count / max(1, sample))
        var checked = 0
        var missing = 0
        for index in stride(from: 0, to: accepted.count, by: step) {
            let path = "\(api.projectPath)/events/\(accepted[index].hex)/"
            let response = try? SimpleHTTP.get(host: api.host, port: api.port, path: path, headers: api.headers)
            checked += 1
            if response?.status != 200 { missing += 1 }
        }
        return Outcome(
            stored: checked - missing, missing: missing,
            method: "api: \(checked) of \(accepted.count) acknowledged events looked up")
    }
}
