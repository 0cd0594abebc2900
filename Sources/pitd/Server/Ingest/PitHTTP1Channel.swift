import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// Hummingbird's HTTP/1 child channel with the ingest fast path spliced in right after the HTTP
/// decoder, before the conversion to HTTPTypes that only Hummingbird's routes need.
struct PitHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let http1: HTTP1Channel
    let limits: ConnectionLimits
    let connections: ConnectionCounter
    let makeIngestHandler: @Sendable () -> IngestHTTPHandler

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard connections.admit(channel) else {
            // Past the limit: a canned 503 at the front of the pipeline once the socket is
            // active, then close. Nothing is read.
            return http1.setup(channel: channel, logger: logger).flatMapThrowing { value in
                try channel.pipeline.syncOperations.addHandler(ConnectionCounter.Refuser(), position: .first)
                return value
            }
        }
        return http1.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let operations = channel.pipeline.syncOperations
            let decoder = try operations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try operations.addHandler(makeIngestHandler(), position: .after(decoder))
            // After the ingest handler is placed, so the guard sits between it and the decoder
            // and sees the fast path's requests and responses too.
            let guardHandler = ConnectionGuard(limits: limits, logger: logger)
            try operations.addHandler(guardHandler, position: .after(decoder))
            try operations.addHandler(ConnectionGuard.ByteWatcher(guardHandler), position: .first)
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await http1.handle(value: value, logger: logger)
    }
}
