package import Foundation

/// When a monitor expects its check-ins: a crontab line read in the monitor's time zone, or a
/// fixed interval counted from the last check-in.
package enum MonitorSchedule: Sendable, Equatable {
    package enum Unit: String, Sendable, CaseIterable {
        case minute, hour, day, week, month, year
    }

    case crontab(CronExpression, text: String)
    case interval(Int, Unit)

    /// Sentry's `schedule_type`.
    package var type: String {
        switch self {
        case .crontab: "crontab"
        case .interval: "interval"
        }
    }

    /// The next expected check-in after `milliseconds`: the next crontab run after the start of
    /// that minute (a job that checks in a little late is not expected again at once), or the
    /// interval added to it. Nil when the crontab never runs.
    package func next(afterMilliseconds milliseconds: Int64, timeZone: TimeZone) -> Int64? {
        switch self {
        case .crontab(let expression, _):
            let minute = CivilDate.floorDiv(milliseconds, 60000) * 60
            return expression.next(after: minute, timeZone: timeZone).map { $0 * 1000 }
        case .interval(let value, let unit):
            let count = Int64(value)
            switch unit {
            case .minute: return milliseconds + count * 60000
            case .hour: return milliseconds + count * 3_600_000
            case .day: return milliseconds + count * 86_400_000
            case .week: return milliseconds + count * 7 * 86_400_000
            case .month, .year:
                // Calendar months in UTC, the day clamped to the target month's length.
                let days = CivilDate.floorDiv(milliseconds, 86_400_000)
                let within = milliseconds - days * 86_400_000
                let date = CivilDate(days: days)
                let months = (date.year * 12 + date.month - 1) + Int(unit == .month ? count : count * 12)
                let year = months / 12
                let month = months % 12 + 1
                let day = min(date.day, CivilDate.daysInMonth(year: year, month: month))
                return CivilDate.days(year: year, month: month, day: day) * 86_400_000 + within
            }
        }
    }
}

/// A monitor's `monitor_config`, as an SDK sends it (upserted with every check-in that has one).
package struct MonitorConfig: Sendable, Equatable {
    package var schedule: MonitorSchedule
    /// An IANA name; `UTC` when none was given.
    package var timezone: String
    /// Minutes a check-in may be late before it is missed (Sentry's default: 1).
    package var checkinMargin: Int?
    /// Minutes an `in_progress` check-in may run before it times out (Sentry's default: 30).
    package var maxRuntime: Int?
    package var failureIssueThreshold: Int
    package var recoveryThreshold: Int

    package static let defaultMargin = 1
    package static let defaultMaxRuntime = 30
    /// Sentry's bounds: margins and run times up to 28 days, thresholds up to 720.
    package static let maxMinutes = 40320
    package static let maxThreshold = 720

    package init(
        schedule: MonitorSchedule, timezone: String = "UTC", checkinMargin: Int? = nil, maxRuntime: Int? = nil,
        failureIssueThreshold: Int = 1, recoveryThreshold: Int = 1
    ) {
        self.schedule = schedule
        self.timezone = timezone
        self.checkinMargin = checkinMargin
        self.maxRuntime = maxRuntime
        self.failureIssueThreshold = failureIssueThreshold
        self.recoveryThreshold = recoveryThreshold
    }

    /// Parses the stored or sent form: `type` crontab with the line as `value`, or interval with
    /// a count as `value` and `unit`.
    package static func schedule(type: String, value: String, unit: String?) throws(CronExpression.ParseError) -> MonitorSchedule {
        switch type {
        case "crontab": return .crontab(try CronExpression(value), text: value.trimmingCharacters(in: .whitespaces))
        case "interval":
            guard let count = Int(value), count > 0, count <= 100_000 else {
                throw CronExpression.ParseError(description: "interval must be a positive number")
            }
            guard let unit = unit.flatMap({ MonitorSchedule.Unit(rawValue: $0) }) else {
                throw CronExpression.ParseError(description: "unknown interval unit \(unit ?? "")")
            }
            return .interval(count, unit)
        default:
            throw CronExpression.ParseError(description: "unknown schedule type \(type)")
        }
    }

    /// The stored columns: schedule type, value (the crontab line or the count), unit.
    package var scheduleColumns: (type: String, value: String, unit: String?) {
        switch schedule {
        case .crontab(_, let text): ("crontab", text, nil)
        case .interval(let count, let unit): ("interval", String(count), unit.rawValue)
        }
    }

    /// `timezone`, or UTC when this system does not know the name.
    package var timeZone: TimeZone { TimeZone(identifier: timezone) ?? TimeZone(identifier: "UTC")! }

    package var marginMilliseconds: Int64 { Int64(checkinMargin ?? Self.defaultMargin) * 60000 }
    package var maxRuntimeMilliseconds: Int64 { Int64(maxRuntime ?? Self.defaultMaxRuntime) * 60000 }

    package func next(afterMilliseconds milliseconds: Int64) -> Int64? {
        schedule.next(afterMilliseconds: milliseconds, timeZone: timeZone)
    }
}

/// A check-in's status (Sentry's names).
package enum CheckInStatus: String, Sendable, CaseIterable {
    case inProgress = "in_progress"
    case ok, error, missed, timeout

    package var isFailure: Bool { self == .error || self == .missed || self == .timeout }

    /// The environment's status after a check-in ended this way (Sentry's `MonitorStatus`).
    package var environmentStatus: String {
        switch self {
        case .inProgress, .ok: "ok"
        case .error: "error"
        case .missed: "missed_checkin"
        case .timeout: "timeout"
        }
    }
}
