/// A change to issues requested through the API. It goes through the writer so that the writer's
/// in-memory issue index and the database never disagree.
package enum IssueCommand: Sendable {
    case setStatus(issueIDs: [Int64], status: IssueStatus, resolveInNextRelease: Bool)
    /// Stores a newly trained payload dictionary (see `PayloadDictionaries`).
    case storeDictionary(id: Int64, bytes: [UInt8], sampleCount: Int)
    /// Retention: deletes those issues that have no events left (see `RetentionPurger`).
    case purgeIssues(issueIDs: [Int64])
}

package enum IssueStatus: Int, Sendable, CaseIterable {
    case unresolved = 0
    case resolved = 1
    case ignored = 2

    package var name: String {
        switch self {
        case .unresolved: "unresolved"
        case .resolved: "resolved"
        case .ignored: "ignored"
        }
    }

    package init?(name: String) {
        switch name {
        case "unresolved": self = .unresolved
        case "resolved", "resolvedInNextRelease": self = .resolved
        case "ignored", "muted", "archived": self = .ignored
        default: return nil
        }
    }
}

/// Sentry's substatus of unresolved issues.
package enum IssueSubstatus: Int, Sendable {
    case none = 0
    case new = 1
    case ongoing = 2
    case regressed = 3
    case escalating = 4
    case archivedForever = 5

    package var name: String? {
        switch self {
        case .none: nil
        case .new: "new"
        case .ongoing: "ongoing"
        case .regressed: "regressed"
        case .escalating: "escalating"
        case .archivedForever: "archived_forever"
        }
    }
}
