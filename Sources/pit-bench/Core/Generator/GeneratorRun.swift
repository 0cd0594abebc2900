import Foundation
import Histogram
import NIOCore
import NIOHTTP1
import NIOPosix
import PitModel

/// All state of one run. `@unchecked Sendable`: every method runs on `loop` (asserted), the
/// single thread of the generator's event loop group.
final class GeneratorRun: @unchecked Sendable {
    struct Request {
        var index: Int
        var step: Int
        var dueNanos: UInt64
    }

    /// Loop-confined like the run itself.
    final class Connection: @unchecked Sendable {
        let id: Int
        var channel: (any Channel)?
        var request: Request?
        var eventID: EventID?
        var isError = false
        var sentNanos: UInt64 = 0
        var isSampler = false
        var body = ""
        init(id: Int) { self.id = id }
    }

    let loop: any EventLoop
    let target: LoadTarget
    let steps: [RateStep]
    let source: RequestSource
    let options: GeneratorOptions
    let sampler: (any ServerSampling)?
    let onSecond: @Sendable (SecondSample) -> Void
    let promise: EventLoopPromise<LoadResult>
    let allocator = ByteBufferAllocator()
    let headers: HTTPHeaders
    /// Request heads by body size: the templates have a few hundred sizes, and building a head's
    /// header list per request was a copy and an allocation each time.
    private var heads: [Int: HTTPRequestHead] = [:]
    /// Event ids need to be unique, not unpredictable: drawn from a generator seeded once.
    private var random = SplitMix64(seed: UInt64.random(in: .min ... .max))

    var connections: [Int: Connection] = [:]
    var idle: [Connection] = []
    var opening = 0
    var nextConnectionID = 0
    var pending: [Request] = []
    var pendingHead = 0

    // Schedule position.
    var startNanos: UInt64 = 0
    var stepIndex = 0
    var stepStartNanos: UInt64 = 0
    var stepSequence = 0
    var nextIndex = 0
    var scheduleDone = false
    var drainDeadline: UInt64 = 0

    // Accounting.
    var second = 0
    var secondCounts = Counts()
    var secondHistogram = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
    var overall = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
    var stepCounts: [Counts]
    var stepHistograms: [Histogram<UInt64>]
    var totals = Counts()
    var accepted: [EventID] = []
    var unavailableWithoutRetryAfter = 0
    var timeline: [SecondSample] = []
    var lastTickNanos: UInt64 = 0
    var maxTickLagNanos: UInt64 = 0
    var lastCPU = GeneratorRun.processCPUSeconds()
    var lastCPUNanos: UInt64 = 0
    var lateSeconds = 0
    var busySeconds = 0
    var tickTask: RepeatedTask?
    var metricsConnection: Connection?
    var samplerOpening = false
    var queueDepth: Int?
    var storedTotal: Int?
    var finished = false
    var lastTimeoutCheck: UInt64 = 0
    var lastConnectFailure: UInt64 = 0

