import NIOConcurrencyHelpers
import NIOPosix

/// Runs scrypt on a few dedicated threads, with a short waiting line.
///
/// One hash is 128 MiB and a few tenths of a second of CPU. On the cooperative pool, a handful
/// of parallel sign-ins would stall every other request, and a hundred would need 12 GiB. Here at
/// most `threads` hash at once, at most `queueLimit` more wait, and anything beyond is refused
/// at once with `Busy` (the sign-in page answers 503) instead of queueing without bound.
package final class PasswordHasher: Sendable {
    package struct Busy: Error, Sendable {}

    private let pool: NIOThreadPool
    private let limit: Int
    private let inFlight = NIOLockedValueBox(0)

    package init(threads: Int = 2, queueLimit: Int = 8) {
        pool = NIOThreadPool(numberOfThreads: max(1, threads))
        pool.start()
        limit = max(1, threads) + max(0, queueLimit)
    }

    /// Hashes running or waiting now.
    package var load: Int { inFlight.withLockedValue { $0 } }

    /// `stored == nil` (no such account) still costs one hash, against a decoy, and is false.
    package func verify(_ password: String, against stored: String?) async throws -> Bool {
        try await run {
            guard let stored else {
                _ = PasswordHash.verify(password, against: Self.decoy)
                return false
            }
            return PasswordHash.verify(password, against: stored)
        }
    }

    /// A valid hash of a random password, made on first use on a hashing thread.
    private static let decoy: String = (try? PasswordHash.make(Secret.generate(prefix: ""))) ?? ""

    package func make(_ password: String, logN: Int = PasswordHash.defaultLogN) async throws -> String {
        try await run { try PasswordHash.make(password, logN: logN) }
    }

    private func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        let admitted = inFlight.withLockedValue { count in
            guard count < limit else { return false }
            count += 1
            return true
        }
        guard admitted else { throw Busy() }
        defer { inFlight.withLockedValue { $0 -= 1 } }
        return try await pool.runIfActive(work)
    }
}
