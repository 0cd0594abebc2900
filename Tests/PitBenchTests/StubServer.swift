import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal HTTP/1.1 server for generator tests: answers every request with `answer` (200 `{}`
/// unless told otherwise), after an optional stall that can be switched on for a window of time.
final class StubServer: @unchecked Sendable {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private(set) var port = 0
    private var channel: (any Channel)?
    /// Requests arriving in [stallStart, stallEnd) (uptime nanoseconds) are answered at stallEnd.
    let stall: (start: UInt64, end: UInt64)?
    /// The same window, placed relative to the first request's arrival (nanoseconds after it):
    /// for runs whose set-up before the first request takes an unknown time.
    let stallAfterFirstRequest: (delay: UInt64, duration: UInt64)?
    let answer: Answer
    /// 0: any free port.
    private let requestedPort: Int

    struct Answer: Sendable {
        var status: HTTPResponseStatus = .ok
        var retryAfter: String?
    }

    init(
        stall: (start: UInt64, end: UInt64)? = nil, stallAfterFirstRequest: (delay: UInt64, duration: UInt64)? = nil,
        answer: Answer = Answer(), port: Int = 0
    ) {
        self.stall = stall
        self.stallAfterFirstRequest = stallAfterFirstRequest
        self.answer = answer
        self.requestedPort = port
    }

    func start() async throws {
        let stall = self.stall
        let answer = self.answer
        let window = StallWindow(fixed: stall, afterFirstRequest: stallAfterFirstRequest)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(stall: window, answer: answer))
                }
            }
            .bind(host: "127.0.0.1", port: requestedPort).get()
        self.channel = channel
        port = channel.localAddress?.port ?? 0
    }

    func stop() async throws {
        try await channel?.close()
        try await group.shutdownGracefully()
    }

    /// Shared by every connection. `@unchecked Sendable`: touched only on the server's one
    /// event loop thread.
    private final class StallWindow: @unchecked Sendable {
        var window: (start: UInt64, end: UInt64)?
        let afterFirstRequest: (delay: UInt64, duration: UInt64)?
        init(fixed: (start: UInt64, end: UInt64)?, afterFirstRequest: (delay: UInt64, duration: UInt64)?) {
            window = fixed
            self.afterFirstRequest = afterFirstRequest
        }

        func current(now: UInt64) -> (start: UInt64, end: UInt64)? {
            if window == nil, let afterFirstRequest {
                window = (now + afterFirstRequest.delay, now + afterFirstRequest.delay + afterFirstRequest.duration)
            }
            return window
        }
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let stall: StallWindow
        let answer: Answer
        /// pit-bench's control client (health checks, read API lookups) reads until the server
        /// closes, so `Connection: close` must be honoured.
        var keepAlive = true
        init(stall: StallWindow, answer: Answer) {
            self.stall = stall
            self.answer = answer
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let part = unwrapInboundIn(data)
            if case .head(let head) = part { keepAlive = head.isKeepAlive }
            guard case .end = part else { return }
            let now = NIODeadline.now().uptimeNanoseconds
            if let stall = stall.current(now: now), now >= stall.start, now < stall.end {
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(deadline: NIODeadline.uptimeNanoseconds(stall.end)) {
                    bound.value.0.respond(bound.value.1)
                }
            } else {
                respond(context)
            }
        }

        func respond(_ context: ChannelHandlerContext) {
            var head = HTTPResponseHead(version: .http1_1, status: answer.status)
            head.headers.add(name: "Content-Length", value: "2")
            if let retryAfter = answer.retryAfter { head.headers.add(name: "Retry-After", value: retryAfter) }
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "{}")))), promise: nil)
            if keepAlive {
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            } else {
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }
}