    init(
        loop: any EventLoop, target: LoadTarget, steps: [RateStep], source: RequestSource, options: GeneratorOptions,
        sampler: (any ServerSampling)?, onSecond: @escaping @Sendable (SecondSample) -> Void, promise: EventLoopPromise<LoadResult>
    ) {
        self.loop = loop
        self.target = target
        self.steps = steps.filter { $0.rate > 0 && $0.duration > 0 }
        self.source = source
        self.options = options
        self.sampler = sampler
        self.onSecond = onSecond
        self.promise = promise
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "\(target.host):\(target.port)")
        for (name, value) in target.headers { headers.add(name: name, value: value) }
        self.headers = headers
        stepCounts = Array(repeating: Counts(), count: self.steps.count)
        stepHistograms = Array(
            repeating: Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three),
            count: self.steps.count)
    }

    static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }

    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
            + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }

    func start() {
        loop.assertInEventLoop()
        for _ in 0..<options.initialConnections { openConnection() }
        if target.metricsPath != nil { openSampler() }
        startNanos = Self.now()
        stepStartNanos = startNanos
        lastTickNanos = startNanos
        lastCPUNanos = startNanos
        if steps.isEmpty {
            scheduleDone = true
            drainDeadline = startNanos
        }
        tickTask = loop.scheduleRepeatedTask(initialDelay: .milliseconds(1), delay: .milliseconds(1)) { [self] _ in
            tick()
        }
    }

    // MARK: Connections

    func openConnection() {
        opening += 1
        let connection = Connection(id: nextConnectionID)
        nextConnectionID += 1
        connect(connection).whenComplete { [self] result in
            opening -= 1
            switch result {
            case .success(let channel):
                connection.channel = channel
                connections[connection.id] = connection
                idle.append(connection)
                dispatch()
            case .failure:
                secondCounts.connectionErrors += 1
                totals.connectionErrors += 1
                lastConnectFailure = Self.now()
            }
        }
    }

    func openSampler() {
        guard !samplerOpening else { return }
        samplerOpening = true
        let connection = Connection(id: -1)
        connection.isSampler = true
        connect(connection).whenComplete { [self] result in
            samplerOpening = false
            if case .success(let channel) = result {
                connection.channel = channel
                metricsConnection = connection
            }
        }
    }

    func connect(_ connection: Connection) -> EventLoopFuture<any Channel> {
        ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    // The heads are built here from a DSN and fixed header names: validating them
                    // again on every request cost the generator CPU (perf) and caught nothing.
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(enableOutboundHeaderValidation: false)
                    try channel.pipeline.syncOperations.addHandler(ResponseHandler(run: self, connection: connection))
                }
            }
            .connect(host: target.endpoint(for: connection.id).host, port: target.endpoint(for: connection.id).port)
    }

    // MARK: Schedule

    func tick() {
        let now = Self.now()
        let lag = now > lastTickNanos + 1_000_000 ? now - lastTickNanos - 1_000_000 : 0
        maxTickLagNanos = max(maxTickLagNanos, lag)
        lastTickNanos = now
        // Move every request that is due to the pending FIFO.
        while !scheduleDone {
            let step = steps[stepIndex]
            let due = stepStartNanos + UInt64(Double(stepSequence) / step.rate * 1e9)
            let stepEnd = stepStartNanos + UInt64(step.duration * 1e9)
            if due >= stepEnd {
                stepIndex += 1
                stepSequence = 0
                stepStartNanos = stepEnd
                if stepIndex == steps.count {
                    scheduleDone = true
                    drainDeadline = now + UInt64(options.drainTimeout * 1e9)
                }
                continue
            }
            guard due <= now else { break }
            pending.append(Request(index: nextIndex, step: stepIndex, dueNanos: due))
            nextIndex += 1
            stepSequence += 1
            secondCounts.due += 1
            totals.due += 1
            stepCounts[stepIndex].due += 1
        }
        dispatch()
        // Grow the pool while requests wait and the maximum allows.
        let waiting = pending.count - pendingHead
        // After a refused connection, retry at most every 100 ms instead of on every tick: a
        // server that is down must show up as errors, not as a connect storm from pit-bench.
        if waiting > 0 && now >= lastConnectFailure &+ 100_000_000 {
            let room = options.maxConnections - connections.count - opening
            for _ in 0..<min(room, waiting, 16) { openConnection() }
        }
        if now >= lastTimeoutCheck + 100_000_000 {
            lastTimeoutCheck = now
            expireTimeouts(now)
        }
        if now >= startNanos + UInt64(second + 1) * 1_000_000_000 { closeSecond(now) }
        let inFlight = connections.values.contains { $0.request != nil }
        if scheduleDone && ((pending.count == pendingHead && !inFlight) || now >= drainDeadline) {
            finish(now)
        }
    }

    func dispatch() {
        while pendingHead < pending.count, let connection = idle.popLast() {
            guard let channel = connection.channel, channel.isActive else { continue }
            let request = pending[pendingHead]
            pendingHead += 1
            send(request, on: connection, channel: channel)
        }
        if pendingHead > 4096 && pendingHead * 2 > pending.count {
            pending.removeFirst(pendingHead)
            pendingHead = 0
        }
    }

    func send(_ request: Request, on connection: Connection, channel: any Channel) {
        let (body, eventID, isError) = source.next(index: request.index, allocator: allocator, random: &random)
        connection.request = request
        connection.eventID = eventID
        connection.isError = isError
        connection.sentNanos = Self.now()
        let head = self.head(bodySize: body.readableBytes)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        secondCounts.sent += 1
        totals.sent += 1
        stepCounts[request.step].sent += 1
    }

    private func head(bodySize: Int) -> HTTPRequestHead {
        if let head = heads[bodySize] { return head }
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: target.path, headers: headers)
        head.headers.add(name: "Content-Length", value: String(bodySize))
        heads[bodySize] = head
        return head
    }

    // MARK: Responses

    func completed(_ connection: Connection, status: Int, retryAfterSeconds: Int? = nil) {
        if connection.isSampler {
            queueDepth = Self.metric("pit_queue_depth", in: connection.body)
            storedTotal = Self.metric("pit_events_stored_total", in: connection.body)
            connection.body = ""
            connection.request = nil
            return
        }
        guard let request = connection.request else { return }
        connection.request = nil
        let now = Self.now()
        let micros = (now > request.dueNanos ? now - request.dueNanos : 0) / 1000
        var counts = Counts()
        switch status {
        case 200..<300:
            counts.ok = 1
            if connection.isError, let id = connection.eventID { accepted.append(id) }
        case 429: counts.tooManyRequests = 1
        case 503:
            counts.unavailable = 1
            if retryAfterSeconds == nil { unavailableWithoutRetryAfter += 1 }
        case 400..<500: counts.otherClientErrors = 1
        default: counts.serverErrors = 1
        }
        record(counts, micros: micros, step: request.step)
        if !finished { idle.append(connection) }
        dispatch()
    }

    func record(_ counts: Counts, micros: UInt64?, step: Int) {
        secondCounts.add(counts)
        totals.add(counts)
        stepCounts[step].add(counts)
        if let micros {
            let value = max(1, micros)
            _ = secondHistogram.record(value)
            _ = overall.record(value)
            _ = stepHistograms[step].record(value)
        }
    }

    func closed(_ connection: Connection) {
        if connection.isSampler {
            metricsConnection = nil
            return
        }
        connections[connection.id] = nil
        idle.removeAll { $0 === connection }
        if let request = connection.request {
            connection.request = nil
            var counts = Counts()
            counts.connectionErrors = 1
            record(counts, micros: nil, step: request.step)
        }
    }

    func expireTimeouts(_ now: UInt64) {
        let limit = UInt64(options.requestTimeout * 1e9)
        for connection in connections.values {
            guard let request = connection.request, now > connection.sentNanos + limit else { continue }
            connection.request = nil
            var counts = Counts()
            counts.timeouts = 1
            record(counts, micros: (now - request.dueNanos) / 1000, step: request.step)
            connection.channel?.close(promise: nil)
        }
    }

    /// The value of an unlabelled Prometheus sample (`name 123` or `name 123.0`).
    static func metric(_ name: String, in body: String) -> Int? {
        for line in body.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)).map { Int($0) }
        }
        return nil
    }

    // MARK: Seconds

    func closeSecond(_ now: UInt64) {
        let cpuNow = Self.processCPUSeconds()
        let wall = Double(now - lastCPUNanos) / 1e9
        let cpu = wall > 0 ? (cpuNow - lastCPU) / wall : 0
        lastCPU = cpuNow
        lastCPUNanos = now
        let targetRate = second < Int(steps.reduce(0) { $0 + $1.duration }) ? rate(atSecond: second) : 0
        let inFlight = connections.values.filter { $0.request != nil }.count
        var sample = SecondSample(
            second: second, targetRate: targetRate, counts: secondCounts,
            p50Milliseconds: secondHistogram.totalCount > 0 ? Double(secondHistogram.valueAtPercentile(50)) / 1000 : 0,
            p99Milliseconds: secondHistogram.totalCount > 0 ? Double(secondHistogram.valueAtPercentile(99)) / 1000 : 0,
            maxMilliseconds: Double(secondHistogram.max) / 1000,
            inFlight: inFlight, pending: pending.count - pendingHead, generatorCPU: cpu,
            tickLagMilliseconds: Double(maxTickLagNanos) / 1e6,
            server: sampler?.sample(queueDepth: queueDepth, storedTotal: storedTotal)
                ?? (queueDepth != nil || storedTotal != nil ? ServerSample(queueDepth: queueDepth, storedTotal: storedTotal) : nil)
        )
        if secondHistogram.totalCount == 0 { sample.maxMilliseconds = 0 }
        // The generator is the bottleneck when its tick runs late or it uses a whole core.
        if !scheduleDone {
            if maxTickLagNanos > 20_000_000 { lateSeconds += 1 }
            if cpu > 0.95 { busySeconds += 1 }
        }
        timeline.append(sample)
        onSecond(sample)
        second += 1
        secondCounts = Counts()
        secondHistogram.reset()
        maxTickLagNanos = 0
        pollReady()
    }

    func rate(atSecond second: Int) -> Double {
        var elapsed = 0.0
        for step in steps {
            if Double(second) < elapsed + step.duration { return step.rate }
            elapsed += step.duration
        }
        return 0
    }

    func pollReady() {
        // A server killed and restarted under load (a chaos run) closed the sampler's connection.
        if target.metricsPath != nil && metricsConnection == nil && !finished { openSampler() }
        guard let path = target.metricsPath, let connection = metricsConnection, connection.request == nil,
            let channel = connection.channel, channel.isActive
        else { return }
        connection.request = Request(index: -1, step: 0, dueNanos: Self.now())
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
        head.headers.add(name: "Host", value: "\(target.host):\(target.port)")
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
    }

    // MARK: End

    func finish(_ now: UInt64) {
        guard !finished else { return }
        finished = true
        tickTask?.cancel()
        // Whatever is still waiting or in flight after the drain timeout is a timeout.
        for connection in connections.values {
            if let request = connection.request {
                connection.request = nil
                var counts = Counts()
                counts.timeouts = 1
                record(counts, micros: (now - request.dueNanos) / 1000, step: request.step)
            }
        }
        while pendingHead < pending.count {
            var counts = Counts()
            counts.timeouts = 1
            record(counts, micros: nil, step: pending[pendingHead].step)
            pendingHead += 1
        }
        if secondCounts.completed > 0 || secondCounts.due > 0 { closeSecond(now) }
        for connection in connections.values { connection.channel?.close(promise: nil) }
        metricsConnection?.channel?.close(promise: nil)
        var limited: String?
        let scheduledSeconds = max(1, Int(steps.reduce(0) { $0 + $1.duration }))
        if lateSeconds * 10 > scheduledSeconds {
            limited = "the generator's 1 ms tick ran more than 20 ms late in \(lateSeconds) of \(scheduledSeconds) s"
        } else if busySeconds * 10 > scheduledSeconds {
            limited = "the generator used a full core in \(busySeconds) of \(scheduledSeconds) s"
        }
        let steps = zip(self.steps, zip(stepCounts, stepHistograms)).map { step, data in
            var result = StepResult(rate: step.rate, duration: step.duration, counts: data.0, latency: .from(data.1))
            result.generatorLimited = limited
            return result
        }
        promise.succeed(
            LoadResult(
                timeline: timeline, steps: steps, totals: totals, latency: .from(overall), acceptedEventIDs: accepted,
                unavailableWithoutRetryAfter: unavailableWithoutRetryAfter,
                elapsedSeconds: Double(now - startNanos) / 1e9, generatorLimited: limited
            ))
    }
}

private final class ResponseHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let run: GeneratorRun
    private let connection: GeneratorRun.Connection
    private var status = 0
    private var retryAfterSeconds: Int?

    init(run: GeneratorRun, connection: GeneratorRun.Connection) {
        self.run = run
        self.connection = connection
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
            retryAfterSeconds = head.headers.first(name: "Retry-After").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        case .body(let buffer):
            if connection.isSampler { connection.body += String(buffer: buffer) }
        case .end:
            run.completed(connection, status: status, retryAfterSeconds: retryAfterSeconds)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        run.closed(connection)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
