package import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Public DSN key → project, in memory so auth costs one dictionary lookup per request.
///
/// Keys are created by the CLI (possibly in another process) or the API; the refresher re-reads
/// them every `refreshInterval`, so a new or disabled key takes effect within seconds.
package final class KeyCache: Sendable {
    package struct Entry: Sendable, Equatable {
        package var projectID: Int64
        package var enabled: Bool
    }

    private let entries = NIOLockedValueBox<[String: Entry]>([:])

    package init() {}

    package func lookup(_ publicKey: String) -> Entry? {
        entries.withLockedValue { $0[publicKey] }
    }

    package func replace(with keys: [ProjectKey]) {
        var fresh: [String: Entry] = [:]
        fresh.reserveCapacity(keys.count)
        for key in keys { fresh[key.publicKey] = Entry(projectID: key.projectID, enabled: key.enabled) }
        entries.withLockedValue { $0 = fresh }
    }

    package func reload(from store: any AdminStore) throws {
        replace(with: try store.keys(projectID: nil))
    }
}

/// Keeps a `KeyCache` fresh; stops on graceful shutdown.
package struct KeyCacheRefresher: Service {
    let cache: KeyCache
    let store: any AdminStore
    let interval: Duration
    let logger: Logger

    package init(cache: KeyCache, store: any AdminStore, interval: Duration = .seconds(2), logger: Logger) {
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
                try cache.reload(from: store)
            } catch {
                logger.warning("could not reload DSN keys", metadata: ["error": "\(error)"])
            }
        }
    }
}
