package import Logging
import NIOConcurrencyHelpers
package import PitStorage
import ServiceLifecycle

/// Public DSN key → project, in memory so auth costs one dictionary lookup per request.
///
/// Keys are created by the CLI (possibly in another process) or the API; the refresher re-reads
/// them every `refreshInterval`, so a new or disabled key takes effect within seconds.
package final class KeyCache: Sendable {
    package struct Entry: Sendable, Equatable {
        package var projectID: Int64
        package var enabled: Bool
        package var rateLimit: ProjectKey.RateLimit?

        package init(projectID: Int64, enabled: Bool, rateLimit: ProjectKey.RateLimit? = nil) {
            self.projectID = projectID
            self.enabled = enabled
            self.rateLimit = rateLimit
        }
    }

    private let entries = NIOLockedValueBox<[String: Entry]>([:])
    /// Fixed-window counters of rate-limited keys only; unlimited keys never touch this lock.
    /// Per instance: with several instances behind a balancer each enforces the limit on its own
    /// share, as Relay's per-node quotas do without Redis.
    private let windows = NIOLockedValueBox<[String: Window]>([:])

    private struct Window {
        var start: Int64
        var count: Int64
    }

    package init() {}

    package func lookup(_ publicKey: String) -> Entry? {
        entries.withLockedValue { $0[publicKey] }
    }

    package func replace(with keys: [ProjectKey]) {
        var fresh: [String: Entry] = [:]
        fresh.reserveCapacity(keys.count)
        for key in keys { fresh[key.publicKey] = Entry(projectID: key.projectID, enabled: key.enabled, rateLimit: key.rateLimit) }
        entries.withLockedValue { $0 = fresh }
    }

    /// Counts one request against the key's limit. Returns nil when admitted, else the seconds
    /// until the window resets (for `Retry-After`).
    package func admit(_ publicKey: String, limit: ProjectKey.RateLimit, nowSeconds: Int64) -> Int? {
        // Stored limits predate the API's range check (and the database can be edited by hand),
        // so the window is clamped here too: `start + window` must not overflow, whatever was stored.
        let windowSeconds = min(max(limit.windowSeconds, 1), ProjectKey.RateLimit.windowRange.upperBound)
        return windows.withLockedValue { windows in
            var window = windows[publicKey] ?? Window(start: nowSeconds, count: 0)
            let (sum, overflow) = window.start.addingReportingOverflow(windowSeconds)
            let end = overflow ? Int64.max : sum
            if nowSeconds >= end || nowSeconds < window.start { window = Window(start: nowSeconds, count: 0) }
            guard window.count < limit.count else {
                // start <= now < start + window here, so neither subtraction can overflow.
                return Int(max(1, windowSeconds - (nowSeconds - window.start)))
            }
            window.count += 1
            windows[publicKey] = window
            return nil
        }
    }

    package func reload(from store: any ProjectStore) async throws {
        replace(with: try await store.keys(projectID: nil))
    }
}

/// Keeps a `KeyCache` fresh; stops on graceful shutdown.
package struct KeyCacheRefresher: Service {
    let cache: KeyCache
    let store: any ProjectStore
    let interval: Duration
    let logger: Logger

    package init(cache: KeyCache, store: any ProjectStore, interval: Duration = .seconds(2), logger: Logger) {
        self.cache = cache
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    package func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            do {
                // The store's calls are async (SQLite's run on the admin threads), with a deadline
                // so a hung database cannot stall the loop.
                let (cache, store) = (cache, store)
                try await BlockingWork.withDeadline(30) { try await cache.reload(from: store) }
            } catch {
                logger.warning("could not reload DSN keys", metadata: ["error": "\(error)"])
            }
        }
    }
}
