import PitModel
import Testing

@Suite struct EventIDTests {
    static let hex = "9ec79c33ec9942ab8353589fcb2e04dc"

    @Test(arguments: [
        "9ec79c33ec9942ab8353589fcb2e04dc", "9EC79C33EC9942AB8353589FCB2E04DC", "9ec79c33-ec99-42ab-8353-589fcb2e04dc",
        "9EC79C33-ec99-42AB-8353-589fcb2e04dc",
    ])
    func parsesHexAndDashedForms(text: String) throws {
        let id = try #require(EventID(text))
        #expect(id.hex == Self.hex)
        #expect(id.description == Self.hex)
        #expect(id.high == 0x9ec7_9c33_ec99_42ab && id.low == 0x8353_589f_cb2e_04dc)
    }

    @Test(arguments: [
        "", "9ec79c33ec9942ab8353589fcb2e04d", "9ec79c33ec9942ab8353589fcb2e04dc0", "9ec79c33ec9942ab8353589fcb2e04dg",
        "9ec79c33-ec9942ab8353589fcb2e04dc", "9ec79c3-3ec99-42ab-8353-589fcb2e04dc", "9ec79c33-ec99-42ab-8353589f-cb2e04dc",
        "{9ec79c33-ec99-42ab-8353-589fcb2e04dc}", " 9ec79c33ec9942ab8353589fcb2e04dc", "9ec79c33--ec9942ab8353589fcb2e04dc",
        "9ec79c33----ec9942ab8353589fcb2e04dc", "9ec79c33-ec99--42ab8353-589fcb2e04dc", "-9ec79c33ec9942ab8353589fcb2e04dc",
    ])
    func rejectsMalformed(text: String) {
        #expect(EventID(text) == nil)
    }

    @Test func bytesRoundTrip() throws {
        let id = try #require(EventID(Self.hex))
        #expect(id.bytes == [0x9e, 0xc7, 0x9c, 0x33, 0xec, 0x99, 0x42, 0xab, 0x83, 0x53, 0x58, 0x9f, 0xcb, 0x2e, 0x04, 0xdc])
        #expect(EventID(bytes: id.bytes) == id)
        #expect(EventID(bytes: [1, 2, 3]) == nil)
        #expect(EventID(hex: Array(Self.hex.utf8)) == id)
    }

    @Test func randomIsAVersion4UUID() {
        var seen: Set<EventID> = []
        for _ in 0..<100 {
            let id = EventID.random()
            let hex = Array(id.hex)
            #expect(hex[12] == "4")
            #expect("89ab".contains(hex[16]))
            #expect(EventID(id.hex) == id)
            seen.insert(id)
        }
        #expect(seen.count == 100)
    }
}
