import NIOCore
import PitIngest
import PitStorage
import Testing

@Suite struct CheckInParserTests {
    private func parse(_ json: String) throws(CheckInParser.Drop) -> CheckInUpdate {
        try CheckInParser.checkIn(ByteBuffer(string: json), projectID: 7, received: 1_700_000_000)
    }

    @Test func pythonSDKCheckInWithConfig() throws {
        let update = try parse(
            """
            {"type":"check_in","check_in_id":"6F1D3C5A-9E2B-4C8D-A1F0-0123456789AB","monitor_slug":"Nightly Report!","status":"ok",
             "duration":1.25,"environment":"staging","release":"1.0",
             "monitor_config":{"schedule":{"type":"crontab","value":"0 3 * * MON-FRI"},"timezone":"Europe/Vienna",
                               "checkin_margin":5,"max_runtime":10,"failure_issue_threshold":2,"recovery_threshold":3}}
            """)
        #expect(update.projectID == 7 && update.slug == "nightly-report" && update.status == .ok)
        #expect(update.guid == "6f1d3c5a9e2b4c8da1f00123456789ab")
        #expect(update.duration == 1250 && update.environment == "staging" && update.received == 1_700_000_000_000)
        let config = try #require(update.config)
        #expect(config.scheduleColumns.type == "crontab" && config.scheduleColumns.value == "0 3 * * MON-FRI")
        #expect(config.timezone == "Europe/Vienna" && config.checkinMargin == 5 && config.maxRuntime == 10)
        #expect(config.failureIssueThreshold == 2 && config.recoveryThreshold == 3)
    }

    @Test func intervalConfigAndDefaults() throws {
        let update = try parse(
            #"{"monitor_slug":"sync","status":"in_progress","monitor_config":{"schedule":{"type":"interval","value":2,"unit":"hour"}}}"#)
        #expect(update.environment == "production" && update.duration == nil && update.guid.isEmpty)
        #expect(update.config == MonitorConfig(schedule: .interval(2, .hour)))
        // The all-zero id means "the latest in_progress check-in".
        let zero = try parse(#"{"monitor_slug":"sync","status":"ok","check_in_id":"00000000000000000000000000000000"}"#)
        #expect(zero.guid.isEmpty && zero.config == nil)
    }

    @Test func dropsWhatRelayDrops() {
        let cases: [(String, CheckInParser.Drop)] = [
            ("not json", .malformed),
            ("[]", .invalid),
            (#"{"status":"ok"}"#, .invalid),
            (#"{"monitor_slug":"!!!","status":"ok"}"#, .invalid),
            (#"{"monitor_slug":"a","status":"missed"}"#, .invalid),
            (#"{"monitor_slug":"a","status":"ok","check_in_id":"nope"}"#, .invalid),
            (#"{"monitor_slug":"a","status":"ok","monitor_config":{"schedule":{"type":"crontab","value":"61 * * * *"}}}"#, .invalidConfig),
            (#"{"monitor_slug":"a","status":"ok","monitor_config":{"schedule":{"type":"interval","value":1}}}"#, .invalidConfig),
            (
                #"{"monitor_slug":"a","status":"ok","monitor_config":{"schedule":{"type":"crontab","value":"@daily"},"timezone":"Mars/Olympus"}}"#,
                .invalidConfig
            ),
            (
                #"{"monitor_slug":"a","status":"ok","monitor_config":{"schedule":{"type":"crontab","value":"@daily"},"timezone":"../../etc/passwd"}}"#,
                .invalidConfig
            ),
            (
                #"{"monitor_slug":"a","status":"ok","monitor_config":{"schedule":{"type":"crontab","value":"@daily"},"failure_issue_threshold":0}}"#,
                .invalidConfig
            ),
            (
                #"{"monitor_slug":"a","status":"ok","monitor_config":{"schedule":{"type":"crontab","value":"@daily"},"max_runtime":-1}}"#,
                .invalidConfig
            ),
            (#"{"monitor_slug":"a","status":"ok","monitor_config":"daily"}"#, .invalidConfig),
        ]
        for (json, drop) in cases {
            #expect(throws: drop, "\(json)") { try parse(json) }
        }
    }

    @Test func boundsHostileValues() throws {
        let long = try parse(
            #"{"monitor_slug":"\#(String(repeating: "x", count: 500))","status":"ok","duration":1e400,"environment":"e\u0000nv"}"#)
        #expect(long.slug.utf8.count == CheckInParser.maxSlugBytes && long.duration == nil && long.environment == "env")
        let negative = try parse(#"{"monitor_slug":"a","status":"ok","duration":-3}"#)
        #expect(negative.duration == nil)
    }

    @Test func httpQueryForm() throws {
        let update = try CheckInParser.query(
            slug: "My Job", parameters: ["status": "error", "duration": "2.5", "environment": "prod"], projectID: 3, received: 10)
        #expect(update.slug == "my-job" && update.status == .error && update.duration == 2500 && update.environment == "prod")
        #expect(throws: CheckInParser.Drop.invalid) {
            try CheckInParser.query(slug: "a", parameters: ["status": "done"], projectID: 3, received: 10)
        }
        #expect(throws: CheckInParser.Drop.invalid) {
            try CheckInParser.query(slug: "a", parameters: ["status": "ok", "duration": "soon"], projectID: 3, received: 10)
        }
    }
}
