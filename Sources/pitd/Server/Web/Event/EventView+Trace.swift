import PitModel

extension EventView {
    /// The trace the event happened in (`contexts.trace.trace_id`), when it names a valid one.
    var traceID: TraceID? {
        guard let trace = contexts.first(where: { $0.name == "trace" }),
            let text = trace.fields.first(where: { $0.key == "trace_id" })?.value, text.utf8.count == 32
        else { return nil }
        return TraceID(text)
    }
}
