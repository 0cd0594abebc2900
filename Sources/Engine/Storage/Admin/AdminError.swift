/// Why an admin operation (projects, keys, accounts, tokens, settings) was refused.
///
/// A struct with a code, as `IngestError` is: the rules of `Admin/` write each message once, and
/// pitd maps the code to an HTTP status in one place (`HTTPError+Admin`), the CLI to a usage error.
package struct AdminError: Error, Hashable, CustomStringConvertible {
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalid, conflict, notFound, unavailable, failed
        }
        private let base: Base
        /// A value the rules refuse (a name too long, an implausible email, a bad rate limit).
        package static let invalid = Code(base: .invalid)
        /// The thing already exists (a project id, a public key, an email).
        package static let conflict = Code(base: .conflict)
        /// What the operation needs does not exist (the project of a new key).
        package static let notFound = Code(base: .notFound)
        /// The store gave no answer in time; the same call may well work a moment later.
        package static let unavailable = Code(base: .unavailable)
        /// The store failed in a way the caller cannot fix (a rolled-back transaction).
        package static let failed = Code(base: .failed)

        package var description: String { base.rawValue }
    }

    package let code: Code
    package let message: String

    package var description: String { message }

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// An error that is nobody's input: kept for the storage code that reports its own failures.
    package init(_ message: String) {
        self.init(.failed, message)
    }

    @inline(never) package static func invalid(_ message: String) -> AdminError { AdminError(.invalid, message) }
    @inline(never) package static func conflict(_ message: String) -> AdminError { AdminError(.conflict, message) }
    @inline(never) package static func notFound(_ message: String) -> AdminError { AdminError(.notFound, message) }
}
