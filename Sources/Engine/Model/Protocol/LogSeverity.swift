/// A log's level as Sentry names it (`trace`, `debug`, `info`, `warn`, `error`, `fatal`), and
/// its mapping to and from OpenTelemetry's severity numbers: each level owns a range of four
/// (1-4 trace, 5-8 debug, 9-12 info, 13-16 warn, 17-20 error, 21-24 fatal), and a level alone
/// stands for the first number of its range, as the SDKs send it.
package enum LogSeverity: Int, Sendable, CaseIterable, Comparable, CustomStringConvertible {
    case trace = 0
    case debug, info, warn, error, fatal

    package static func < (a: LogSeverity, b: LogSeverity) -> Bool { a.rawValue < b.rawValue }

    /// The name Sentry stores and the API answers.
    package var description: String {
        switch self {
        case .trace: "trace"
        case .debug: "debug"
        case .info: "info"
        case .warn: "warn"
        case .error: "error"
        case .fatal: "fatal"
        }
    }

    /// The first severity number of the level's range (what the SDKs send with a level).
    package var severityNumber: Int { rawValue * 4 + 1 }

    /// The level of an OTel severity number; nil for 0 (unspecified) and numbers outside 1-24.
    package init?(severityNumber: Int) {
        guard (1...24).contains(severityNumber) else { return nil }
        self.init(rawValue: (severityNumber - 1) / 4)
    }

    /// A level name as SDKs and OTel's severity texts spell it, ignoring case: Sentry's six, and
    /// the common aliases (`warning`, `err`, `critical`, `fatal`...). Nil for anything else.
    package init?(name: some StringProtocol) {
        switch name.lowercased() {
        case "trace": self = .trace
        case "debug": self = .debug
        case "info", "information", "informational", "notice", "log": self = .info
        case "warn", "warning": self = .warn
        case "error", "err": self = .error
        case "fatal", "critical", "crit", "emergency", "emerg", "alert", "panic": self = .fatal
        default: return nil
        }
    }
}
