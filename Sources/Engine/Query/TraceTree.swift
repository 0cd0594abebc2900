package import PitModel
package import PitStorage

/// A trace as Sentry's trace endpoints answer it (`events-trace` and `events-trace-light`,
/// `{"transactions": [...], "orphan_errors": [...]}`): each transaction placed under the
/// transaction that holds its parent span, the root ones first, then the orphans (whose parent
/// span is not stored), each list by start time; each error event under the transaction that
/// holds its span, or among the orphan errors.
package struct TraceTree: Sendable {
    package struct Node: Sendable {
        package var transaction: TransactionRow
        package var parentEventID: EventID?
        package var generation: Int
        package var children: [Int] = []
        package var errors: [TraceErrorRow] = []
    }

    /// Transactions by index, in the order of `TraceContents.transactions`.
    package private(set) var nodes: [Node] = []
    /// Indices of the transactions with no stored parent: roots (no parent span) first, then orphans.
    package private(set) var tops: [Int] = []
    package private(set) var orphanErrors: [TraceErrorRow] = []

    package init(_ contents: TraceContents) {
        let transactions = contents.transactions
        // Which transaction holds each span: its own span, the spans naming it as their segment,
        // and (for spans that name none) the transaction their parent chain reaches.
        var owner: [SpanID: Int] = [:]
        for (index, transaction) in transactions.enumerated() { owner[transaction.spanID] = index }
        let spanParent = Dictionary(contents.spans.map { ($0.spanID, $0.parentSpanID) }, uniquingKeysWith: { first, _ in first })
        for span in contents.spans {
            if let segment = span.segmentID, let index = owner[segment] {
                owner[span.spanID] = owner[span.spanID] ?? index
            }
        }
        for span in contents.spans where owner[span.spanID] == nil {
            var current = span.parentSpanID
            var steps = 0
            while let id = current, owner[id] == nil, steps < contents.spans.count {
                current = spanParent[id] ?? nil
                steps += 1
            }
            if let id = current, let index = owner[id] { owner[span.spanID] = index }
        }
        nodes = transactions.map { Node(transaction: $0, parentEventID: nil, generation: 0) }
        var parentOf = [Int?](repeating: nil, count: transactions.count)
        for (index, transaction) in transactions.enumerated() {
            guard let parentSpan = transaction.parentSpanID, let parent = owner[parentSpan], parent != index else { continue }
            parentOf[index] = parent
        }
        // A cycle (spans pointing at each other across transactions) is cut where it is found.
        for index in transactions.indices {
            var seen: Set<Int> = [index]
            var current = parentOf[index]
            while let parent = current {
                if !seen.insert(parent).inserted {
                    parentOf[index] = nil
                    break
                }
                current = parentOf[parent]
            }
        }
        for index in transactions.indices {
            if let parent = parentOf[index] {
                nodes[parent].children.append(index)
                nodes[index].parentEventID = transactions[parent].eventID
            }
        }
        let byStart: (Int, Int) -> Bool = {
            (transactions[$0].start, transactions[$0].eventID.hex) < (transactions[$1].start, transactions[$1].eventID.hex)
        }
        for index in nodes.indices { nodes[index].children.sort(by: byStart) }
        let unplaced = transactions.indices.filter { parentOf[$0] == nil }
        tops =
            unplaced.filter { transactions[$0].parentSpanID == nil }.sorted(by: byStart)
            + unplaced.filter { transactions[$0].parentSpanID != nil }.sorted(by: byStart)
        var stack = tops
        while let index = stack.popLast() {
            for child in nodes[index].children {
                nodes[child].generation = nodes[index].generation + 1
                stack.append(child)
            }
        }
        for error in contents.errors {
            if let span = error.spanID, let index = owner[span] {
                nodes[index].errors.append(error)
            } else {
                orphanErrors.append(error)
            }
        }
    }

    /// `events-trace/{trace_id}/`: every transaction with its children, nested.
    package func render(projects: [Int64: String], into writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("transactions")
        writer.beginArray()
        for index in tops { write(index, full: true, projects: projects, into: &writer) }
        writer.endArray()
        writeOrphanErrors(projects: projects, into: &writer)
        writer.endObject()
    }

    /// `events-trace-light/{trace_id}/?event_id=`: the transaction of the event (a transaction,
    /// or the error marked on it), its parent and its children, flat; nothing when the event is
    /// not in the trace (an orphan error answers itself among the orphan errors).
    package func renderLight(eventID: EventID, projects: [Int64: String], into writer: inout JSONWriter) {
        let current =
            nodes.firstIndex { $0.transaction.eventID == eventID }
            ?? nodes.firstIndex { $0.errors.contains { $0.eventID == eventID } }
        writer.beginObject()
        writer.key("transactions")
        writer.beginArray()
        if let current {
            if let parent = nodes.firstIndex(where: { $0.children.contains(current) }) {
                write(parent, full: false, projects: projects, into: &writer)
            }
            write(current, full: false, projects: projects, into: &writer)
            for child in nodes[current].children { write(child, full: false, projects: projects, into: &writer) }
        }
        writer.endArray()
        writer.key("orphan_errors")
        writer.beginArray()
        if current == nil {
            for error in orphanErrors where error.eventID == eventID { write(error, generation: 0, projects: projects, into: &writer) }
        }
        writer.endArray()
        writer.endObject()
    }

    private func writeOrphanErrors(projects: [Int64: String], into writer: inout JSONWriter) {
        writer.key("orphan_errors")
        writer.beginArray()
        for error in orphanErrors { write(error, generation: 0, projects: projects, into: &writer) }
        writer.endArray()
    }

    private func write(_ index: Int, full: Bool, projects: [Int64: String], into writer: inout JSONWriter) {
        let node = nodes[index]
        let transaction = node.transaction
        writer.beginObject()
        writer.field("event_id", transaction.eventID.hex)
        writer.field("span_id", transaction.spanID.hex)
        writer.key("timestamp")
        writer.value(Double(transaction.start + transaction.duration) / 1_000_000)
        writer.key("start_timestamp")
        writer.value(Double(transaction.start) / 1_000_000)
        writer.field("transaction", transaction.name)
        writer.field("transaction.duration", transaction.duration / 1000)
        writer.field("transaction.op", transaction.op)
        writer.field("transaction.status", transaction.status)
        writer.field("project_id", transaction.projectID)
        writer.field("project_slug", projects[transaction.projectID])
        writer.field("parent_span_id", transaction.parentSpanID?.hex)
        writer.field("parent_event_id", node.parentEventID?.hex)
        writer.field("generation", node.generation)
        writer.key("errors")
        writer.beginArray()
        for error in node.errors { write(error, generation: node.generation + 1, projects: projects, into: &writer) }
        writer.endArray()
        writer.key("performance_issues")
        writer.beginArray()
        writer.endArray()
        if full {
            if let measurements = transaction.measurements {
                writer.key("measurements")
                writer.raw(measurements)
            }
            writer.key("children")
            writer.beginArray()
            for child in node.children { write(child, full: true, projects: projects, into: &writer) }
            writer.endArray()
        }
        writer.endObject()
    }

    private func write(_ error: TraceErrorRow, generation: Int, projects: [Int64: String], into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("event_id", error.eventID.hex)
        writer.field("issue_id", error.issueID)
        writer.field("issue", projects[error.projectID].map { SentryAPIRenderer.shortID(projectSlug: $0, number: error.shortID) })
        writer.field("span", error.spanID?.hex)
        writer.field("project_id", error.projectID)
        writer.field("project_slug", projects[error.projectID])
        writer.field("title", error.title)
        writer.field("level", error.level.name)
        writer.key("timestamp")
        writer.value(Double(error.timestamp) / 1000)
        writer.field("event_type", "error")
        writer.field("generation", generation)
        writer.endObject()
    }
}
