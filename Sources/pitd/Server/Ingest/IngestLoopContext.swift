import NIOConcurrencyHelpers
import NIOCore
import PitIngest
import PitModel

#if canImport(Glibc)
    import Glibc
#endif

/// What the ingest handlers of one event loop share: the commit sink the writer wakes once per
/// batch, the admission controller fed by the loop's delay probe, and a cache of parsed auth
/// headers. Touched only on its loop (the sink is Sendable for the writer's sake).
final class IngestLoopContext {
    let eventLoop: any EventLoop
    let sink: EventLoopCommitSink
    private(set) var admission: AdmissionControl
    private let queue: IngestQueue
    private var lastProbe: NIODeadline
    private static let probePeriod = TimeAmount.milliseconds(2)
    private static let probesPerInterval = 10
    private var probes = 0
    private var minimumLateness = Double.infinity
    private var intervalStart: NIODeadline
    private var threadTime: LoopThreadTime?
    private var timesAtStart: (onCPU: UInt64, waiting: UInt64)?
    private var smoothedOnCPU = 0.0
    private var smoothedWaiting = 0.0
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
        self.intervalStart = self.lastProbe
    }

    /// Starts the delay probe: a task every 2 ms whose lateness is the time a newly readable
    /// socket waits for this loop; every 10 probes (20 ms) the interval updates admission.
    func start() {
        lastProbe = .now()
        intervalStart = lastProbe
        threadTime = LoopThreadTime()
        timesAtStart = threadTime?.read()
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        // Runs for the life of the loop: contexts are made once per loop and never dropped.
        eventLoop.scheduleRepeatedTask(initialDelay: Self.probePeriod, delay: Self.probePeriod) { _ in
            bound.value.probed()
        }
    }

    private func probed() {
        let now = NIODeadline.now()
        let lateness = Double((now - lastProbe - Self.probePeriod).nanoseconds) / 1e9
        lastProbe = now
        minimumLateness = min(minimumLateness, max(0, lateness))
        probes += 1
        guard probes >= Self.probesPerInterval else { return }
        let timesNow = threadTime?.read()
        var onCPU: Double?
        var waiting: Double?
        if let timesNow, let timesAtStart {
            let wall = Double((now - intervalStart).nanoseconds)
            if wall > 0 {
                // Averaged over ~200 ms (ten intervals): the scheduler hands out CPU in slices
                // of milliseconds, so one interval's waiting swings widely even at light load.
                smoothedOnCPU += (Double(timesNow.onCPU &- timesAtStart.onCPU) / wall - smoothedOnCPU) * 0.1
                smoothedWaiting += (Double(timesNow.waiting &- timesAtStart.waiting) / wall - smoothedWaiting) * 0.1
                onCPU = smoothedOnCPU
                waiting = smoothedWaiting
            }
        }
        admission.update(.init(loopDelay: minimumLateness, onCPU: onCPU, waitingForCPU: waiting, queueDelay: queue.oldestAgeSeconds))
        timesAtStart = timesNow
        intervalStart = now
        minimumLateness = .infinity
        probes = 0
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

/// The time the calling thread spent on a CPU and waiting in the run queue for one, from Linux's
/// `/proc/thread-self/schedstat` (`on-cpu-ns runqueue-ns timeslices`). Together they are the time
/// the thread wanted a CPU; the rest it slept (an event loop: in epoll, with nothing to do).
/// Opened by the loop thread itself (`thread-self` names the opener), read with `pread`.
private final class LoopThreadTime {
    private let descriptor: Int32

    init?() {
        #if os(Linux)
            descriptor = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { return nil }
        #else
            return nil
        #endif
    }

    deinit { close(descriptor) }

    /// Nanoseconds on a CPU and waiting for one since the thread started.
    func read() -> (onCPU: UInt64, waiting: UInt64)? {
        var buffer = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        return withUnsafeMutableBytes(of: &buffer) { raw -> (onCPU: UInt64, waiting: UInt64)? in
            let count = pread(descriptor, raw.baseAddress, raw.count, 0)
            guard count > 0 else { return nil }
            var fields: [UInt64] = [0, 0]
            var field = 0
            var inNumber = false
            for byte in raw.prefix(count) {
                if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                    fields[field] = fields[field] &* 10 &+ UInt64(byte - UInt8(ascii: "0"))
                    inNumber = true
                } else if inNumber {
                    field += 1
                    inNumber = false
                    if field == 2 { break }
                }
            }
            return field == 2 ? (fields[0], fields[1]) : nil
        }
    }
}
