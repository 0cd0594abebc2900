import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import PitIngest
import PitModel
import PitObservability

/// The ingest hot path: a channel handler placed right after the HTTP/1 decoder, ahead of
/// Hummingbird, that answers `POST`/`OPTIONS` on ingest URLs itself and passes every other
/// request on untouched.
///
/// Why not a Hummingbird route: a route costs a task per request, a conversion to HTTPTypes, an
/// async body stream and, with ack=committed, a continuation resumed from the writer thread on
/// the cooperative pool and hopped back to the loop; measured on this 2-core machine that
/// machinery caps a do-nothing route at ~20,000 requests/s where the raw handler takes ~34,800.
/// Here the whole request (auth, admission, decode, parse, extract, group, compress) runs on the
/// connection's event loop, the unit is queued with a `CommitTicket`, and the writer wakes each
/// loop once per batch to answer all of that loop's requests.
///
/// Admission and auth run when the head arrives, before the body is read: an overloaded server
/// answers 503 without parsing anything, and an unknown key costs no decompression. A request
/// without credentials in its head (the tunnel pattern) is checked as soon as its envelope header
/// line has arrived (`EnvelopeHeaderProbe`), and refused then, without reading the rest.
///
/// Every body byte held counts against the process-wide `InflightBudget` from the chunk that
/// brings it until the request is prepared; a chunk that does not fit is answered 503 and the
/// connection closed.
///
/// Requests on one connection are answered in order: parts arriving while an ingest request
/// waits for its commit, or an ingest request arriving while Hummingbird still owes a response,
/// are held (and reads paused) until the earlier response is written.
final class IngestHTTPHandler: ChannelDuplexHandler, RemovableChannelHandler, CommitWaiter {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// What the handler knows of an ingest request once its head has arrived.
    private struct Head {
        var route: IngestRoute
        var version: HTTPVersion
        var keepAlive: Bool
        var contentEncoding: String?
        var contentType: String?
        var auth: SentryAuth?
        var projectID: Int64
        /// What a security report's events carry from the request (nil on other endpoints).
        var security: SecurityReport.Context? = nil
    }

    private struct Awaiting {
        var head: Head
        var sequence: UInt32
        var eventID: EventID?
        var itemTypes: [ItemType]
    }

    private enum State {
        /// Between requests.
        case idle
        /// A request for Hummingbird is being passed on, up to its `.end`.
        case forwarding
        /// An ingest request's body is being collected.
        case collecting(Head, ByteBuffer?)
        /// The answer is known before the body (refused, shed, preflight): the body is dropped.
        case discarding(Head, Answer)
        /// A body that inflates past `IngestPipeline.loopDecodeLimit` is prepared on a pool
        /// thread; its answer waits, as later requests do.
        case preparing(Head)
        /// Queued with a ticket; the writer reports the commit through `batchFinished`.
        case awaitingCommit(Awaiting)
        case closed
    }

    private let pipeline: IngestPipeline
    private let contexts: IngestLoopContexts
    private let logger: Logger
    private var loop: IngestLoopContext!
    private var context: ChannelHandlerContext?
    private var state = State.idle
    /// Requests passed to Hummingbird whose response has not been written in full.
    private var forwardedAwaitingResponse = 0
    /// Request parts that arrived while an earlier request was still owed its answer.
    private var held = CircularBuffer<HTTPServerRequestPart>()
    private var readPaused = false
    private var quiescePending = false
    private var sequence: UInt32 = 0
    /// Counts parts passed on to Hummingbird.
    private var forwardedParts = 0
    /// Looks for the envelope header of the body being collected while its request has no
    /// credentials yet; nil otherwise.
    private var probe: EnvelopeHeaderProbe?
    /// Bytes of the body being collected, reserved in `pipeline.inflight`.
    private var bodyReserved = 0

    init(pipeline: IngestPipeline, contexts: IngestLoopContexts, logger: Logger) {
        self.pipeline = pipeline
        self.contexts = contexts
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        self.loop = contexts.context(for: context.eventLoop)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        state = .closed
        releaseBody()
    }

