import PitIngest
import PitModel
import Testing

/// A named byte sequence, so parameterised failures say which input broke.
struct JSONInput: Sendable, CustomTestStringConvertible {
    let name: String
    let bytes: [UInt8]

    init(_ name: String, _ bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
    }

    init(_ text: String) {
        self.name = text
        self.bytes = Array(text.utf8)
    }

    var testDescription: String { name }
}

@Suite struct JSONTapeValidTests {
    @Test(arguments: [
        ("{}", JSONTape.Kind.object), ("[]", .array), ("\"\"", .string), ("\"abc\"", .string), ("0", .number),
        ("-0", .number), ("12", .number), ("-1.5e+10", .number), ("3.25E-2", .number), ("1e400", .number),
        ("true", .true), ("false", .false), ("null", .null), (" \t\r\n{ } \n", .object), ("[ ]", .array),
        ("{\"a\":{\"b\":[1,{\"c\":null}]}}", .object), ("[\"é😀\"]", .array),
    ])
    func parsesEveryKindOfDocument(text: String, kind: JSONTape.Kind) throws {
        let tape = try JSONTape.parse(Array(text.utf8))
        #expect(tape[tape.root].kind == kind)
        #expect(Int(tape[tape.root].next) == tape.entries.count)
    }

    @Test func tapeLayoutOfANestedDocument() throws {
        let text = #"{"a":[1,2],"b":null,"c":"x"}"#
        let tape = try JSONTape.parse(Array(text.utf8))
        #expect(tape.entries.map(\.kind) == [.object, .string, .array, .number, .number, .string, .null, .string, .string])
        #expect(tape.entries.map(\.next) == [9, 2, 5, 4, 5, 6, 7, 8, 9])
        // Strings exclude their quotes; containers span their brackets.
        #expect((tape[1].start, tape[1].end) == (2, 3))
        #expect((tape[2].start, tape[2].end) == (5, 10))
        #expect((tape[0].start, tape[0].end) == (0, UInt32(text.utf8.count)))
        try withJSON(text) { json in
            #expect(json.count(0) == 3)
            #expect(json.elements(json.member(0, "a")!).map { json.int($0) } == [1, 2])
            #expect(json.isNull(json.member(0, "b")))
            #expect(json.isNull(json.member(0, "missing")))
            #expect(json.string(json.member(0, "c")) == "x")
            #expect(json.member(0, "x") == nil)
            #expect(String(decoding: json.source(7), as: UTF8.self) == "\"c\"")
            #expect(String(decoding: json.raw(2), as: UTF8.self) == "[1,2]")
        }
    }

    @Test func viewAccessors() throws {
        try withJSON(#"{"s":"t","n":42,"f":1.5,"b":true,"z":false,"o":{"p":{"q":7}},"big":123456789012345678901234567890}"#) { json in
            #expect(json.string(json.member(0, "n")) == nil)
            #expect(json.scalarText(json.member(0, "n")) == "42")
            #expect(json.scalarText(json.member(0, "b")) == "true")
            #expect(json.scalarText(json.member(0, "o")) == nil)
            #expect(json.int(json.member(0, "n")) == 42)
            #expect(json.int(json.member(0, "f")) == nil)
            #expect(json.int(json.member(0, "big")) == nil)
            #expect(json.int(json.member(0, "s")) == nil)
            #expect(json.double(json.member(0, "f")) == 1.5)
            #expect(json.double(json.member(0, "s")) == nil)
            #expect(json.bool(json.member(0, "b")) == true)
            #expect(json.bool(json.member(0, "z")) == false)
            #expect(json.bool(json.member(0, "n")) == nil)
            #expect(json.int(json.path(0, "o", "p", "q")) == 7)
            #expect(json.path(0, "o", "x", "q") == nil)
            // A non-object receiver has no members.
            #expect(json.member(json.member(0, "s"), "a") == nil)
        }
    }

    @Test func integerValuedFloatsConvertToInt() throws {
        try withJSON("[1.0,2e3,-7,1.5,9e18]") { json in
            #expect(json.elements(0).map { json.int($0) } == [1, 2000, -7, nil, nil])
        }
    }

