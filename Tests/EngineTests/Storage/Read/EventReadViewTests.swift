import PitStorage
import Testing

@Suite struct EventReadViewTests {
    @Test func roundTrips() {
        let views = [
            EventReadView(
                kind: "error", title: "ValueError: bad input", culprit: "app.views in index", message: "ünïcode ✓",
                tags: [("browser", "Firefox"), ("server_name", "web-1")]),
            EventReadView(kind: "default", title: "", culprit: "", message: nil, tags: []),
            EventReadView(kind: "error", title: String(repeating: "x", count: 300), culprit: "c", message: "", tags: [("k", "")]),
        ]
        for view in views {
            #expect(EventReadView(decoding: view.encoded()) == view)
        }
    }

    @Test func smallForATypicalEvent() {
        let view = EventReadView(
            kind: "error", title: "KeyError: 'order_id'", culprit: "app.services.billing in process_payment",
            message: nil, tags: [("browser", "Chrome 120"), ("os", "Linux"), ("customer_tier", "enterprise"), ("server_name", "web-3")])
        // A version byte, one length byte per string, the flag and the count.
        let strings =
            view.kind.utf8.count + view.title.utf8.count + view.culprit.utf8.count
            + view.tags.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }
        #expect(view.encoded().count == strings + 1 + 3 + 1 + 1 + 2 * view.tags.count)
    }

    @Test func rejectsWhatItCannotRead() {
        let bytes = EventReadView(kind: "error", title: "t", culprit: "c", message: "m", tags: [("a", "b")]).encoded()
        #expect(EventReadView(decoding: []) == nil)
        #expect(EventReadView(decoding: [2] + bytes.dropFirst()) == nil, "unknown version")
        for length in 1..<bytes.count {
            #expect(EventReadView(decoding: bytes.prefix(length)) == nil, "cut at \(length)")
        }
        #expect(EventReadView(decoding: bytes + [0]) == nil, "trailing bytes")
        // A length far past the end, and one that overflows when decoded.
        #expect(EventReadView(decoding: [1, 0xFF, 0xFF, 0x03]) == nil)
        #expect(EventReadView(decoding: [1] + [UInt8](repeating: 0xFF, count: 9) + [0x7F]) == nil)
    }
}
