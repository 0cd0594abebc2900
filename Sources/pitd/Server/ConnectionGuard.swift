import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// Limits on HTTP connections that no single handler can enforce: how many may be open, how
/// long one may sit idle or dribble a request, and how long one may hold up a shutdown.
struct ConnectionLimits: Sendable {
    /// Connections open at once; beyond it a new one is answered 503 and closed.
    var maxConnections: Int
    /// The longest a connection may wait between requests, or between two pieces of a request
    /// it is sending (head bytes, body chunks), before it is closed.
    var idleTimeout: TimeAmount
    /// From the first byte of a request to the end of its head.
    var headerTimeout: TimeAmount
    /// A body has this long from its head, plus a second per `bodyMinimumRate` bytes received,
    /// to arrive in full (Apache mod_reqtimeout's `body=…,MinRate=…`). The idle timeout alone
    /// let a client keep a request open for ever by sending a byte just before each timeout.
    var bodyTimeout: TimeAmount
    /// Bytes per second; see `bodyTimeout`.
    var bodyMinimumRate: Int
    /// After shutdown begins, how long open connections may finish their requests.
    var shutdownGrace: TimeAmount

    /// A default below the open-files limit, leaving room for the database, logs and the
    /// listening socket: 10,000 where the limit allows it.
    static func defaultMaxConnections(openFilesLimit: Int?) -> Int {
        guard let limit = openFilesLimit, limit > 0 else { return 10_000 }
        return max(32, min(10_000, limit - 256))
    }
}

/// Counts open connections across event loops.
final class ConnectionCounter: Sendable {
    let limit: Int
    private let open = NIOLockedValueBox(0)

    init(limit: Int) {
        self.limit = limit
    }

    var count: Int { open.withLockedValue { $0 } }

    /// Takes a slot for `channel` until it closes; false when all are taken.
    func admit(_ channel: any Channel) -> Bool {
        let admitted = open.withLockedValue { open in
            guard open < limit else { return false }
            open += 1
            return true
        }
        if admitted { channel.closeFuture.whenComplete { _ in self.open.withLockedValue { $0 -= 1 } } }
        return admitted
    }

    /// What a connection beyond the limit gets before it is closed: a plain 503 that SDKs treat
    /// as "back off", written before reading anything.
    static let refusal: ByteBuffer = ByteBuffer(
        string: "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"
            + "Content-Type: text/plain\r\nContent-Length: 21\r\nConnection: close\r\n\r\ntoo many connections\n")
}

extension ConnectionCounter {
    /// Answers a connection beyond the limit and closes it.
    final class Refuser: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        private var done = false

        func handlerAdded(context: ChannelHandlerContext) {
            if context.channel.isActive { refuse(context) }
        }

