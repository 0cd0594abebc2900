import Foundation
package import Logging
package import PitModel
import ServiceLifecycle
import Synchronization

/// Refuses ingest before the disk under the data directory fills: SQLite that hits ENOSPC fails
/// the writer's transactions (every acknowledged-but-queued event with them) and may not even
/// checkpoint its WAL afterwards. Below `min_free_disk_bytes` ingest answers 503 with Retry-After
/// and `/ready` says why, so a load balancer moves traffic away and the purge can catch up.
///
/// Checked every `interval` with statvfs (a system call, cheap); ingest reads one atomic flag.
package final class DiskGuard: Service, Sendable {
    package let path: String
    package let minimumFreeBytes: Int64
    private let interval: Duration
    private let logger: Logger
    private let low = Atomic<Bool>(false)
    private let freeBytes = Atomic<Int64>(Int64.max)

    package init(path: String, minimumFreeBytes: Int64, interval: Duration = .seconds(5), logger: Logger) {
        self.path = path
        self.minimumFreeBytes = minimumFreeBytes
        self.interval = interval
        self.logger = logger
        check()
    }

    /// True while free space is below the minimum.
    package var isLow: Bool { low.load(ordering: .relaxed) }
    /// Free bytes at the last check (available to unprivileged users, as statvfs's f_bavail).
    package var lastFreeBytes: Int64 { freeBytes.load(ordering: .relaxed) }

    /// The answer ingest gives while the disk is low; nil otherwise.
    package var refusal: IngestError? {
        guard isLow else { return nil }
        return .overloaded(
            "insufficient disk space: \(lastFreeBytes) bytes free, below min_free_disk_bytes=\(minimumFreeBytes)",
            retryAfter: 60)
    }

    /// Free bytes on the file system holding `path`, nil when it cannot be read.
    package static func availableBytes(at path: String) -> Int64? {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { return nil }
        return Int64(stats.f_bavail) * Int64(stats.f_frsize)
    }

    /// Measures once and updates the flag; logs the transitions.
    @discardableResult
    package func check() -> Bool {
        guard minimumFreeBytes > 0, let available = Self.availableBytes(at: path) else {
            low.store(false, ordering: .relaxed)
            return false
        }
        freeBytes.store(available, ordering: .relaxed)
        let isLow = available < minimumFreeBytes
        let was = low.exchange(isLow, ordering: .relaxed)
        if isLow && !was {
            logger.error(
                "free disk space below min_free_disk_bytes: ingest answers 503",
                metadata: ["pit.free_bytes": "\(available)", "pit.min_free_disk_bytes": "\(minimumFreeBytes)"])
        } else if !isLow && was {
            logger.notice(
                "free disk space back above min_free_disk_bytes: ingest resumes",
                metadata: ["pit.free_bytes": "\(available)"])
        }
        return isLow
    }

    package func run() async throws {
        guard minimumFreeBytes > 0 else {
            // Nothing to watch; wait for shutdown like every other service.
            try? await gracefulShutdown()
            return
        }
        let interval = self.interval
        try? await cancelWhenGracefulShutdown { [self] in
            while !Task.isCancelled {
                check()
                try await Task.sleep(for: interval)
            }
        }
    }
}
