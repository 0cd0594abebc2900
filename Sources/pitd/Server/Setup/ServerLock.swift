import Foundation

/// An advisory lock on `<data-dir>/pitd.lock`, so `pitd restore` can tell that a server is
/// using the data directory. `pitd serve` holds it shared for its whole life (several servers
/// on one PostgreSQL-backed directory stay possible); restore needs it exclusively. The kernel
/// drops it when the process ends, kill -9 included, so a crash never leaves a stale lock.
package final class ServerLock {
    private let descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }

    deinit { close(descriptor) }

    /// Held by a serving pitd.
    package static func shared(path: String) throws -> ServerLock {
        let descriptor = try openLockFile(path)
        guard flock(descriptor, LOCK_SH | LOCK_NB) == 0 else {
            close(descriptor)
            throw PitSettings.Invalid(description: "\(path) is locked by a running restore; try again when it has finished")
        }
        // Informational only (the lock is what counts): who holds it, for the restore's message.
        let pid = "\(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = pid.withCString { pwrite(descriptor, $0, strlen($0), 0) }
        return ServerLock(descriptor: descriptor)
    }

    /// Nil when a server holds the lock; the pid it wrote, if any, comes with the refusal.
    package static func exclusive(path: String) throws -> Result<ServerLock, ServerRunning> {
        let descriptor = try openLockFile(path)
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let pid = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(descriptor)
            return .failure(ServerRunning(pid: pid.flatMap { Int32($0) }))
        }
        return .success(ServerLock(descriptor: descriptor))
    }

    package struct ServerRunning: Error, CustomStringConvertible {
        package var pid: Int32?
        package var description: String {
            "a pitd server\(pid.map { " (pid \($0))" } ?? "") is using this data directory; stop it before restoring"
        }
    }

    private static func openLockFile(_ path: String) throws -> Int32 {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw PitSettings.Invalid(description: "cannot open \(path): \(String(cString: strerror(errno)))") }
        return descriptor
    }
}
