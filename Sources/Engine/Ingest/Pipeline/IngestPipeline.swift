import Foundation
import NIOConcurrencyHelpers
package import NIOCore
package import PitModel
package import PitObservability
package import PitStorage

/// When a 200 is sent: after the batch holding the event commits (durable, the default), or as
/// soon as it is queued (faster; a crash loses what is still queued).
package enum AckMode: String, Sendable, CaseIterable {
    case committed, queued
}

/// From request bytes to a queued write: auth, decode, parse, extract, normalise, group, enqueue,
/// and (ack=committed) wait for the commit. Runs on the request's task; everything here is CPU
/// work, the blocking I/O happens on the writer thread.
package final class IngestPipeline: Sendable {
    package struct Request: Sendable {
        package var projectID: Int64
        package var auth: SentryAuth?
        package var contentEncoding: String?
        package var contentType: String?
        package var body: ByteBuffer
        /// True when `authorize` already admitted `auth` (the fast path checks the key before it
        /// reads the body, and the key's rate limit must count the request once).
        package var authorized: Bool
        /// Set by `prepareOnLoop`: the most a compressed body may inflate to here.
        var loopDecodeLimit: Int?
        /// What a security report adds to its events (query parameters, User-Agent); nil on
        /// the other endpoints.
        package var security: SecurityReport.Context?

        package init(
            projectID: Int64, auth: SentryAuth?, contentEncoding: String?, contentType: String?, body: ByteBuffer,
            authorized: Bool = false
        ) {
            self.projectID = projectID
            self.auth = auth
            self.contentEncoding = contentEncoding
            self.contentType = contentType
            self.body = body
            self.authorized = authorized
        }
    }

    package let keys: KeyCache
    package let queue: IngestQueue
    package let ack: AckMode
    package let limits: IngestLimits
    package let metrics: PitMetrics
    /// `Retry-After` seconds on 503: small, since a full queue drains within a batch or two.
    package let retryAfterSeconds: Int
    private let parser: EnvelopeParser
    /// zstd dictionaries for stored payloads; nil compresses without one.
    package let dictionaries: PayloadDictionaries?
    /// Refuses ingest while the disk is nearly full (`min_free_disk_bytes`).
    package let diskGuard: DiskGuard?
    /// Drops events already past their project's retention.
    package let retention: RetentionPolicy?
    /// Refused requests counted as outcomes until the writer flushes them.
    package let rejections: RejectedOutcomes
    /// Resolves JavaScript events' minified frames before they are grouped
    /// (`IngestPipeline+SourceMaps`); nil: events are stored as sent.
    package let sourceMaps: SourceMapResolver?
    /// How long an event waits for its source maps, and how many resolutions run at once.
    package let sourceMapSchedule: SourceMapSchedule

    /// ack=committed: the longest a request waits for its commit before it is answered 503 (the
    /// fast path's deadline is `EventLoopCommitSink`'s).
    package let ackTimeout: Double
    /// Bytes of bodies held across all requests (`ingest_inflight_bytes`); nil: no bound.
    package let inflight: InflightBudget?

    package init(
        keys: KeyCache, queue: IngestQueue, ack: AckMode, limits: IngestLimits, metrics: PitMetrics, retryAfterSeconds: Int = 1,
        dictionaries: PayloadDictionaries? = nil, diskGuard: DiskGuard? = nil, retention: RetentionPolicy? = nil,
        ackTimeout: Double = 30, inflight: InflightBudget? = nil, rejections: RejectedOutcomes = RejectedOutcomes(),
        sourceMaps: SourceMapResolver? = nil, sourceMapSchedule: SourceMapSchedule = SourceMapSchedule()
    ) {
        self.rejections = rejections
        self.sourceMaps = sourceMaps
        self.sourceMapSchedule = sourceMapSchedule
        self.ackTimeout = ackTimeout
        self.inflight = inflight
        self.diskGuard = diskGuard
        self.retention = retention
        self.dictionaries = dictionaries
        self.keys = keys
        self.queue = queue
        self.ack = ack
        self.limits = limits
        self.metrics = metrics
        self.retryAfterSeconds = retryAfterSeconds
        self.parser = EnvelopeParser(limits: limits)
    }

    // MARK: Endpoints

    /// Which ingest URL a request came to.
    package enum Endpoint: Sendable { case envelope, store, security, minidump }

    /// A request turned into what it wants written: the CPU work of ingest (auth, decode, parse,
    /// extract, group, compress), done synchronously on the caller's thread (an event loop on the
    /// fast path), nothing queued yet.
    package struct Prepared: Sendable {
        package var unit: WriteUnit
        /// The id to answer with (nil → `{}`).
        package var eventID: EventID?
        package var itemTypes: [ItemType]
    }

    /// The most a compressed body may inflate to on an event loop. Events are a few KiB; a body
    /// that inflates past this is a large upload or a bomb (a 200 KB gzip body, or a few hundred
    /// bytes of zstd, inflate to 200 MiB: about a second of CPU), which would hold up every
    /// other connection of the loop, `/health` included.
    package static let loopDecodeLimit = 1 << 20

    /// `prepare` for an event loop: nil when the compressed body inflates past
    /// `loopDecodeLimit`, or an uncompressed body is larger than it (attachments: hashing and
    /// compressing megabytes); the caller then runs `prepare` on a thread of its own. At most
    /// that much decoding is done twice, and only for such bodies.
    package func prepareOnLoop(_ request: Request, endpoint: Endpoint) throws(IngestError) -> Prepared? {
        if request.body.readableBytes > Self.loopDecodeLimit { return nil }
        var request = request
        request.loopDecodeLimit = Self.loopDecodeLimit
        do throws(IngestError) {
            return try prepare(request, endpoint: endpoint)
        } catch  where error == Self.decodeOffLoop {
            return nil
        }
    }

    /// Not an answer: `decode` tells `prepareOnLoop` the body is too big to inflate on the loop.
    private static let decodeOffLoop = IngestError.internalError("body to be decoded off the event loop")

    package func prepare(_ request: Request, endpoint: Endpoint) throws(IngestError) -> Prepared {
        if let refusal = diskGuard?.refusal { throw rejected(refusal, itemType: "envelope") }
        switch endpoint {
        case .envelope: return try prepareEnvelope(request)
        case .store: return try prepareStore(request)
        case .security: return try prepareSecurity(request)
        case .minidump: return try prepareMinidump(request)
        }
    }

    /// Queues a prepared unit (ack=queued: the answer can go out now; ack=committed: the unit
    /// carries its completion or ticket and the writer reports the commit).
    package func enqueue(_ prepared: Prepared) throws(IngestError) {
        let outcome = queue.offer(prepared.unit)
        if outcome != .accepted { prepared.unit.ticket?.withdraw() }
        switch outcome {
        case .accepted: return
        case .full: throw rejected(.overloaded("ingest queue is full", retryAfter: retryAfterSeconds), itemType: "envelope")
        case .closed: throw rejected(.overloaded("server is shutting down", retryAfter: retryAfterSeconds), itemType: "envelope")
        }
    }

    /// Counts the items of a request that got its 200.
    package func recordAccepted(itemTypes: [ItemType]) {
        for type in itemTypes { metrics.accepted(type) }
    }

    /// Counts a refusal (the error is returned for `throw`).
    package func rejected(_ error: IngestError, itemType: String) -> IngestError {
        if error == Self.decodeOffLoop { return error }
        metrics.rejected(reason: error.code.description, itemType: itemType)
        return error
    }

    /// `POST /api/{pid}/envelope/`. Returns the event id to answer with (nil → `{}`).
    package func envelope(_ request: Request) async throws(IngestError) -> EventID? {
        let prepared = await resolvingSourceMaps(try prepare(request, endpoint: .envelope))
        try await submit(prepared)
        return prepared.eventID
    }

    /// `POST /api/{pid}/store/`: a legacy JSON event, a base64+zlib body, or an envelope when the
    /// content type says so.
    package func store(_ request: Request) async throws(IngestError) -> EventID {
        let prepared = await resolvingSourceMaps(try prepare(request, endpoint: .store))
        try await submit(prepared)
        return prepared.eventID ?? EventID.random()
    }

    /// `POST /api/{pid}/security/` off the event loops (the fast path prepares and queues itself).
    package func security(_ request: Request) async throws(IngestError) {
        try await submit(try prepare(request, endpoint: .security))
    }

    /// `POST /api/{pid}/minidump/`: returns the id of the event stored with the dump.
    package func minidump(_ request: Request) async throws(IngestError) -> EventID {
        let prepared = try prepare(request, endpoint: .minidump)
        try await submit(prepared)
        return prepared.eventID ?? EventID.random()
    }

    private func prepareEnvelope(_ request: Request) throws(IngestError) -> Prepared {
        var request = request
        var parsed: Envelope?
        do throws(IngestError) {
            if request.auth == nil { try authorizeTunnel(&request) }
            if let auth = request.auth, !request.authorized { try authorize(publicKey: auth.publicKey, projectID: request.projectID) }
            var reserved = 0
            defer { inflight?.release(reserved) }
            let body = try decode(request, reserved: &reserved)
            let envelope = try parser.parse(body)
            parsed = envelope
            // The tunnel pattern's credentials came from this header (`authorizeTunnel`), so only
            // a request that carried its own can disagree with it.
            if let text = envelope.header.dsn, let dsn = DSN(text), dsn.publicKey != request.auth?.publicKey {
                throw IngestError.forbidden("envelope dsn does not match the request's key")
            }
            let received = ClockTime.nowSeconds
            let (unit, eventID) = try makeUnit(envelope, projectID: request.projectID, received: received)
            return Prepared(unit: unit, eventID: eventID, itemTypes: envelope.items.map(\.type))
        } catch {
            if let parsed {
                var categories: [(String, Int64)] = []
                for item in parsed.items {
                    categories +=
                        item.type == .event
                        ? [(OutcomeCategory.error, Int64(1))]
                        : OutcomeCategory.accepted(item.type, itemCount: item.itemCount, payloadBytes: item.payload.readableBytes)
                }
                countRefusal(error, projectID: request.projectID, publicKey: request.auth?.publicKey, categories: categories)
            } else {
                countRefusal(error, projectID: request.projectID, publicKey: request.auth?.publicKey, endpoint: .envelope)
            }
            throw rejected(error, itemType: "envelope")
        }
    }

    /// Counts a refused request as outcomes of its project (`OutcomeReason`), when the request's
    /// key belongs to that project: a request for a project that does not exist, or with a key
    /// that is not the project's, is not counted (nobody could read it, and its project id is
    /// whatever the client wrote). Before the body is read, its items are unknown: a /store/
    /// request counts one error, a security report one security report, an envelope one item
    /// of category `default`.
    package func countRefusal(_ error: IngestError, projectID: Int64, publicKey: String?, endpoint: Endpoint) {
        let category =
            switch endpoint {
            case .store: OutcomeCategory.error
            case .security: OutcomeCategory.security
            case .envelope: OutcomeCategory.default
            case .minidump: OutcomeCategory.error
            }
        countRefusal(error, projectID: projectID, publicKey: publicKey, categories: [(category, 1)])
    }

    /// `countRefusal` with the categories and quantities of the request's items.
    package func countRefusal(_ error: IngestError, projectID: Int64, publicKey: String?, categories: [(String, Int64)]) {
        guard let counted = OutcomeReason.of(error), projectID > 0, let publicKey, keys.lookup(publicKey)?.projectID == projectID
        else { return }
        let (outcome, reason) = counted
        let hour = HourlyCounts.hour(ofMilliseconds: ClockTime.nowMilliseconds)
        for (category, quantity) in categories where quantity > 0 {
            rejections.record(
                OutcomeKey(projectID: projectID, hour: hour, outcome: outcome, category: category, reason: reason), quantity: quantity)
        }
    }

    private func prepareStore(_ request: Request) throws(IngestError) -> Prepared {
        if request.contentType?.lowercased().hasPrefix("application/x-sentry-envelope") == true {
            var prepared = try prepareEnvelope(request)
            if prepared.eventID == nil { prepared.eventID = EventID.random() }
            return prepared
        }
        do throws(IngestError) {
            guard let auth = request.auth else { throw IngestError.unauthorized("missing authorization information") }
            if !request.authorized { try authorize(publicKey: auth.publicKey, projectID: request.projectID) }
            var reserved = 0
            defer { inflight?.release(reserved) }
            var body = try decode(request, reserved: &reserved)
            body = try Self.unwrapLegacyStoreBody(body, limit: limits.maxEventBytes)
            guard body.readableBytes <= limits.maxEventBytes else {
                throw IngestError.tooLarge("event exceeds \(limits.maxEventBytes) bytes")
            }
            let received = ClockTime.nowSeconds
            let event = try makeEventRecord(body, header: nil, projectID: request.projectID, received: received)
            return Prepared(unit: WriteUnit(event: keepingUnexpired(event), items: []), eventID: event.eventID, itemTypes: [.event])
        } catch {
            countRefusal(error, projectID: request.projectID, publicKey: request.auth?.publicKey, endpoint: .store)
            throw rejected(error, itemType: "event")
        }
    }

    /// `POST /api/{pid}/security/`: a browser's CSP, Expect-CT, Expect-Staple or HPKP report,
    /// stored as events (`SecurityReport`). Relay refuses other content types with 415 and bounds
    /// the body by the event size.
    private func prepareSecurity(_ request: Request) throws(IngestError) -> Prepared {
        do throws(IngestError) {
            guard SecurityReport.acceptsContentType(request.contentType) else {
                throw IngestError.unsupportedMediaType("unsupported content type \(request.contentType ?? "(none)") for a security report")
            }
            guard let auth = request.auth else { throw IngestError.unauthorized("missing authorization information") }
            if !request.authorized { try authorize(publicKey: auth.publicKey, projectID: request.projectID) }
            var reserved = 0
            defer { inflight?.release(reserved) }
            let body = try decode(request, reserved: &reserved)
            guard body.readableBytes > 0 else { throw IngestError.badRequest("empty security report") }
            guard body.readableBytes <= limits.maxEventBytes else {
                throw IngestError.tooLarge("security report exceeds \(limits.maxEventBytes) bytes")
            }
            let received = ClockTime.nowSeconds
            var events: [EventRecord] = []
            for report in try SecurityReport.parse(body, context: request.security ?? SecurityReport.Context()) {
                let event = try makeEventRecord(
                    report.payload, header: nil, projectID: request.projectID, received: received,
                    typed: (report.kind, report.metadata))
                if let kept = keepingUnexpired(event) { events.append(kept) }
            }
            var unit = WriteUnit(event: events.first, items: [])
            unit.extraEvents = Array(events.dropFirst())
            return Prepared(unit: unit, eventID: nil, itemTypes: Array(repeating: .security, count: max(1, events.count)))
        } catch {
            countRefusal(error, projectID: request.projectID, publicKey: request.auth?.publicKey, endpoint: .security)
            throw rejected(error, itemType: "security")
        }
    }

    /// `POST /api/{pid}/minidump/` (`MinidumpUpload`): a native event made from the upload's
    /// fields and the dump's exception stream, with the dump and the other files attached, in one
    /// unit (so ack=committed means all of it is stored).
    private func prepareMinidump(_ request: Request) throws(IngestError) -> Prepared {
        do throws(IngestError) {
            guard let auth = request.auth else { throw IngestError.unauthorized("missing authorization information") }
            if !request.authorized { try authorize(publicKey: auth.publicKey, projectID: request.projectID) }
            var reserved = 0
            defer { inflight?.release(reserved) }
            let body = try decode(request, reserved: &reserved)
            let upload = try MinidumpUpload.parse(body, contentType: request.contentType, limits: limits)
            let received = ClockTime.nowSeconds
            let eventID = MinidumpEvent.eventID(of: upload.event, header: nil)
            let info = upload.minidump.body.withUnsafeReadableBytes { MinidumpReader.read($0) }
            let payload = MinidumpEvent.payload(upload.event, info: info, eventID: eventID)
            guard payload.readableBytes <= limits.maxEventBytes else {
                throw IngestError.tooLarge("event exceeds \(limits.maxEventBytes) bytes")
            }
            let event = try makeEventRecord(payload, header: nil, projectID: request.projectID, received: received)
            var unit = WriteUnit(event: keepingUnexpired(event), items: [])
            if unit.event != nil {
                unit.attachments.append(
                    AttachmentRecord.make(
                        upload.minidump.body, projectID: request.projectID, eventID: eventID, name: upload.minidump.name,
                        attachmentType: "event.minidump", contentType: upload.minidump.contentType, received: received))
                for file in upload.attachments {
                    unit.attachments.append(
                        AttachmentRecord.make(
                            file.body, projectID: request.projectID, eventID: eventID, name: file.name, attachmentType: "event.attachment",
                            contentType: file.contentType, received: received))
                }
            }
            if !unit.attachments.isEmpty {
                // The event is counted by the store (it knows duplicates); its files here, in bytes.
                let hour = HourlyCounts.hour(ofMilliseconds: Int64(received * 1000))
                unit.outcomes.append(
                    OutcomeCount(
                        OutcomeKey(projectID: request.projectID, hour: hour, outcome: .accepted, category: OutcomeCategory.attachment),
                        quantity: Int64(upload.minidump.body.readableBytes + upload.attachments.reduce(0) { $0 + $1.body.readableBytes })))
            }
            let itemTypes = [ItemType.event] + Array(repeating: ItemType.attachment, count: 1 + upload.attachments.count)
            return Prepared(unit: unit, eventID: eventID, itemTypes: itemTypes)
        } catch {
            countRefusal(error, projectID: request.projectID, publicKey: request.auth?.publicKey, endpoint: .minidump)
            throw rejected(error, itemType: "minidump")
        }
    }

    // MARK: Steps

    /// Checks that the key exists, is enabled, belongs to the project and is within its rate limit
    /// (which this call counts against).
    package func authorize(publicKey: String, projectID: Int64) throws(IngestError) {
        guard let entry = keys.lookup(publicKey) else { throw .forbidden("unknown public key") }
        guard entry.enabled else { throw .forbidden("public key disabled") }
        guard entry.projectID == projectID else { throw .forbidden("project id does not match the key's project") }
        if let limit = entry.rateLimit, let retryAfter = keys.admit(publicKey, limit: limit, nowSeconds: Int64(ClockTime.nowSeconds)) {
            throw .rateLimited("key rate limit of \(limit.count) events per \(limit.windowSeconds) s exceeded", retryAfter: retryAfter)
        }
    }

    /// Decodes the body. A compressed body's decoded bytes count against the in-flight budget
    /// while the request is prepared (`reserved`, released by the caller): the room the decoder
    /// may fill is reserved before it starts, so concurrent decodes cannot together exceed the
    /// budget, and what it did not use is given back. A body that needs more than the budget has
    /// left is shed with 503 rather than refused with 413: it may fit once others are done.
    private func decode(_ request: Request, reserved: inout Int) throws(IngestError) -> ByteBuffer {
        guard let encoding = ContentEncoding(headerValue: request.contentEncoding ?? "") else {
            throw .unsupportedMediaType("unsupported content encoding \(request.contentEncoding ?? "")")
        }
        var limit = limits.maxEnvelopeBytes
        var loopBound = false
        var budgetBound = false
        if encoding != .identity {
            if let loopLimit = request.loopDecodeLimit, loopLimit < limit {
                limit = loopLimit
                loopBound = true
            }
            if let inflight {
                let available = inflight.available
                if available < limit {
                    limit = available
                    budgetBound = true
                    loopBound = false
                }
                guard inflight.reserve(limit) else { throw Self.inflightExceeded(retryAfter: retryAfterSeconds) }
                reserved = limit
            }
        }
        let decoded: ByteBuffer
        do {
            decoded = try BodyDecoder.decode(request.body, encoding: encoding, limit: limit)
        } catch let error as BodyDecodingError {
            if error.code == .tooLarge {
                if loopBound { throw Self.decodeOffLoop }
                if budgetBound { throw Self.inflightExceeded(retryAfter: retryAfterSeconds) }
                throw .tooLarge("decompressed body exceeds \(limits.maxEnvelopeBytes) bytes")
            }
            throw .badRequest("could not decode \(encoding) body: \(error.message)")
        } catch {
            throw .badRequest("could not decode body")
        }
        if reserved > decoded.readableBytes {
            inflight?.release(reserved - decoded.readableBytes)
            reserved = decoded.readableBytes
        }
        return decoded
    }

    /// The in-flight body budget is spent: shed like a full queue.
    package static func inflightExceeded(retryAfter: Int) -> IngestError {
        .overloaded("too many request bodies in flight, retry later", retryAfter: retryAfter)
    }

    /// The tunnel pattern's credentials, checked from the envelope header line alone (the fast
    /// path finds it while the body arrives): the header's `dsn` must name this project and a
    /// key that `authorize` admits. Returns the credentials the request then carries, already
    /// authorized, so `prepare` neither counts the key's rate limit again nor parses twice.
    package func authorizeEnvelopeHeader(_ line: ByteBuffer, projectID: Int64) throws(IngestError) -> SentryAuth {
        do throws(IngestError) {
            return try checkEnvelopeHeader(line, projectID: projectID)
        } catch {
            throw rejected(error, itemType: "envelope")
        }
    }

    private func checkEnvelopeHeader(_ line: ByteBuffer, projectID: Int64) throws(IngestError) -> SentryAuth {
        let header = try parser.parseHeader(line)
        guard let text = header.dsn else { throw IngestError.unauthorized("missing authorization information") }
        guard let dsn = DSN(text) else { throw IngestError.unauthorized("invalid dsn in envelope header") }
        guard dsn.projectID == projectID else { throw IngestError.forbidden("dsn project does not match the URL") }
        do throws(IngestError) {
            try authorize(publicKey: dsn.publicKey, projectID: projectID)
        } catch {
            countRefusal(error, projectID: projectID, publicKey: dsn.publicKey, endpoint: .envelope)
            throw error
        }
        return SentryAuth(publicKey: dsn.publicKey)
    }

    /// A whole body without credentials (callers off the fast path, which probes as the body
    /// arrives): its header line is found and checked before anything is decompressed.
    private func authorizeTunnel(_ request: inout Request) throws(IngestError) {
        guard let encoding = ContentEncoding(headerValue: request.contentEncoding ?? "") else {
            throw .unsupportedMediaType("unsupported content encoding \(request.contentEncoding ?? "")")
        }
        let probe = EnvelopeHeaderProbe(encoding: encoding)
        var outcome = probe.feed(request.body)
        if case .needMore = outcome { outcome = probe.finish() }
        switch outcome {
        case .found(let line):
            request.auth = try checkEnvelopeHeader(line, projectID: request.projectID)
            request.authorized = true
        case .refused(let error):
            throw error
        case .needMore:
            throw .unauthorized("missing authorization information")
        }
    }

    /// Old SDKs post `base64(zlib(json))` to /store/ without headers saying so.
    static func unwrapLegacyStoreBody(_ body: ByteBuffer, limit: Int) throws(IngestError) -> ByteBuffer {
        guard let first = body.readableBytesView.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) else {
            throw .badRequest("empty event")
        }
        guard first != UInt8(ascii: "{") && first != UInt8(ascii: "[") else { return body }
        guard let compressed = Base64.decode(String(decoding: body.readableBytesView, as: UTF8.self)) else {
            throw .badRequest("event is neither JSON nor base64")
        }
        do {
            return try BodyDecoder.decode(ByteBuffer(bytes: compressed), encoding: .deflate, limit: limit)
        } catch let error as BodyDecodingError where error.code == .tooLarge {
            throw .tooLarge("event exceeds \(limit) bytes")
        } catch {
            throw .badRequest("invalid base64/zlib event body")
        }
    }

    private func makeUnit(_ envelope: Envelope, projectID: Int64, received: Double) throws(IngestError) -> (WriteUnit, EventID?) {
        var event: EventRecord?
        var items: [ItemRecord] = []
        var sessions: [SessionRecord] = []
        var feedback: [FeedbackRecord] = []
        var checkIns: [CheckInRecord] = []
        var logs: [LogRecord] = []
        var logSDK: String??
        var transactions: [TransactionRecord] = []
        var spans: [SpanRecord] = []
        var profiles: [ProfileRecord] = []
        var sampleRate: Double??
        var attachmentItems: [EnvelopeItem] = []
        // A minidump makes its event native and fatal, with the dump's crash as its exception
        // (Relay's placeholder; Sentry's title of an unsymbolicated crash).
        let minidump = envelope.items.first { $0.type == .attachment && $0.attachmentType == "event.minidump" }
        var outcomes: [OutcomeCount] = []
        let hour = HourlyCounts.hour(ofMilliseconds: Int64(received * 1000))
        for item in envelope.items {
            // False for an item dropped by Relay's rules (counted as invalid instead).
            var accepted = true
            switch item.type {
            case .event:
                if let minidump {
                    event = try makeMinidumpEvent(
                        item.payload, minidump: minidump, header: envelope.header, projectID: projectID, received: received)
                } else {
                    event = try makeEventRecord(item.payload, header: envelope.header, projectID: projectID, received: received)
                }
            case .attachment:
                attachmentItems.append(item)
            case .session, .sessions:
                if let record = try makeSessionRecord(item, projectID: projectID, received: received, hour: hour, outcomes: &outcomes) {
                    sessions.append(record)
                    if case .aggregates(let aggregates) = record {
                        // An aggregate counts the sessions it sums up.
                        let count = aggregates.reduce(Int64(0)) { $0 + $1.exited + $1.errored + $1.abnormal + $1.crashed }
                        outcomes.append(
                            OutcomeCount(
                                OutcomeKey(projectID: projectID, hour: hour, outcome: .accepted, category: OutcomeCategory.session),
                                quantity: count))
                    }
                } else {
                    accepted = false
                }
            case .feedback, .userReport:
                feedback.append(
                    try FeedbackExtractor.extract(
                        item.payload, type: item.type, headerEventID: envelope.header.eventID, projectID: projectID, received: received))
            case .checkIn:
                if let update = try makeCheckIn(item, projectID: projectID, received: received, hour: hour, outcomes: &outcomes) {
                    checkIns.append(.update(update))
                } else {
                    accepted = false
                }
            case .clientReport:
                // Counted, not stored: what the SDK dropped, per reason and category.
                outcomes += try ClientReportParser.parse(item.payload, projectID: projectID, received: received)
            case .log, .otelLog:
                if logSDK == nil { logSDK = .some(Self.sdkName(envelope.header)) }
                let parsed =
                    item.type == .log
                    ? try LogParser.container(
                        item.payload, itemCount: item.itemCount, contentType: item.contentType, projectID: projectID, received: received,
                        sdk: logSDK ?? nil)
                    : try LogParser.otelItem(item.payload, projectID: projectID, received: received, sdk: logSDK ?? nil)
                logs.append(contentsOf: parsed.logs)
                // Logs are counted one by one, not from the container's `item_count`: each log
                // dropped by Relay's rules is invalid here, the accepted ones (and those past
                // their retention) once the unit is made.
                for drop in parsed.dropped {
                    metrics.rejected(reason: drop.rawValue, itemType: item.type.description)
                    outcomes.append(
                        OutcomeCount(
                            OutcomeKey(
                                projectID: projectID, hour: hour, outcome: .invalid, category: OutcomeCategory.logItem,
                                reason: drop.rawValue), quantity: 1))
                }
                outcomes.append(
                    OutcomeCount(
                        OutcomeKey(projectID: projectID, hour: hour, outcome: .accepted, category: OutcomeCategory.logByte),
                        quantity: Int64(item.payload.readableBytes)))
                continue
            case .transaction:
                if sampleRate == nil { sampleRate = .some(TransactionExtractor.sampleRate(envelope.header)) }
                switch try TransactionExtractor.transaction(
                    item.payload, headerEventID: envelope.header.eventID, projectID: projectID, received: received,
                    sampleRate: sampleRate ?? nil)
                {
                case .success(let record):
                    transactions.append(record)
                case .failure(let drop):
                    accepted = false
                    metrics.rejected(reason: drop.rawValue, itemType: item.type.description)
                    outcomes.append(
                        OutcomeCount(
                            OutcomeKey(
                                projectID: projectID, hour: hour, outcome: .invalid, category: OutcomeCategory.transaction,
                                reason: drop.rawValue), quantity: 1))
                }
            case .span:
                if sampleRate == nil { sampleRate = .some(TransactionExtractor.sampleRate(envelope.header)) }
                let parsed = try TransactionExtractor.spanItem(
                    item.payload, itemCount: item.itemCount, contentType: item.contentType, projectID: projectID, received: received,
                    sampleRate: sampleRate ?? nil)
                transactions.append(contentsOf: parsed.segments)
                spans.append(contentsOf: parsed.spans)
                if parsed.dropped > 0 {
                    metrics.rejected(reason: TransactionExtractor.Drop.invalidSpan.rawValue, itemType: item.type.description)
                    outcomes.append(
                        OutcomeCount(
                            OutcomeKey(
                                projectID: projectID, hour: hour, outcome: .invalid, category: OutcomeCategory.span,
                                reason: TransactionExtractor.Drop.invalidSpan.rawValue), quantity: Int64(parsed.dropped)))
                }
            case .profile:
                // A profile is kept only beside the transaction it was recorded in (Relay's rule,
                // PROTOCOL.md §3); it is still parsed first, so one that is not JSON is a 400.
                let withTransaction = envelope.items.contains { $0.type == .transaction }
                var parsed = try ProfileParser.profile(
                    item.payload, transactionID: withTransaction ? envelope.header.eventID : nil, projectID: projectID,
                    received: received)
                if !withTransaction, case .success = parsed { parsed = .failure(.noTransaction) }
                switch parsed {
                case .success(let record):
                    profiles.append(record)
                case .failure(let drop):
                    accepted = false
                    metrics.rejected(reason: drop.rawValue, itemType: item.type.description)
                    outcomes.append(
                        OutcomeCount(
                            OutcomeKey(
                                projectID: projectID, hour: hour, outcome: .invalid, category: OutcomeCategory.profile,
                                reason: drop.rawValue), quantity: 1))
                }
            case _ where item.type.isDropped:
                continue
            default:
                if item.type.isJSON && item.payload.readableBytes > 0 {
                    try item.payload.withUnsafeReadableBytes { (raw) throws(IngestError) in
                        do { _ = try JSONTape.parse(raw) } catch { throw .badRequest("invalid \(item.type) item: \(error)") }
                    }
                }
                items.append(
                    ItemRecord(
                        projectID: projectID, type: item.type.description, eventID: envelope.header.eventID,
                        received: Int64(received * 1000),
                        header: String(decoding: item.rawHeader.readableBytesView, as: UTF8.self),
                        payloadSize: item.payload.readableBytes,
                        compressedPayload: PayloadCodec.compress(item.payload)
                    ))
            }
            guard accepted else { continue }
            for (category, quantity) in OutcomeCategory.accepted(
                item.type, itemCount: item.itemCount, payloadBytes: item.payload.readableBytes)
            {
                outcomes.append(
                    OutcomeCount(OutcomeKey(projectID: projectID, hour: hour, outcome: .accepted, category: category), quantity: quantity))
            }
        }
        if let minidump, event == nil {
            // sentry-native sends its event with the dump; a dump alone still makes one.
            event = try makeMinidumpEvent(nil, minidump: minidump, header: envelope.header, projectID: projectID, received: received)
        }
        let kept = keepingUnexpired(event)
        if let event, kept == nil {
            // Older than the project keeps events: answered 200, never stored.
            outcomes.append(
                OutcomeCount(
                    OutcomeKey(
                        projectID: projectID, hour: hour, outcome: .invalid, category: OutcomeCategory.ofEvent(kind: event.grouping.kind),
                        reason: "timestamp"), quantity: 1))
        }
        var unit = WriteUnit(event: kept, items: items, sessions: sessions, checkIns: checkIns)
        unit.feedback = feedback
        unit.transactions = keepingUnexpired(transactions)
        unit.spans = spans
        // A profile that does not name its trace (older SDKs) takes its transaction's, so the
        // trace view finds it.
        for index in profiles.indices where profiles[index].traceID == nil {
            profiles[index].traceID = transactions.first { $0.eventID == profiles[index].transactionID }?.traceID
        }
        unit.profiles = keepingUnexpired(profiles)
        if !logs.isEmpty {
            unit.logs = keepingUnexpired(logs)
            outcomes.append(
                OutcomeCount(
                    OutcomeKey(projectID: projectID, hour: hour, outcome: .accepted, category: OutcomeCategory.logItem),
                    quantity: Int64(unit.logs.count)))
            if unit.logs.count < logs.count {
                outcomes.append(
                    OutcomeCount(
                        OutcomeKey(
                            projectID: projectID, hour: hour, outcome: .invalid, category: OutcomeCategory.logItem, reason: "timestamp"),
                        quantity: Int64(logs.count - unit.logs.count)))
            }
        }
        unit.outcomes = outcomes
        let eventID = envelope.header.eventID ?? event?.eventID
        if !attachmentItems.isEmpty {
            // Kept even when the event comes in another envelope: linked by the header's id.
            guard let eventID else { throw .badRequest("attachment item without an event_id in the envelope header") }
            unit.attachments = attachmentItems.map { item in
                AttachmentRecord.make(
                    item.payload, projectID: projectID, eventID: eventID, name: item.filename, attachmentType: item.attachmentType,
                    contentType: item.contentType, received: received)
            }
        }
        return (unit, eventID)
    }

    /// The event of an envelope that carries a minidump: its event item (or only the header's
    /// id) with the minidump placeholder and the dump's crash applied (`MinidumpEvent`).
    private func makeMinidumpEvent(
        _ payload: ByteBuffer?, minidump: EnvelopeItem, header: EnvelopeHeader, projectID: Int64, received: Double
    ) throws(IngestError) -> EventRecord {
        var base = MinidumpEvent.Object()
        if let payload {
            guard let object = MinidumpEvent.object(json: payload) else { throw .badRequest("invalid event item: not a JSON object") }
            base.fields = object
        }
        let eventID = MinidumpEvent.eventID(of: base, header: header.eventID)
        let dump = (try? MinidumpUpload.validatedMinidump(minidump.payload, limits: limits)) ?? minidump.payload
        let info = dump.withUnsafeReadableBytes { MinidumpReader.read($0) }
        let event = MinidumpEvent.payload(base, info: info, eventID: eventID)
        guard event.readableBytes <= limits.maxEventBytes else { throw .tooLarge("event exceeds \(limits.maxEventBytes) bytes") }
        return try makeEventRecord(event, header: header, projectID: projectID, received: received)
    }

    /// The envelope header's `sdk.name`, which names the SDK of logs whose attributes do not.
    static func sdkName(_ header: EnvelopeHeader) -> String? {
        header.raw.withUnsafeReadableBytes { raw -> String? in
            guard let tape = try? JSONTape.parse(raw) else { return nil }
            let json = JSONView(tape: tape, bytes: raw)
            return json.string(json.path(tape.root, "sdk", "name"))
        }
    }

    /// A `session` or `sessions` item as the writer applies it; nil when Relay's rules drop it
    /// (counted, the rest of the envelope is kept, as Relay does). Not JSON at all is a 400, as
    /// for every other JSON item.
    private func makeSessionRecord(
        _ item: EnvelopeItem, projectID: Int64, received: Double, hour: Int64, outcomes: inout [OutcomeCount]
    ) throws(IngestError) -> SessionRecord? {
        do throws(SessionParser.Drop) {
            if item.type == .session {
                return .update(try SessionParser.session(item.payload, projectID: projectID, received: received))
            }
            let aggregates = try SessionParser.sessions(item.payload, projectID: projectID, received: received)
            return aggregates.isEmpty ? nil : .aggregates(aggregates)
        } catch {
            if error == .malformed { throw .badRequest("invalid \(item.type) item: not JSON") }
            metrics.rejected(reason: error.rawValue, itemType: item.type.description)
            outcomes.append(
                OutcomeCount(
                    OutcomeKey(
                        projectID: projectID, hour: hour, outcome: .invalid, category: OutcomeCategory.session, reason: error.rawValue),
                    quantity: 1))
            return nil
        }
    }

    /// A `check_in` item; nil when Relay's rules drop it (counted; the rest of the envelope is
    /// kept). Not JSON at all is a 400, as for every other JSON item.
    private func makeCheckIn(
        _ item: EnvelopeItem, projectID: Int64, received: Double, hour: Int64, outcomes: inout [OutcomeCount]
    ) throws(IngestError) -> CheckInUpdate? {
        do throws(CheckInParser.Drop) {
            return try CheckInParser.checkIn(item.payload, projectID: projectID, received: received)
        } catch {
            if error == .malformed { throw .badRequest("invalid check_in item: not JSON") }
            metrics.rejected(reason: error.rawValue, itemType: item.type.description)
            outcomes.append(
                OutcomeCount(
                    OutcomeKey(
                        projectID: projectID, hour: hour, outcome: .invalid, category: OutcomeCategory.monitor, reason: error.rawValue),
                    quantity: 1))
            return nil
        }
    }

    /// Queues a unit made outside an envelope (the HTTP check-in endpoint, the cron scheduler)
    /// and, with ack=committed, waits for its batch to commit.
    package func submit(_ unit: WriteUnit, itemTypes: [ItemType]) async throws(IngestError) {
        try await submit(Prepared(unit: unit, eventID: unit.event?.eventID, itemTypes: itemTypes))
    }

    /// `typed` gives the event type and metadata of an event Pit made itself (a security report),
    /// which grouping does not derive; set before the read view is encoded with the payload.
    package func makeEventRecord(
        _ payload: ByteBuffer, header: EnvelopeHeader?, projectID: Int64, received: Double,
        typed: (kind: String, metadata: [UInt8])? = nil
    ) throws(IngestError) -> EventRecord {
        let extracted = try EventExtractor.extract(payload: payload)
        let event = EventNormalizer.normalize(extracted, headerEventID: header?.eventID, sentAt: header?.sentAt, received: received)
        var grouping = Grouper.group(extracted)
        if let typed {
            grouping.kind = typed.kind
            grouping.metadata = typed.metadata
        }
        grouping.source = .payload(sharing: payload)
        var errors: String?
        if !event.errors.isEmpty {
            var writer = JSONWriter()
            writer.beginArray()
            for error in event.errors {
                writer.beginObject()
                writer.field("type", error.type)
                writer.field("name", error.name)
                writer.endObject()
            }
            writer.endArray()
            errors = writer.string
        }
        let (eventID, timestamp, level, release, environment) = (
            event.eventID, event.timestamp, event.level, event.release, event.environment
        )
        let ownTagCount = event.tags.count
        // The event's last use: its tag array is taken over, not copied.
        let facetTags = EventNormalizer.facetTags(consume event)
        let message = extracted.message?.display
        let compressed = EventReadView.withEncoded(
            kind: grouping.kind, title: grouping.title, culprit: grouping.culprit, message: message,
            tags: facetTags.prefix(ownTagCount)
        ) { compress(payload, readView: $0) }
        var record = EventRecord(
            projectID: projectID, eventID: eventID,
            timestamp: Int64(timestamp * 1000), received: Int64(received * 1000),
            level: level, release: release, environment: environment,
            userKey: extracted.user?.identity, facetTags: facetTags, ownTagCount: ownTagCount, message: message,
            processingErrors: errors, grouping: grouping,
            payloadSize: payload.readableBytes, compressedPayload: compressed.bytes, dictionaryID: compressed.dictionaryID,
            mayNeedSourceMaps: extracted.isJavaScript
        )
        record.traceID = extracted.traceID.flatMap { TraceID($0) }
        record.traceSpanID = extracted.traceSpanID
        return record
    }

    /// Compresses an event payload with its read view after it (`StoredEventPayload`), with the
    /// trained dictionary once there is one. The first payloads are kept as training samples;
    /// when there are enough, a dictionary is trained on a thread of its own and stored through
    /// the writer, and later events use it.
    private func compress(_ payload: ByteBuffer, readView: UnsafeRawBufferPointer) -> (bytes: [UInt8], dictionaryID: Int64?) {
        guard let dictionaries else {
            return (payload.withUnsafeReadableBytes { PayloadCodec.compress($0, trailer: readView) }, nil)
        }
        if let samples = dictionaries.offerSample(payload) {
            let queue = self.queue
            let thread = Thread {
                guard let bytes = PayloadDictionary.train(samples: samples) else {
                    dictionaries.trainingFailed()
                    return
                }
                let id = ClockTime.nowMilliseconds
                let queued = queue.offer(command: .storeDictionary(id: id, bytes: bytes, sampleCount: samples.count)) { result in
                    if case .success = result, let dictionary = PayloadDictionary(id: id, bytes: bytes) {
                        dictionaries.install(dictionary)
                    } else {
                        dictionaries.trainingFailed()
                    }
                }
                if !queued { dictionaries.trainingFailed() }
            }
            thread.name = "pit-dictionary-training"
            thread.start()
        }
        return dictionaries.compress(payload, trailer: readView)
    }

    /// Queues the unit; with ack=committed waits for its batch to commit. The async path of the
    /// few callers off the event loops (tests, the legacy GET store); the HTTP fast path queues
    /// with a `CommitTicket` instead.
    private func submit(_ prepared: Prepared) async throws(IngestError) {
        if ack == .queued {
            try enqueue(prepared)
            recordAccepted(itemTypes: prepared.itemTypes)
            return
        }
        enum Outcome: Sendable {
            case committed
            case failed(String)
            case refused, full, closed
        }
        let ackTimeout = ackTimeout
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
            // Whichever comes first, the commit or the deadline, answers; the other finds nothing.
            let once = NIOLockedValueBox<CheckedContinuation<Outcome, Never>?>(continuation)
            let resume: @Sendable (Outcome) -> Void = { outcome in
                once.withLockedValue { value in
                    defer { value = nil }
                    return value
                }?.resume(returning: outcome)
            }
            var unit = prepared.unit
            unit.completion = { result in
                switch result {
                case .success: resume(.committed)
                case .failure(let error) where error is UnitRejected: resume(.refused)
                case .failure(let error): resume(.failed("\(error)"))
                }
            }
            switch queue.offer(unit) {
            case .accepted:
                DispatchQueue.global().asyncAfter(deadline: .now() + ackTimeout) {
                    resume(.failed("\(CommitDeadlineExceeded(seconds: ackTimeout))"))
                }
            case .full: resume(.full)
            case .closed: resume(.closed)
            }
        }
        switch outcome {
        case .committed: recordAccepted(itemTypes: prepared.itemTypes)
        case .full: throw rejected(.overloaded("ingest queue is full", retryAfter: retryAfterSeconds), itemType: "envelope")
        case .closed: throw rejected(.overloaded("server is shutting down", retryAfter: retryAfterSeconds), itemType: "envelope")
        case .failed(let reason): throw storageFailure(reason)
        case .refused: throw Self.storageRefusal
        }
    }

    /// The answer when the batch holding a request failed to commit. `reason` is not echoed:
    /// database errors name tables, hosts and sometimes values, and anyone with a DSN (every
    /// browser of a public site) would read them. The writer logs the detail when writes start
    /// failing.
    package func storageFailure(_ reason: String) -> IngestError {
        rejected(.overloaded(Self.storageUnavailable, retryAfter: retryAfterSeconds), itemType: "envelope")
    }

    package static let storageUnavailable = "storage unavailable, retry later"

    /// The answer when the database refused this request's unit alone and stored the rest of its
    /// batch (counted by the writer, which saw it happen).
    package static let storageRefusal = IngestError.badRequest(UnitRejected.detail)
}
