import Foundation
import NIOCore
import PitIngest
import PitModel
import PitStorage
import Testing

/// `log` containers and `otel_log` items to `LogRecord`s: typed attributes, severities both ways,
/// ids, and what is refused (with its reason) or dropped.
@Suite struct LogParserTests {
    static let received = 1_764_000_000.0
    static let trace = "5b8efff798038103d269b633813fc60c"

    static func container(_ logs: [String], itemCount: Int? = nil, contentType: String? = LogParser.containerContentType)
        throws(IngestError) -> LogParser.Parsed
    {
        try LogParser.container(
            ByteBuffer(string: #"{"version":2,"items":["# + logs.joined(separator: ",") + "]}"), itemCount: itemCount ?? logs.count,
            contentType: contentType, projectID: 1, received: received, sdk: "sentry.envelope")
    }

    @Test func sentryLogWithTypedAttributes() throws {
        let log = #"""
            {"timestamp":1764000000.25,"trace_id":"5B8EFFF7-9803-8103-D269-B633813FC60C","span_id":"eee19b7ec3c1b174","level":"warn",
             "body":"user bob logged in","attributes":{"user.name":{"value":"bob","type":"string"},"count":{"value":3,"type":"integer"},
             "ratio":{"value":0.5,"type":"double"},"ok":{"value":true,"type":"boolean"},"big":{"value":"9007199254740993","type":"integer"},
             "tags":{"value":["a","b"],"type":"array"},"bad":{"value":"x","type":"integer"},
             "sentry.release":{"value":"app@1.0","type":"string"},"sentry.environment":{"value":"prod","type":"string"},
             "sentry.sdk.name":{"value":"sentry.python","type":"string"},"sentry.severity_number":{"value":14,"type":"integer"},
             "sentry.severity_text":{"value":"warn","type":"string"}}}
            """#
        let parsed = try Self.container([log])
        #expect(parsed.dropped.isEmpty)
        let record = try #require(parsed.logs.first)
        #expect(record.timestamp == 1_764_000_000_250 && record.received == 1_764_000_000_000)
        #expect(record.severity == .warn && record.severityNumber == 14, "the attribute's number within the level's range")
        #expect(record.traceID == Self.trace && record.spanID == "eee19b7ec3c1b174")
        #expect(record.body == "user bob logged in")
        #expect(record.release == "app@1.0" && record.environment == "prod" && record.sdk == "sentry.python")
        let attributes = try #require(try JSONSerialization.jsonObject(with: Data(record.attributes.utf8)) as? [String: [String: Any]])
        #expect(attributes["user.name"]?["value"] as? String == "bob" && attributes["user.name"]?["type"] as? String == "string")
        #expect(attributes["count"]?["value"] as? Int == 3 && attributes["count"]?["type"] as? String == "integer")
        #expect(attributes["ratio"]?["value"] as? Double == 0.5 && attributes["ratio"]?["type"] as? String == "double")
        #expect(attributes["ok"]?["value"] as? Bool == true && attributes["ok"]?["type"] as? String == "boolean")
        #expect(attributes["big"]?["type"] as? String == "integer" && record.attributes.contains(#""big":{"value":9007199254740993,"#))
        #expect(attributes["tags"]?["type"] as? String == "array")
        #expect(attributes["bad"] == nil, "a value that does not fit its type is dropped")
        #expect(attributes["sentry.severity_number"] == nil && attributes["sentry.severity_text"] == nil, "they repeat the level")
        #expect(attributes["sentry.release"] != nil, "kept with the others, and in its own column")
        #expect(
            record.attributes.contains(LogAttributeText.fragment(key: "user.name", type: "string", valueJSON: "\"bob\"")),
            "written as LogSearch rebuilds it")
    }

    @Test func severityLevelsAndNumbersMapBothWays() throws {
        for (level, number) in [("trace", 1), ("debug", 5), ("info", 9), ("warn", 13), ("error", 17), ("fatal", 21)] {
            let record = try #require(try Self.container([#"{"timestamp":1764000000,"level":"\#(level)","body":"x"}"#]).logs.first)
            #expect(record.severity.description == level && record.severityNumber == number)
            #expect(LogSeverity(severityNumber: number + 3)?.description == level)
        }
        // No level: the number says it; neither: info. A number that contradicts the level gives way.
        var record = try #require(try Self.container([#"{"timestamp":1764000000,"severity_number":18,"body":"x"}"#]).logs.first)
        #expect(record.severity == .error && record.severityNumber == 18)
        record = try #require(try Self.container([#"{"timestamp":1764000000,"body":"x"}"#]).logs.first)
        #expect(record.severity == .info && record.severityNumber == 9)
        record = try #require(try Self.container([#"{"timestamp":1764000000,"level":"error","severity_number":3,"body":"x"}"#]).logs.first)
        #expect(record.severity == .error && record.severityNumber == 17)
        #expect(LogSeverity(name: "WARNING") == .warn && LogSeverity(name: "critical") == .fatal && LogSeverity(name: "loud") == nil)
        #expect(LogSeverity(severityNumber: 0) == nil && LogSeverity(severityNumber: 25) == nil)
    }

    @Test func badContainersAreRefusedWithTheirReason() {
        func reason(_ body: () throws -> LogParser.Parsed) -> String? {
            do {
                _ = try body()
                return nil
            } catch let error as IngestError {
                #expect(error.status == 400)
                return error.detail
            } catch {
                return "\(error)"
            }
        }
        let log = #"{"timestamp":1764000000,"level":"info","body":"x"}"#
        #expect(reason { try Self.container([log, log], itemCount: 3) }?.contains("item_count 3 does not match the 2 logs") == true)
        #expect(
            reason {
                try LogParser.container(
                    ByteBuffer(string: #"{"items":[]}"#), itemCount: nil, contentType: nil, projectID: 1, received: Self.received)
            }?.contains("missing item_count") == true)
        #expect(reason { try Self.container([log], contentType: "application/json") }?.contains("content_type must be") == true)
        #expect(
            reason {
                try LogParser.container(ByteBuffer(string: #"{"logs":[]}"#), itemCount: 0, contentType: nil, projectID: 1, received: 0)
            }?.contains("items array") == true)
        #expect(
            reason { try LogParser.container(ByteBuffer(string: "{nope"), itemCount: 0, contentType: nil, projectID: 1, received: 0) }?
                .hasPrefix("invalid log item") == true)
    }

    @Test func badLogsAreDroppedAndTheRestKept() throws {
        let huge = String(repeating: "x", count: LogParser.maxLogBytes)
        let parsed = try Self.container([
            #"{"timestamp":1764000000,"level":"info","body":"kept"}"#,
            #"{"level":"info","body":"no timestamp"}"#,
            #"{"timestamp":1764000000,"level":"info"}"#,
            #""not a log""#,
            #"{"timestamp":1764000000,"level":"info","body":"\#(huge)"}"#,
            #"{"timestamp":1764009999,"level":"info","body":"future","trace_id":"00000000000000000000000000000000","span_id":"xyz"}"#,
        ])
        #expect(parsed.logs.map(\.body) == ["kept", "future"])
        #expect(parsed.dropped == [.invalid, .invalid, .invalid, .tooLarge])
        #expect(parsed.logs[1].timestamp == parsed.logs[1].received, "stamped in the future: stamped on arrival")
        #expect(parsed.logs[1].traceID == nil && parsed.logs[1].spanID == nil, "an all-zero or malformed id is no id")
        #expect(parsed.logs[0].sdk == "sentry.envelope", "the envelope's sdk when the attributes name none")
    }

    @Test func otelLogRecord() throws {
        let record = try LogParser.otel(
            ByteBuffer(
                string: #"""
                    {"timeUnixNano":"1764000000123456789","observedTimeUnixNano":1764000001000000000,"severityNumber":17,
                     "severityText":"ERROR","body":{"stringValue":"payment failed"},"traceId":"5b8efff798038103d269b633813fc60c",
                     "spanId":"eee19b7ec3c1b174","attributes":[{"key":"http.status","value":{"intValue":"502"}},
                     {"key":"retry","value":{"boolValue":false}},{"key":"latency","value":{"doubleValue":1.25}},
                     {"key":"peer","value":{"stringValue":"db-1"}},{"key":"sentry.environment","value":{"stringValue":"staging"}}]}
                    """#), projectID: 1, received: Self.received + 10)
        #expect(record.timestamp == 1_764_000_000_123 && record.severity == .error && record.severityNumber == 17)
        #expect(record.body == "payment failed" && record.traceID == Self.trace && record.spanID == "eee19b7ec3c1b174")
        #expect(record.environment == "staging")
        #expect(record.attributes.contains(#""http.status":{"value":502,"type":"integer"}"#))
        #expect(record.attributes.contains(#""retry":{"value":false,"type":"boolean"}"#))
        #expect(record.attributes.contains(#""latency":{"value":1.25,"type":"double"}"#))
        #expect(record.attributes.contains(#""peer":{"value":"db-1","type":"string"}"#))

        // No time: the observed time; no severity number: the text; nothing: received and info.
        let bare = try LogParser.otel(
            ByteBuffer(string: #"{"observedTimeUnixNano":"1764000002000000000","severityText":"Warning","body":{"intValue":"7"}}"#),
            projectID: 1, received: Self.received + 10)
        #expect(bare.timestamp == 1_764_000_002_000 && bare.severity == .warn && bare.body == "7")
        let empty = try LogParser.otel(ByteBuffer(string: "{}"), projectID: 1, received: Self.received)
        #expect(empty.timestamp == 1_764_000_000_000 && empty.severity == .info && empty.body == "")

        // Over Relay's 2 MiB per log: dropped, not refused.
        let huge = #"{"body":{"stringValue":""# + String(repeating: "x", count: LogParser.maxLogBytes) + #""}}"#
        let dropped = try LogParser.otelItem(ByteBuffer(string: huge), projectID: 1, received: Self.received)
        #expect(dropped.logs.isEmpty && dropped.dropped == [.tooLarge])
        #expect(try LogParser.otelItem(ByteBuffer(string: "{}"), projectID: 1, received: Self.received).logs.count == 1)

        for bad in ["[1]", "nope"] {
            let error = #expect(throws: IngestError.self) {
                try LogParser.otel(ByteBuffer(string: bad), projectID: 1, received: Self.received)
            }
            #expect(error?.status == 400 && error?.detail.hasPrefix("invalid otel_log item") == true)
        }
    }

    @Test func oneLogContainerPerEnvelope() {
        let log = #"{"items":[]}"#
        let item = #"{"type":"log","item_count":0,"length":\#(log.utf8.count)}"# + "\n" + log + "\n"
        let error = #expect(throws: IngestError.self) {
            try EnvelopeParser(limits: IngestLimits()).parse(ByteBuffer(string: "{}\n" + item + item))
        }
        #expect(error?.status == 400 && error?.detail.contains("one log container per envelope") == true)
    }
}

/// The search syntax of the explorer and the API.
@Suite struct LogSearchTests {
    @Test func filtersAndFreeText() throws {
        var query = LogQuery(projectIDs: [1])
        try LogSearch.apply(
            #"severity:[warn,error] trace:5B8EFFF7-9803-8103-D269-B633813FC60C user.id:42 message:"*timed out*" retry later has:peer release:app@1"#,
            to: &query)
        #expect(query.severities == [.warn, .error])
        #expect(query.traceID == "5b8efff798038103d269b633813fc60c")
        #expect(query.messagePatterns == ["%timed out%", "%retry later%"])
        #expect(query.release == "app@1")
        #expect(query.attributeFragments.count == 2)
        #expect(query.attributeFragments[0].contains(#""user.id":{"value":"42","type":"string"}"#))
        #expect(query.attributeFragments[0].contains(#""user.id":{"value":42,"type":"integer"}"#))
        #expect(query.attributeFragments[1] == [#""peer":{"#])

        var exact = LogQuery(projectIDs: [1])
        try LogSearch.apply(#"message:"Disk 100%_full" tags[ok]:true"#, to: &exact)
        #expect(exact.messagePatterns == [#"disk 100\%\_full"#], "literal, lowercased, the whole message")
        #expect(exact.attributeFragments[0].contains(#""ok":{"value":true,"type":"boolean"}"#))

        var negated = LogQuery(projectIDs: [1])
        try LogSearch.apply(#"!severity:[debug,trace] !environment:dev !has:user.id !message:"*health*" !user:bot"#, to: &negated)
        #expect(negated.excludedSeverities == [.debug, .trace] && negated.severities.isEmpty)
        #expect(negated.excludedValues == [.environment: ["dev"]] && negated.environments.isEmpty)
        var environments = LogQuery(projectIDs: [1])
        try LogSearch.apply("environment:[prod, staging]", to: &environments)
        #expect(environments.environments == ["prod", "staging"])
        #expect(negated.excludedMessagePatterns == ["%health%"] && negated.messagePatterns.isEmpty)
        #expect(negated.excludedAttributeFragments.count == 2 && negated.attributeFragments.isEmpty)

        for bad in ["severity:loud", #"message:"open"#, "a OR b", "!severity:loud", "severity_number:99"] {
            var other = LogQuery(projectIDs: [1])
            #expect(throws: LogSearch.Invalid.self, "\(bad)") { try LogSearch.apply(bad, to: &other) }
        }
    }
}
