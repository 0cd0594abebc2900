import NIOCore
package import PitModel
package import PitStorage

/// An error event ready for the writer: normalised, grouped, payload compressed.
package struct EventRecord: Sendable {
    package var projectID: Int64
    package var eventID: EventID
    /// Milliseconds since the epoch.
    package var timestamp: Int64
    package var received: Int64
    package var level: Level
    package var release: String?
    package var environment: String
    package var userKey: String?
    package var facetTags: [(key: String, value: String)]
    /// How many of `facetTags` are the event's own (normalised) tags, the first ones; the rest are
    /// the fields `EventNormalizer.facetTags` adds.
    package var ownTagCount = 0
    /// The message as a person reads it (`MessageInfo.display`).
    package var message: String? = nil
    /// Processing errors as JSON, nil when there were none.
    package var processingErrors: String?
    package var grouping: GroupingResult
    package var payloadSize: Int
    package var compressedPayload: [UInt8]
    /// The zstd dictionary `compressedPayload` needs, if any.
    package var dictionaryID: Int64? = nil
    /// A JavaScript event, by its platform or a frame's file: only such an event is offered to
    /// source-map resolution, so the others never leave the event loop for it.
    package var mayNeedSourceMaps = false
    /// `contexts.trace.trace_id`, which places the error in its trace (the trace view).
    package var traceID: TraceID? = nil
    /// `contexts.trace.span_id`, the span the error is marked on.
    package var traceSpanID: SpanID? = nil
}

/// Any other envelope item, kept durably per type until its processor exists.
package struct ItemRecord: Sendable {
    package var projectID: Int64
    package var type: String
    package var eventID: EventID?
    package var received: Int64
    package var header: String
    package var payloadSize: Int
    package var compressedPayload: [UInt8]
    package var dictionaryID: Int64? = nil
}

/// User feedback: a `feedback` item (an event-like payload whose `contexts.feedback` holds the
/// message) or a legacy `user_report` item, extracted at ingest (`FeedbackExtractor`).
package struct FeedbackRecord: Sendable, Equatable {
    package enum Kind: String, Sendable {
        case feedback
        case userReport = "user_report"
    }

    package var projectID: Int64
    /// What a resend of the same feedback repeats: the feedback event's id, or for a user report
    /// the id of the event it is about (Sentry keeps one report per event).
    package var feedbackID: EventID
    /// The event the feedback is about, when known. Linked to its event and issue when read, so
    /// feedback that arrives before its event needs no later update.
    package var eventID: EventID?
    package var kind: Kind
    package var name: String
    package var email: String
    package var comments: String
    package var url: String?
    /// The reporter as Sentry's user object (JSON), when the payload named one.
    package var user: String?
    /// Milliseconds since the epoch.
    package var timestamp: Int64
    package var received: Int64
    package var payloadSize: Int
    package var compressedPayload: [UInt8]

    package init(
        projectID: Int64, feedbackID: EventID, eventID: EventID?, kind: Kind, name: String, email: String, comments: String,
        url: String? = nil, user: String? = nil, timestamp: Int64, received: Int64, payloadSize: Int = 0,
        compressedPayload: [UInt8] = []
    ) {
        self.projectID = projectID
        self.feedbackID = feedbackID
        self.eventID = eventID
        self.kind = kind
        self.name = name
        self.email = email
        self.comments = comments
        self.url = url
        self.user = user
        self.timestamp = timestamp
        self.received = received
        self.payloadSize = payloadSize
        self.compressedPayload = compressedPayload
    }
}

