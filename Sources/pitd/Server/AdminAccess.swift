import HTTPTypes
import Hummingbird
import PitStorage

/// The admin store as request handlers reach it: every call runs on `BlockingWork.admin`'s
/// threads, with a deadline.
///
/// The stores are synchronous: SQLite behind a lock with a 5 s busy timeout (an API token's
/// last-used stamp is a write, and waits for the ingest writer's lock), PostgreSQL behind blocking
/// waits. Called from a handler they held one of the cooperative pool's few threads, a core's worth
/// of every other request, for as long as the database took.
struct AdminAccess: Sendable {
    let store: any AdminStore
    /// A call with no answer by then is answered 503; the thread finishes on its own.
    static let timeout = 10.0

    func callAsFunction<T: Sendable>(_ body: @escaping @Sendable (any AdminStore) throws -> T) async throws -> T {
        let store = store
        do {
            return try await BlockingWork.run(timeout: Self.timeout) { try body(store) }
        } catch is BlockingWork.TimedOut {
            throw HTTPError(AdminError(.unavailable, "The database is not answering; try again shortly."))
        }
    }
}
