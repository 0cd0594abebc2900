import NIOCore
import PitIngest
import PitModel
import Testing

/// Security reports become the events Relay makes of them (its `security_report.rs` cases).
@Suite struct SecurityReportTests {
    private func parse(_ json: String, context: SecurityReport.Context = .init()) throws -> [SecurityReport] {
        try SecurityReport.parse(ByteBuffer(string: json), context: context)
    }

    private func event(_ report: SecurityReport) throws -> ExtractedEvent {
        try EventExtractor.extract(payload: report.payload)
    }

    @Test func reportURIBodyGetsRelaysTitleCulpritAndTags() throws {
        let reports = try parse(
            """
            {"csp-report": {"document-uri": "https://example.com/foo/bar", "referrer": "https://www.google.com/",
             "violated-directive": "default-src self", "original-policy": "default-src self; report-uri /csp-hotline.php",
             "blocked-uri": "http://evilhackerscripts.com"}}
            """, context: .init(release: "1.2", environment: "web", userAgent: "Firefox"))
        let report = try #require(reports.first)
        #expect(reports.count == 1 && report.kind == "csp")
        let event = try event(report)
        #expect(event.message?.display == "Blocked 'default-src' from 'evilhackerscripts.com'")
        #expect(event.culprit == "default-src self")
        #expect(event.release == "1.2" && event.environment == "web")
        #expect(
            event.tags.map { "\($0.key)=\($0.value)" } == [
                "effective-directive=default-src", "blocked-uri=http://evilhackerscripts.com", "blocked-host=evilhackerscripts.com",
            ])
        #expect(event.fingerprint == ["csp", "default-src", "evilhackerscripts.com"])
        #expect(report.payload.text.contains(#""User-Agent","Firefox""#))
        #expect(String(decoding: report.metadata, as: UTF8.self).contains(#""uri":"evilhackerscripts.com""#))
    }

    @Test(arguments: [
        ("style-src", "http://example.com/lol.css", "Blocked 'style' from 'example.com'"),
        ("script-src", "http://baddomain.com:8080/test.js?_=1", "Blocked 'script' from 'baddomain.com:8080'"),
        ("script-src", "inline", "Blocked unsafe inline 'script'"),
        ("script-src", "self", "Blocked unsafe (eval() or inline) 'script'"),
        ("img-src", "data", "Blocked 'image' from 'data:'"),
        ("form-action", "https://x.example/post", "Blocked 'form' action to 'x.example'"),
        ("frame-ancestors", "https://a.example", "Blocked 'frame-ancestors' from 'a.example'"),
    ])
    func titlesFollowRelay(directive: String, blocked: String, title: String) throws {
        #expect(SecurityReport.cspMessage(directive: directive, blockedURI: blocked) == title)
    }

    @Test func culpritNormalisesSourcesAgainstTheDocument() {
        #expect(
            SecurityReport.cspCulprit(violated: "style-src cdn.example.com", documentURI: "http://example.com")
                == "style-src cdn.example.com")
        #expect(
            SecurityReport.cspCulprit(violated: "script-src http://example.com 'unsafe-eval'", documentURI: "http://example.com/x")
                == "script-src 'self' 'unsafe-eval'")
        #expect(SecurityReport.cspCulprit(violated: "", documentURI: nil) == "")
    }

    @Test func reportToBatchKeepsOnlyCSPViolations() throws {
        let reports = try parse(
            """
            [{"type": "csp-violation", "age": 10, "url": "https://site.example/",
              "body": {"documentURL": "https://site.example/", "blockedURL": "https://evil.example/x.js",
                       "effectiveDirective": "script-src-elem", "originalPolicy": "script-src 'self'", "disposition": "enforce",
                       "statusCode": 200, "lineNumber": "7"}},
             {"type": "deprecation", "body": {"id": "x"}},
             {"type": "csp-violation", "body": {"documentURL": "https://site.example/", "blockedURL": "inline",
                       "effectiveDirective": "style-src-attr"}}]
            """)
        #expect(reports.count == 2)
        #expect(try event(reports[0]).message?.display == "Blocked 'script' from 'evil.example'")
        #expect(try event(reports[1]).message?.display == "Blocked style attribute from 'inline:'")
        #expect(reports[0].payload.text.contains(#""line_number":7"#))
        #expect(try parse(#"[{"type": "network-error", "body": {}}]"#).isEmpty)
        let one = #"{"type": "csp-violation", "body": {"blockedURL": "https://a.example/", "effectiveDirective": "img-src"}}"#
        let full = "[" + Array(repeating: one, count: SecurityReport.maxReportsPerRequest).joined(separator: ",") + "]"
        #expect(try parse(full).count == SecurityReport.maxReportsPerRequest)
        let over = "[" + Array(repeating: one, count: SecurityReport.maxReportsPerRequest + 1).joined(separator: ",") + "]"
        #expect(throws: IngestError.tooLarge("security report batch holds more than 100 CSP violations")) { try parse(over) }
    }

    @Test func expectCTStapleAndHPKPAreGroupedByHostname() throws {
        let ct = try #require(
            try parse(#"{"expect-ct-report": {"date-time": "2014-04-06T13:00:50Z", "hostname": "www.example.com", "port": 443}}"#).first)
        #expect(ct.kind == "expectct")
        #expect(try event(ct).message?.display == "Expect-CT failed for 'www.example.com'")
        #expect(try event(ct).fingerprint == ["expectct", "www.example.com"])
        let staple = try #require(try parse(#"{"expect-staple-report": {"hostname": "s.example", "response-status": "ERROR"}}"#).first)
        #expect(staple.kind == "expectstaple")
        #expect(try event(staple).message?.display == "Expect-Staple failed for 's.example'")
        let hpkp = try #require(
            try parse(#"{"hostname": "pin.example", "port": 443, "include-subdomains": false, "known-pins": ["pin-sha256=\"x\""]}"#).first)
        #expect(hpkp.kind == "hpkp")
        #expect(try event(hpkp).message?.display == "Public key pinning validation failed for 'pin.example'")
        #expect(try event(hpkp).tags.map(\.key) == ["port", "hostname", "include-subdomains"])
    }

    @Test(arguments: [
        "not json", "42", #"{"foo": 1}"#, #"{"csp-report": "x"}"#, #"{"csp-report": {"blocked-uri": "x"}}"#,
        #"{"csp-report": {"effective-directive": "bogus-src"}}"#, #"{"expect-ct-report": {"port": 1}}"#,
        #"[{"type": "csp-violation"}]"#,
    ])
    func badReportsAreRefusedWithAReason(json: String) {
        #expect(throws: IngestError.self) { try parse(json) }
    }

    @Test func contentTypesAreRelays() {
        for type in [
            "application/csp-report", "application/json", "application/json; charset=utf-8", "application/reports+json",
            "application/expect-ct-report+json", "application/expect-staple-report",
        ] {
            #expect(SecurityReport.acceptsContentType(type), "\(type)")
        }
        for type in [nil, "text/plain", "application/x-www-form-urlencoded"] { #expect(!SecurityReport.acceptsContentType(type)) }
    }
}