    @Test(arguments: ["1e400", "-1e400", "123e99999"])
    func hugeNumbersParseAndReadAsInfinity(text: String) throws {
        let tape = try JSONTape.parse(Array(text.utf8))
        #expect(tape[0].kind == .number)
        try withJSON(text) { json in
            let value = try #require(json.double(0))
            #expect(value.isInfinite)
            #expect(value.sign == (text.hasPrefix("-") ? .minus : .plus))
            #expect(json.int(0) == nil)
        }
    }

    @Test func escapesDecode() throws {
        let text = #"["a\"b\\c\/d\be\ff\ng\rh\ti", "\u0041\u00e9\u20AC", "\ud83d\ude00", "plain", "\u0000"]"#
        try withJSON(text) { json in
            let elements = json.elements(0)
            #expect(json.string(elements[0]) == "a\"b\\c/d\u{8}e\u{C}f\ng\rh\ti")
            #expect(json.string(elements[1]) == "Aé€")
            #expect(json.string(elements[2]) == "😀")
            #expect(json.string(elements[3]) == "plain")
            #expect(json.string(elements[4]) == "\u{0}")
            #expect(json.tape[elements[0]].escaped)
            #expect(!json.tape[elements[3]].escaped)
        }
    }

    @Test func escapedKeysMatchMembers() throws {
        try withJSON(#"{"\u0061b":1,"c\n":2}"#) { json in
            #expect(json.int(json.member(0, "ab")) == 1)
            #expect(json.int(json.member(0, "c\n")) == 2)
        }
    }

    @Test func rawUTF8IsKept() throws {
        try withJSON("\"h\u{e9}llo \u{20AC} \u{1F600} \u{10FFFF}\"") { json in
            #expect(json.string(0) == "h\u{e9}llo \u{20AC} \u{1F600} \u{10FFFF}")
        }
    }

    @Test(arguments: [127, 128])
    func nestingUpToTheLimitIsAccepted(depth: Int) throws {
        #expect(JSONTape.maximumDepth == 128)
        let arrays = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(try JSONTape.parse(Array(arrays.utf8)).entries.count == depth)
        let objects = String(repeating: "{\"a\":", count: depth - 1) + "{}" + String(repeating: "}", count: depth - 1)
        #expect(try JSONTape.parse(Array(objects.utf8)).entries.count == 2 * depth - 1)
    }

    @Test func nestingPastTheLimitIsAnError() {
        let arrays = String(repeating: "[", count: 129) + String(repeating: "]", count: 129)
        #expect(jsonError(Array(arrays.utf8))?.offset == 128)
        let objects = String(repeating: "{\"a\":", count: 128) + "{}" + String(repeating: "}", count: 128)
        #expect(jsonError(Array(objects.utf8)) != nil)
    }

    @Test(arguments: [
        JSONInput("100k [", Array(repeating: UInt8(ascii: "["), count: 100_000)),
        JSONInput("100k {\"a\":", Array(String(repeating: "{\"a\":", count: 100_000).utf8)),
        JSONInput(
            "100k balanced []", Array(repeating: UInt8(ascii: "["), count: 100_000) + Array(repeating: UInt8(ascii: "]"), count: 100_000)),
        JSONInput("100k mixed", Array(String(repeating: "[{\"k\":", count: 50_000).utf8)),
    ])
    func hostileNestingFailsWithoutCrashing(input: JSONInput) {
        let error = jsonError(input.bytes)
        #expect(error != nil)
        #expect(error?.reason.contains("nesting") == true)
    }
}

