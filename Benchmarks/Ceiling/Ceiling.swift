import PitModel
import Foundation
import Hummingbird
import PitPayloads
import NIOCore
import NIOHTTP1
import NIOPosix

/// Do-nothing HTTP servers that collect a request body and answer 200 `{}`: the ceilings the
/// ingest path is measured against, on the same machine and in the same sitting
/// (`scripts/bench-closed-loop`). Not part of the product.
///
///   pit-ceiling raw-nio PORT       a SwiftNIO HTTP/1 handler answering on the event loop
///   pit-ceiling hummingbird PORT   a Hummingbird 2 route doing the same
///   pit-ceiling envelope           prints the synthetic error envelope pit-bench sends, with the
///                                  event id 0123456789abcdef0123456789abcdef for wrk to replace
@main
enum Ceiling {
    static func main() async throws {
        let arguments = CommandLine.arguments
        if arguments.count == 2 && arguments[1] == "envelope" {
            let id = EventID("0123456789abcdef0123456789abcdef")!
            let envelope = SyntheticEvents(fingerprints: 100, users: 1000, releases: 5)
                .errorEnvelope(index: 7, eventID: id, timestamp: Double(Int(Date().timeIntervalSince1970)))
            FileHandle.standardOutput.write(Data(envelope))
            return
        }
        guard arguments.count == 3, let port = Int(arguments[2]) else {
            print("usage: pit-ceiling raw-nio|hummingbird PORT")
            return
        }
        switch arguments[1] {
        case "raw-nio": try await rawNIO(port: port)
        case "hummingbird": try await hummingbird(port: port)
        default: print("unknown server \(arguments[1])")
        }
    }

    static func hummingbird(port: Int) async throws {
        let router = Router()
        router.post("/api/{project}/envelope/") { request, _ -> Response in
            _ = try await request.body.collect(upTo: 1 << 20)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        try await app.runService()
    }

    static func rawNIO(port: Int) async throws {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(CollectAndAnswer())
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
        print("raw-nio listening on \(port)")
        try await channel.closeFuture.get()
    }
}

private final class CollectAndAnswer: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    private var body: ByteBuffer?
    private var keepAlive = true

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            keepAlive = head.isKeepAlive
            body = nil
        case .body(var chunk):
            if body == nil { body = chunk } else { body!.writeBuffer(&chunk) }
        case .end:
            let headers = HTTPHeaders([("Content-Type", "application/json"), ("Content-Length", "2")])
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: "{}")))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            if !keepAlive { context.close(promise: nil) }
        }
    }
}
