import NIOConcurrencyHelpers

/// How long events and logs are kept: the server-wide `retention_days`, `log_retention_days` and
/// `max_database_bytes`, and per-project overrides of the days. Read by the purger on every pass
/// and by ingest, which drops an event or log whose timestamp is already older than its project
/// keeps them (Relay does the same with its "timestamp" outcome: storing it would only hand it to
/// the next purge).
///
/// The overrides live in the `settings` table (`retention_days.project.<id>`,
/// `log_retention_days.project.<id>`), not in a new column: every back end and every instance
/// already reads that table, so no migration is needed and an instance picks up another one's
/// change on its next purge pass.
package final class RetentionPolicy: Sendable {
    /// Days one kind of data is kept: a server-wide default and per-project overrides.
    package final class Schedule: Sendable {
        /// Days kept when a project has no override; 0 keeps them forever.
        package let defaultDays: Int
        /// The settings-table key prefix of the overrides (`<prefix>.project.<id>`).
        let settingPrefix: String
        private let overrides = NIOLockedValueBox<[Int64: Int]>([:])

        init(defaultDays: Int, settingPrefix: String) {
            self.defaultDays = defaultDays
            self.settingPrefix = settingPrefix
        }

        /// The settings-table key of a project's override.
        package func settingKey(projectID: Int64) -> String { "\(settingPrefix).project.\(projectID)" }

        /// Days the project keeps this data (0: forever).
        package func days(projectID: Int64) -> Int {
            overrides.withLockedValue { $0[projectID] } ?? defaultDays
        }

        /// The project's own override, nil when it follows the server setting.
        package func override(projectID: Int64) -> Int? {
            overrides.withLockedValue { $0[projectID] }
        }

        /// Data stamped before this (milliseconds since the epoch) is past retention; nil when the
        /// project keeps it forever.
        package func cutoff(projectID: Int64, nowMilliseconds: Int64) -> Int64? {
            let days = days(projectID: projectID)
            guard days > 0 else { return nil }
            return nowMilliseconds - Int64(days) * 86_400_000
        }

        /// Sets or clears (nil) a project's override here and in the store.
        package func setOverride(_ days: Int?, projectID: Int64, store: any SettingStore) async throws {
            try await store.setSetting(settingKey(projectID: projectID), days.map(String.init) ?? "")
            overrides.withLockedValue { $0[projectID] = days }
        }

        /// Re-reads the overrides of these projects; a blank or unreadable value means the
        /// server setting.
        func reload(projectIDs: [Int64], from store: any SettingStore) async throws {
            var fresh: [Int64: Int] = [:]
            for id in projectIDs {
                if let text = try await store.setting(settingKey(projectID: id)), let days = Int(text),
                    (0...RetentionPolicy.maximumDays).contains(days)
                {
                    fresh[id] = days
                }
            }
            overrides.withLockedValue { $0 = fresh }
        }
    }

    /// Sentry keeps logs 30 days.
    package static let defaultLogDays = 30
    /// The longest a project may keep events (Sentry's own plans stop at 90 days; self-hosted
    /// operators keep more, so the bound only catches typos).
    package static let maximumDays = 36_500

    /// Events: `retention_days` and the projects' overrides.
    package let events: Schedule
    /// Logs have their own retention, as in Sentry: they are many and small, and read for days,
    /// not months.
    package let logs: Schedule
    /// Purge the oldest events while the database holds more than this; nil for no cap. SQLite
    /// only: PostgreSQL's sizes count dead tuples until VACUUM, so a cap would over-delete.
    package let maxDatabaseBytes: Int64?

    package init(defaultDays: Int = 90, maxDatabaseBytes: Int64? = nil, defaultLogDays: Int = RetentionPolicy.defaultLogDays) {
        self.events = Schedule(defaultDays: defaultDays, settingPrefix: "retention_days")
        self.logs = Schedule(defaultDays: defaultLogDays, settingPrefix: "log_retention_days")
        self.maxDatabaseBytes = maxDatabaseBytes
    }

    /// The events' schedule, by the names the purger, ingest and the admin surfaces use.
    package var defaultDays: Int { events.defaultDays }

    package func days(projectID: Int64) -> Int { events.days(projectID: projectID) }

    package func override(projectID: Int64) -> Int? { events.override(projectID: projectID) }

    package func cutoff(projectID: Int64, nowMilliseconds: Int64) -> Int64? {
        events.cutoff(projectID: projectID, nowMilliseconds: nowMilliseconds)
    }

    package func setOverride(_ days: Int?, projectID: Int64, store: any SettingStore) async throws {
        try await events.setOverride(days, projectID: projectID, store: store)
    }

    /// True when an event with this timestamp is already past its project's retention.
    package func isExpired(timestampMilliseconds: Int64, projectID: Int64, nowMilliseconds: Int64) -> Bool {
        guard let cutoff = cutoff(projectID: projectID, nowMilliseconds: nowMilliseconds) else { return false }
        return timestampMilliseconds < cutoff
    }

    /// Validates a value given through the API, CLI or settings.
    package static func validatedDays(_ days: Int) throws(AdminError) -> Int {
        guard (0...maximumDays).contains(days) else {
            throw .invalid("retention days must be 0 (keep forever) to \(maximumDays)")
        }
        return days
    }

    /// Re-reads every project's overrides, of events and of logs.
    package func reload(from store: any ProjectStore & SettingStore) async throws {
        let ids = try await store.projects().map(\.id)
        try await events.reload(projectIDs: ids, from: store)
        try await logs.reload(projectIDs: ids, from: store)
    }
}