/// An attachment of an event (an `attachment` item, or a file of the minidump endpoint), stored
/// in `attachments` beside its event rather than in the hot `events` table, linked by the
/// envelope's event id (the event may come in another envelope).
package struct AttachmentRecord: Sendable, Equatable {
    package var projectID: Int64
    package var eventID: EventID
    package var name: String
    /// `event.attachment`, `event.minidump`, `event.view_hierarchy`, ...
    package var attachmentType: String
    package var contentType: String?
    /// The bytes as sent.
    package var size: Int
    /// SHA-1 of the bytes as sent, lowercase hex.
    package var sha1: String
    /// Milliseconds since the epoch.
    package var received: Int64
    /// True when `content` is a zstd frame (`PayloadCodec`), false when it is the bytes as sent
    /// (compression did not pay: images, archives).
    package var compressed: Bool
    package var content: [UInt8]

    package init(
        projectID: Int64, eventID: EventID, name: String, attachmentType: String, contentType: String?, size: Int, sha1: String,
        received: Int64, compressed: Bool, content: [UInt8]
    ) {
        self.projectID = projectID
        self.eventID = eventID
        self.name = name
        self.attachmentType = attachmentType
        self.contentType = contentType
        self.size = size
        self.sha1 = sha1
        self.received = received
        self.compressed = compressed
        self.content = content
    }
}

/// Everything one request wants written, acknowledged together after its batch commits.
package struct WriteUnit: Sendable {
    package var event: EventRecord?
    /// Events beyond `event` from a request that carries several (a `report-to` batch of
    /// security reports); empty on the envelope path.
    package var extraEvents: [EventRecord] = []
    package var items: [ItemRecord]
    /// Release health: `session` and `sessions` items, parsed (`SessionParser`).
    package var sessions: [SessionRecord]
    /// Cron monitors: check-ins (`CheckInParser`) and the scheduler's findings.
    package var checkIns: [CheckInRecord]
    /// `feedback` and `user_report` items, parsed (`FeedbackExtractor`).
    package var feedback: [FeedbackRecord] = []
    /// `log` containers and `otel_log` items, one record per log (`LogParser`).
    package var logs: [LogRecord] = []
    /// Attachments of the unit's event or of an event sent in another envelope.
    package var attachments: [AttachmentRecord] = []
    /// `transaction` items and the segments of span v2 containers, each with its child spans.
    package var transactions: [TransactionRecord] = []
    /// Spans of `span` items (v2 containers, legacy single spans) that are not segments.
    package var spans: [SpanRecord] = []
    /// A JavaScript event held for its source maps in place of `event` (`DeferredEvent`): stored
    /// in `deferred_events` unless the event is stored already.
    package var heldEvent: DeferredEvent? = nil
    /// `event` is a held event's resolution: its `deferred_events` row goes in the same
    /// transaction, and a copy already stored (another instance resolved it too) is not
    /// counted as a duplicate outcome.
    package var releasesHeldEvent = false
    /// `profile` items (`ProfileParser`).
    package var profiles: [ProfileRecord] = []
    /// Outcomes to count with this unit (`OutcomeBatch`): its accepted items other than events
    /// (the store counts events), client reports, items dropped by Relay's rules, and the
    /// rejected requests the writer flushes.
    package var outcomes: [OutcomeCount] = []
    /// Called once by the writer with the outcome of the batch that held this unit.
    package var completion: (@Sendable (Result<Void, any Error>) -> Void)?
    /// The event-loop waiter of this unit (the ingest fast path), told once per batch per loop.
    package var ticket: CommitTicket?

    package init(
        event: EventRecord?, items: [ItemRecord], sessions: [SessionRecord] = [], checkIns: [CheckInRecord] = [],
        completion: (@Sendable (Result<Void, any Error>) -> Void)? = nil, ticket: CommitTicket? = nil
    ) {
        self.event = event
        self.items = items
        self.sessions = sessions
        self.checkIns = checkIns
        self.completion = completion
        self.ticket = ticket
    }

    /// True when someone waits for the outcome; false once its client has its 200 (ack=queued).
    package var awaitsCommit: Bool { completion != nil || ticket != nil }

    /// What the unit costs the queue's byte budget: an estimate of the memory it holds while
    /// queued, not only its compressed payload. An event keeps its decoded payload too (the
    /// grouping's source, read again for a new issue's explanation), typically 4-10 times the
    /// compressed size, plus its strings and hashes; counting the compressed bytes alone let a
    /// queue "full" at `queue_max_bytes` hold several times that. Read once per offer: a few
    /// dozen additions, no allocation.
    package var cost: Int {
        var total = 0
        if let event { total += event.estimatedBytes }
        for event in extraEvents { total += event.estimatedBytes }
        if let heldEvent {
            total += Self.recordOverhead + heldEvent.compressedPayload.count + Self.stringBytes(heldEvent.processingErrors)
        }
        for record in feedback {
            total +=
                Self.recordOverhead + record.compressedPayload.count + Self.stringBytes(record.name) + Self.stringBytes(record.email)
                + Self.stringBytes(record.comments) + Self.stringBytes(record.url) + Self.stringBytes(record.user)
        }
        for record in attachments {
            total +=
                Self.recordOverhead + record.content.count + Self.stringBytes(record.name) + Self.stringBytes(record.contentType)
                + Self.stringBytes(record.attachmentType) + Self.stringBytes(record.sha1)
        }
        for item in items {
            total += Self.recordOverhead + item.compressedPayload.count + Self.stringBytes(item.header) + Self.stringBytes(item.type)
        }
        for record in sessions { total += record.estimatedBytes }
        for record in logs { total += record.estimatedBytes }
        for record in transactions { total += record.estimatedBytes }
        for record in spans { total += record.estimatedBytes }
        for record in profiles { total += record.estimatedBytes }
        // Category and reason are short (and usually constants that own no storage).
        total += outcomes.count * 96
        // A check-in's slug, ids and environment are each bounded to tens of bytes.
        total += checkIns.count * (Self.recordOverhead + 4 * Self.allocationOverhead + 256)
        return total
    }

    /// A heap object's header plus malloc's rounding, per array or string that owns storage.
    static let allocationOverhead = 32
    /// The inline part of a record (its fields) with the array and strings that every record has.
    static let recordOverhead = 256

    static func stringBytes(_ string: String) -> Int { allocationOverhead + string.utf8.count }
    static func stringBytes(_ string: String?) -> Int { string.map(stringBytes) ?? 0 }
}

