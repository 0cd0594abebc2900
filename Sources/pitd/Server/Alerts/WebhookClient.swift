import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One HTTP/1.1 POST per call, on its own connection (webhooks are rare: the hourly ceiling
/// bounds them), TLS for https:// with the system's trust roots. Answers the status code; a
/// connection, TLS or timeout failure throws.
struct WebhookClient: Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let group: any EventLoopGroup
    var timeout: TimeAmount = .seconds(10)

    func post(url text: String, body: [UInt8], headers extra: [(String, String)]) async throws -> Int {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else {
            throw Failure(description: "invalid URL")
        }
        let secure = scheme == "https"
        let port = url.port ?? (secure ? 443 : 80)
        var path = url.path.isEmpty ? "/" : url.path
        if let query = url.query { path += "?\(query)" }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: url.port.map { "\(host):\($0)" } ?? host)
        headers.add(name: "User-Agent", value: "pitd-alerts/1")
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: "\(body.count)")
        headers.add(name: "Connection", value: "close")
        for (name, value) in extra { headers.add(name: name, value: value) }
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path, headers: headers)

        let tls = try secure ? NIOSSLContext(configuration: .makeClientConfiguration()) : nil
        let promise = group.next().makePromise(of: Int.self)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: host))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(StatusHandler(promise: promise))
                }
            }
        let channel = try await bootstrap.connect(host: host, port: port).get()
        let deadline = channel.eventLoop.scheduleTask(in: timeout) {
            promise.fail(Failure(description: "no answer within \(timeout.nanoseconds / 1_000_000_000) s"))
            channel.close(promise: nil)
        }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil)
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        defer {
            deadline.cancel()
            channel.close(promise: nil)
        }
        return try await promise.futureResult.get()
    }
}

/// Completes with the response's status once the whole response has been read.
private final class StatusHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<Int>
    private var status: Int?

    init(promise: EventLoopPromise<Int>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): status = Int(head.status.code)
        case .body: break
        case .end:
            if let status { promise.succeed(status) }
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(
            WebhookClient.Failure(
                description: status.map { "connection closed after status \($0)" } ?? "connection closed without an answer"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}