        func channelActive(context: ChannelHandlerContext) {
            refuse(context)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

        private func refuse(_ context: ChannelHandlerContext) {
            guard !done else { return }
            done = true
            let channel = context.channel
            context.writeAndFlush(NIOAny(ConnectionCounter.refusal)).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

/// Enforces `ConnectionLimits`' timeouts on one connection. It sits right after the HTTP decoder,
/// before the ingest fast path and Hummingbird, so it sees every request and every response;
/// `ConnectionGuard.ByteWatcher`, at the front of the pipeline, tells it when the bytes of a head
/// start arriving (the decoder says nothing until the head is complete).
///
/// The server's own time is never cut short: while a request waits for its response (a commit,
/// a slow query), only the response writers' deadlines apply.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let limits: ConnectionLimits
    private let logger: Logger
    /// Requests whose head arrived and whose response has not ended.
    private var unanswered = 0
    private var readingBody = false
    private var lastActivity = NIODeadline.now()
    /// When the first bytes of a head arrived, while the head is incomplete.
    private var headStarted: NIODeadline?
    /// While a body is being read: when its clock started and how many bytes have come.
    private var bodyStarted: NIODeadline?
    private var bodyBytes = 0
    /// A response head went out and its end has not.
    private var responding = false
    private var timer: Scheduled<Void>?
    private var shutdownTimer: Scheduled<Void>?
    private weak var context: ChannelHandlerContext?

    init(limits: ConnectionLimits, logger: Logger) {
        self.limits = limits
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { arm(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        shutdownTimer?.cancel()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        lastActivity = .now()
        arm(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        shutdownTimer?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        switch unwrapInboundIn(data) {
        case .head:
            unanswered += 1
            readingBody = true
            headStarted = nil
            bodyStarted = lastActivity
            bodyBytes = 0
        case .body(let chunk):
            bodyBytes += chunk.readableBytes
        case .end:
            readingBody = false
            bodyStarted = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .head = unwrapOutboundIn(data) { responding = true }
        if case .end = unwrapOutboundIn(data) {
            responding = false
            unanswered = max(0, unanswered - 1)
            lastActivity = .now()
            // A pipelined head that started during the server's turn gets its full time now.
            if headStarted != nil { headStarted = lastActivity }
        }
        context.write(data, promise: promise)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, shutdownTimer == nil {
            // Idle connections close at once (Hummingbird and the ingest handler see to that);
            // this is for the ones in the middle of a request that does not want to end.
            shutdownTimer = context.eventLoop.assumeIsolated().scheduleTask(in: limits.shutdownGrace) { [weak self] in
                guard let self, let context = self.context else { return }
                self.logger.debug("closing a connection still open after the shutdown grace period")
                context.close(promise: nil)
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Bytes arrived from the peer (called by `ByteWatcher`, on this loop).
    fileprivate func bytesArrived() {
        if !readingBody, headStarted == nil { headStarted = .now() }
    }

    private func arm(context: ChannelHandlerContext) {
        guard timer == nil else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: nextCheck()) { [weak self] in
            guard let self, let context = self.context else { return }
            self.timer = nil
            self.check(context: context)
        }
    }

    private func nextCheck() -> NIODeadline {
        var deadline = lastActivity + limits.idleTimeout
        if let headStarted { deadline = min(deadline, headStarted + limits.headerTimeout) }
        if let bodyDeadline { deadline = min(deadline, bodyDeadline) }
        // A body may start after this is armed (its head arrives between checks); checking at
        // least every `bodyTimeout` finds it overdue within that much, without re-arming the
        // timer for every request.
        let now = NIODeadline.now()
        deadline = min(deadline, now + limits.bodyTimeout)
        return max(deadline, now + .milliseconds(100))
    }

    /// When the body being read must be complete, at the rate it has come so far.
    private var bodyDeadline: NIODeadline? {
        guard let bodyStarted else { return nil }
        let allowance = Int64(bodyBytes / max(1, limits.bodyMinimumRate))
        return bodyStarted + limits.bodyTimeout + .seconds(min(allowance, Int64(Int32.max)))
    }

    private func check(context: ChannelHandlerContext) {
        let now = NIODeadline.now()
        let serverBusy = unanswered > 0 && !readingBody
        if unanswered > 1, bodyStarted != nil {
            // An earlier request on this connection is still owed its answer, and reads may be
            // paused until it is given: the body's clock starts when it can flow.
            bodyStarted = now
            bodyBytes = 0
        }
        if !serverBusy {
            if let headStarted, now - headStarted >= limits.headerTimeout {
                return close(context, reason: "request head not complete in time")
            }
            if let bodyDeadline, now >= bodyDeadline {
                return timeOutBody(context)
            }
            if now - lastActivity >= limits.idleTimeout {
                return close(context, reason: readingBody ? "request body stalled" : "idle")
            }
        } else {
            // The server's turn: the clock starts again when it answers.
            lastActivity = now
        }
        arm(context: context)
    }

    /// A body arriving slower than `bodyMinimumRate`: 408, unless a response has begun (an
    /// early refusal), then close. Whatever handler was collecting the body sees the channel go
    /// inactive and lets go of it.
    private func timeOutBody(_ context: ChannelHandlerContext) {
        bodyStarted = nil
        guard !responding, unanswered == 1 else { return close(context, reason: "request body too slow") }
        logger.debug("closing HTTP connection", metadata: ["pit.reason": "request body too slow"])
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(Self.bodyTimeoutAnswer.readableBytes))
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .requestTimeout, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(Self.bodyTimeoutAnswer))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    /// Sentry's error body shape (`{"detail": …}`), as every other refusal has.
    private static let bodyTimeoutAnswer = ByteBuffer(string: #"{"detail":"request body not received in time"}"#)

    private func close(_ context: ChannelHandlerContext, reason: String) {
        logger.debug("closing HTTP connection", metadata: ["pit.reason": "\(reason)"])
        context.close(promise: nil)
    }

    /// At the front of the pipeline: reports raw bytes to the guard, which cannot see a head
    /// before the decoder completes it.
    final class ByteWatcher: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        private let owner: ConnectionGuard

        init(_ owner: ConnectionGuard) {
            self.owner = owner
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            owner.bytesArrived()
            context.fireChannelRead(data)
        }
    }
}
