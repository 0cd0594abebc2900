import PitIngest
import PitModel
import Testing

private func normalize(_ json: String) throws -> NormalizedEvent {
    EventNormalizer.normalize(try extract(json), headerEventID: nil, sentAt: nil, received: receiveTime)
}

private func errors(_ event: NormalizedEvent) -> [String] { event.errors.map { "\($0.type):\($0.name)" } }

/// A JSON string literal of `count` copies of `unit`.
private func repeated(_ unit: String, _ count: Int) -> String { String(repeating: unit, count: count) }

/// The PostgreSQL poison strings of issue 10: NULs (22021) and values past a btree key (54000).
@Suite struct FieldLimitsTests {
    @Test func nulIsRemovedFromStoredFields() throws {
        let event = try normalize(
            #"""
            {"release":"1.0\u0000","environment":"prod\u0000","transaction":"/a\u0000b","logger":"x\u0000",
             "user":{"id":"4\u00002","email":"a\u0000@b.c"}}
            """#)
        #expect(event.release == "1.0")
        #expect(event.environment == "prod")
        #expect(event.extracted.transaction == "/ab")
        #expect(event.extracted.user?.identity == "id:42")
        for tag in EventNormalizer.facetTags(event) {
            #expect(!tag.key.utf8.contains(0) && !tag.value.utf8.contains(0), "\(tag)")
        }
        #expect(errors(event).contains("invalid_data:release"))
        #expect(errors(event).contains("invalid_data:environment"))
        #expect(errors(event).contains("invalid_data:user.email"))
    }

    @Test func nulOnlyReleaseIsDropped() throws {
        let event = try normalize(#"{"release":"\u0000"}"#)
        #expect(event.release == nil)
        #expect(errors(event) == ["invalid_data:release"])
    }

    @Test func nulNeverReachesTitleOrCulprit() throws {
        let json = #"""
            {"exception":{"values":[{"type":"Boom\u0000","value":"bad\u0000value",
              "stacktrace":{"frames":[{"function":"f\u0000n","module":"m\u0000","in_app":true}]}}]}}
            """#
        let extracted = try extract(json)
        let grouping = Grouper.group(extracted)
        #expect(!grouping.title.utf8.contains(0) && !grouping.culprit.utf8.contains(0), "\(grouping.title) \(grouping.culprit)")
    }

    @Test(arguments: [
        ("release", FieldLimits.release), ("environment", FieldLimits.environment), ("transaction", FieldLimits.transaction),
        ("logger", FieldLimits.logger), ("dist", FieldLimits.dist), ("server_name", FieldLimits.serverName),
    ])
    func overlongFieldsAreTrimmedInBytes(field: String, limit: Int) throws {
        let event = try normalize(#"{"\#(field)":"\#(repeated("v", 5000))"}"#)
        let values: [String: String?] = [
            "release": event.release, "environment": event.environment, "transaction": event.extracted.transaction,
            "logger": event.extracted.logger, "dist": event.extracted.dist, "server_name": event.extracted.serverName,
        ]
        #expect(values[field]??.utf8.count == limit)
        #expect(errors(event).contains("value_too_long:\(field)"))
    }

    @Test func trimmingStopsAtAScalarBoundary() throws {
        // 150 × "é" (2 bytes) and 60 × "𝄞" (4 bytes): a cut at 200 or 64 bytes must not split one.
        let event = try normalize(#"{"release":"\#(repeated("é", 150))","environment":"\#(repeated("𝄞", 60))"}"#)
        #expect(event.release == repeated("é", 100))
        #expect(event.environment == repeated("𝄞", 16))
        #expect(FieldLimits.prefix("a𝄞", maxBytes: 3) == "a")
        #expect(FieldLimits.prefix("abc", maxBytes: 3) == "abc")
    }

    @Test func userFieldsAreBounded() throws {
        let event = try normalize(
            #"""
            {"user":{"id":"\#(repeated("1", 3000))","email":"\#(repeated("e", 3000))","username":"\#(repeated("u", 3000))",
             "ip_address":"\#(repeated("9", 3000))"}}
            """#)
        let user = try #require(event.extracted.user)
        #expect(user.id?.utf8.count == FieldLimits.userID)
        #expect(user.email?.utf8.count == FieldLimits.userEmail)
        #expect(user.username?.utf8.count == FieldLimits.username)
        #expect(user.ipAddress?.utf8.count == FieldLimits.ipAddress)
        #expect(
            Set(errors(event)).isSuperset(of: [
                "value_too_long:user.id", "value_too_long:user.email",
                "value_too_long:user.username", "value_too_long:user.ip_address",
            ]))
    }

    @Test func environmentFromATagIsBounded() throws {
        let event = try normalize(#"{"tags":{"environment":"\#(repeated("p", 150))"}}"#)
        #expect(event.environment.utf8.count == FieldLimits.environment)
        #expect(errors(event) == ["value_too_long:environment"])
    }

    /// One letter and 300 combining marks is one `Character` but 601 bytes: the 200-character tag
    /// limit must not let it through.
    @Test func tagLimitCountsScalarsNotGraphemes() throws {
        let marks = repeated("\u{301}", 300)
        let event = try normalize(#"{"tags":{"ok":"fine","big":"a\#(marks)","k\#(marks)":"v"}}"#)
        #expect(event.tags.map(\.key) == ["ok"])
        #expect(errors(event).contains("invalid_data:tags.big"))
        #expect(errors(event).contains("invalid_data:tags"))
        // 200 scalars of 4 bytes are still a valid tag, as in Relay.
        let wide = try normalize(#"{"tags":{"w":"\#(repeated("𝄞", 200))"}}"#)
        #expect(wide.tags.map(\.key) == ["w"])
    }

    @Test func tagWithNULIsRefused() throws {
        let event = try normalize(#"{"tags":{"t":"a\u0000b"}}"#)
        #expect(event.tags.isEmpty)
        #expect(errors(event) == ["invalid_data:tags.t"])
    }

    @Test func facetTagsStayWithinTagLimits() throws {
        let marks = repeated("\u{301}", 5000)
        let event = try normalize(
            #"""
            {"transaction":"t\#(marks)","logger":"\#(repeated("l", 500))","user":{"email":"\#(repeated("e", 500))"}}
            """#)
        for tag in EventNormalizer.facetTags(event) {
            #expect(tag.value.unicodeScalars.count <= FieldLimits.tagValueScalars, "\(tag.key)")
        }
    }

    @Test func titleAndCulpritCountScalars() throws {
        let marks = repeated("\u{301}", 5000)
        let extracted = try extract(#"{"message":"m\#(marks)","culprit":"c\#(marks)"}"#)
        let grouping = Grouper.group(extracted)
        #expect(grouping.title.unicodeScalars.count <= 100)
        #expect(grouping.culprit.utf8.count <= FieldLimits.culprit)
    }

    /// The byte scan of a title's first line gives what splitting on the `Character` "\n" gives,
    /// where "\r\n" is one `Character` and a line feed followed by a combining mark is two.
    @Test(arguments: [
        "", "one line", "\n\n\nafter blanks", "first\nsecond", "crlf\r\nstays one line", "cr\rthen\nlf",
        "\r\nleading crlf", "\n\u{301}mark after a line feed", "é\u{301}\nnext", "🇫🇷 flag\n2", "\n", "\r", "a\r\r\nb\nc",
        "only\n", "\n\r\n\nx",
    ])
    func titleLineMatchesCharacterSplit(message: String) {
        var characters = message[...]
        while characters.first == "\n" { characters = characters.dropFirst() }
        let expected = characters.firstIndex(of: "\n").map { characters[..<$0] } ?? characters
        #expect(Grouper.firstLine(message) == expected)
    }

    @Test func truncationKeepsShortTextsAndCutsLongOnes() {
        #expect(Grouper.truncate("abc", 3) == "abc")
        #expect(Grouper.truncate("abcd", 3) == "ab…")
        // Three scalars in six bytes fit a limit of three scalars.
        #expect(Grouper.truncate("ééé", 3) == "ééé")
        #expect(Grouper.truncate("éééé"[...], 3) == "éé…")
        #expect(FieldLimits.isValidTag("ééé", maxScalars: 3))
        #expect(!FieldLimits.isValidTag("éééé", maxScalars: 3))
    }

    @Test(arguments: [String(repeating: "x", count: 65), "a\u{0}b", "a b", "tab\there", "ünïcode", ""])
    func unstorableItemTypeNamesAreReplaced(name: String) {
        #expect(ItemType(name) == .other("invalid"))
    }

    @Test func ordinaryUnknownItemTypeNamesAreKept() {
        #expect(ItemType("brand_new") == .other("brand_new"))
        #expect(ItemType(String(repeating: "x", count: 64)).description.utf8.count == 64)
    }
}