    func channelInactive(context: ChannelHandlerContext) {
        state = .closed
        held.removeAll()
        releaseBody()
        context.fireChannelInactive()
    }

    /// The body being collected is no longer held (answered, prepared, or the connection is gone).
    private func releaseBody() {
        probe = nil
        guard bodyReserved > 0 else { return }
        pipeline.inflight?.release(bodyReserved)
        bodyReserved = 0
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if !held.isEmpty || isAwaitingCommit {
            held.append(part)
            return
        }
        process(part, context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // Graceful shutdown: Hummingbird closes connections it sees as idle, and it never sees
        // ingest requests. Pass the event on only between requests, so none is cut off.
        if event is ChannelShouldQuiesceEvent, !isIdle {
            quiescePending = true
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// The current request waits for the server (its preparation off the loop, or its commit):
    /// later parts are held and reads paused.
    private var isAwaitingCommit: Bool {
        switch state {
        case .awaitingCommit, .preparing: return true
        default: return false
        }
    }

    private var isIdle: Bool {
        if case .idle = state { return held.isEmpty }
        return false
    }

    private func process(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch state {
        case .idle:
            guard case .head(let head) = part else {
                // Stray body or end without a head: only possible after a decoder error, which
                // Hummingbird answers.
                forward(part, context: context)
                return
            }
            guard let route = IngestRoute(uri: head.uri), head.method == .POST || head.method == .OPTIONS else {
                forwardedAwaitingResponse += 1
                state = .forwarding
                forward(part, context: context)
                return
            }
            guard forwardedAwaitingResponse == 0 else {
                held.append(part)
                return
            }
            begin(head, route: route, context: context)
        case .forwarding:
            if case .end = part { state = .idle }
            forward(part, context: context)
        case .collecting(var head, var body):
            switch part {
            case .head:
                break
            case .body(var chunk):
                state = .idle  // drop the reference so `body` stays uniquely owned while it grows
                if let inflight = pipeline.inflight {
                    guard inflight.reserve(chunk.readableBytes) else {
                        refuse(
                            pipeline.rejected(
                                IngestPipeline.inflightExceeded(retryAfter: pipeline.retryAfterSeconds), itemType: "envelope"),
                            head: head, context: context)
                        return
                    }
                    bodyReserved += chunk.readableBytes
                }
                if let probe {
                    switch probe.feed(chunk) {
                    case .needMore:
                        break
                    case .found(let line):
                        do throws(IngestError) {
                            head.auth = try pipeline.authorizeEnvelopeHeader(line, projectID: head.projectID)
                            self.probe = nil
                        } catch {
                            refuse(error, head: head, context: context)
                            return
                        }
                    case .refused(let error):
                        refuse(pipeline.rejected(error, itemType: "envelope"), head: head, context: context)
                        return
                    }
                }
                if body == nil {
                    body = chunk
                } else {
                    body!.writeBuffer(&chunk)
                }
                if body!.readableBytes > pipeline.limits.maxRequestBytes {
                    refuseTooLarge(head, context: context)
                    return
                }
                state = .collecting(head, body)
            case .end:
                if let probe {
                    // The body ended before a newline: the header is all of it.
                    switch probe.finish() {
                    case .found(let line):
                        do throws(IngestError) {
                            head.auth = try pipeline.authorizeEnvelopeHeader(line, projectID: head.projectID)
                        } catch {
                            respond(.failure(error), head: head, context: context)
                            return
                        }
                    case .refused(let error):
                        respond(.failure(pipeline.rejected(error, itemType: "envelope")), head: head, context: context)
                        return
                    case .needMore:
                        respond(
                            .failure(pipeline.rejected(.unauthorized("missing authorization information"), itemType: "envelope")),
                            head: head, context: context)
                        return
                    }
                    self.probe = nil
                }
                finish(head, body: body ?? ByteBuffer(), context: context)
            }
        case .discarding(let head, let answer):
            if case .end = part { respond(answer, head: head, context: context) }
        case .preparing, .awaitingCommit, .closed:
            break
        }
    }

    private func forward(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        forwardedParts &+= 1
        context.fireChannelRead(wrapInboundOut(part))
    }

    /// The head of an ingest request: everything that can be decided before the body.
    private func begin(_ request: HTTPRequestHead, route: IngestRoute, context: ChannelHandlerContext) {
        var head = Head(
            route: route, version: request.version, keepAlive: request.isKeepAlive,
            contentEncoding: request.headers.first(name: "content-encoding"),
            contentType: request.headers.first(name: "content-type"), auth: nil, projectID: 0)
        if request.method == .OPTIONS {
            state = .discarding(head, .preflight)
            return
        }
        if !loop.admit() {
            pipeline.metrics.recordShed()
            state = .discarding(head, .shed)
            return
        }
        do throws(IngestError) {
            if let length = request.headers.first(name: "content-length").flatMap({ Int($0) }), length > pipeline.limits.maxRequestBytes {
                throw .tooLarge("request body exceeds \(pipeline.limits.maxRequestBytes) bytes")
            }
            let query = request.uri.utf8.firstIndex(of: UInt8(ascii: "?")).map { request.uri[request.uri.index(after: $0)...] }
            head.auth = try loop.auth(
                xSentryAuth: request.headers.first(name: "x-sentry-auth"),
                authorization: request.headers.first(name: "authorization"), query: query)
            head.projectID = try Self.resolveProject(route, auth: head.auth, keys: pipeline.keys)
            if route.endpoint == .minidump {
                // Crash reporters put the key in the query string; there is no envelope header.
                guard head.auth != nil else { throw .unauthorized("missing authorization information") }
            }
            if route.endpoint == .security {
                // Browsers post reports with the key in the query string; there is no envelope header.
                guard head.auth != nil else { throw .unauthorized("missing authorization information") }
                let parameters = URLEncoding.queryItems(query)
                head.security = SecurityReport.Context(
                    release: parameters["sentry_release"], environment: parameters["sentry_environment"],
                    userAgent: request.headers.first(name: "user-agent"))
            }
            if let auth = head.auth {
                try pipeline.authorize(publicKey: auth.publicKey, projectID: head.projectID)
            } else {
                // The tunnel pattern: the credentials are in the envelope header, which the
                // probe reads as the body arrives. A legacy /store/ event has no such header.
                if route.endpoint == .store, head.contentType?.lowercased().hasPrefix("application/x-sentry-envelope") != true {
                    throw .unauthorized("missing authorization information")
                }
                guard let encoding = ContentEncoding(headerValue: head.contentEncoding ?? "") else {
                    throw .unsupportedMediaType("unsupported content encoding \(head.contentEncoding ?? "")")
                }
                probe = EnvelopeHeaderProbe(encoding: encoding)
            }
            state = .collecting(head, nil)
            // curl and other clients wait (curl: 1 s) for this before sending a large body.
            if request.headers.first(name: "expect")?.lowercased() == "100-continue" {
                context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: .continue))), promise: nil)
            }
        } catch {
            var counted = (projectID: head.projectID, auth: head.auth)
            if error.code == .payloadTooLarge, counted.auth == nil {
                // Refused by its Content-Length before its credentials were read: read them now,
                // so that the refusal counts for its project.
                let query = request.uri.utf8.firstIndex(of: UInt8(ascii: "?")).map { request.uri[request.uri.index(after: $0)...] }
                counted.auth = try? loop.auth(
                    xSentryAuth: request.headers.first(name: "x-sentry-auth"),
                    authorization: request.headers.first(name: "authorization"), query: query)
                counted.projectID = (try? Self.resolveProject(route, auth: counted.auth, keys: pipeline.keys)) ?? 0
            }
            pipeline.countRefusal(error, projectID: counted.projectID, publicKey: counted.auth?.publicKey, endpoint: route.pipelineEndpoint)
            let refusal = pipeline.rejected(error, itemType: "envelope")
            if route.endpoint == .minidump, refusal.code == .rateLimited {
                // Relay never answers a minidump upload 429 (crash reporters retry it forever):
                // the dump is dropped and the answer is an event id, as if it were stored.
                state = .discarding(head, .text(EventID.random().hex))
            } else if refusal.code == .payloadTooLarge {
                refuseTooLarge(head, context: context, counted: true)
            } else {
                state = .discarding(head, .failure(refusal))
            }
        }
    }

    /// The project a request is for: from the URL, or from the key for `/api/store/`.
    static func resolveProject(_ route: IngestRoute, auth: SentryAuth?, keys: KeyCache) throws(IngestError) -> Int64 {
        if let projectID = route.projectID {
            guard projectID > 0 else { throw .badRequest("invalid project id in URL") }
            return projectID
        }
        guard let auth else { throw .unauthorized("missing authorization information") }
        guard let entry = keys.lookup(auth.publicKey) else { throw .forbidden("unknown public key") }
        return entry.projectID
    }

    /// The rest of an oversized body is not worth reading: answer 413 and close.
    /// `counted`: `begin` counted the refusal already (its outcome); a body found too large
    /// while it arrives is counted here.
    private func refuseTooLarge(_ head: Head, context: ChannelHandlerContext, counted: Bool = false) {
        let error = IngestError.tooLarge("request body exceeds \(pipeline.limits.maxRequestBytes) bytes")
        if !counted {
            pipeline.countRefusal(error, projectID: head.projectID, publicKey: head.auth?.publicKey, endpoint: head.route.pipelineEndpoint)
        }
        refuse(error, head: head, context: context)
    }

    /// Answers while the body is still arriving and closes: the rest is not worth reading.
    private func refuse(_ error: IngestError, head: Head, context: ChannelHandlerContext) {
        var head = head
        head.keepAlive = false
        respond(.failure(error), head: head, context: context)
    }

    private func finish(_ head: Head, body: ByteBuffer, context: ChannelHandlerContext) {
        var request = IngestPipeline.Request(
            projectID: head.projectID, auth: head.auth, contentEncoding: head.contentEncoding,
            contentType: head.contentType, body: body, authorized: head.auth != nil)
        request.security = head.security
        if head.route.endpoint == .minidump {
            // Multipart parsing, hashing and compressing a dump of megabytes: never on the loop.
            prepareOffLoop(request, head: head, context: context)
            return
        }
        do throws(IngestError) {
            guard let prepared = try pipeline.prepareOnLoop(request, endpoint: head.route.pipelineEndpoint) else {
                prepareOffLoop(request, head: head, context: context)
                return
            }
            submitResolving(prepared, head: head, context: context)
        } catch {
            respond(.failure(error), head: head, context: context)
        }
    }

    /// Inflating the body would hold up the loop: prepare it on the thread pool, then carry on
    /// here. The body stays counted in the in-flight budget until then.
    private func prepareOffLoop(_ request: IngestPipeline.Request, head: Head, context: ChannelHandlerContext) {
        state = .preparing(head)
        let pipeline = pipeline
        let endpoint = head.route.pipelineEndpoint
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        NIOThreadPool.singleton.runIfActive(eventLoop: context.eventLoop) { () -> Result<IngestPipeline.Prepared, IngestError> in
            do throws(IngestError) {
                return .success(try pipeline.prepare(request, endpoint: endpoint))
            } catch {
                return .failure(error)
            }
        }.whenComplete { result in
            handler.value.preparedOffLoop(result, head: head)
        }
    }

    private func preparedOffLoop(_ result: Result<Result<IngestPipeline.Prepared, IngestError>, any Error>, head: Head) {
        // The connection may have closed meanwhile; then there is nobody to answer.
        guard case .preparing = state, let context else { return }
        state = .idle
        switch result {
        case .success(.success(let prepared)): submitResolving(prepared, head: head, context: context)
        case .success(.failure(let error)): respond(.failure(error), head: head, context: context)
        case .failure: respond(.shed, head: head, context: context)  // the pool is shutting down
        }
    }

    /// A JavaScript event of a project that may have artifact bundles is resolved in a task
    /// first (`IngestPipeline+SourceMaps`: artifact lookups are database reads); the loop serves
    /// its other connections meanwhile and queues the event when the task is done.
    private func submitResolving(_ prepared: IngestPipeline.Prepared, head: Head, context: ChannelHandlerContext) {
        guard pipeline.needsSourceMaps(prepared) else {
            submit(prepared, head: head, context: context)
            return
        }
        state = .preparing(head)
        let pipeline = pipeline
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.makeFutureWithTask {
            await pipeline.resolvingSourceMaps(prepared)
        }.whenComplete { result in
            handler.value.resolvedSourceMaps(result, head: head)
        }
    }

    private func resolvedSourceMaps(_ result: Result<IngestPipeline.Prepared, any Error>, head: Head) {
        // The connection may have closed meanwhile; then there is nobody to answer.
        guard case .preparing = state, let context else { return }
        state = .idle
        switch result {
        case .success(let prepared): submit(prepared, head: head, context: context)
        case .failure: respond(.shed, head: head, context: context)
        }
    }

    /// Queues a prepared request and answers it (ack=queued) or waits for its commit.
    private func submit(_ prepared: IngestPipeline.Prepared, head: Head, context: ChannelHandlerContext) {
        // Prepared: the body is no longer held (the unit counts against the queue's budget).
        releaseBody()
        var prepared = prepared
        do throws(IngestError) {
            switch pipeline.ack {
            case .queued:
                try pipeline.enqueue(prepared)
                pipeline.recordAccepted(itemTypes: prepared.itemTypes)
                respond(.success(prepared.eventID), head: head, context: context)
            case .committed:
                sequence &+= 1
                prepared.unit.ticket = CommitTicket(
                    sink: loop.sink, waiter: NIOLoopBound(self, eventLoop: context.eventLoop),
                    sequence: sequence)
                try pipeline.enqueue(prepared)
                state = .awaitingCommit(Awaiting(head: head, sequence: sequence, eventID: prepared.eventID, itemTypes: prepared.itemTypes))
            }
        } catch {
            respond(.failure(error), head: head, context: context)
        }
    }

    func batchFinished(sequence: UInt32, result: Result<Void, any Error>) {
        guard case .awaitingCommit(let awaiting) = state, awaiting.sequence == sequence, let context else { return }
        switch result {
        case .success:
            pipeline.recordAccepted(itemTypes: awaiting.itemTypes)
            respond(.success(awaiting.eventID), head: awaiting.head, context: context)
        case .failure(let error) where error is UnitRejected:
            respond(.failure(IngestPipeline.storageRefusal), head: awaiting.head, context: context)
        case .failure(let error):
            respond(.failure(pipeline.storageFailure("\(error)")), head: awaiting.head, context: context)
        }
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Hummingbird's responses pass here; an ingest request held behind one may start after it.
        if case .end = unwrapOutboundIn(data) {
            context.write(data, promise: promise)
            forwardedAwaitingResponse = max(0, forwardedAwaitingResponse - 1)
            if forwardedAwaitingResponse == 0, !held.isEmpty, case .idle = state { releaseHeld(context: context) }
            return
        }
        context.write(data, promise: promise)
    }

    func read(context: ChannelHandlerContext) {
        // Paused once a part is held, not while a request merely waits for its commit: a client
        // waiting for its answer (every SDK) sends nothing meanwhile, and pausing then cost two
        // epoll_ctl calls per request (read interest dropped, then restored with the answer;
        // 2.7 % of the event loops' samples, perf at 8,000/s). A pipelining client is held to
        // the parts of one socket read.
        if !held.isEmpty {
            readPaused = true
            return
        }
        context.read()
    }

    private func respond(_ answer: Answer, head: Head, context: ChannelHandlerContext) {
        var answer = answer
        // The minidump endpoint answers the event id as text, as Relay does.
        if head.route.endpoint == .minidump, case .success(let id) = answer { answer = .text((id ?? EventID.random()).hex) }
        releaseBody()
        if case .failure(let error) = answer { IngestAnswer.log(error, logger: logger) }
        let keepAlive = head.keepAlive && !quiescePending
        let (responseHead, body) = answer.render(version: head.version, keepAlive: keepAlive, allocator: context.channel.allocator)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        if body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        state = .idle
        guard keepAlive else {
            state = .closed
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            return
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        releaseHeld(context: context)
    }

    /// Works through the held parts until a request has to wait again, then resumes reading.
    private func releaseHeld(context: ChannelHandlerContext) {
        let forwardedBefore = forwardedParts
        while let part = held.first, !isAwaitingCommit {
            if case .closed = state { return }
            if case .idle = state, case .head(let head) = part, forwardedAwaitingResponse > 0,
                IngestRoute(uri: head.uri) != nil, head.method == .POST || head.method == .OPTIONS
            {
                break  // an ingest request still waits for Hummingbird's earlier response
            }
            held.removeFirst()
            process(part, context: context)
        }
        // Hummingbird's async channel hands reads to its request loop at read-complete: parts
        // passed on outside a read cycle need one, or they wait for the next socket read.
        if forwardedParts != forwardedBefore { context.fireChannelReadComplete() }
        if isIdle, quiescePending {
            quiescePending = false
            context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        if readPaused, held.isEmpty {
            readPaused = false
            context.read()
        }
    }
}

extension IngestHTTPHandler {
    /// The answers of the fast path. Success and shedding are rendered from heads built once:
    /// they are the answers given at full load.
    enum Answer {
        case success(EventID?)
        case failure(IngestError)
        case preflight
        case shed
        /// 200 with a text body (the minidump endpoint's event id).
        case text(String)

        static let shedError = IngestError.overloaded("server overloaded, retry later", retryAfter: 1)

        private static let successWithID = headers(IngestAnswer.success(EventID(high: 0, low: 0)))
        private static let successEmpty = headers(IngestAnswer.success(nil))
        private static let shedAnswer = IngestAnswer.failure(shedError)
        private static let shedHeaders = headers(shedAnswer)
        private static let preflightHeaders = headers(IngestAnswer.preflight)

        private static func headers(_ answer: IngestAnswer) -> HTTPHeaders {
            var headers = HTTPHeaders(answer.headers.map { ($0.name, $0.value) })
            headers.add(name: "Content-Length", value: String(answer.body.count))
            return headers
        }

        func render(version: HTTPVersion, keepAlive: Bool, allocator: ByteBufferAllocator) -> (HTTPResponseHead, ByteBuffer) {
            var status: HTTPResponseStatus = .ok
            var headers: HTTPHeaders
            var body: ByteBuffer
            switch self {
            case .success(let id):
                headers = id == nil ? Self.successEmpty : Self.successWithID
                body = allocator.buffer(capacity: 48)
                if let id {
                    body.writeStaticString(#"{"id":""#)
                    id.withHexUTF8 { _ = body.writeBytes($0) }
                    body.writeStaticString(#""}"#)
                } else {
                    body.writeStaticString("{}")
                }
            case .shed:
                status = .serviceUnavailable
                headers = Self.shedHeaders
                body = allocator.buffer(bytes: Self.shedAnswer.body)
            case .preflight:
                headers = Self.preflightHeaders
                body = allocator.buffer(capacity: 0)
            case .text(let text):
                body = allocator.buffer(string: text)
                headers = HTTPHeaders(IngestAnswer.corsHeaders.map { ($0.name, $0.value) })
                headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
                headers.add(name: "Content-Length", value: String(body.readableBytes))
            case .failure(let error):
                let answer = IngestAnswer.failure(error)
                status = HTTPResponseStatus(statusCode: answer.status)
                headers = Self.headers(answer)
                body = allocator.buffer(bytes: answer.body)
            }
            // HTTP/1.1 keeps connections open unless told; HTTP/1.0 closes unless told.
            if version.major == 1 && version.minor == 0 {
                if keepAlive { headers.add(name: "Connection", value: "keep-alive") }
            } else if !keepAlive {
                headers.add(name: "Connection", value: "close")
            }
            return (HTTPResponseHead(version: version, status: status, headers: headers), body)
        }
    }
}
