/// Sentry event levels, ordered by severity. Raw values are what the database stores.
package enum Level: Int, Sendable, CaseIterable, Comparable {
    case debug = 10
    case info = 20
    case warning = 30
    case error = 40
    case fatal = 50

    package static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }

    package var name: String {
        switch self {
        case .debug: "debug"
        case .info: "info"
        case .warning: "warning"
        case .error: "error"
        case .fatal: "fatal"
        }
    }

    /// Lenient parsing as Relay does: the names, their common aliases, and Python's numeric levels.
    package init?(name: String) {
        switch name.lowercased() {
        case "debug", "trace": self = .debug
        case "info", "log": self = .info
        case "warning", "warn": self = .warning
        case "error", "err": self = .error
        case "fatal", "critical": self = .fatal
        default: return nil
        }
    }

    package init?(number: Int) {
        switch number {
        case ..<15: self = .debug
        case 15..<25: self = .info
        case 25..<35: self = .warning
        case 35..<45: self = .error
        default: self = .fatal
        }
    }
}