extension EventRecord {
    /// See `WriteUnit.cost`.
    var estimatedBytes: Int {
        let overhead = WriteUnit.allocationOverhead
        var total = WriteUnit.recordOverhead + compressedPayload.count
        total +=
            WriteUnit.stringBytes(release) + WriteUnit.stringBytes(environment) + WriteUnit.stringBytes(userKey)
            + WriteUnit.stringBytes(processingErrors) + WriteUnit.stringBytes(message)
        total += overhead + facetTags.count * 32
        for tag in facetTags { total += WriteUnit.stringBytes(tag.key) + WriteUnit.stringBytes(tag.value) }
        total += overhead + grouping.hashes.count * 16
        total +=
            WriteUnit.stringBytes(grouping.title) + WriteUnit.stringBytes(grouping.culprit) + WriteUnit.stringBytes(grouping.kind)
            + overhead + grouping.metadata.count
        switch grouping.source {
        case .payload(let buffer):
            // The request's own storage, shared rather than copied (`GroupingSource.payload(sharing:)`):
            // all of it stays alive while the unit is queued.
            total += overhead + buffer.storageCapacity
        case .event(let extracted):
            // Not made by the ingest path (it keeps the payload); a per-frame figure stands in for
            // walking every string of the event.
            let frames = extracted.exceptions.reduce(extracted.threadFrames?.count ?? 0) { $0 + $1.frames.count }
            total += 1024 + extracted.exceptions.count * 256 + frames * 256 + extracted.tags.count * 96
        }
        return total
    }
}

extension SessionRecord {
    /// See `WriteUnit.cost`: the record with its strings (sid, did, release, environment).
    var estimatedBytes: Int {
        switch self {
        case .update(let update):
            WriteUnit.recordOverhead + WriteUnit.stringBytes(update.sid) + WriteUnit.stringBytes(update.did)
                + WriteUnit.stringBytes(update.release) + WriteUnit.stringBytes(update.environment)
        case .aggregates(let aggregates):
            aggregates.reduce(WriteUnit.allocationOverhead) {
                $0 + WriteUnit.recordOverhead + WriteUnit.stringBytes($1.did) + WriteUnit.stringBytes($1.release)
                    + WriteUnit.stringBytes($1.environment)
            }
        }
    }
}