@Suite struct JSONTapeInvalidTests {
    @Test(arguments: [
        // Truncated documents.
        JSONInput(""), JSONInput(" "), JSONInput("{"), JSONInput("["), JSONInput("[1,"), JSONInput("{\"a\""),
        JSONInput("{\"a\":"), JSONInput("{\"a\":1"), JSONInput("\"abc"), JSONInput("\"abc\\"), JSONInput("tru"),
        JSONInput("nul"), JSONInput("fals"), JSONInput("-"), JSONInput("1."), JSONInput("1e"), JSONInput("1e+"),
        JSONInput("\"\\u12"), JSONInput("[\"\\ud83d\\ude0\"]"),
        // Trailing garbage and structure errors.
        JSONInput("{} x"), JSONInput("[] []"), JSONInput("1 2"), JSONInput("truex"), JSONInput("nullnull"),
        JSONInput("{}}"), JSONInput("[]]"), JSONInput("[1,]"), JSONInput("{\"a\":1,}"), JSONInput("[,1]"),
        JSONInput("{,}"), JSONInput("{\"a\" 1}"), JSONInput("{\"a\":1 \"b\":2}"), JSONInput("{1:2}"),
        JSONInput("{a:1}"), JSONInput("[1 2]"), JSONInput("[1}"), JSONInput("{\"a\":1]"), JSONInput("'a'"),
        JSONInput("True"), JSONInput("undefined"),
        // Numbers outside the grammar.
        JSONInput("NaN"), JSONInput("-NaN"), JSONInput("Infinity"), JSONInput("-Infinity"), JSONInput("[NaN]"),
        JSONInput("{\"a\":Infinity}"), JSONInput("01"), JSONInput("-01"), JSONInput("00"), JSONInput("[01]"),
        JSONInput("{\"a\":007}"), JSONInput(".5"), JSONInput("+1"), JSONInput("1.e5"), JSONInput("0x10"),
        JSONInput("1e5.5"), JSONInput("- 1"),
        // Escapes and surrogates.
        JSONInput("\"\\x\""), JSONInput("\"\\U0041\""), JSONInput("\"\\u12G4\""), JSONInput("\"\\ud800\""),
        JSONInput("\"\\udc00\""), JSONInput("\"\\udfff\""), JSONInput("\"\\ud800x\""), JSONInput("\"\\ud800\\u0041\""),
        JSONInput("\"\\ud800\\ud800\""), JSONInput("\"\\ude00\\ud83d\""), JSONInput("\"\\ud800\\n\""),
        JSONInput("{\"\\ud800\":1}"),
        // Raw control characters inside strings.
        JSONInput("tab", Array("\"a\tb\"".utf8)), JSONInput("newline", Array("\"a\nb\"".utf8)),
        JSONInput("carriage return", Array("\"a\rb\"".utf8)), JSONInput("NUL in string", [0x22, 0x61, 0x00, 0x62, 0x22]),
        JSONInput("0x1F in string", [0x22, 0x1F, 0x22]), JSONInput("NUL outside", [0x5B, 0x00, 0x5D]),
        JSONInput("NUL after", [0x7B, 0x7D, 0x00]),
        // Invalid UTF-8.
        JSONInput("overlong C0 80", [0x22, 0xC0, 0x80, 0x22]), JSONInput("overlong C1 BF", [0x22, 0xC1, 0xBF, 0x22]),
        JSONInput("overlong E0 80 80", [0x22, 0xE0, 0x80, 0x80, 0x22]),
        JSONInput("overlong E0 9F BF", [0x22, 0xE0, 0x9F, 0xBF, 0x22]),
        JSONInput("overlong F0 8F BF BF", [0x22, 0xF0, 0x8F, 0xBF, 0xBF, 0x22]),
        JSONInput("surrogate ED A0 80", [0x22, 0xED, 0xA0, 0x80, 0x22]),
        JSONInput("surrogate ED BF BF", [0x22, 0xED, 0xBF, 0xBF, 0x22]),
        JSONInput("above U+10FFFF F4 90 80 80", [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22]),
        JSONInput("F5 lead", [0x22, 0xF5, 0x80, 0x80, 0x80, 0x22]), JSONInput("FF byte", [0x22, 0xFF, 0x22]),
        JSONInput("lone continuation", [0x22, 0x80, 0x22]),
        JSONInput("truncated 3-byte before quote", [0x22, 0xE2, 0x82, 0x22]),
        JSONInput("truncated 4-byte before quote", [0x22, 0xF0, 0x9F, 0x98, 0x22]),
        JSONInput("truncated 2-byte at end", [0x22, 0xC3]), JSONInput("truncated 3-byte at end", [0x22, 0xE2, 0x82]),
        JSONInput("bad continuation", [0x22, 0xC3, 0x41, 0x22]),
        JSONInput("UTF-8 outside string", [0x5B, 0xC3, 0xA9, 0x5D]),
        JSONInput("BOM before document", [0xEF, 0xBB, 0xBF, 0x7B, 0x7D]),
    ])
    func rejects(input: JSONInput) {
        #expect(jsonError(input.bytes) != nil)
    }

