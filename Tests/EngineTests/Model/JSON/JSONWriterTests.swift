import PitIngest
import PitModel
import Testing

@Suite struct JSONWriterTests {
    @Test func writesNestedDocuments() {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("s", "x")
        writer.field("i", 3)
        writer.field("l", Int64(-4))
        writer.field("b", true)
        writer.key("d")
        writer.value(1.5)
        writer.key("nan")
        writer.value(Double.nan)
        writer.key("n")
        writer.null()
        writer.field("none", nil)
        writer.key("a")
        writer.beginArray()
        writer.value(1)
        writer.value("two")
        writer.raw("{\"r\":true}")
        writer.beginObject()
        writer.endObject()
        writer.endArray()
        writer.endObject()
        #expect(writer.string == #"{"s":"x","i":3,"l":-4,"b":true,"d":1.5,"nan":null,"n":null,"none":null,"a":[1,"two",{"r":true},{}]}"#)
    }

    @Test func quotesAndEscapes() {
        #expect(JSONWriter.quoted("a\"b\\c\nd\re\tf\u{1}g\u{1F}é😀") == #""a\"b\\c\nd\re\tf\u0001g\u001fé😀""#)
        // What the writer produces, the tape reads back unchanged.
        let text = "q\"\\\n\u{0}\u{7F}\u{1F600}"
        let decoded = try? withJSON(JSONWriter.quoted(text)) { $0.string(0) }
        #expect(decoded == text)
    }

    /// Regression test: a container that follows a key used to leave the key "pending", so the
    /// first scalar after an empty nested container lost its comma (`[[]"x"]`).
    @Test func emptyNestedContainerAfterAKeyKeepsCommas() throws {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("a")
        writer.beginArray()
        writer.beginArray()
        writer.endArray()
        writer.value("x")
        writer.beginObject()
        writer.endObject()
        writer.value(2)
        writer.endArray()
        writer.key("b")
        writer.beginObject()
        writer.endObject()
        writer.endObject()
        #expect(writer.string == #"{"a":[[],"x",{},2],"b":{}}"#)
        #expect(jsonError(writer.bytes) == nil)
    }

    @Test func topLevelSequenceOfValues() {
        var writer = JSONWriter()
        writer.beginArray()
        writer.beginObject()
        writer.field("k", 1)
        writer.endObject()
        writer.beginObject()
        writer.endObject()
        writer.value(false)
        writer.endArray()
        #expect(writer.string == #"[{"k":1},{},false]"#)
    }
}
