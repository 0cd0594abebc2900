package import Logging
import NIOCore
import PitModel
package import PitStorage
import PostgresNIO

/// The alert store over PostgreSQL, on a few connections of its own. Several pitd instances share
/// it: a cooldown, a window, a ceiling and a delivery claim are each one atomic statement (a
/// conditional upsert, `FOR UPDATE SKIP LOCKED`), so two instances never both notify.
package final class PostgresAlertStore: AlertStore {
    private let connections: PostgresAdminConnections
    private let logger: Logger

    /// The database must be migrated already (`PostgresAdminStore.open` does it).
    package init(url: PostgresDatabaseURL, logger: Logger) throws {
        connections = PostgresAdminConnections(configuration: try url.connectionConfiguration(), limit: 2, logger: logger)
        self.logger = logger
    }

    package func close() async {
        await connections.close()
    }

    private func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await connections.withConnection { try await $0.query(query, logger: logger).collect() }
    }

    private func transaction<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await connections.withConnection { db in
            try await db.query("BEGIN", logger: logger)
            do {
                let result = try await body(db)
                try await db.query("COMMIT", logger: logger)
                return result
            } catch {
                _ = try? await db.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    // MARK: Channels

    private static let channelColumns =
        "SELECT id, name, kind, url, recipient, secret IS NOT NULL, digest_seconds, created_at FROM alert_channels"

    private static func channels(_ rows: [PostgresRow]) throws -> [AlertChannel] {
        try rows.map { row in
            let (id, name, kind, url, recipient, hasSecret, digest, created) = try row.decode(
                (Int64, String, String, String, String?, Bool, Int64, Int64).self)
            return AlertChannel(
                id: id, name: name, kind: AlertChannel.Kind(rawValue: kind) ?? .webhook, url: url, recipient: recipient,
                hasSecret: hasSecret,
                digestSeconds: digest, createdAt: created)
        }
    }

    package func createChannel(_ draft: AlertChannel.Draft, sealedSecret: [UInt8]?, organizationID: Int64) async throws -> AlertChannel {
        let draft = try draft.validated()
        let secret = sealedSecret.map { ByteBuffer(bytes: $0) }
        let now = ClockTime.nowMilliseconds
        let id = try await rows(
            """
            INSERT INTO alert_channels (organization_id, name, kind, url, recipient, secret, digest_seconds, created_at)
            VALUES (\(organizationID), \(draft.name), \(draft.kind.rawValue), \(draft.url), \(draft.recipient), \(secret),
                    \(draft.digestSeconds), \(now))
            RETURNING id
            """
        ).first!.decode(Int64.self)
        return try await channel(id: id)!
    }

    package func channels() async throws -> [AlertChannel] {
        try Self.channels(await rows(PostgresQuery(unsafeSQL: Self.channelColumns + " ORDER BY id")))
    }

    package func channel(id: Int64) async throws -> AlertChannel? {
        var binds = PostgresBindings()
        binds.append(id)
        return try Self.channels(await rows(PostgresQuery(unsafeSQL: Self.channelColumns + " WHERE id = $1", binds: binds))).first
    }

    package func sealedSecret(channelID: Int64) async throws -> [UInt8]? {
        guard let row = try await rows("SELECT secret FROM alert_channels WHERE id = \(channelID)").first else { return nil }
        return try row.decode(ByteBuffer?.self).map { Array($0.readableBytesView) }
    }

    package func deleteChannel(id: Int64) async throws -> Bool {
        try await transaction { db in
            let deleted = try await db.query("DELETE FROM alert_channels WHERE id = \(id) RETURNING id", logger: logger).collect()
            guard !deleted.isEmpty else { return false }
            try await db.query(
                "DELETE FROM alert_rule_state WHERE rule_id IN (SELECT id FROM alert_rules WHERE channel_id = \(id))", logger: logger)
            try await db.query(
                "DELETE FROM alert_rule_users WHERE rule_id IN (SELECT id FROM alert_rules WHERE channel_id = \(id))", logger: logger)
            try await db.query(
                "DELETE FROM alert_rule_buckets WHERE rule_id IN (SELECT id FROM alert_rules WHERE channel_id = \(id))", logger: logger)
            try await db.query("DELETE FROM alert_rules WHERE channel_id = \(id)", logger: logger)
            try await db.query(
                "DELETE FROM alert_delivery_attempts WHERE delivery_id IN (SELECT id FROM alert_deliveries WHERE channel_id = \(id))",
                logger: logger)
            try await db.query("DELETE FROM alert_deliveries WHERE channel_id = \(id)", logger: logger)
            return true
        }
    }

    // MARK: Rules

    private static let ruleColumns = """
        SELECT id, project_id, name, trigger, threshold, window_seconds, channel_id, min_level, environment, tag_key, tag_value,
            tag_match, title_contains, cooldown_seconds, created_at FROM alert_rules
        """

    private static func rules(_ rows: [PostgresRow]) throws -> [AlertRule] {
        try rows.map { row in
            let (id, project, name, trigger, threshold, window, channel) = try row.decode(
                (Int64, Int64, String, String, Int64, Int64, Int64).self)
            let cells = row.makeRandomAccess()
            let level = try cells[7].decode(Int64?.self)
            let environment = try cells[8].decode(String?.self)
            let tagKey = try cells[9].decode(String?.self)
            let tagValue = try cells[10].decode(String?.self)
            let tagMatch = try cells[11].decode(String.self)
            let title = try cells[12].decode(String?.self)
            let cooldown = try cells[13].decode(Int64.self)
            let created = try cells[14].decode(Int64.self)
            return AlertRule(
                id: id, projectID: project, name: name, trigger: AlertRule.Trigger(rawValue: trigger) ?? .newIssue, threshold: threshold,
                windowSeconds: window, channelID: channel,
                filters: AlertRule.Filters(
                    minimumLevel: level.flatMap { Level(rawValue: Int($0)) }, environment: environment, tagKey: tagKey, tagValue: tagValue,
                    tagMatch: AlertRule.TagMatch(rawValue: tagMatch) ?? .equals, titleContains: title),
                cooldownSeconds: cooldown, createdAt: created)
        }
    }

    private func checkReferences(_ draft: AlertRule.Draft, _ db: PostgresConnection) async throws {
        let projects = try await db.query("SELECT 1 FROM projects WHERE id = \(draft.projectID)", logger: logger).collect()
        guard !projects.isEmpty else { throw Project.missing(draft.projectID) }
        let channels = try await db.query("SELECT 1 FROM alert_channels WHERE id = \(draft.channelID)", logger: logger).collect()
        guard !channels.isEmpty else { throw AlertChannel.missing(draft.channelID) }
    }

    package func createRule(_ draft: AlertRule.Draft) async throws -> AlertRule {
        let draft = try draft.validated()
        let level = draft.filters.minimumLevel.map { Int64($0.rawValue) }
        let id = try await transaction { db in
            try await checkReferences(draft, db)
            return try await db.query(
                """
                INSERT INTO alert_rules (project_id, name, trigger, threshold, window_seconds, channel_id, min_level, environment, tag_key,
                    tag_value, tag_match, title_contains, cooldown_seconds, created_at)
                VALUES (\(draft.projectID), \(draft.name), \(draft.trigger.rawValue), \(draft.threshold), \(draft.windowSeconds),
                    \(draft.channelID), \(level), \(draft.filters.environment), \(draft.filters.tagKey), \(draft.filters.tagValue),
                    \(draft.filters.tagMatch.rawValue), \(draft.filters.titleContains), \(draft.cooldownSeconds), \(ClockTime.nowMilliseconds))
                RETURNING id
                """, logger: logger
            ).collect().first!.decode(Int64.self)
        }
        return try await rule(id: id)!
    }

    package func rules(projectID: Int64?) async throws -> [AlertRule] {
        var binds = PostgresBindings()
        guard let projectID else { return try Self.rules(await rows(PostgresQuery(unsafeSQL: Self.ruleColumns + " ORDER BY id"))) }
        binds.append(projectID)
        return try Self.rules(await rows(PostgresQuery(unsafeSQL: Self.ruleColumns + " WHERE project_id = $1 ORDER BY id", binds: binds)))
    }

    package func rule(id: Int64) async throws -> AlertRule? {
        var binds = PostgresBindings()
        binds.append(id)
        return try Self.rules(await rows(PostgresQuery(unsafeSQL: Self.ruleColumns + " WHERE id = $1", binds: binds))).first
    }

    package func updateRule(id: Int64, _ draft: AlertRule.Draft) async throws -> AlertRule? {
        let draft = try draft.validated()
        let level = draft.filters.minimumLevel.map { Int64($0.rawValue) }
        let updated = try await transaction { db in
            try await checkReferences(draft, db)
            return try await db.query(
                """
                UPDATE alert_rules SET name = \(draft.name), trigger = \(draft.trigger.rawValue), threshold = \(draft.threshold),
                    window_seconds = \(draft.windowSeconds), channel_id = \(draft.channelID), min_level = \(level),
                    environment = \(draft.filters.environment), tag_key = \(draft.filters.tagKey), tag_value = \(draft.filters.tagValue),
                    tag_match = \(draft.filters.tagMatch.rawValue), title_contains = \(draft.filters.titleContains),
                    cooldown_seconds = \(draft.cooldownSeconds)
                WHERE id = \(id) AND project_id = \(draft.projectID) RETURNING id
                """, logger: logger
            ).collect()
        }
        return updated.isEmpty ? nil : try await rule(id: id)
    }

    package func deleteRule(id: Int64) async throws -> Bool {
        try await transaction { db in
            let deleted = try await db.query("DELETE FROM alert_rules WHERE id = \(id) RETURNING id", logger: logger).collect()
            guard !deleted.isEmpty else { return false }
            try await db.query("DELETE FROM alert_rule_state WHERE rule_id = \(id)", logger: logger)
            try await db.query("DELETE FROM alert_rule_users WHERE rule_id = \(id)", logger: logger)
            try await db.query("DELETE FROM alert_rule_buckets WHERE rule_id = \(id)", logger: logger)
            return true
        }
    }

    // MARK: Evaluation

    package func claimFiring(ruleID: Int64, issueID: Int64, now: Int64, cooldownMilliseconds: Int64) async throws -> Bool {
        let threshold = now - cooldownMilliseconds
        return try await !rows(
            """
            INSERT INTO alert_rule_state (rule_id, issue_id, last_fired_at) VALUES (\(ruleID), \(issueID), \(now))
            ON CONFLICT (rule_id, issue_id) DO UPDATE SET last_fired_at = excluded.last_fired_at
            WHERE alert_rule_state.last_fired_at IS NULL OR alert_rule_state.last_fired_at <= \(threshold)
            RETURNING rule_id
            """
        ).isEmpty
    }

    package func addToWindows(
        ruleID: Int64, counts: [(issueID: Int64, count: Int64)], now: Int64, windowMilliseconds: Int64
    ) async throws -> [Int64: Int64] {
        guard !counts.isEmpty else { return [:] }
        let bucket = AlertWindowBuckets.start(now: now, windowMilliseconds: windowMilliseconds)
        let expired = AlertWindowBuckets.expired(now: now, windowMilliseconds: windowMilliseconds)
        let issues = counts.map(\.issueID)
        let added = counts.map(\.count)
        return try await transaction { db in
            // Sorted, so that two instances adding to the same issues lock their rows in one order.
            try await db.query(
                """
                INSERT INTO alert_rule_buckets (rule_id, issue_id, bucket_start, count)
                SELECT \(ruleID), i, \(bucket), c FROM unnest(\(issues)::BIGINT[], \(added)::BIGINT[]) AS n(i, c) ORDER BY i
                ON CONFLICT (rule_id, issue_id, bucket_start) DO UPDATE SET count = alert_rule_buckets.count + excluded.count
                """, logger: logger)
            try await db.query(
                "DELETE FROM alert_rule_buckets WHERE rule_id = \(ruleID) AND issue_id = ANY(\(issues)) AND bucket_start <= \(expired)",
                logger: logger)
            var totals: [Int64: Int64] = [:]
            for try await (issueID, total) in try await db.query(
                """
                SELECT issue_id, SUM(count)::BIGINT FROM alert_rule_buckets WHERE rule_id = \(ruleID) AND issue_id = ANY(\(issues))
                GROUP BY issue_id
                """, logger: logger
            ).decode((Int64, Int64).self) {
                totals[issueID] = total
            }
            return totals
        }
    }

    package func transitionCondition(ruleID: Int64, active: Bool) async throws -> Bool {
        try await !rows(
            """
            INSERT INTO alert_rule_state (rule_id, issue_id, last_fired_at, condition_active) VALUES (\(ruleID), 0, NULL, \(active))
            ON CONFLICT (rule_id, issue_id) DO UPDATE SET condition_active = excluded.condition_active
            WHERE alert_rule_state.condition_active <> excluded.condition_active
            RETURNING rule_id
            """
        ).isEmpty
    }

    package func addUsers(
        ruleID: Int64, usersByIssue: [(issueID: Int64, users: [String])], now: Int64, windowMilliseconds: Int64
    ) async throws -> [Int64: Int64] {
        guard !usersByIssue.isEmpty else { return [:] }
        let expired = now - windowMilliseconds
        let issues = usersByIssue.flatMap { entry in entry.users.map { _ in entry.issueID } }
        let users = usersByIssue.flatMap(\.users)
        let touched = usersByIssue.map(\.issueID)
        return try await transaction { db in
            try await db.query(
                """
                INSERT INTO alert_rule_users (rule_id, issue_id, user_key, seen_at)
                SELECT \(ruleID), i, u, \(now) FROM unnest(\(issues)::BIGINT[], \(users)::TEXT[]) AS n(i, u) ORDER BY i, u
                ON CONFLICT (rule_id, issue_id, user_key) DO UPDATE SET seen_at = excluded.seen_at
                """, logger: logger)
            try await db.query(
                "DELETE FROM alert_rule_users WHERE rule_id = \(ruleID) AND issue_id = ANY(\(touched)) AND seen_at < \(expired)",
                logger: logger)
            var totals: [Int64: Int64] = [:]
            for try await (issueID, count) in try await db.query(
                """
                SELECT issue_id, COUNT(*)::BIGINT FROM alert_rule_users WHERE rule_id = \(ruleID) AND issue_id = ANY(\(touched))
                GROUP BY issue_id
                """, logger: logger
            ).decode((Int64, Int64).self) {
                totals[issueID] = count
            }
            return totals
        }
    }

    package func releaseIsNew(projectID: Int64, release: String, since: Int64) async throws -> Bool {
        let firstSeen = try await rows(
            PostgresQuery(
                unsafeSQL: "SELECT MIN(first_seen) FROM \(PostgresCounters.allReleases) r WHERE r.project_id = $1 AND r.version = $2",
                binds: {
                    var binds = PostgresBindings()
                    binds.append(projectID)
                    binds.append(release)
                    return binds
                }())
        ).first?.decode(Int64?.self)
        return (firstSeen ?? nil).map { $0 >= since } ?? true
    }

    package func reserveNotification(projectID: Int64, hour: Int64, ceiling: Int64, now: Int64) async throws -> Bool {
        let taken = try await rows(
            """
            INSERT INTO alert_ceilings (project_id, hour, sent, suppressed, last_suppressed_at) VALUES (\(projectID), \(hour), 1, 0, 0)
            ON CONFLICT (project_id, hour) DO UPDATE SET sent = alert_ceilings.sent + 1 WHERE alert_ceilings.sent < \(ceiling)
            RETURNING sent
            """)
        if !taken.isEmpty { return true }
        try await countSuppressed(projectID: projectID, hour: hour, count: 1, now: now)
        return false
    }

    package func countSuppressed(projectID: Int64, hour: Int64, count: Int64, now: Int64) async throws {
        _ = try await rows(
            """
            INSERT INTO alert_ceilings (project_id, hour, sent, suppressed, last_suppressed_at) VALUES (\(projectID), \(hour), 0, \(count), \(now))
            ON CONFLICT (project_id, hour) DO UPDATE SET suppressed = alert_ceilings.suppressed + excluded.suppressed,
                last_suppressed_at = excluded.last_suppressed_at
            """)
    }

    package func takeSuppressed(quietSince: Int64) async throws -> [(projectID: Int64, count: Int64)] {
        // The old value comes from the locked row itself: two instances never take the same count.
        let taken = try await rows(
            """
            WITH due AS (SELECT project_id, hour, suppressed FROM alert_ceilings
                         WHERE suppressed > 0 AND last_suppressed_at <= \(quietSince) FOR UPDATE SKIP LOCKED)
            UPDATE alert_ceilings c SET suppressed = c.suppressed - due.suppressed FROM due
            WHERE c.project_id = due.project_id AND c.hour = due.hour
            RETURNING c.project_id, due.suppressed
            """)
        var totals: [Int64: Int64] = [:]
        for row in taken {
            let (project, count) = try row.decode((Int64, Int64).self)
            totals[project, default: 0] += count
        }
        return totals.sorted { $0.key < $1.key }.map { (projectID: $0.key, count: $0.value) }
    }

    package func prune(now: Int64, deliveryCutoff: Int64) async throws -> Int {
        let stale = now - AlertWindowBuckets.longestMilliseconds
        let pastHour = now / 3_600_000 - 2
        let finished = "status IN ('delivered', 'failed', 'digested')"
        let deletions = [
            "DELETE FROM alert_rule_buckets WHERE bucket_start < \(stale)",
            "DELETE FROM alert_rule_users WHERE seen_at < \(stale)",
            "DELETE FROM alert_rule_state WHERE NOT condition_active AND last_fired_at < \(stale)",
            "DELETE FROM alert_ceilings WHERE hour < \(pastHour) AND suppressed = 0",
            """
            DELETE FROM alert_delivery_attempts WHERE delivery_id IN
                (SELECT id FROM alert_deliveries WHERE created_at < \(deliveryCutoff) AND \(finished))
            """,
            "DELETE FROM alert_deliveries WHERE created_at < \(deliveryCutoff) AND \(finished)",
        ]
        return try await transaction { db in
            var deleted = 0
            for deletion in deletions {
                // Only integers are interpolated above, so the text is safe to send as it is.
                let counted = PostgresQuery(unsafeSQL: "WITH gone AS (\(deletion) RETURNING 1) SELECT COUNT(*)::BIGINT FROM gone")
                deleted += Int(try await db.query(counted, logger: logger).collect().first?.decode(Int64.self) ?? 0)
            }
            return deleted
        }
    }

    // MARK: Deliveries

    private static let deliveryColumns = """
        SELECT id, channel_id, rule_id, project_id, issue_id, notification, status, attempts, next_attempt_at, response_code,
            latency_ms, last_error, created_at, delivered_at, digest_id FROM alert_deliveries
        """

    private static func deliveries(_ rows: [PostgresRow]) throws -> [AlertDelivery] {
        try rows.map { row in
            let cells = row.makeRandomAccess()
            return AlertDelivery(
                id: try cells[0].decode(Int64.self), channelID: try cells[1].decode(Int64.self), ruleID: try cells[2].decode(Int64?.self),
                projectID: try cells[3].decode(Int64?.self), issueID: try cells[4].decode(Int64?.self),
                notification: AlertNotification.decode(try cells[5].decode(String.self)) ?? AlertNotification(kind: .test),
                status: AlertDelivery.Status(rawValue: try cells[6].decode(String.self)) ?? .failed,
                attempts: try cells[7].decode(Int64.self),
                nextAttemptAt: try cells[8].decode(Int64?.self), responseCode: try cells[9].decode(Int64?.self),
                latencyMilliseconds: try cells[10].decode(Int64?.self), lastError: try cells[11].decode(String?.self),
                createdAt: try cells[12].decode(Int64.self), deliveredAt: try cells[13].decode(Int64?.self),
                digestID: try cells[14].decode(Int64?.self))
        }
    }

    package func enqueue(_ drafts: [AlertDelivery.Draft], now: Int64) async throws {
        guard !drafts.isEmpty else { return }
        let statuses = drafts.map { $0.digest ? AlertDelivery.Status.digest.rawValue : AlertDelivery.Status.pending.rawValue }
        _ = try await rows(
            """
            INSERT INTO alert_deliveries (channel_id, rule_id, project_id, issue_id, notification, status, attempts, next_attempt_at, created_at)
            SELECT c, r, p, i, n, s, 0, t, \(now)
            FROM unnest(\(drafts.map(\.channelID)), \(PostgresNullableArray(drafts.map(\.ruleID))),
                        \(PostgresNullableArray(drafts.map(\.notification.projectID))), \(PostgresNullableArray(drafts.map(\.notification.issueID))),
                        \(drafts.map(\.notification.json)), \(statuses), \(drafts.map(\.sendAt))) AS d(c, r, p, i, n, s, t)
            """)
    }

    package func claimDue(now: Int64, limit: Int, leaseUntil: Int64) async throws -> [AlertDelivery] {
        let claimed = try await rows(
            """
            WITH due AS (SELECT id FROM alert_deliveries
                         WHERE (status = 'pending' AND next_attempt_at <= \(now)) OR (status = 'sending' AND lease_until <= \(now))
                         ORDER BY next_attempt_at, id LIMIT \(Int64(limit)) FOR UPDATE SKIP LOCKED)
            UPDATE alert_deliveries d SET status = 'sending', lease_until = \(leaseUntil) FROM due WHERE d.id = due.id RETURNING d.id
            """)
        let ids = try claimed.map { try $0.decode(Int64.self) }
        guard !ids.isEmpty else { return [] }
        var binds = PostgresBindings()
        binds.append(ids)
        return try Self.deliveries(
            await rows(PostgresQuery(unsafeSQL: Self.deliveryColumns + " WHERE id = ANY($1) ORDER BY id", binds: binds)))
    }

    package func collectDigests(now: Int64) async throws -> Int {
        try await transaction { db in
            let held = try Self.deliveries(
                await db.query(
                    PostgresQuery(
                        unsafeSQL: Self.deliveryColumns
                            + " WHERE status = 'digest' AND next_attempt_at <= $1 ORDER BY id FOR UPDATE SKIP LOCKED",
                        binds: {
                            var binds = PostgresBindings()
                            binds.append(now)
                            return binds
                        }()), logger: logger
                ).collect())
            let byChannel = Dictionary(grouping: held, by: \.channelID)
            for (channel, deliveries) in byChannel.sorted(by: { $0.key < $1.key }) {
                let digest = AlertDigest.notification(of: deliveries.map(\.notification))
                let digestID = try await db.query(
                    """
                    INSERT INTO alert_deliveries (channel_id, project_id, notification, status, attempts, next_attempt_at, created_at)
                    VALUES (\(channel), \(digest.projectID), \(digest.json), 'pending', 0, \(now), \(now)) RETURNING id
                    """, logger: logger
                ).collect().first!.decode(Int64.self)
                try await db.query(
                    "UPDATE alert_deliveries SET status = 'digested', digest_id = \(digestID) WHERE id = ANY(\(deliveries.map(\.id)))",
                    logger: logger)
            }
            return byChannel.count
        }
    }

    package func record(_ attempt: AlertDelivery.Attempt) async throws {
        let status: AlertDelivery.Status = attempt.succeeded ? .delivered : (attempt.nextAttemptAt == nil ? .failed : .pending)
        let deliveredAt: Int64? = attempt.succeeded ? attempt.attemptedAt : nil
        try await transaction { db in
            try await db.query(
                """
                INSERT INTO alert_delivery_attempts (delivery_id, attempted_at, response_code, latency_ms, error, next_attempt_at, succeeded)
                VALUES (\(attempt.deliveryID), \(attempt.attemptedAt), \(attempt.responseCode), \(attempt.latencyMilliseconds),
                        \(attempt.error), \(attempt.nextAttemptAt), \(attempt.succeeded ? Int64(1) : 0))
                """, logger: logger)
            try await db.query(
                """
                UPDATE alert_deliveries SET status = \(status.rawValue), attempts = attempts + 1, next_attempt_at = \(attempt.nextAttemptAt),
                    lease_until = NULL, response_code = \(attempt.responseCode), latency_ms = \(attempt.latencyMilliseconds),
                    last_error = \(attempt.error), delivered_at = \(deliveredAt)
                WHERE id = \(attempt.deliveryID)
                """, logger: logger)
        }
    }

    package func deliveries(channelID: Int64, limit: Int) async throws -> [AlertDelivery] {
        var binds = PostgresBindings()
        binds.append(channelID)
        binds.append(Int64(limit))
        return try Self.deliveries(
            await rows(PostgresQuery(unsafeSQL: Self.deliveryColumns + " WHERE channel_id = $1 ORDER BY id DESC LIMIT $2", binds: binds)))
    }

    package func attempts(deliveryID: Int64) async throws -> [AlertDelivery.Attempt] {
        try await rows(
            """
            SELECT delivery_id, attempted_at, response_code, latency_ms, error, next_attempt_at, succeeded
            FROM alert_delivery_attempts WHERE delivery_id = \(deliveryID) ORDER BY id
            """
        ).map { row in
            let (delivery, at, code, latency, error, next, succeeded) = try row.decode(
                (Int64, Int64, Int64?, Int64, String?, Int64?, Int64).self)
            return AlertDelivery.Attempt(
                deliveryID: delivery, attemptedAt: at, responseCode: code, latencyMilliseconds: latency, error: error, nextAttemptAt: next,
                succeeded: succeeded != 0)
        }
    }
}
