package import PitModel

/// The fields of an event payload that Pit indexes or groups by, pulled out in one pass.
/// The stored payload stays the original bytes; this is what the writer and grouper need.
package struct ExtractedEvent: Sendable {
    package var eventID: EventID?
    /// The payload had an `event_id` that is not an id; Relay drops it and records an error.
    package var invalidEventID = false
    package var timestamp: Double?
    package var level: Level = .error
    package var platform: String = "other"
    package var logger: String?
    package var transaction: String?
    package var serverName: String?
    package var site: String?
    package var release: String?
    package var dist: String?
    package var environment: String?
    package var culprit: String?
    package var message: MessageInfo?
    package var exceptions: [ExceptionInfo] = []
    /// Frames of the crashed (or only) thread, or of a top-level `stacktrace`, used when there is
    /// no exception.
    package var threadFrames: [FrameInfo]?
    package var fingerprint: [String]?
    /// Pairs in the order sent, before normalisation.
    package var tags: [(key: String, value: String)] = []
    package var user: UserInfo?
    package var traceID: String?
    /// `contexts.trace.span_id`: the span the error happened in.
    package var traceSpanID: SpanID?
    package var type: String?
    package var sdkName: String?
    package var sdkVersion: String?
    /// Processing errors found while extracting (`value_too_long`, `invalid_data`), reported
    /// with the normaliser's own.
    package var errors: [(type: String, name: String)] = []

    package init() {}
}

package struct MessageInfo: Sendable, Equatable {
    /// `logentry.message`: the template, parameters not substituted.
    package var template: String?
    package var formatted: String?
    package var params: [String] = []

    /// What a person reads: `formatted`, else the template with its parameters substituted.
    package var display: String? {
        if let formatted { return formatted }
        guard let template else { return nil }
        return MessageInfo.format(template, params)
    }

    /// Relay's `formatted` fallback: `%s`-style and `{}`-style placeholders, in order.
    static func format(_ template: String, _ params: [String]) -> String {
        guard !params.isEmpty else { return template }
        var result = ""
        var index = 0
        var chars = template.makeIterator()
        while let c = chars.next() {
            if c == "%" {
                guard let spec = chars.next() else {
                    result.append(c)
                    break
                }
                if spec == "%" {
                    result.append("%")
                    continue
                }
                if index < params.count, "sdrfixXo".contains(spec) {
                    result += params[index]
                    index += 1
                } else {
                    result.append(c)
                    result.append(spec)
                }
            } else {
                result.append(c)
            }
        }
        return result
    }
}

package struct ExceptionInfo: Sendable, Equatable {
    package var type: String?
    package var value: String?
    package var module: String?
    package var mechanismType: String?
    package var synthetic = false
    package var handled: Bool?
    package var exceptionID: Int?
    package var parentID: Int?
    package var isExceptionGroup = false
    package var frames: [FrameInfo] = []

    package init() {}
}

/// A stack frame's grouping inputs. Its strings are `PayloadText`s: on ingest they share the
/// payload's bytes, since grouping hashes and compares them and never needs a `String`.
package struct FrameInfo: Sendable, Equatable {
    package var function: PayloadText?
    package var rawFunction: PayloadText?
    package var module: PayloadText?
    package var package: PayloadText?
    package var filename: PayloadText?
    package var absPath: PayloadText?
    package var lineno: Int?
    package var colno: Int?
    package var contextLine: PayloadText?
    package var inApp: Bool?
    package var platform: String?

    package init() {}
}

package struct UserInfo: Sendable, Equatable {
    package var id: String?
    package var email: String?
    package var username: String?
    package var ipAddress: String?

    package init() {}

    /// The identity Sentry counts for "users seen": id, else email, else username, else IP.
    package var identity: String? {
        if let id, !id.isEmpty { return "id:\(id)" }
        if let email, !email.isEmpty { return "email:\(email)" }
        if let username, !username.isEmpty { return "username:\(username)" }
        if let ipAddress, !ipAddress.isEmpty, ipAddress != "{{auto}}" { return "ip:\(ipAddress)" }
        return nil
    }
}
