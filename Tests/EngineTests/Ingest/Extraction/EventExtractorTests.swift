import PitIngest
import PitModel
import PitStorage
import Testing

@Suite struct EventExtractorTests {
    @Test(arguments: [
        (#"1700000000.25"#, 1_700_000_000.25), (#"1700000000"#, 1_700_000_000), (#""2023-11-14T22:13:20Z""#, 1_700_000_000),
        (#""2023-11-14T22:13:20.5Z""#, 1_700_000_000.5), (#""2023-11-14T22:13:20""#, 1_700_000_000),
        (#""2023-11-14T23:13:20+01:00""#, 1_700_000_000), (#""2023-11-14T20:43:20-01:30""#, 1_700_000_000),
        (#""1700000000.5""#, 1_700_000_000.5), (#""1700000000""#, 1_700_000_000),
    ])
    func timestampForms(json: String, expected: Double) throws {
        let event = try extract(#"{"timestamp":\#(json)}"#)
        #expect(event.timestamp == expected)
    }

    @Test(arguments: ["1e400", "-1e400", #""1e400""#, #""yesterday""#, "null", "true", "{}", "[1]", #""""#])
    func invalidTimestampsAreNil(json: String) throws {
        #expect(try extract(#"{"timestamp":\#(json)}"#).timestamp == nil)
    }

    @Test(arguments: [
        (#""warn""#, Level.warning), (#""warning""#, .warning), (#""WARNING""#, .warning), (#""critical""#, .fatal),
        (#""fatal""#, .fatal), (#""log""#, .info), (#""info""#, .info), (#""debug""#, .debug), (#""trace""#, .debug),
        (#""err""#, .error), (#""nonsense""#, .error), ("40", .error), ("50", .fatal), ("30", .warning), ("20", .info),
        ("10", .debug), ("0", .debug), ("null", .error),
    ])
    func levelAliases(json: String, expected: Level) throws {
        #expect(try extract(#"{"level":\#(json)}"#).level == expected)
    }

    @Test func defaults() throws {
        let event = try extract("{}")
        #expect(event.level == .error)
        #expect(event.platform == "other")
        #expect(event.eventID == nil && event.timestamp == nil && event.message == nil && event.user == nil)
        #expect(event.exceptions.isEmpty && event.threadFrames == nil && event.fingerprint == nil && event.tags.isEmpty)
    }

    @Test(arguments: ["[]", "\"event\"", "1", "null"])
    func nonObjectPayloadIsABadRequest(json: String) {
        let error = #expect(throws: IngestError.self) { try extract(json) }
        #expect(error?.status == 400)
    }

    @Test func scalarFields() throws {
        let event = try extract(
            """
            {"event_id":"9EC79C33-EC99-42AB-8353-589FCB2E04DC","platform":"python","logger":"app.log","transaction":"/api/x",
             "server_name":"web-1","site":"eu","release":"  1.2.3 ","dist":"  ","environment":"prod","culprit":"c",
             "type":"error","contexts":{"trace":{"trace_id":"abc"}},"sdk":{"name":"sentry.python","version":"2.0"},
             "user":{"id":42,"email":"a@b.c","username":"ann","ip_address":"{{auto}}"}}
            """)
        #expect(event.eventID?.hex == "9ec79c33ec9942ab8353589fcb2e04dc")
        #expect(event.platform == "python")
        #expect(event.logger == "app.log")
        #expect(event.transaction == "/api/x")
        #expect(event.serverName == "web-1")
        #expect(event.site == "eu")
        #expect(event.release == "1.2.3")
        #expect(event.dist == nil)
        #expect(event.environment == "prod")
        #expect(event.culprit == "c")
        #expect(event.type == "error")
        #expect(event.traceID == "abc")
        #expect(event.sdkName == "sentry.python" && event.sdkVersion == "2.0")
        #expect(event.user?.id == "42")
        #expect(event.user?.email == "a@b.c")
        #expect(event.user?.identity == "id:42")
    }

    @Test func numericReleaseAndEmptyStrings() throws {
        let event = try extract(#"{"release":2,"logger":"","environment":"","transaction":""}"#)
        #expect(event.release == "2")
        #expect(event.logger == nil && event.environment == nil && event.transaction == nil)
    }

    @Test func userIdentityPrecedence() {
        var user = UserInfo()
        #expect(user.identity == nil)
        user.ipAddress = "{{auto}}"
        #expect(user.identity == nil)
        user.ipAddress = "10.0.0.1"
        #expect(user.identity == "ip:10.0.0.1")
        user.username = "ann"
        #expect(user.identity == "username:ann")
        user.email = "a@b.c"
        #expect(user.identity == "email:a@b.c")
        user.id = "7"
        #expect(user.identity == "id:7")
    }

    @Test func tagsAsObject() throws {
        let event = try extract(#"{"tags":{"a":"1","n":5,"b":true,"o":{"x":1},"z":null}}"#)
        #expect(event.tags.map { "\($0.key)=\($0.value)" } == ["a=1", "n=5", "b=true"])
    }

    @Test func tagsAsPairs() throws {
        let event = try extract(#"{"tags":[["a","1"],["b",2],["bad"],["c","3","4"],"x",["d","4"]]}"#)
        #expect(event.tags.map { "\($0.key)=\($0.value)" } == ["a=1", "b=2", "d=4"])
    }

    @Test func logentryWithParams() throws {
        let event = try extract(#"{"logentry":{"message":"User %s failed %d times","params":["bob",3]}}"#)
        let message = try #require(event.message)
        #expect(message.template == "User %s failed %d times")
        #expect(message.formatted == nil)
        #expect(message.params == ["bob", "3"])
        #expect(message.display == "User bob failed 3 times")
    }

    @Test func logentryFormattedWins() throws {
        let event = try extract(#"{"logentry":{"message":"User %s","formatted":"User bob","params":["x"]}}"#)
        #expect(event.message?.display == "User bob")
        #expect(event.message?.template == "User %s")
    }

    @Test func legacyMessageString() throws {
        let event = try extract(#"{"message":"hello world"}"#)
        #expect(event.message?.template == "hello world")
        #expect(event.message?.formatted == nil)
        #expect(event.message?.params == [])
        #expect(event.message?.display == "hello world")
    }

    @Test func legacyMessageObject() throws {
        let event = try extract(#"{"message":{"message":"tpl %s","params":["p"]}}"#)
        #expect(event.message?.template == "tpl %s")
        #expect(event.message?.display == "tpl p")
        let interface = try extract(#"{"sentry.interfaces.Message":{"formatted":"f"}}"#)
        #expect(interface.message?.display == "f")
        #expect(interface.message?.template == nil)
    }

    @Test func logentryTakesPrecedenceOverMessage() throws {
        // Key order does not matter: logentry is the primary source.
        let event = try extract(#"{"message":"legacy","logentry":{"message":"modern"}}"#)
        #expect(event.message?.template == "modern")
        let formatted = try extract(#"{"logentry":{"formatted":"shown"},"message":"legacy"}"#)
        #expect(formatted.message?.template == nil)
        #expect(formatted.message?.display == "shown")
    }

    @Test func messagesAreTruncatedTo8192Characters() throws {
        let long = String(repeating: "a", count: 9000)
        let event = try extract(#"{"logentry":{"message":"\#(long)","formatted":"\#(long)"}}"#)
        #expect(event.message?.template?.count == 8192)
        #expect(event.message?.formatted?.count == 8192)
    }

    @Test(arguments: [
        (#"{"message":"%s and %s","params":["a"]}"#, "a and %s"),
        (#"{"message":"100%% %s","params":["x"]}"#, "100% x"),
        (#"{"message":"no params %s"}"#, "no params %s"),
        (#"{"message":"trailing %","params":["x"]}"#, "trailing %"),
        (#"{"message":"%d items, %q kept","params":[3,"y"]}"#, "3 items, %q kept"),
    ])
    func messageFormatting(logentry: String, display: String) throws {
        #expect(try extract(#"{"logentry":\#(logentry)}"#).message?.display == display)
    }

    static let exceptionValue = """
        {"type":"ValueError","value":"bad","module":"builtins",
         "mechanism":{"type":"generic","handled":false,"synthetic":true,"exception_id":3,"parent_id":1,"is_exception_group":true},
         "stacktrace":{"frames":[{"function":"main","module":"app","filename":"app.py","abs_path":"/src/app.py","lineno":3,"colno":5,
           "context_line":"  x()","in_app":true,"platform":"python","raw_function":"raw","package":"pkg"},
           {"function":"helper","in_app":false},"not a frame"]}}
        """

    @Test func exceptionValuesForm() throws {
        let event = try extract(#"{"exception":{"values":[\#(Self.exceptionValue),{"type":"KeyError"}]}}"#)
        #expect(event.exceptions.map(\.type) == ["ValueError", "KeyError"])
        let first = event.exceptions[0]
        #expect(first.value == "bad" && first.module == "builtins")
        #expect(first.mechanismType == "generic" && first.handled == false && first.synthetic)
        #expect(first.exceptionID == 3 && first.parentID == 1 && first.isExceptionGroup)
        #expect(first.frames.count == 2)
        var frame = FrameInfo()
        frame.function = "main"
        frame.module = "app"
        frame.filename = "app.py"
        frame.absPath = "/src/app.py"
        frame.lineno = 3
        frame.colno = 5
        frame.contextLine = "  x()"
        frame.inApp = true
        frame.platform = "python"
        frame.rawFunction = "raw"
        frame.package = "pkg"
        #expect(first.frames[0] == frame)
        #expect(first.frames[1].function == "helper" && first.frames[1].inApp == false)
    }

    @Test func exceptionBareListAndSingleObject() throws {
        let list = try extract(#"{"exception":[{"type":"A"},{"type":"B","value":"v"}]}"#)
        #expect(list.exceptions.map(\.type) == ["A", "B"])
        let single = try extract(#"{"exception":{"type":"C","value":1}}"#)
        #expect(single.exceptions.map(\.type) == ["C"])
        #expect(single.exceptions[0].value == "1")
        let legacy = try extract(#"{"sentry.interfaces.Exception":{"values":[{"type":"D"}]}}"#)
        #expect(legacy.exceptions.map(\.type) == ["D"])
    }

    @Test func emptyExceptionsAreDropped() throws {
        let event = try extract(#"{"exception":{"values":[{},{"mechanism":{"type":"x"}},5,{"value":"only value"}]}}"#)
        #expect(event.exceptions.count == 1)
        #expect(event.exceptions[0].value == "only value")
        #expect(try extract(#"{"exception":"x"}"#).exceptions.isEmpty)
    }

    @Test func crashedThreadIsChosen() throws {
        let event = try extract(
            """
            {"threads":{"values":[
              {"id":1,"current":true,"stacktrace":{"frames":[{"function":"current"}]}},
              {"id":2,"crashed":true,"stacktrace":{"frames":[{"function":"crashed"}]}},
              {"id":3,"stacktrace":{"frames":[{"function":"other"}]}}]}}
            """)
        #expect(event.threadFrames?.map(\.function) == ["crashed"])
    }

    @Test func currentThreadWhenNoneCrashed() throws {
        let event = try extract(
            """
            {"threads":[{"id":1,"stacktrace":{"frames":[{"function":"a"}]}},{"id":2,"current":true,"stacktrace":{"frames":[{"function":"b"}]}}]}
            """)
        #expect(event.threadFrames?.map(\.function) == ["b"])
    }

    @Test func singleThreadAndAmbiguousThreads() throws {
        let single = try extract(#"{"threads":{"values":[{"stacktrace":{"frames":[{"function":"only"}]}}]}}"#)
        #expect(single.threadFrames?.map(\.function) == ["only"])
        let ambiguous = try extract(
            #"{"threads":{"values":[{"stacktrace":{"frames":[{"function":"a"}]}},{"stacktrace":{"frames":[{"function":"b"}]}}]}}"#)
        #expect(ambiguous.threadFrames == nil)
    }

    @Test func topLevelStacktrace() throws {
        let event = try extract(#"{"stacktrace":{"frames":[{"function":"f","lineno":"x"}]}}"#)
        #expect(event.threadFrames?.map(\.function) == ["f"])
        #expect(event.threadFrames?.first?.lineno == nil)
    }

    @Test func fingerprint() throws {
        let event = try extract(#"{"fingerprint":["{{ default }}","x",5,true,null,{}]}"#)
        #expect(event.fingerprint == ["{{ default }}", "x", "5", "true"])
        #expect(try extract(#"{"fingerprint":"x"}"#).fingerprint == nil)
        #expect(try extract(#"{"fingerprint":[]}"#).fingerprint == [])
    }
}
