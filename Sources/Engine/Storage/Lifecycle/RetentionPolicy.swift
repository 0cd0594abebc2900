import NIOConcurrencyHelpers

/// How long events are kept: the server-wide `retention_days` and `max_database_bytes`, and
/// per-project overrides of the days. Read by the purger on every pass and by ingest, which
/// drops an event whose timestamp is already older than its project keeps events (Relay does the
/// same with its "timestamp" outcome: storing it would only hand it to the next purge).
///
/// The overrides live in the `settings` table (`retention_days.project.<id>`), not in a new
/// column: every back end and every instance already reads that table, so no migration is needed
/// and an instance picks up another one's change on its next purge pass.
package final class RetentionPolicy: Sendable {
    /// The settings-table key of a project's override.
    package static func settingKey(projectID: Int64) -> String { "retention_days.project.\(projectID)" }
    /// The settings-table key of a project's log retention override.
    package static func logSettingKey(projectID: Int64) -> String { "log_retention_days.project.\(projectID)" }
    /// Sentry keeps logs 30 days.
    package static let defaultLogDays = 30
    /// The longest a project may keep events (Sentry's own plans stop at 90 days; self-hosted
    /// operators keep more, so the bound only catches typos).
    package static let maximumDays = 36_500

    /// Days events are kept when a project has no override; 0 keeps them forever.
    package let defaultDays: Int
    /// Purge the oldest events while the database holds more than this; nil for no cap. SQLite
    /// only: PostgreSQL's sizes count dead tuples until VACUUM, so a cap would over-delete.
    package let maxDatabaseBytes: Int64?
    /// Days logs are kept when a project has no log override; 0 keeps them forever. Logs have
    /// their own retention, as in Sentry: they are many and small, and read for days, not months.
    package let defaultLogDays: Int
    private let overrides = NIOLockedValueBox<[Int64: Int]>([:])
    private let logOverrides = NIOLockedValueBox<[Int64: Int]>([:])

    package init(defaultDays: Int = 90, maxDatabaseBytes: Int64? = nil, defaultLogDays: Int = RetentionPolicy.defaultLogDays) {
        self.defaultDays = defaultDays
        self.maxDatabaseBytes = maxDatabaseBytes
        self.defaultLogDays = defaultLogDays
    }

    /// Days a project keeps events (0: forever).
    package func days(projectID: Int64) -> Int {
        overrides.withLockedValue { $0[projectID] } ?? defaultDays
    }

    /// The project's own override, nil when it follows the server setting.
    package func override(projectID: Int64) -> Int? {
        overrides.withLockedValue { $0[projectID] }
    }

    /// Events received before this (milliseconds since the epoch) are past retention; nil when
    /// the project keeps events forever.
    package func cutoff(projectID: Int64, nowMilliseconds: Int64) -> Int64? {
        let days = days(projectID: projectID)
        guard days > 0 else { return nil }
        return nowMilliseconds - Int64(days) * 86_400_000
    }

    /// True when an event with this timestamp is already past its project's retention.
    package func isExpired(timestampMilliseconds: Int64, projectID: Int64, nowMilliseconds: Int64) -> Bool {
        guard let cutoff = cutoff(projectID: projectID, nowMilliseconds: nowMilliseconds) else { return false }
        return timestampMilliseconds < cutoff
    }

    /// Days a project keeps logs (0: forever).
    package func logDays(projectID: Int64) -> Int {
        logOverrides.withLockedValue { $0[projectID] } ?? defaultLogDays
    }

    /// The project's own log retention, nil when it follows the server setting.
    package func logOverride(projectID: Int64) -> Int? {
        logOverrides.withLockedValue { $0[projectID] }
    }

    /// Logs stamped before this (ms since the epoch) are past the project's log retention; nil
    /// when it keeps logs forever.
    package func logCutoff(projectID: Int64, nowMilliseconds: Int64) -> Int64? {
        let days = logDays(projectID: projectID)
        guard days > 0 else { return nil }
        return nowMilliseconds - Int64(days) * 86_400_000
    }

    /// Sets or clears (nil) a project's log retention here and in the store.
    package func setLogOverride(_ days: Int?, projectID: Int64, store: any SettingStore) async throws {
        try await store.setSetting(Self.logSettingKey(projectID: projectID), days.map(String.init) ?? "")
        logOverrides.withLockedValue { $0[projectID] = days }
    }

    /// Validates a value given through the API, CLI or settings.
    package static func validatedDays(_ days: Int) throws(AdminError) -> Int {
        guard (0...maximumDays).contains(days) else {
            throw .invalid("retention days must be 0 (keep forever) to \(maximumDays)")
        }
        return days
    }

    /// Sets or clears (nil) a project's override here and in the store.
    package func setOverride(_ days: Int?, projectID: Int64, store: any SettingStore) async throws {
        try await store.setSetting(Self.settingKey(projectID: projectID), days.map(String.init) ?? "")
        overrides.withLockedValue { $0[projectID] = days }
    }

    /// Re-reads every project's overrides; a blank or unreadable value means the server setting.
    package func reload(from store: any ProjectStore & SettingStore) async throws {
        var fresh: [Int64: Int] = [:]
        var freshLogs: [Int64: Int] = [:]
        for project in try await store.projects() {
            if let text = try await store.setting(Self.settingKey(projectID: project.id)), let days = Int(text),
                (0...Self.maximumDays).contains(days)
            {
                fresh[project.id] = days
            }
            if let text = try await store.setting(Self.logSettingKey(projectID: project.id)), let days = Int(text),
                (0...Self.maximumDays).contains(days)
            {
                freshLogs[project.id] = days
            }
        }
        overrides.withLockedValue { $0 = fresh }
        logOverrides.withLockedValue { $0 = freshLogs }
    }
}
