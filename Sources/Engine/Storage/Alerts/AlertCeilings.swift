/// A project's own ceiling on alert notifications per hour, in place of the server's
/// `alert_ceiling_per_hour`. It is a `settings` row (`alert_ceiling_per_hour.project.<id>`), as
/// retention overrides are: every back end and every instance already reads that table, so it
/// needs no migration and another instance's change is seen on the next evaluation.
extension SettingStore {
    private static func alertCeilingKey(_ projectID: Int64) -> String { "alert_ceiling_per_hour.project.\(projectID)" }

    /// nil when the project follows the server's ceiling (no row, or a blank one).
    package func alertCeiling(projectID: Int64) async throws -> Int64? {
        try await setting(Self.alertCeilingKey(projectID)).flatMap { Int64($0) }
    }

    /// Sets the project's ceiling, or with nil returns it to the server's.
    package func setAlertCeiling(projectID: Int64, perHour: Int64?) async throws {
        try await setSetting(Self.alertCeilingKey(projectID), perHour.map(String.init) ?? "")
    }
}
