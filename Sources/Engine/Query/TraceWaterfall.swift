import PitModel
package import PitStorage

/// A trace laid out as the trace view's waterfall: every transaction and span in one tree (a
/// span under its parent span, or under its segment's transaction when its parent is not stored;
/// a transaction under the span that called it), depth first with siblings by start time, each
/// row placed on the trace's extent as fractions (0…1) so the page only scales them. Error events
/// mark the row of the span they happened in; those whose span is not in the trace come last.
///
/// At most `maxRows` rows are laid out, whatever the trace holds: the rest are counted in
/// `omitted`, so a trace of a million spans costs the page no more than one of `maxRows`.
package struct TraceWaterfall: Sendable {
    package enum Kind: Sendable, Equatable {
        case transaction(TransactionRow)
        case span(SpanRow)
        /// An error event whose span is not in the trace.
        case error(TraceErrorRow)
    }

    package struct Row: Sendable, Equatable {
        package var kind: Kind
        package var depth: Int
        /// Microseconds since the epoch.
        package var start: Int64
        package var duration: Int64
        /// Where the bar starts and how wide it is, as fractions of the trace's extent.
        package var offset: Double
        package var width: Double
        /// Error events that happened in this row's span, with where each happened on the extent.
        package var errors: [TraceErrorRow] = []
        package var errorOffsets: [Double] = []
        /// True when rows below belong to this one.
        package var hasChildren = false

        package var op: String {
            switch kind {
            case .transaction(let row): row.op
            case .span(let row): row.op
            case .error: "error"
            }
        }

        package var description: String {
            switch kind {
            case .transaction(let row): row.name
            case .span(let row): row.description
            case .error(let row): row.title
            }
        }

        package var status: String {
            switch kind {
            case .transaction(let row): row.status
            case .span(let row): row.status
            case .error: "error"
            }
        }

        package var projectID: Int64 {
            switch kind {
            case .transaction(let row): row.projectID
            case .span(let row): row.projectID
            case .error(let row): row.projectID
            }
        }
    }

    package static let defaultMaxRows = 2000

    package private(set) var rows: [Row] = []
    /// Transactions, spans and orphan errors of the trace not laid out (past `maxRows`).
    package private(set) var omitted = 0
    /// The extent, microseconds since the epoch.
    package private(set) var start: Int64 = 0
    package private(set) var end: Int64 = 0
    package private(set) var transactionCount = 0
    package private(set) var spanCount = 0
    package private(set) var errorCount = 0

    package var duration: Int64 { end - start }

    package init(_ contents: TraceContents, maxRows: Int = TraceWaterfall.defaultMaxRows) {
        let transactions = contents.transactions
        let spans = contents.spans
        transactionCount = transactions.count
        spanCount = spans.count
        errorCount = contents.errors.count
        // Nodes: transactions first (0..<T), then spans (T..<T+S). A span id seen twice keeps its
        // first node: a transaction's own span wins over a copy of it among the spans.
        let nodeCount = transactions.count + spans.count
        var nodeOf: [SpanID: Int] = [:]
        nodeOf.reserveCapacity(nodeCount)
        for (index, transaction) in transactions.enumerated() where nodeOf[transaction.spanID] == nil {
            nodeOf[transaction.spanID] = index
        }
        for (index, span) in spans.enumerated() where nodeOf[span.spanID] == nil { nodeOf[span.spanID] = transactions.count + index }
        func startOf(_ node: Int) -> Int64 {
            node < transactions.count ? transactions[node].start : spans[node - transactions.count].start
        }
        func durationOf(_ node: Int) -> Int64 {
            node < transactions.count ? transactions[node].duration : spans[node - transactions.count].duration
        }
        var children = [[Int]](repeating: [], count: nodeCount)
        var hasParent = [Bool](repeating: false, count: nodeCount)
        for node in 0..<nodeCount {
            let parent: Int?
            if node < transactions.count {
                parent = transactions[node].parentSpanID.flatMap { nodeOf[$0] }
            } else {
                let span = spans[node - transactions.count]
                parent = span.parentSpanID.flatMap { nodeOf[$0] } ?? span.segmentID.flatMap { nodeOf[$0] }
            }
            guard let parent, parent != node else { continue }
            children[parent].append(node)
            hasParent[node] = true
        }
        // Siblings by start; at the same start a transaction first, then by node order.
        let byStart: (Int, Int) -> Bool = { (startOf($0), $0) < (startOf($1), $1) }
        for node in 0..<nodeCount where children[node].count > 1 { children[node].sort(by: byStart) }

        var first = Int64.max
        var last = Int64.min
        for node in 0..<nodeCount {
            first = min(first, startOf(node))
            last = max(last, startOf(node) + max(0, durationOf(node)))
        }
        for error in contents.errors {
            first = min(first, error.timestamp * 1000)
            last = max(last, error.timestamp * 1000)
        }
        if first > last { (first, last) = (0, 0) }
        start = first
        end = last
        let extent = Double(max(1, last - first))
        func fraction(_ time: Int64) -> Double { min(1, max(0, Double(time - first) / extent)) }

        var errorsOf: [Int: [TraceErrorRow]] = [:]
        var orphanErrors: [TraceErrorRow] = []
        for error in contents.errors {
            if let span = error.spanID, let node = nodeOf[span] {
                errorsOf[node, default: []].append(error)
            } else {
                orphanErrors.append(error)
            }
        }

        // Depth first from the roots; nodes only reachable through a cycle of parents are
        // started from afterwards, so every node is counted once.
        var visited = [Bool](repeating: false, count: nodeCount)
        var out: [Row] = []
        out.reserveCapacity(min(nodeCount + orphanErrors.count, maxRows))
        var laidOut = 0
        var remaining = nodeCount
        var stack: [(node: Int, depth: Int)] = []
        func walk(from root: Int) {
            stack.append((root, 0))
            while let (node, depth) = stack.popLast() {
                guard !visited[node] else { continue }
                visited[node] = true
                remaining -= 1
                guard laidOut < maxRows else { continue }
                laidOut += 1
                let kind: Kind =
                    node < transactions.count ? .transaction(transactions[node]) : .span(spans[node - transactions.count])
                let nodeStart = startOf(node)
                let nodeDuration = max(0, durationOf(node))
                var row = Row(
                    kind: kind, depth: depth, start: nodeStart, duration: nodeDuration, offset: fraction(nodeStart),
                    width: Double(nodeDuration) / extent)
                if let errors = errorsOf[node] {
                    row.errors = errors
                    row.errorOffsets = errors.map { fraction($0.timestamp * 1000) }
                }
                row.hasChildren = !children[node].isEmpty
                out.append(row)
                for child in children[node].reversed() where !visited[child] { stack.append((child, depth + 1)) }
            }
        }
        let roots = (0..<nodeCount).filter { !hasParent[$0] }.sorted(by: byStart)
        for root in roots { walk(from: root) }
        if remaining > 0 {
            for node in (0..<nodeCount).sorted(by: byStart) where !visited[node] { walk(from: node) }
        }
        omitted = nodeCount - laidOut
        for error in orphanErrors {
            guard out.count < maxRows else {
                omitted += 1
                continue
            }
            let at = error.timestamp * 1000
            var row = Row(kind: .error(error), depth: 0, start: at, duration: 0, offset: fraction(at), width: 0)
            row.errors = [error]
            row.errorOffsets = [fraction(at)]
            out.append(row)
        }
        rows = out
    }
}
