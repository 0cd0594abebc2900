import NIOConcurrencyHelpers
import PitModel
package import PitStorage

/// The alert store over its own SQLite connection, run as the admin store runs its calls: on
/// `BlockingWork.admin`'s threads, one at a time. Only one pitd writes a SQLite database, but the
/// CLI may change rules and channels beside it: every decision is one statement or one
/// transaction.
package final class SQLiteAlertStore: AlertStore {
    private let connection: NIOLockedValueBox<SQLiteConnection>

    package init(path: String) throws {
        let connection = try SQLiteConnection(path: path)
        try SQLiteSchema.prepare(connection)
        self.connection = NIOLockedValueBox(connection)
    }

    private func with<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws -> T) async throws -> T {
        let connection = connection
        return try await BlockingWork.run(timeout: 60) { try connection.withLockedValue { try body($0) } }
    }

    // MARK: Channels

    private static let channelColumns =
        "SELECT id, name, kind, url, recipient, secret IS NOT NULL, digest_seconds, created_at FROM alert_channels"

    private static func channel(_ row: SQLiteStatement) -> AlertChannel {
        AlertChannel(
            id: row.int(0), name: row.text(1) ?? "", kind: AlertChannel.Kind(rawValue: row.text(2) ?? "") ?? .webhook,
            url: row.text(3) ?? "",
            recipient: row.text(4), hasSecret: row.int(5) != 0, digestSeconds: row.int(6), createdAt: row.int(7))
    }

    package func createChannel(_ draft: AlertChannel.Draft, sealedSecret: [UInt8]?, organizationID: Int64) async throws -> AlertChannel {
        let draft = try draft.validated()
        return try await with { db in
            try db.statement(
                """
                INSERT INTO alert_channels (organization_id, name, kind, url, recipient, secret, digest_seconds, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """
            ).run([
                .int(organizationID), .text(draft.name), .text(draft.kind.rawValue), .text(draft.url), .optional(draft.recipient),
                sealedSecret.map { .blob($0) } ?? .null, .int(draft.digestSeconds), .int(ClockTime.nowMilliseconds),
            ])
            let id = db.lastInsertRowID
            return try db.statement(Self.channelColumns + " WHERE id = ?").query([.int(id)], Self.channel)[0]
        }
    }

    package func channels() async throws -> [AlertChannel] {
        try await with { try $0.statement(Self.channelColumns + " ORDER BY id").query([], Self.channel) }
    }

    package func channel(id: Int64) async throws -> AlertChannel? {
        try await with { try $0.statement(Self.channelColumns + " WHERE id = ?").query([.int(id)], Self.channel).first }
    }

    package func sealedSecret(channelID: Int64) async throws -> [UInt8]? {
        try await with { db in
            try db.statement("SELECT secret FROM alert_channels WHERE id = ?").query([.int(channelID)]) { $0.isNull(0) ? nil : $0.blob(0) }
                .first ?? nil
        }
    }

    package func deleteChannel(id: Int64) async throws -> Bool {
        try await with { db in
            try db.transaction {
                try db.statement("DELETE FROM alert_channels WHERE id = ?").run([.int(id)])
                guard db.changes > 0 else { return false }
                try db.statement(
                    "DELETE FROM alert_rule_state WHERE rule_id IN (SELECT id FROM alert_rules WHERE channel_id = ?)"
                ).run([.int(id)])
                try db.statement("DELETE FROM alert_rule_users WHERE rule_id IN (SELECT id FROM alert_rules WHERE channel_id = ?)")
                    .run([.int(id)])
                try db.statement("DELETE FROM alert_rule_buckets WHERE rule_id IN (SELECT id FROM alert_rules WHERE channel_id = ?)")
                    .run([.int(id)])
                try db.statement("DELETE FROM alert_rules WHERE channel_id = ?").run([.int(id)])
                try db.statement(
                    "DELETE FROM alert_delivery_attempts WHERE delivery_id IN (SELECT id FROM alert_deliveries WHERE channel_id = ?)"
                ).run([.int(id)])
                try db.statement("DELETE FROM alert_deliveries WHERE channel_id = ?").run([.int(id)])
                return true
            }
        }
    }

    // MARK: Rules

    private static let ruleColumns = """
        SELECT id, project_id, name, trigger, threshold, window_seconds, channel_id, min_level, environment, tag_key, tag_value,
            tag_match, title_contains, cooldown_seconds, created_at FROM alert_rules
        """

    private static func rule(_ row: SQLiteStatement) -> AlertRule {
        AlertRule(
            id: row.int(0), projectID: row.int(1), name: row.text(2) ?? "",
            trigger: AlertRule.Trigger(rawValue: row.text(3) ?? "") ?? .newIssue,
            threshold: row.int(4), windowSeconds: row.int(5), channelID: row.int(6),
            filters: AlertRule.Filters(
                minimumLevel: row.isNull(7) ? nil : Level(rawValue: Int(row.int(7))), environment: row.text(8), tagKey: row.text(9),
                tagValue: row.text(10), tagMatch: AlertRule.TagMatch(rawValue: row.text(11) ?? "") ?? .equals, titleContains: row.text(12)),
            cooldownSeconds: row.int(13), createdAt: row.int(14))
    }

    private static func ruleValues(_ draft: AlertRule.Draft) -> [SQLiteValue] {
        [
            .text(draft.name), .text(draft.trigger.rawValue), .int(draft.threshold), .int(draft.windowSeconds), .int(draft.channelID),
            .optional(draft.filters.minimumLevel.map { Int64($0.rawValue) }), .optional(draft.filters.environment),
            .optional(draft.filters.tagKey), .optional(draft.filters.tagValue), .text(draft.filters.tagMatch.rawValue),
            .optional(draft.filters.titleContains), .int(draft.cooldownSeconds),
        ]
    }

    private static func checkReferences(_ draft: AlertRule.Draft, _ db: SQLiteConnection) throws {
        guard try db.scalarInt("SELECT COUNT(*) FROM projects WHERE id = ?", [.int(draft.projectID)]) == 1 else {
            throw Project.missing(draft.projectID)
        }
        guard try db.scalarInt("SELECT COUNT(*) FROM alert_channels WHERE id = ?", [.int(draft.channelID)]) == 1 else {
            throw AlertChannel.missing(draft.channelID)
        }
    }

    package func createRule(_ draft: AlertRule.Draft) async throws -> AlertRule {
        let draft = try draft.validated()
        return try await with { db in
            try db.transaction {
                try Self.checkReferences(draft, db)
                try db.statement(
                    """
                    INSERT INTO alert_rules (name, trigger, threshold, window_seconds, channel_id, min_level, environment, tag_key,
                        tag_value, tag_match, title_contains, cooldown_seconds, project_id, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
                ).run(Self.ruleValues(draft) + [.int(draft.projectID), .int(ClockTime.nowMilliseconds)])
                return try db.statement(Self.ruleColumns + " WHERE id = ?").query([.int(db.lastInsertRowID)], Self.rule)[0]
            }
        }
    }

    package func rules(projectID: Int64?) async throws -> [AlertRule] {
        try await with { db in
            if let projectID {
                return try db.statement(Self.ruleColumns + " WHERE project_id = ? ORDER BY id").query([.int(projectID)], Self.rule)
            }
            return try db.statement(Self.ruleColumns + " ORDER BY id").query([], Self.rule)
        }
    }

    package func rule(id: Int64) async throws -> AlertRule? {
        try await with { try $0.statement(Self.ruleColumns + " WHERE id = ?").query([.int(id)], Self.rule).first }
    }

    package func updateRule(id: Int64, _ draft: AlertRule.Draft) async throws -> AlertRule? {
        let draft = try draft.validated()
        return try await with { db in
            try db.transaction {
                try Self.checkReferences(draft, db)
                try db.statement(
                    """
                    UPDATE alert_rules SET name = ?, trigger = ?, threshold = ?, window_seconds = ?, channel_id = ?, min_level = ?,
                        environment = ?, tag_key = ?, tag_value = ?, tag_match = ?, title_contains = ?, cooldown_seconds = ?
                    WHERE id = ? AND project_id = ?
                    """
                ).run(Self.ruleValues(draft) + [.int(id), .int(draft.projectID)])
                guard db.changes > 0 else { return nil }
                return try db.statement(Self.ruleColumns + " WHERE id = ?").query([.int(id)], Self.rule).first
            }
        }
    }

    package func deleteRule(id: Int64) async throws -> Bool {
        try await with { db in
            try db.transaction {
                try db.statement("DELETE FROM alert_rules WHERE id = ?").run([.int(id)])
                guard db.changes > 0 else { return false }
                try db.statement("DELETE FROM alert_rule_state WHERE rule_id = ?").run([.int(id)])
                try db.statement("DELETE FROM alert_rule_users WHERE rule_id = ?").run([.int(id)])
                try db.statement("DELETE FROM alert_rule_buckets WHERE rule_id = ?").run([.int(id)])
                return true
            }
        }
    }

    // MARK: Evaluation

    package func claimFiring(ruleID: Int64, issueID: Int64, now: Int64, cooldownMilliseconds: Int64) async throws -> Bool {
        try await with { db in
            try db.statement(
                """
                INSERT INTO alert_rule_state (rule_id, issue_id, last_fired_at) VALUES (?, ?, ?)
                ON CONFLICT (rule_id, issue_id) DO UPDATE SET last_fired_at = excluded.last_fired_at
                WHERE alert_rule_state.last_fired_at IS NULL OR alert_rule_state.last_fired_at <= excluded.last_fired_at - ?
                RETURNING rule_id
                """
            ).query([.int(ruleID), .int(issueID), .int(now), .int(cooldownMilliseconds)]) { $0.int(0) }.count == 1
        }
    }

    package func addToWindows(
        ruleID: Int64, counts: [(issueID: Int64, count: Int64)], now: Int64, windowMilliseconds: Int64
    ) async throws -> [Int64: Int64] {
        guard !counts.isEmpty else { return [:] }
        let bucket = AlertWindowBuckets.start(now: now, windowMilliseconds: windowMilliseconds)
        let expired = AlertWindowBuckets.expired(now: now, windowMilliseconds: windowMilliseconds)
        return try await with { db in
            try db.transaction {
                let add = try db.statement(
                    """
                    INSERT INTO alert_rule_buckets (rule_id, issue_id, bucket_start, count) VALUES (?, ?, ?, ?)
                    ON CONFLICT (rule_id, issue_id, bucket_start) DO UPDATE SET count = count + excluded.count
                    """)
                let expire = try db.statement("DELETE FROM alert_rule_buckets WHERE rule_id = ? AND issue_id = ? AND bucket_start <= ?")
                let sum = try db.statement("SELECT COALESCE(SUM(count), 0) FROM alert_rule_buckets WHERE rule_id = ? AND issue_id = ?")
                var totals: [Int64: Int64] = [:]
                for (issueID, count) in counts {
                    try add.run([.int(ruleID), .int(issueID), .int(bucket), .int(count)])
                    try expire.run([.int(ruleID), .int(issueID), .int(expired)])
                    totals[issueID] = try sum.query([.int(ruleID), .int(issueID)]) { $0.int(0) }.first ?? count
                }
                return totals
            }
        }
    }

    package func transitionCondition(ruleID: Int64, active: Bool) async throws -> Bool {
        try await with { db in
            try db.statement(
                """
                INSERT INTO alert_rule_state (rule_id, issue_id, last_fired_at, condition_active) VALUES (?1, 0, NULL, ?2)
                ON CONFLICT (rule_id, issue_id) DO UPDATE SET condition_active = excluded.condition_active
                WHERE alert_rule_state.condition_active <> excluded.condition_active
                RETURNING rule_id
                """
            ).query([.int(ruleID), .int(active ? 1 : 0)]) { $0.int(0) }.count == 1
        }
    }

    package func addUsers(
        ruleID: Int64, usersByIssue: [(issueID: Int64, users: [String])], now: Int64, windowMilliseconds: Int64
    ) async throws -> [Int64: Int64] {
        guard !usersByIssue.isEmpty else { return [:] }
        return try await with { db in
            try db.transaction {
                let upsert = try db.statement(
                    """
                    INSERT INTO alert_rule_users (rule_id, issue_id, user_key, seen_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (rule_id, issue_id, user_key) DO UPDATE SET seen_at = excluded.seen_at
                    """)
                let expire = try db.statement("DELETE FROM alert_rule_users WHERE rule_id = ? AND issue_id = ? AND seen_at < ?")
                let count = try db.statement("SELECT COUNT(*) FROM alert_rule_users WHERE rule_id = ? AND issue_id = ?")
                var totals: [Int64: Int64] = [:]
                for (issueID, users) in usersByIssue {
                    for user in users { try upsert.run([.int(ruleID), .int(issueID), .text(user), .int(now)]) }
                    try expire.run([.int(ruleID), .int(issueID), .int(now - windowMilliseconds)])
                    totals[issueID] = try count.query([.int(ruleID), .int(issueID)]) { $0.int(0) }.first ?? 0
                }
                return totals
            }
        }
    }

    package func releaseIsNew(projectID: Int64, release: String, since: Int64) async throws -> Bool {
        try await with { db in
            let firstSeen = try db.scalarInt(
                "SELECT MIN(first_seen) FROM releases WHERE project_id = ? AND version = ?", [.int(projectID), .text(release)])
            return firstSeen.map { $0 >= since } ?? true
        }
    }

    package func reserveNotification(projectID: Int64, hour: Int64, ceiling: Int64, now: Int64) async throws -> Bool {
        try await with { db in
            try db.transaction {
                try db.statement(
                    """
                    INSERT INTO alert_ceilings (project_id, hour, sent, suppressed, last_suppressed_at) VALUES (?, ?, 1, 0, 0)
                    ON CONFLICT (project_id, hour) DO UPDATE SET sent = sent + 1 WHERE sent < ?
                    """
                ).run([.int(projectID), .int(hour), .int(ceiling)])
                if db.changes > 0 { return true }
                try db.statement(
                    "UPDATE alert_ceilings SET suppressed = suppressed + 1, last_suppressed_at = ? WHERE project_id = ? AND hour = ?"
                ).run([.int(now), .int(projectID), .int(hour)])
                return false
            }
        }
    }

    package func countSuppressed(projectID: Int64, hour: Int64, count: Int64, now: Int64) async throws {
        try await with { db in
            try db.statement(
                """
                INSERT INTO alert_ceilings (project_id, hour, sent, suppressed, last_suppressed_at) VALUES (?, ?, 0, ?, ?)
                ON CONFLICT (project_id, hour) DO UPDATE SET suppressed = suppressed + excluded.suppressed,
                    last_suppressed_at = excluded.last_suppressed_at
                """
            ).run([.int(projectID), .int(hour), .int(count), .int(now)])
        }
    }

    package func takeSuppressed(quietSince: Int64) async throws -> [(projectID: Int64, count: Int64)] {
        try await with { db in
            try db.transaction {
                let rows = try db.statement(
                    "SELECT project_id, hour, suppressed FROM alert_ceilings WHERE suppressed > 0 AND last_suppressed_at <= ?"
                ).query([.int(quietSince)]) { (project: $0.int(0), hour: $0.int(1), count: $0.int(2)) }
                var totals: [Int64: Int64] = [:]
                let take = try db.statement("UPDATE alert_ceilings SET suppressed = suppressed - ? WHERE project_id = ? AND hour = ?")
                for row in rows {
                    try take.run([.int(row.count), .int(row.project), .int(row.hour)])
                    totals[row.project, default: 0] += row.count
                }
                return totals.sorted { $0.key < $1.key }.map { (projectID: $0.key, count: $0.value) }
            }
        }
    }

    package func prune(now: Int64, deliveryCutoff: Int64) async throws -> Int {
        let stale = now - AlertWindowBuckets.longestMilliseconds
        let pastHour = now / 3_600_000 - 2
        return try await with { db in
            try db.transaction {
                var deleted = 0
                for (sql, value) in [
                    ("DELETE FROM alert_rule_buckets WHERE bucket_start < ?", stale),
                    ("DELETE FROM alert_rule_users WHERE seen_at < ?", stale),
                    ("DELETE FROM alert_rule_state WHERE condition_active = 0 AND last_fired_at < ?", stale),
                    ("DELETE FROM alert_ceilings WHERE hour < ? AND suppressed = 0", pastHour),
                    (
                        """
                        DELETE FROM alert_delivery_attempts WHERE delivery_id IN (SELECT id FROM alert_deliveries
                            WHERE created_at < ? AND status IN ('delivered', 'failed', 'digested'))
                        """, deliveryCutoff
                    ),
                    ("DELETE FROM alert_deliveries WHERE created_at < ? AND status IN ('delivered', 'failed', 'digested')", deliveryCutoff),
                ] {
                    try db.statement(sql).run([.int(value)])
                    deleted += db.changes
                }
                return deleted
            }
        }
    }

    // MARK: Deliveries

    private static let deliveryColumns = """
        SELECT id, channel_id, rule_id, project_id, issue_id, notification, status, attempts, next_attempt_at, response_code,
            latency_ms, last_error, created_at, delivered_at, digest_id FROM alert_deliveries
        """

    private static func delivery(_ row: SQLiteStatement) -> AlertDelivery {
        AlertDelivery(
            id: row.int(0), channelID: row.int(1), ruleID: row.isNull(2) ? nil : row.int(2), projectID: row.isNull(3) ? nil : row.int(3),
            issueID: row.isNull(4) ? nil : row.int(4),
            notification: AlertNotification.decode(row.text(5) ?? "") ?? AlertNotification(kind: .test),
            status: AlertDelivery.Status(rawValue: row.text(6) ?? "") ?? .failed, attempts: row.int(7),
            nextAttemptAt: row.isNull(8) ? nil : row.int(8), responseCode: row.isNull(9) ? nil : row.int(9),
            latencyMilliseconds: row.isNull(10) ? nil : row.int(10), lastError: row.text(11), createdAt: row.int(12),
            deliveredAt: row.isNull(13) ? nil : row.int(13), digestID: row.isNull(14) ? nil : row.int(14))
    }

    package func enqueue(_ drafts: [AlertDelivery.Draft], now: Int64) async throws {
        guard !drafts.isEmpty else { return }
        try await with { db in
            try db.transaction {
                let insert = try db.statement(
                    """
                    INSERT INTO alert_deliveries (channel_id, rule_id, project_id, issue_id, notification, status, attempts,
                        next_attempt_at, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)
                    """)
                for draft in drafts {
                    try insert.run([
                        .int(draft.channelID), .optional(draft.ruleID), .optional(draft.notification.projectID),
                        .optional(draft.notification.issueID), .text(draft.notification.json),
                        .text(draft.digest ? AlertDelivery.Status.digest.rawValue : AlertDelivery.Status.pending.rawValue),
                        .int(draft.sendAt), .int(now),
                    ])
                }
            }
        }
    }

    package func claimDue(now: Int64, limit: Int, leaseUntil: Int64) async throws -> [AlertDelivery] {
        try await with { db in
            try db.transaction {
                let ids = try db.statement(
                    """
                    SELECT id FROM alert_deliveries WHERE (status = 'pending' AND next_attempt_at <= ?1)
                        OR (status = 'sending' AND lease_until <= ?1) ORDER BY next_attempt_at, id LIMIT ?2
                    """
                ).query([.int(now), .int(Int64(limit))]) { $0.int(0) }
                var claimed: [AlertDelivery] = []
                for id in ids {
                    try db.statement("UPDATE alert_deliveries SET status = 'sending', lease_until = ? WHERE id = ?").run([
                        .int(leaseUntil), .int(id),
                    ])
                    claimed += try db.statement(Self.deliveryColumns + " WHERE id = ?").query([.int(id)], Self.delivery)
                }
                return claimed
            }
        }
    }

    package func collectDigests(now: Int64) async throws -> Int {
        try await with { db in
            try db.transaction {
                let channels = try db.statement(
                    "SELECT DISTINCT channel_id FROM alert_deliveries WHERE status = 'digest' AND next_attempt_at <= ?"
                ).query([.int(now)]) { $0.int(0) }
                for channel in channels {
                    let held = try db.statement(
                        Self.deliveryColumns + " WHERE channel_id = ? AND status = 'digest' AND next_attempt_at <= ?"
                    )
                    .query([.int(channel), .int(now)], Self.delivery)
                    let digest = AlertDigest.notification(of: held.map(\.notification))
                    try db.statement(
                        """
                        INSERT INTO alert_deliveries (channel_id, project_id, notification, status, attempts, next_attempt_at, created_at)
                        VALUES (?, ?, ?, 'pending', 0, ?, ?)
                        """
                    ).run([.int(channel), .optional(digest.projectID), .text(digest.json), .int(now), .int(now)])
                    let digestID = db.lastInsertRowID
                    let mark = try db.statement("UPDATE alert_deliveries SET status = 'digested', digest_id = ? WHERE id = ?")
                    for delivery in held { try mark.run([.int(digestID), .int(delivery.id)]) }
                }
                return channels.count
            }
        }
    }

    package func record(_ attempt: AlertDelivery.Attempt) async throws {
        try await with { db in
            try db.transaction {
                try db.statement(
                    """
                    INSERT INTO alert_delivery_attempts (delivery_id, attempted_at, response_code, latency_ms, error, next_attempt_at, succeeded)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """
                ).run([
                    .int(attempt.deliveryID), .int(attempt.attemptedAt), .optional(attempt.responseCode), .int(attempt.latencyMilliseconds),
                    .optional(attempt.error), .optional(attempt.nextAttemptAt), .int(attempt.succeeded ? 1 : 0),
                ])
                let status: AlertDelivery.Status = attempt.succeeded ? .delivered : (attempt.nextAttemptAt == nil ? .failed : .pending)
                try db.statement(
                    """
                    UPDATE alert_deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ?, lease_until = NULL,
                        response_code = ?, latency_ms = ?, last_error = ?, delivered_at = ? WHERE id = ?
                    """
                ).run([
                    .text(status.rawValue), .optional(attempt.nextAttemptAt), .optional(attempt.responseCode),
                    .int(attempt.latencyMilliseconds), .optional(attempt.error), attempt.succeeded ? .int(attempt.attemptedAt) : .null,
                    .int(attempt.deliveryID),
                ])
            }
        }
    }

    package func deliveries(channelID: Int64, limit: Int) async throws -> [AlertDelivery] {
        try await with { db in
            try db.statement(Self.deliveryColumns + " WHERE channel_id = ? ORDER BY id DESC LIMIT ?")
                .query([.int(channelID), .int(Int64(limit))], Self.delivery)
        }
    }

    package func attempts(deliveryID: Int64) async throws -> [AlertDelivery.Attempt] {
        try await with { db in
            try db.statement(
                """
                SELECT delivery_id, attempted_at, response_code, latency_ms, error, next_attempt_at, succeeded
                FROM alert_delivery_attempts WHERE delivery_id = ? ORDER BY id
                """
            ).query([.int(deliveryID)]) { row in
                AlertDelivery.Attempt(
                    deliveryID: row.int(0), attemptedAt: row.int(1), responseCode: row.isNull(2) ? nil : row.int(2),
                    latencyMilliseconds: row.int(3), error: row.text(4), nextAttemptAt: row.isNull(5) ? nil : row.int(5),
                    succeeded: row.int(6) != 0)
            }
        }
    }
}