    @Test func errorsCarryTheOffset() {
        #expect(jsonError(Array("[1,]".utf8))?.offset == 3)
        #expect(jsonError(Array("[1,]".utf8))?.reason == "unexpected character")
        #expect(jsonError(Array("{} x".utf8))?.offset == 3)
        #expect(jsonError(Array("01".utf8))?.offset == 1)
        #expect(jsonError([0x22, 0x61, 0xED, 0xA0, 0x80, 0x22])?.offset == 2)
        #expect(jsonError(Array("{} x".utf8))?.description == "invalid JSON at byte 3: trailing characters after the document")
    }

    @Test(arguments: [
        JSONInput("DEL is not a control character", [0x22, 0x7F, 0x22]),
        JSONInput("valid 2-byte", [0x22, 0xC2, 0x80, 0x22]), JSONInput("valid E0 A0 80", [0x22, 0xE0, 0xA0, 0x80, 0x22]),
        JSONInput("valid ED 9F BF", [0x22, 0xED, 0x9F, 0xBF, 0x22]),
        JSONInput("valid F4 8F BF BF", [0x22, 0xF4, 0x8F, 0xBF, 0xBF, 0x22]),
        JSONInput("valid pair", Array("\"\\ud83d\\ude00\"".utf8)), JSONInput("\"\\u0000\""), JSONInput("\"\\uFFFF\""),
    ])
    func acceptsEdgesOfValidity(input: JSONInput) {
        #expect(jsonError(input.bytes) == nil)
    }
}

/// Strings long enough for the 8-bytes-at-a-time scan, with the byte that stops it at every
/// offset of two words: the scan must never step over one.
@Suite struct JSONTapeLongStringTests {
    func document(_ padding: Int, _ middle: [UInt8], _ tail: Int = 17) -> [UInt8] {
        [0x22] + Array(repeating: UInt8(ascii: "a"), count: padding) + middle + Array(repeating: UInt8(ascii: "b"), count: tail) + [0x22]
    }

    @Test func theClosingQuoteIsFoundAtEveryOffset() throws {
        for padding in 0..<20 {
            let text = String(repeating: "a", count: padding)
            let bytes = Array("[\"\(text)\",\"\(text)x\"]".utf8)
            let values = try bytes.withUnsafeBytes { raw in
                let json = JSONView(tape: try JSONTape.parse(raw), bytes: raw)
                return json.elements(0).map { json.string($0) }
            }
            #expect(values == [text, text + "x"])
        }
    }

    @Test func escapesAndNonASCIIAreSeenAtEveryOffset() throws {
        for padding in 0..<20 {
            let escaped = try withJSON(String(decoding: document(padding, Array(#"\n\u00e9"#.utf8)), as: UTF8.self)) { json in
                (json.string(0), json.tape[0].escaped)
            }
            #expect(escaped.0 == String(repeating: "a", count: padding) + "\né" + String(repeating: "b", count: 17))
            #expect(escaped.1)
            let raw = try withJSON(String(decoding: document(padding, [0xC3, 0xA9, 0xE2, 0x82, 0xAC]), as: UTF8.self)) {
                json in json.string(0)
            }
            #expect(raw == String(repeating: "a", count: padding) + "é€" + String(repeating: "b", count: 17))
        }
    }

    @Test func controlCharactersAndBadUTF8AreRejectedAtEveryOffset() {
        for padding in 0..<20 {
            for bad: [UInt8] in [[0x00], [0x09], [0x1F], [0xC3, 0x41], [0x80], [0xFF]] {
                let error = jsonError(document(padding, bad))
                #expect(error != nil, "byte \(bad) after \(padding)")
                #expect(error?.offset == 1 + padding, "byte \(bad) after \(padding)")
            }
            // DEL and the bytes just below the specials are plain.
            #expect(jsonError(document(padding, [0x7F, 0x21, 0x23, 0x5B, 0x5D, 0x20])) == nil)
        }
    }
}
