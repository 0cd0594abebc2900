import Foundation

/// Transactions, span v2 containers and error events of one trace, as SDKs send them.
enum TransactionFixtures {
    static let trace = "771a43a4192642f0b136d5159a501700"
    static let rootSpan = "8f6a2b1c3d4e5f60"
    static let dbSpan = "a1b2c3d4e5f60718"
    static let childSpan = "b2c3d4e5f6071829"

    /// A `transaction` item's JSON: `spans` as given, ending `duration` seconds after `start`.
    static func transaction(
        eventID: String, name: String = "GET /users/{id}", op: String = "http.server", status: String = "ok", start: Double,
        duration: Double, spanID: String = rootSpan, parentSpanID: String? = nil, trace: String = trace, release: String? = "app@1.0",
        environment: String = "production", spans: [String] = [], measurements: String? = nil
    ) -> String {
        let parent = parentSpanID.map { #","parent_span_id":"\#($0)""# } ?? ""
        let releaseMember = release.map { #""release":"\#($0)","# } ?? ""
        let measured = measurements.map { #","measurements":\#($0)"# } ?? ""
        return #"""
            {"type":"transaction","event_id":"\#(eventID)","transaction":"\#(name)","transaction_info":{"source":"route"},\#(releaseMember)"environment":"\#(environment)","platform":"python","start_timestamp":\#(start),"timestamp":\#(start + duration),"contexts":{"trace":{"trace_id":"\#(trace)","span_id":"\#(spanID)"\#(parent),"op":"\#(op)","status":"\#(status)"}},"tags":{"region":"eu"},"request":{"url":"http://example.com/users/7","method":"GET"},"spans":[\#(spans.joined(separator: ","))]\#(measured)}
            """#
    }

    static func span(
        _ spanID: String, parent: String = rootSpan, op: String, description: String, start: Double, duration: Double, trace: String = trace
    ) -> String {
        #"{"span_id":"\#(spanID)","parent_span_id":"\#(parent)","trace_id":"\#(trace)","op":"\#(op)","description":"\#(description)","start_timestamp":\#(start),"timestamp":\#(start + duration),"status":"ok"}"#
    }

    /// An envelope of one transaction item, its header carrying the trace's sample rate when given.
    static func envelope(eventID: String, transaction: String, sampleRate: Double? = nil) -> String {
        let dsc = sampleRate.map { #","trace":{"trace_id":"\#(trace)","public_key":"testkey","sample_rate":"\#($0)"}"# } ?? ""
        return #"{"event_id":"\#(eventID)"\#(dsc)}"# + "\n" + #"{"type":"transaction","length":\#(transaction.utf8.count)}"# + "\n"
            + transaction + "\n"
    }

    /// A span v2 item (`{"version":2,"items":[...]}`) of `spans`.
    static func spanEnvelope(_ spans: [String], sampleRate: Double? = nil) -> String {
        let payload = #"{"version":2,"items":["# + spans.joined(separator: ",") + "]}"
        let dsc = sampleRate.map { #""trace":{"trace_id":"\#(trace)","public_key":"testkey","sample_rate":\#($0)}"# } ?? ""
        return "{\(dsc)}\n"
            + #"{"type":"span","item_count":\#(spans.count),"content_type":"application/vnd.sentry.items.span.v2+json","length":\#(payload.utf8.count)}"#
            + "\n" + payload + "\n"
    }

    static func spanV2(
        _ spanID: String, parent: String?, name: String, op: String, segment: Bool, start: Double, duration: Double,
        status: String = "ok", segmentID: String? = nil, segmentName: String? = nil, trace: String = trace
    ) -> String {
        var attributes = [
            #""sentry.op":{"type":"string","value":"\#(op)"}"#, #""sentry.release":{"type":"string","value":"app@2.0"}"#,
            #""sentry.environment":{"type":"string","value":"staging"}"#,
        ]
        if let segmentID { attributes.append(#""sentry.segment.id":{"type":"string","value":"\#(segmentID)"}"#) }
        if let segmentName { attributes.append(#""sentry.segment.name":{"type":"string","value":"\#(segmentName)"}"#) }
        let parentMember = parent.map { #""parent_span_id":"\#($0)","# } ?? ""
        return
            #"{"trace_id":"\#(trace)",\#(parentMember)"span_id":"\#(spanID)","name":"\#(name)","status":"\#(status)","is_segment":\#(segment),"kind":"server","start_timestamp":\#(start),"end_timestamp":\#(start + duration),"attributes":{\#(attributes.joined(separator: ","))}}"#
    }

    /// An error event in the trace, on `span`.
    static func errorEnvelope(eventID: String, span: String, at seconds: Double, trace: String = trace) -> String {
        let event =
            #"{"event_id":"\#(eventID)","timestamp":\#(seconds),"level":"error","platform":"python","exception":{"values":[{"type":"ZeroDivisionError","value":"division by zero"}]},"contexts":{"trace":{"trace_id":"\#(trace)","span_id":"\#(span)","op":"http.server"}}}"#
        return #"{"event_id":"\#(eventID)"}"# + "\n" + #"{"type":"event","length":\#(event.utf8.count)}"# + "\n" + event + "\n"
    }
}
