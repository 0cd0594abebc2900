/// Alert channels, rules, the rules' per-issue state, the per-project hourly ceiling and the
/// delivery outbox. Every decision that must hold across several pitd instances (a cooldown, a
/// threshold crossed, a ceiling, a claimed delivery) is one atomic statement in the database, so
/// two instances evaluating the same project never both notify.
package protocol AlertStore: Sendable {
    // MARK: Channels (secrets arrive sealed by `SecretBox` and are never read back out but to send)
    func createChannel(_ draft: AlertChannel.Draft, sealedSecret: [UInt8]?, organizationID: Int64) async throws -> AlertChannel
    func channels() async throws -> [AlertChannel]
    func channel(id: Int64) async throws -> AlertChannel?
    func sealedSecret(channelID: Int64) async throws -> [UInt8]?
    /// Deletes the channel with its rules and deliveries; false when there is none.
    func deleteChannel(id: Int64) async throws -> Bool

    // MARK: Rules
    func createRule(_ draft: AlertRule.Draft) async throws -> AlertRule
    /// The rules of one project, or every rule.
    func rules(projectID: Int64?) async throws -> [AlertRule]
    func rule(id: Int64) async throws -> AlertRule?
    func updateRule(id: Int64, _ draft: AlertRule.Draft) async throws -> AlertRule?
    func deleteRule(id: Int64) async throws -> Bool

    // MARK: Evaluation
    /// Marks the rule fired for the issue at `now` unless it fired less than `cooldown` ago;
    /// returns whether this call may notify.
    func claimFiring(ruleID: Int64, issueID: Int64, now: Int64, cooldownMilliseconds: Int64) async throws -> Bool
    /// Adds each issue's events at `now` to the rule's sliding windows and returns how many each
    /// issue's last `windowMilliseconds` hold (counted in buckets of 1/60 of the window, so the
    /// window's start is exact to within one bucket). One transaction for the whole pass: in an
    /// alert storm a pass touches thousands of issues, and on SQLite a transaction each would take
    /// the database's write lock from the ingest writer thousands of times a second.
    func addToWindows(ruleID: Int64, counts: [(issueID: Int64, count: Int64)], now: Int64, windowMilliseconds: Int64) async throws
        -> [Int64: Int64]
    /// Records the users seen per issue and returns how many distinct ones each issue's window
    /// holds; one transaction, as `addToWindows`.
    func addUsers(ruleID: Int64, usersByIssue: [(issueID: Int64, users: [String])], now: Int64, windowMilliseconds: Int64)
        async throws -> [Int64: Int64]
    /// Moves a project-level rule's condition (a crash-free rate below its threshold) into
    /// `active` or out of it; true only for the call that changed it, so of several instances
    /// evaluating the same rule one notifies the crossing.
    func transitionCondition(ruleID: Int64, active: Bool) async throws -> Bool
    /// Whether a release was first seen by the project at or after `since` (milliseconds).
    func releaseIsNew(projectID: Int64, release: String, since: Int64) async throws -> Bool
    /// Takes one notification from the project's ceiling for the hour; false (and the
    /// notification counted as held back) when `ceiling` were taken already.
    func reserveNotification(projectID: Int64, hour: Int64, ceiling: Int64, now: Int64) async throws -> Bool
    /// Counts notifications held back without evaluating them (the evaluator's buffer was full).
    func countSuppressed(projectID: Int64, hour: Int64, count: Int64, now: Int64) async throws
    /// The held-back counts of projects whose last one is older than `quietSince`, reset to 0.
    func takeSuppressed(quietSince: Int64) async throws -> [(projectID: Int64, count: Int64)]

    /// Deletes what no decision reads any more: window buckets, users and cooldowns older than
    /// the longest window or cooldown (30 days), past hours' ceilings, and finished deliveries
    /// (with their attempts) older than `deliveryCutoff`. Returns the rows deleted.
    @discardableResult
    func prune(now: Int64, deliveryCutoff: Int64) async throws -> Int

    // MARK: Deliveries
    func enqueue(_ drafts: [AlertDelivery.Draft], now: Int64) async throws
    /// Claims up to `limit` deliveries due at `now` (pending, or sending with an expired lease)
    /// until `leaseUntil`; another instance never claims the same one.
    func claimDue(now: Int64, limit: Int, leaseUntil: Int64) async throws -> [AlertDelivery]
    /// Channels whose digest is due: their held deliveries become one pending digest delivery
    /// each, due at once; returns how many digests were made.
    func collectDigests(now: Int64) async throws -> Int
    func record(_ attempt: AlertDelivery.Attempt) async throws
    func deliveries(channelID: Int64, limit: Int) async throws -> [AlertDelivery]
    func attempts(deliveryID: Int64) async throws -> [AlertDelivery.Attempt]
}
