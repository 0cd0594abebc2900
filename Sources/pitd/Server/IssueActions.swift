import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import PitIngest
import PitModel
import PitQuery
import PitStorage

/// Status changes go through the writer's queue, so they serialise with ingest (a resolve and a
/// regression of the same issue are never interleaved).
struct IssueActions: Sendable {
    let queue: IngestQueue

    /// How long a status change waits for the writer before the request gives up (the change
    /// stays queued and is applied when the database answers).
    static let deadline = 30.0

    func apply(_ ids: [Int64], _ status: IssueStatus, inNextRelease: Bool) async throws {
        let result: Result<Void, any Error>? = await withCheckedContinuation { continuation in
            // The writer's answer or the deadline, whichever comes first.
            let once = NIOLockedValueBox<CheckedContinuation<Result<Void, any Error>?, Never>?>(continuation)
            let resume: @Sendable (Result<Void, any Error>?) -> Void = { result in
                once.withLockedValue { value in
                    defer { value = nil }
                    return value
                }?.resume(returning: result)
            }
            let queued = queue.offer(command: .setStatus(issueIDs: ids, status: status, resolveInNextRelease: inNextRelease)) {
                resume($0)
            }
            if queued {
                DispatchQueue.global().asyncAfter(deadline: .now() + Self.deadline) {
                    resume(.failure(CommitDeadlineExceeded(seconds: Self.deadline)))
                }
            } else {
                resume(nil)
            }
        }
        switch result {
        case .none: throw HTTPError(.serviceUnavailable, message: "server is shutting down")
        // The database's error is in the writer's log; the caller learns only that it failed.
        case .failure:
            throw HTTPError(
                .serviceUnavailable, headers: [.retryAfter: "1"],
                message: "The database did not apply the change; retry later.")
        case .success: return
        }
    }

    /// Only ids of `project` are touched; others are ignored (never another project's issue
    /// through this project's URL). Returns how many were updated.
    func apply(ids: [Int64], project: Project, reader: any ReadStore, status: IssueStatus, inNextRelease: Bool) async throws -> Int {
        var targets: [Int64] = []
        for id in ids.prefix(1000) {
            if let issue = try await reader.issue(id: id), issue.projectID == project.id { targets.append(id) }
        }
        if !targets.isEmpty { try await apply(targets, status, inNextRelease: inNextRelease) }
        return targets.count
    }

    /// Every issue matching `query`, in pages of 1,000.
    func applyToMatches(
        of query: IssueQuery, project: Project, reader: any ReadStore, status: IssueStatus,
        inNextRelease: Bool
    ) async throws -> Int {
        var query = query
        query.limit = 1000
        query.cursor = nil
        var seen = Set<Int64>()
        while true {
            let page = try await reader.issues(projectID: project.id, query: query)
            let fresh = page.map(\.id).filter { seen.insert($0).inserted }
            if !fresh.isEmpty { try await apply(fresh, status, inNextRelease: inNextRelease) }
            guard page.count == query.limit, let last = page.last else { break }
            query.cursor = IssueQuery.Cursor(value: query.sort.value(of: last), id: last.id)
        }
        return seen.count
    }
}
