import Foundation
import PitModel
import PitQuery
import PitStorage
import Testing

@Suite struct TraceWaterfallTests {
    static let trace = TraceID("771a43a4192642f0b136d5159a501700")!
    static let t0: Int64 = 1_764_000_000_000_000

    private func transaction(_ span: UInt64, parent: UInt64?, name: String, start: Int64, duration: Int64) -> TransactionRow {
        TransactionRow(
            projectID: 1, eventID: EventID(high: span, low: span), traceID: Self.trace, spanID: SpanID(span),
            parentSpanID: parent.map { SpanID($0) }, name: name, op: "http.server", status: "ok", start: Self.t0 + start,
            duration: duration, release: nil, environment: "production", platform: nil, sampleRate: nil, measurements: nil, received: 0)
    }

    private func span(_ id: UInt64, parent: UInt64?, segment: UInt64?, op: String = "db", start: Int64, duration: Int64) -> SpanRow {
        SpanRow(
            projectID: 1, traceID: Self.trace, spanID: SpanID(id), parentSpanID: parent.map { SpanID($0) },
            segmentID: segment.map { SpanID($0) }, op: op, description: "span \(id)", status: "ok", start: Self.t0 + start,
            duration: duration)
    }

    private func error(_ n: UInt64, span: UInt64?, at microseconds: Int64) -> TraceErrorRow {
        TraceErrorRow(
            projectID: 1, eventID: EventID(high: 0, low: n), issueID: 9, shortID: 3, title: "ZeroDivisionError", level: .error,
            timestamp: (Self.t0 + microseconds) / 1000, spanID: span.map { SpanID($0) })
    }

    /// A root transaction (1) with two spans, the later one (11) calling a child transaction (2)
    /// whose span (21) holds an error; a span whose parent is not stored hangs under its segment.
    private var sample: TraceContents {
        TraceContents(
            transactions: [
                transaction(2, parent: 11, name: "task", start: 600_000, duration: 300_000),
                transaction(1, parent: nil, name: "POST /checkout", start: 0, duration: 1_000_000),
            ],
            spans: [
                span(11, parent: 1, segment: 1, start: 500_000, duration: 450_000),
                span(10, parent: 1, segment: 1, start: 100_000, duration: 200_000),
                span(21, parent: 2, segment: 2, op: "http.client", start: 650_000, duration: 100_000),
                span(12, parent: 999, segment: 1, start: 200_000, duration: 50_000),
            ],
            errors: [error(1, span: 21, at: 700_000), error(2, span: 77, at: 1_000_000)])
    }

    private func label(_ row: TraceWaterfall.Row) -> String {
        switch row.kind {
        case .transaction(let transaction): "t\(transaction.spanID.value)@\(row.depth)"
        case .span(let span): "s\(span.spanID.value)@\(row.depth)"
        case .error(let error): "e\(error.eventID.low)@\(row.depth)"
        }
    }

    @Test func rowsNestDepthFirstWithSiblingsByStart() {
        let waterfall = TraceWaterfall(sample)
        #expect(waterfall.rows.map(label) == ["t1@0", "s10@1", "s12@1", "s11@1", "t2@2", "s21@3", "e2@0"])
        #expect(waterfall.transactionCount == 2 && waterfall.spanCount == 4 && waterfall.errorCount == 2 && waterfall.omitted == 0)
        #expect(waterfall.start == Self.t0 && waterfall.duration == 1_000_000)
        #expect(waterfall.rows[0].hasChildren && !waterfall.rows[1].hasChildren)
    }

    @Test func barsArePlacedOnTheTracesExtent() {
        let waterfall = TraceWaterfall(sample)
        let root = waterfall.rows[0]
        #expect(root.offset == 0 && root.width == 1)
        let task = waterfall.rows[4]
        #expect(abs(task.offset - 0.6) < 1e-9 && abs(task.width - 0.3) < 1e-9)
        #expect(task.description == "task" && task.op == "http.server")
    }

    @Test func errorsAreMarkedOnTheirSpanOrListedLast() {
        let waterfall = TraceWaterfall(sample)
        let marked = waterfall.rows[5]
        #expect(marked.errors.map(\.eventID.low) == [1] && abs(marked.errorOffsets[0] - 0.7) < 1e-9)
        #expect(waterfall.rows.filter { !$0.errors.isEmpty }.count == 2)
        let orphan = waterfall.rows[6]
        #expect(orphan.errors.map(\.eventID.low) == [2] && orphan.errorOffsets == [1] && orphan.op == "error")
    }

    @Test func rowsPastTheBoundAreCountedNotLaidOut() {
        let spans = (0..<5000).map { span(UInt64(100 + $0), parent: 1, segment: 1, start: Int64($0), duration: 10) }
        let contents = TraceContents(
            transactions: [transaction(1, parent: nil, name: "big", start: 0, duration: 10_000)], spans: spans,
            errors: [error(1, span: 4999 + 100, at: 5), error(2, span: nil, at: 6)])
        let waterfall = TraceWaterfall(contents, maxRows: 2000)
        #expect(waterfall.rows.count == 2000 && waterfall.omitted == 5001 + 1 - 2000)
        #expect(waterfall.spanCount == 5000 && waterfall.errorCount == 2)
    }

    @Test func aCycleOfParentsIsLaidOutOnce() {
        let contents = TraceContents(
            transactions: [],
            spans: [span(1, parent: 2, segment: nil, start: 0, duration: 10), span(2, parent: 1, segment: nil, start: 5, duration: 10)],
            errors: [])
        let waterfall = TraceWaterfall(contents)
        #expect(waterfall.rows.map(label) == ["s1@0", "s2@1"])
    }

    @Test func anEmptyTraceHasNoRows() {
        let waterfall = TraceWaterfall(TraceContents(transactions: [], spans: [], errors: []))
        #expect(waterfall.rows.isEmpty && waterfall.omitted == 0 && waterfall.duration == 0)
    }
}
