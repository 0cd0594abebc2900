import Engine
import NIOConcurrencyHelpers
import NIOCore

/// What the ingest handlers of one event loop share: the commit sink the writer wakes once per
/// batch, the admission controller fed by the loop's delay probe, and a cache of parsed auth
/// headers. Touched only on its loop (the sink is Sendable for the writer's sake).
final class IngestLoopContext {
    let eventLoop: any EventLoop
    let sink: EventLoopCommitSink
    private(set) var admission: AdmissionControl
    private let queue: IngestQueue
    private var probe: RepeatedTask?
    private var lastProbe: NIODeadline
    private static let probePeriod = TimeAmount.milliseconds(2)
    /// Auth headers as sent → parsed credentials. SDKs send the same header on every request, so
    /// parsing it once per loop saves a split-and-decode per request (4 % of the CPU at load).
    private var authCache: [String: SentryAuth] = [:]
    private static let authCacheLimit = 4096

    init(eventLoop: any EventLoop, queue: IngestQueue, admission: AdmissionControl.Configuration) {
        self.eventLoop = eventLoop
        self.sink = EventLoopCommitSink(eventLoop: eventLoop)
        self.admission = AdmissionControl(configuration: admission, seed: UInt64(UInt(bitPattern: ObjectIdentifier(eventLoop).hashValue)))
        self.queue = queue
        self.lastProbe = .now()
    }

    /// Starts the delay probe: a task every 2 ms whose lateness is the time a newly readable
    /// socket waits for this loop.
    func start() {
        lastProbe = .now()
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        probe = eventLoop.scheduleRepeatedTask(initialDelay: Self.probePeriod, delay: Self.probePeriod) { _ in
            let `self` = bound.value
            let now = NIODeadline.now()
            let loopDelay = Double((now - self.lastProbe - Self.probePeriod).nanoseconds) / 1e9
            self.lastProbe = now
            self.admission.observe(delay: max(loopDelay, self.queue.oldestAgeSeconds))
        }
    }

    func stop() {
        probe?.cancel()
        probe = nil
    }

    func admit() -> Bool { admission.admit() }

    func auth(xSentryAuth: String?, authorization: String?, query: Substring?) throws(IngestError) -> SentryAuth? {
        // Only the common single-header form is cached; the others are parsed each time.
        guard let header = xSentryAuth, authorization == nil, query.map({ !$0.contains("sentry_") }) ?? true else {
            return try SentryAuth.extract(xSentryAuth: xSentryAuth, authorization: authorization, query: query)
        }
        if let cached = authCache[header] { return cached }
        let auth = try SentryAuth.extract(xSentryAuth: header, authorization: nil, query: nil)
        if let auth {
            if authCache.count >= Self.authCacheLimit { authCache.removeAll(keepingCapacity: true) }
            authCache[header] = auth
        }
        return auth
    }
}

/// One `IngestLoopContext` per event loop, made when the loop's first connection arrives.
///
/// `@unchecked Sendable`: the dictionary is only touched under `lock`; each context it hands out
/// is only used on its own loop (the handler asks for the context of the loop it runs on).
final class IngestLoopContexts: @unchecked Sendable {
    private let lock = NIOLock()
    private var contexts: [ObjectIdentifier: IngestLoopContext] = [:]
    private let queue: IngestQueue
    private let admission: AdmissionControl.Configuration

    init(queue: IngestQueue, admission: AdmissionControl.Configuration) {
        self.queue = queue
        self.admission = admission
    }

    func context(for eventLoop: any EventLoop) -> IngestLoopContext {
        eventLoop.preconditionInEventLoop()
        return lock.withLock {
            if let context = contexts[ObjectIdentifier(eventLoop)] { return context }
            let context = IngestLoopContext(eventLoop: eventLoop, queue: queue, admission: admission)
            context.start()
            contexts[ObjectIdentifier(eventLoop)] = context
            return context
        }
    }
}
