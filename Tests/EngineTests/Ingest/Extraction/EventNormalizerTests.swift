import PitIngest
import PitModel
import Testing

private func normalize(_ json: String, headerEventID: EventID? = nil, sentAt: Double? = nil) throws -> NormalizedEvent {
    EventNormalizer.normalize(try extract(json), headerEventID: headerEventID, sentAt: sentAt, received: receiveTime)
}

private func errors(_ event: NormalizedEvent) -> [String] { event.errors.map { "\($0.type):\($0.name)" } }
private func tags(_ event: NormalizedEvent) -> [String] { event.tags.map { "\($0.key)=\($0.value)" } }

@Suite struct EventNormalizerTimestampTests {
    /// Offsets from the receive time that are neither too far ahead nor too old.
    static let inRange: [Double] = [-10, 0, 60, -30 * 86400 + 1]

    @Test(arguments: inRange)
    func timestampsInRangeAreKept(offset: Double) throws {
        let event = try normalize(#"{"timestamp":\#(receiveTime + offset)}"#)
        #expect(event.timestamp == receiveTime + offset)
        #expect(event.errors.isEmpty)
        #expect(event.received == receiveTime)
    }

    @Test func futureTimestampIsClamped() throws {
        let event = try normalize(#"{"timestamp":\#(receiveTime + 61)}"#)
        #expect(event.timestamp == receiveTime)
        #expect(errors(event) == ["future_timestamp:timestamp"])
    }

    @Test func pastTimestampIsClamped() throws {
        let event = try normalize(#"{"timestamp":"2023-10-01T00:00:00Z"}"#)
        #expect(event.timestamp == receiveTime)
        #expect(errors(event) == ["past_timestamp:timestamp"])
    }

    @Test(arguments: ["{}", #"{"timestamp":1e400}"#, #"{"timestamp":"1e400"}"#, #"{"timestamp":"garbage"}"#])
    func missingOrInvalidTimestampIsTheReceiveTime(json: String) throws {
        let event = try normalize(json)
        #expect(event.timestamp == receiveTime)
        #expect(event.errors.isEmpty)
    }

    @Test func isoTimestampWithOffset() throws {
        let event = try normalize(#"{"timestamp":"2023-11-14T23:13:10+01:00"}"#)
        #expect(event.timestamp == receiveTime - 10)
    }

    @Test func clockDriftOfAnHourShiftsTimestamps() throws {
        // The client's clock is an hour behind: its sent_at and timestamp are both an hour early.
        let event = try normalize(#"{"timestamp":\#(receiveTime - 3600 - 5)}"#, sentAt: receiveTime - 3600)
        #expect(event.timestamp == receiveTime - 5)
        #expect(errors(event) == ["clock_drift:sent_at"])
    }

    @Test func clockDriftAheadShiftsBack() throws {
        let event = try normalize(#"{"timestamp":\#(receiveTime + 7200)}"#, sentAt: receiveTime + 7200)
        #expect(event.timestamp == receiveTime)
        #expect(errors(event) == ["clock_drift:sent_at"])
    }

    @Test func driftOfExactly55MinutesShifts() throws {
        let event = try normalize(#"{"timestamp":\#(receiveTime - 3300)}"#, sentAt: receiveTime - 3300)
        #expect(event.timestamp == receiveTime)
    }

    @Test func driftUnder55MinutesIsIgnored() throws {
        let event = try normalize(#"{"timestamp":\#(receiveTime - 3000)}"#, sentAt: receiveTime - 3000)
        #expect(event.timestamp == receiveTime - 3000)
        #expect(event.errors.isEmpty)
    }

    @Test func driftThenFutureClamp() throws {
        // Shifted by +1 h, the timestamp lands 2 h in the future: clamped, with both errors.
        let event = try normalize(#"{"timestamp":\#(receiveTime + 3600)}"#, sentAt: receiveTime - 3600)
        #expect(event.timestamp == receiveTime)
        #expect(errors(event) == ["clock_drift:sent_at", "future_timestamp:timestamp"])
    }
}

@Suite struct EventNormalizerFieldTests {
    @Test func eventIDPrecedence() throws {
        let header = EventID("11111111111111111111111111111111")!
        let payload = #"{"event_id":"22222222222222222222222222222222"}"#
        #expect(try normalize(payload, headerEventID: header).eventID == header)
        #expect(try normalize(payload).eventID.hex == "22222222222222222222222222222222")
        let generated = try normalize("{}").eventID.hex
        #expect(generated.count == 32)
        #expect(Array(generated)[12] == "4")
        #expect(try normalize("{}").eventID.hex != generated)
    }

    @Test func environmentDefaultsToProduction() throws {
        #expect(try normalize("{}").environment == "production")
        #expect(try normalize(#"{"environment":"staging"}"#).environment == "staging")
    }

    @Test func environmentTagMovesToTheField() throws {
        let event = try normalize(#"{"tags":{"environment":"qa","a":"1"}}"#)
        #expect(event.environment == "qa")
        #expect(tags(event) == ["a=1"])
        // The field wins over the tag; the tag is still removed.
        let both = try normalize(#"{"environment":"prod","tags":[["environment","qa"]]}"#)
        #expect(both.environment == "prod")
        #expect(both.tags.isEmpty)
    }

    @Test func reservedTagsAreRemoved() throws {
        let event = try normalize(#"{"tags":{"release":"1","dist":"2","user":"3","filename":"4","function":"5","kept":"6"}}"#)
        #expect(tags(event) == ["kept=6"])
        #expect(event.errors.isEmpty)
    }

    @Test func tagsAsPairsAreDeduplicated() throws {
        let event = try normalize(#"{"tags":[["a","1"],["b","2"],["a","3"],[" c ","4"]]}"#)
        #expect(tags(event) == ["a=1", "b=2", "c=4"])
    }

    @Test func overlongAndEmptyTagsAreDroppedWithErrors() throws {
        let key200 = String(repeating: "k", count: 200)
        let key201 = String(repeating: "k", count: 201)
        let value200 = String(repeating: "v", count: 200)
        let value201 = String(repeating: "v", count: 201)
        let event = try normalize(
            """
            {"tags":{"\(key200)":"ok","\(key201)":"x","long":"\(value201)","max":"\(value200)","empty":"","":"nokey","nl":"a\\nb"}}
            """)
        #expect(tags(event) == ["\(key200)=ok", "max=\(value200)"])
        #expect(
            errors(event) == [
                "invalid_data:tags", "invalid_data:tags.long", "invalid_data:tags.empty", "invalid_data:tags", "invalid_data:tags.nl",
            ])
    }

    @Test func serverNameAndSiteBecomeTags() throws {
        let event = try normalize(#"{"server_name":"web-1","site":"eu","tags":{"a":"1"}}"#)
        #expect(tags(event) == ["a=1", "server_name=web-1", "site=eu"])
        // An explicit tag of the same name wins.
        let explicit = try normalize(#"{"server_name":"web-1","tags":{"server_name":"tagged"}}"#)
        #expect(tags(explicit) == ["server_name=tagged"])
    }

    @Test func facetTags() throws {
        let event = try normalize(
            #"{"level":"warn","release":"1.0","logger":"lg","transaction":"/t","user":{"email":"a@b.c"},"tags":{"x":"y"}}"#)
        let facets = EventNormalizer.facetTags(event).map { "\($0.key)=\($0.value)" }
        #expect(
            facets == [
                "x=y", "level=warning", "environment=production", "release=1.0", "logger=lg", "transaction=/t", "user=email:a@b.c",
                "user.email=a@b.c",
            ])
        #expect(event.level == .warning)
        #expect(event.release == "1.0")
    }
}
