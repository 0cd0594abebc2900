import NIOCore
import PitIngest
import PitModel
import PitPayloads
import PitStorage
import Testing

/// `Grouper.group` hashes on a fast path that never builds the component tree; these tests hold
/// it to the tree's answer (`Grouper.explain`) on every shape of event the grouper knows.
struct GrouperFastPathTests {
    static let cases: [String] = [
        #"{}"#,
        #"{"message":"hello"}"#,
        #"{"logentry":{"message":"User %s failed","params":["bob"]}}"#,
        #"{"logentry":{"formatted":"Connection to 10.0.0.1 failed after 3 tries"}}"#,
        #"{"exception":{"values":[{"type":"ValueError","value":"bad 42"}]}}"#,
        #"{"exception":{"values":[{"type":"ValueError","value":"bad","mechanism":{"type":"x","synthetic":true}}]}}"#,
        #"{"platform":"python","exception":{"values":[{"type":"KeyError","value":"'id'","stacktrace":{"frames":[{"module":"lib.x","function":"f","in_app":false,"context_line":"  a  =  1"},{"module":"app.y","function":"g","in_app":true,"context_line":"return g()"}]}}]}}"#,
        #"{"platform":"python","exception":{"values":[{"type":"KeyError","stacktrace":{"frames":[{"module":"lib.x","function":"f","in_app":false}]}}]}}"#,
        #"{"platform":"python","exception":{"values":[{"type":"A","value":"one","stacktrace":{"frames":[{"filename":"/srv/App/Main.PY","function":"a","in_app":true}]}},{"type":"B","value":"two"}]}}"#,
        #"{"platform":"javascript","exception":{"values":[{"type":"TypeError","value":"x is undefined","stacktrace":{"frames":[{"abs_path":"https://cdn.example/app.js","filename":"app.js","function":"Foo.bar","in_app":true,"context_line":"x.y()"},{"filename":"vendor.js","function":"<anonymous>","in_app":false}]}}]}}"#,
        #"{"platform":"python","exception":{"values":[{"type":"RecursionError","stacktrace":{"frames":[{"module":"m","function":"r","lineno":1,"in_app":true},{"module":"m","function":"r","lineno":1,"in_app":true},{"module":"m","function":"r","lineno":1,"in_app":true}]}}]}}"#,
        #"{"platform":"python","exception":{"values":[{"type":"E","stacktrace":{"frames":[{"module":"m","function":"f","in_app":true,"context_line":"\#(String(repeating: "x", count: 130))"}]}}]}}"#,
        #"{"platform":"cocoa","threads":{"values":[{"crashed":true,"stacktrace":{"frames":[{"function":"main","package":"App","in_app":true},{"function":"objc_msgSend","package":"libobjc"}]}}]},"message":"crash"}"#,
        #"{"threads":{"values":[{"crashed":true,"stacktrace":{"frames":[{"lineno":3}]}}]},"message":"no usable frames"}"#,
        #"{"platform":"java","exception":{"values":[{"type":"NPE","stacktrace":{"frames":[{"module":"com.x.Foo$$Lambda$123/0x0000","function":"lambda$run$0","in_app":true}]}}]}}"#,
        #"{"exception":{"values":[{"type":"ExceptionGroup","value":"2 errors","mechanism":{"type":"chained","is_exception_group":true,"exception_id":0}},{"type":"ValueError","value":"a","mechanism":{"type":"chained","exception_id":1,"parent_id":0}},{"type":"TypeError","value":"b","mechanism":{"type":"chained","exception_id":2,"parent_id":0}}]}}"#,
        #"{"fingerprint":["{{ default }}"],"exception":{"values":[{"type":"ValueError","value":"x"}]}}"#,
    ]

    @Test(arguments: cases)
    func fastPathMatchesTheTree(json: String) throws {
        let event = try extract(json)
        #expect(Grouper.group(event).hashes == Grouper.explain(event).hashes)
        // Frame strings shared with the payload buffer and frame strings as `String`s (the
        // extraction of stored payloads) group alike.
        let owned = try withJSON(json) { try EventExtractor.extract($0) }
        #expect(Grouper.group(owned).hashes == Grouper.group(event).hashes)
    }

    @Test func fastPathMatchesTheTreeOnSyntheticTraffic() throws {
        let generator = SyntheticEvents(fingerprints: 300)
        for index in 0..<300 {
            let payload = generator.eventPayload(index: index, eventID: .random(), timestamp: receiveTime)
            let event = try EventExtractor.extract(payload: ByteBuffer(bytes: payload))
            #expect(Grouper.group(event).hashes == Grouper.explain(event).hashes)
            let owned = try withJSON(String(decoding: payload, as: UTF8.self)) { try EventExtractor.extract($0) }
            #expect(Grouper.group(owned).hashes == Grouper.group(event).hashes)
        }
    }

    @Test func customFingerprintsTakeTheTreePath() throws {
        let event = try extract(#"{"fingerprint":["a","{{ type }}"],"exception":{"values":[{"type":"ValueError"}]}}"#)
        #expect(Grouper.fastHashes(event, exceptions: event.exceptions) == nil)
        #expect(Grouper.group(event).hashes == [Grouper.md5(["a", "ValueError"])])
    }
}

/// The byte-level frame rules of the fast path against the `String` rules they replace.
struct GrouperFrameBytesTests {
    static let filenames = [
        "", "/", "///", "a/b/", "C:\\Src\\App.PY", "mixed/dir\\File.Js", "/srv/ÄPP/Ünïcode.py", "plain.py", "trailing\\\\",
    ]

    @Test(arguments: filenames)
    func fileNamesGroupAsTheStringRulesDo(filename: String) throws {
        let json =
            #"{"platform":"python","exception":{"values":[{"type":"E","stacktrace":{"frames":[{"filename":\#(JSONWriter.quoted(filename)),"function":"f","in_app":true}]}}]}}"#
        let event = try extract(json)
        #expect(Grouper.group(event).hashes == Grouper.explain(event).hashes)
    }

    @Test func escapedFrameStringsAreDecoded() throws {
        let event = try extract(
            #"{"exception":{"values":[{"type":"E","stacktrace":{"frames":[{"module":"a\u002eb","function":"f\"g","in_app":true}]}}]}}"#)
        let frame = try #require(event.exceptions.first?.frames.first)
        #expect(frame.module == "a.b" && frame.function?.string == "f\"g")
        #expect(Grouper.group(event).hashes == Grouper.explain(event).hashes)
    }
}
