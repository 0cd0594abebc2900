import PitModel
import Testing

@Suite struct HTMLEscapingTests {
    @Test func escapesMarkupAndQuotes() {
        #expect(
            HTMLEscaping.escaped(#"<a href="x">Tom & 'Jerry'</a>"#) == "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;")
        #expect(HTMLEscaping.escaped("plain ünïcode") == "plain ünïcode")
        var out = "<b>"
        HTMLEscaping.escape("1 < 2"[...], into: &out)
        #expect(out == "<b>1 &lt; 2")
    }
}
