import Foundation
import Hummingbird
import HummingbirdCore
package import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PitBackends
import PitIngest
import PitLifecycle
import PitModel
import PitObservability
import PitStorage
import Prometheus
import ServiceLifecycle
import UnixSignals

/// Wires the pipeline together: admin store → key cache → queue → writer → HTTP.
///
/// Services start in order and stop in reverse, one at a time: on SIGTERM the HTTP server stops
/// accepting and finishes its requests, the key refresher stops, then the writer drains the queue
/// and commits everything that was accepted, and the database closes last.
package enum PitServer {
    /// Prometheus is process-global in swift-metrics; bootstrap it once.
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    package static func run(settings: PitSettings, logger: Logger) async throws {
        let directory = DataDirectory(settings: settings)
        let setup = try await directory.initialise(logger: logger)
        // `pitd restore` refuses while this is held.
        let serverLock = try ServerLock.shared(path: settings.serverLockPath)
        defer { withExtendedLifetime(serverLock) {} }
        guard let tokenHash = try await setup.store.setting(DataDirectory.adminTokenHashSetting) else {
            throw PitSettings.Invalid(description: "no admin token in \(settings.backend)")
        }
        logger.info(
            "pitd data directory",
            metadata: [
                "pit.data_dir": "\(settings.dataDirectory)",
                "pit.database": "\(settings.backend)",
            ])
        logger.info("DSN of the default project", metadata: ["pit.dsn": "\(directory.dsn(for: setup.key))"])
        // Never the token itself: logs are shipped and kept where the data directory's 0600
        // file is not. `pitd init --json` prints it for the operator.
        if setup.createdToken {
            logger.notice(
                "admin token created; read it from its file (owner-only) or with `pitd init --json`",
                metadata: ["pit.admin_token_file": "\(settings.adminTokenPath)"])
        }

        let app = try await application(settings: settings, setup: setup, adminTokenHash: tokenHash, logger: logger)
        // Application.runService() would wait for ever on a service that never stops; past the
        // connections' grace and the writers' drain, shutdown escalates to cancellation.
        var configuration = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = .seconds(
            Int64(settings.connectionLimits.shutdownGrace.nanoseconds / 1_000_000_000) + 30)
        configuration.maximumCancellationDuration = .seconds(10)
        try await ServiceGroup(configuration: configuration).run()
    }

    typealias PitApplication = Application<PitResponder<RouterResponder<PitRequestContext>>>

    /// The server over an initialised data directory, not yet running: `run` serves it, and the
    /// tests drive it with HummingbirdTesting. `clock` is the time sessions, tokens and sign-in
    /// throttling read. `artifacts` are the projects' uploaded artifact bundles (by default the
    /// admin store's, where sentry-cli's uploads land): JavaScript events are resolved through
    /// their source maps before they are grouped.
    static func application(
        settings: PitSettings, setup: DataDirectory.Setup, adminTokenHash tokenHash: String, logger: Logger,
        clock: PitClock = .system, artifacts: (any ArtifactLookup)? = nil
    ) async throws -> PitApplication {
        let registry = Self.registry
        let metrics = PitMetrics()
        let keys = KeyCache()
        try await keys.reload(from: setup.store)
        let queue = IngestQueue(maxCount: settings.queueMaxEvents, maxBytes: settings.queueMaxBytes)
        let health = StorageHealth()
        let stores = try (0..<settings.writers).map { _ in try settings.backend.makeBatchStore(logger: logger) }
        let rejections = RejectedOutcomes()
        let admin = setup.store
        var dictionaries: PayloadDictionaries?
        if settings.dictionarySamples > 0 {
            let registry = PayloadDictionaries(
                sampleCount: settings.dictionarySamples,
                loader: try settings.backend.makePayloadDictionaryLoader(adminStore: admin))
            if let (id, bytes) = try await admin.latestPayloadDictionary(), let dictionary = PayloadDictionary(id: id, bytes: bytes) {
                registry.install(dictionary)
            }
            dictionaries = registry
        }
        let retention = settings.retentionPolicy
        try await retention.reload(from: setup.store)
        let sourceMaps = SourceMapResolver(lookup: artifacts ?? setup.store)
        let diskGuard = DiskGuard(path: settings.dataDirectory, minimumFreeBytes: settings.minFreeDiskBytes, logger: logger)
        let pipeline = IngestPipeline(
            keys: keys, queue: queue, ack: settings.ack, limits: settings.limits,
            metrics: metrics, retryAfterSeconds: settings.retryAfterSeconds, dictionaries: dictionaries,
            diskGuard: diskGuard, retention: retention, ackTimeout: Double(settings.ackTimeoutSeconds),
            inflight: InflightBudget(limit: settings.inflightBytes), rejections: rejections,
            sourceMaps: sourceMaps,
            sourceMapSchedule: SourceMapSchedule(
                deadline: .milliseconds(settings.sourceMapResolveDeadlineMilliseconds),
                holdLease: .seconds(settings.heldEventLeaseSeconds)))
        // Before the loop contexts make their sinks.
        EventLoopCommitSink.defaultDeadline.withLockedValue { $0 = .seconds(Int64(settings.ackTimeoutSeconds)) }
        let backend = settings.backend
        let purger = RetentionPurger(
            makeStore: { try backend.makePurgeStore(logger: logger) }, policy: retention, admin: setup.store, queue: queue,
            interval: Double(settings.retentionIntervalSeconds),
            configuration: .init(
                batchSize: settings.retentionBatchSize, pause: Double(settings.retentionBatchPauseMilliseconds) / 1000,
                writerLagLimit: Double(settings.retentionWriterLagMilliseconds) / 1000),
            logger: logger)
        let (reader, readServices) = settings.backend.makeReadStore(
            dictionaries: dictionaries, connections: settings.databasePoolSize, logger: logger)
        // Alerts are evaluated on the writer's commits, beside it, and sent from the stored outbox.
        let alerts = try await settings.backend.makeAlertStore(logger: logger)
        let secrets = try SecretBox.forDataDirectory(settings.dataDirectory)
        let dispatcher = AlertDispatcher(
            store: alerts, admin: AdminAccess(store: admin), reader: reader, secrets: secrets,
            client: WebhookClient(group: MultiThreadedEventLoopGroup.singleton),
            mailer: settings.smtp.map { SMTPClient(group: MultiThreadedEventLoopGroup.singleton, configuration: $0) },
            publicURL: settings.publicURL,
            organization: setup.project.organizationSlug,
            configuration: .init(retryBaseMilliseconds: Int64(settings.alertRetryBaseSeconds) * 1000), logger: logger)
        let evaluator = AlertEvaluator(
            store: alerts, reader: reader, settings: admin,
            configuration: .init(
                ceilingPerHour: Int64(settings.alertCeilingPerHour), quietMilliseconds: Int64(settings.alertQuietSeconds) * 1000,
                healthIntervalMilliseconds: Int64(settings.alertHealthIntervalSeconds) * 1000),
            onEnqueue: { dispatcher.wake() }, logger: logger)
        let alertAccess = AlertAccess(
            store: alerts, settings: admin, secrets: secrets, wake: { dispatcher.wake() }, smtpConfigured: settings.smtp != nil,
            serverCeilingPerHour: Int64(settings.alertCeilingPerHour))
        let writer = BatchWriter(
            queue: queue, stores: stores, batchSize: settings.batchSize,
            commitDelay: Double(settings.commitDelayMicroseconds) / 1e6, metrics: metrics, health: health,
            rejections: rejections, observer: evaluator, logger: logger)

        let cronOffset = Int64(settings.cronClockOffsetSeconds) * 1000
        let scheduler = MonitorScheduler(
            pipeline: pipeline, reader: reader, interval: Double(settings.cronIntervalSeconds),
            clock: { ClockTime.nowMilliseconds + cronOffset }, logger: logger)

        let sweeper = HeldEventSweeper(
            pipeline: pipeline, store: admin, interval: Double(settings.heldEventSweepSeconds),
            soleInstance: !settings.backend.isPostgres, logger: logger)

        let authenticator = Authenticator(
            admin: AdminAccess(store: setup.store), adminToken: AdminTokenHash(tokenHash),
            sessionLifetimeSeconds: Int64(settings.sessionDays) * 86400,
            secureCookies: settings.publicURL.lowercased().hasPrefix("https:"),
            throttle: LoginThrottle(
                policies: [
                    .init(burst: settings.loginFailuresPerAccount, interval: 60),
                    .init(burst: settings.loginFailuresPerIP, interval: 10),
                ], clock: clock.monotonicSeconds),
            // Two hashes at once is 256 MiB and both cores of a small server.
            hasher: PasswordHasher(threads: min(2, System.coreCount), queueLimit: 8),
            trustedProxies: settings.trustedProxies, clock: clock)
        let router = Router(context: PitRequestContext.self)
        OperationsRoutes(
            queue: queue, health: health, registry: registry, diskGuard: diskGuard,
            probe: {
                do {
                    _ = try await BlockingWork.withDeadline(2) { try await admin.setting(DataDirectory.adminTokenHashSetting) }
                    return true
                } catch {
                    logger.debug("readiness probe failed", metadata: ["error": "\(error)"])
                    return false
                }
            }
        ).register(on: router)
        APIRoutes(
            admin: AdminAccess(store: setup.store), reader: reader, queue: queue, baseURL: settings.publicURL, keys: keys,
            retention: retention, organization: setup.project.organizationSlug, sourceMaps: sourceMaps,
            alerts: alertAccess
        )
        .register(on: router, authenticator: authenticator)
        WebRoutes(
            admin: AdminAccess(store: setup.store), reader: reader, queue: queue, authenticator: authenticator,
            publicURL: settings.publicURL,
            organization: setup.project.organizationSlug, keys: keys, alerts: alertAccess
        )
        .register(on: router)
        IngestEndpoint(pipeline: pipeline, logger: logger).register(on: router)
        let responder = PitResponder(ingest: IngestEndpoint(pipeline: pipeline, logger: logger), fallback: router.buildResponder())
        let loopContexts = IngestLoopContexts(queue: queue, admission: settings.admission)
        let connections = ConnectionCounter(limit: settings.connectionLimits.maxConnections)
        let server = HTTPServerBuilder { responder in
            PitHTTP1Channel(http1: HTTP1Channel(responder: responder), limits: settings.connectionLimits, connections: connections) {
                IngestHTTPHandler(pipeline: pipeline, contexts: loopContexts, logger: logger)
            }
        }

        let refresher = KeyCacheRefresher(
            cache: keys, store: setup.store, interval: .seconds(settings.keyRefreshSeconds),
            logger: logger)
        return Application(
            responder: responder,
            server: server,
            configuration: .init(address: .hostname(settings.bind.host, port: settings.bind.port), serverName: "pitd"),
            // The read pool starts first and stops last; the writers drain before it, then the
            // evaluator decides on their last commits, then the dispatcher stops. The purge stops
            // first of all: it may be waiting on the writer for an issue command.
            services: readServices + [dispatcher, evaluator, writer, refresher, diskGuard, purger, scheduler, sweeper],
            onServerRunning: { channel in
                logger.info(
                    "pitd listening",
                    metadata: [
                        "pit.address": "\(channel.localAddress.map { "\($0)" } ?? "?")",
                        "pit.ack": "\(settings.ack.rawValue)",
                        "pit.ingest_batch_size": "\(settings.batchSize)",
                        "pit.writers": "\(settings.writers)",
                    ])
            },
            logger: logger
        )
    }
}
