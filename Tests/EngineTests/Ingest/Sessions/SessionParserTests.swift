import NIOCore
import PitIngest
import PitModel
import PitStorage
import Testing

/// Relay's rules for `session` and `sessions` items, applied at ingest.
@Suite struct SessionParserTests {
    static let now = receiveTime
    static let started = Timestamp.format(now - 600)

    func session(_ json: String) throws(SessionParser.Drop) -> SessionUpdate {
        try SessionParser.session(ByteBuffer(string: json), projectID: 1, received: Self.now)
    }

    func drop(_ json: String) -> SessionParser.Drop? {
        do {
            _ = try session(json)
            return nil
        } catch {
            return error
        }
    }

    @Test func parsesAnUpdate() throws {
        let update = try session(
            #"{"sid":"8E2D5B06-6F5C-4E4A-9C6D-0A1B2C3D4E5F","did":"user-1","init":true,"seq":0,"started":"\#(Self.started)","#
                + #""timestamp":"\#(Self.started)","duration":12.5,"status":"exited","errors":2,"#
                + #""attrs":{"release":" app@1.0 ","environment":"staging"}}"#)
        #expect(update.sid == "8e2d5b06-6f5c-4e4a-9c6d-0a1b2c3d4e5f")
        #expect(update.did == "user-1")
        #expect(update.release == "app@1.0")
        #expect(update.environment == "staging")
        #expect(update.started == Int64((Self.now - 600) * 1000))
        #expect(update.status == .exited && update.errors == 2 && update.duration == 12.5)
        #expect(update.outcome == .errored && update.isTerminal)
    }

    @Test func defaultsAndCorrections() throws {
        // No status, no environment: ok in production. A numeric did is kept as text.
        let plain = try session(#"{"sid":"a","did":42,"started":\#(Self.now - 10),"attrs":{"release":"1.0"}}"#)
        #expect(plain.status == .ok && plain.environment == "production" && plain.did == "42" && !plain.isTerminal)
        // A crash is an error; a negative duration or error count is not kept.
        let crash = try session(
            #"{"sid":"a","started":"\#(Self.started)","status":"crashed","errors":-3,"duration":-1,"attrs":{"release":"1.0"}}"#)
        #expect(crash.errors == 1 && crash.duration == nil && crash.outcome == .crashed)
        // An update stamped before its start moves the start back (Relay).
        let early = try session(
            #"{"sid":"a","started":"\#(Self.started)","timestamp":"\#(Timestamp.format(Self.now - 900))","attrs":{"release":"1.0"}}"#)
        #expect(early.started == Int64((Self.now - 900) * 1000))
        // A clean exit without a duration ran from its start to its timestamp.
        let exited = try session(
            #"{"sid":"a","started":"\#(Self.started)","timestamp":"\#(Timestamp.format(Self.now - 540))","status":"exited","attrs":{"release":"1"}}"#
        )
        #expect(exited.duration == 60)
    }

    @Test func relayDropsThese() {
        let started = Self.started
        #expect(drop(#"{"sid":"a","started":"\#(started)"}"#) == .missingRelease)
        #expect(drop(#"{"sid":"a","started":"\#(started)","attrs":{"release":"  "}}"#) == .missingRelease)
        #expect(drop(#"{"sid":"a","started":"\#(started)","attrs":{"release":7}}"#) == .missingRelease)
        #expect(drop(#"{"sid":"a","started":"\#(Timestamp.format(Self.now - 5 * 86400 - 60))","attrs":{"release":"1"}}"#) == .tooOld)
        #expect(drop(#"{"sid":"a","started":"\#(Timestamp.format(Self.now + 120))","attrs":{"release":"1"}}"#) == .inFuture)
        // Within the clock-skew allowance.
        #expect(drop(#"{"sid":"a","started":"\#(Timestamp.format(Self.now + 30))","attrs":{"release":"1"}}"#) == nil)
        #expect(drop(#"{"sid":"a","started":"\#(started)","status":"unknown","attrs":{"release":"1"}}"#) == .invalid)
        #expect(drop(#"{"started":"\#(started)","attrs":{"release":"1"}}"#) == .invalid)
        #expect(drop(#"{"sid":"\#(String(repeating: "a", count: 65))","started":"\#(started)","attrs":{"release":"1"}}"#) == .invalid)
        #expect(drop(#"{"sid":"a","attrs":{"release":"1"}}"#) == .invalid)
        #expect(drop(#"{"sid":"a","started":1e400,"attrs":{"release":"1"}}"#) == .invalid)
        #expect(drop("[1]") == .invalid)
        #expect(drop("{\"sid\":") == .malformed)
    }

    @Test func longValuesAreCut() throws {
        let update = try session(
            #"{"sid":"a","did":"\#(String(repeating: "d", count: 300))","started":"\#(Self.started)","#
                + #""attrs":{"release":"\#(String(repeating: "r", count: 300))","environment":"\#(String(repeating: "e", count: 100))"}}"#)
        #expect(update.release.utf8.count == FieldLimits.release)
        #expect(update.environment.utf8.count == FieldLimits.environment)
        #expect(update.did?.utf8.count == FieldLimits.userID)
    }

    @Test func aggregates() throws {
        let old = Timestamp.format(Self.now - 6 * 86400)
        let json =
            #"{"attrs":{"release":"web@2"},"aggregates":[{"started":"\#(Self.started)","did":"u1","exited":3,"errored":1},"#
            + #"{"started":"\#(old)","exited":5},{"started":"\#(Self.started)","crashed":2,"abnormal":1,"exited":-4},"#
            + #"{"started":"\#(Self.started)"},{"exited":1}]}"#
        let aggregates = try SessionParser.sessions(ByteBuffer(string: json), projectID: 3, received: Self.now)
        #expect(aggregates.count == 2, "too old, empty and undated buckets are dropped")
        #expect(
            aggregates[0]
                == SessionAggregate(
                    projectID: 3, did: "u1", release: "web@2", started: Int64((Self.now - 600) * 1000), exited: 3, errored: 1))
        #expect(aggregates[0].total == 4 && aggregates[0].worst == .errored)
        #expect(aggregates[1].total == 3 && aggregates[1].worst == .crashed && aggregates[1].environment == "production")
        #expect(throws: SessionParser.Drop.missingRelease) {
            try SessionParser.sessions(ByteBuffer(string: #"{"aggregates":[]}"#), projectID: 1, received: Self.now)
        }
        let many = "[" + Array(repeating: #"{"started":"\#(Self.started)","exited":1}"#, count: 101).joined(separator: ",") + "]"
        #expect(throws: SessionParser.Drop.invalid) {
            try SessionParser.sessions(
                ByteBuffer(string: #"{"attrs":{"release":"1"},"aggregates":\#(many)}"#), projectID: 1, received: Self.now)
        }
    }
}
