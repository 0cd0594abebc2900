import HTTPTypes
import Hummingbird
import PitStorage

/// The admin stores as request handlers reach them: every call has a deadline, and past it the
/// request is answered 503 while the call finishes on its own.
///
/// The stores are async and never hold a cooperative thread (SQLite runs on `BlockingWork.admin`'s
/// threads behind its lock with a 5 s busy timeout, PostgreSQL awaits postgres-nio), but a
/// database that does not answer must not hold the request either; at most
/// `BlockingWork.maxPending` calls wait at once, later ones are answered 503 at once.
struct AdminAccess: Sendable {
    let store: any AdminStore
    /// A call with no answer by then is answered 503.
    static let timeout = 10.0

    func callAsFunction<T: Sendable>(_ body: @escaping @Sendable (any AdminStore) async throws -> T) async throws -> T {
        let store = store
        do {
            return try await BlockingWork.withDeadline(Self.timeout) { try await body(store) }
        } catch is BlockingWork.TimedOut {
            throw HTTPError(AdminError(.unavailable, "The database is not answering; try again shortly."))
        }
    }
}
