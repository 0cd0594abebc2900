import Foundation
import PitIngest
import Testing

@Suite struct SourceMapTests {
    private func parse(_ json: String) throws -> SourceMap {
        try SourceMap.parse(Array(json.utf8))
    }

    private func token(_ map: SourceMap, _ line: Int, _ column: Int) -> [String] {
        guard let token = map.lookup(line: line, column: column) else { return [] }
        return [token.source, "\(token.originalLine)", "\(token.originalColumn)", token.name ?? "-"]
    }

    @Test func decodesVLQFieldsRelativeToThePreviousSegment() throws {
        // AAAAA: all zero; IAAI: column +4, original column +4; CCCCC: +1 each; the next line's
        // generated column starts again at 0, the other fields carry on.
        let map = try parse(
            #"{"version":3,"sources":["a.js","b.js"],"names":["x","y"],"mappings":"AAAAA,IAAI,CCCCC;AACA,gBAAgB"}"#)
        #expect(map.segmentCount == 5)
        #expect(token(map, 0, 0) == ["a.js", "0", "0", "x"])
        #expect(token(map, 0, 3) == ["a.js", "0", "0", "x"], "the last segment at or before the column")
        #expect(token(map, 0, 4) == ["a.js", "0", "4", "-"])
        #expect(token(map, 0, 5) == ["b.js", "1", "5", "y"])
        #expect(token(map, 1, 0) == ["b.js", "2", "5", "-"])
        #expect(token(map, 1, 16) == ["b.js", "2", "21", "-"])
        #expect(token(map, 2, 0) == [], "a line without segments")
        #expect(map.lookup(line: -1, column: 0) == nil)
    }

    @Test func negativeAndMultiDigitValues() throws {
        // 2 = "E", -1 = "D", 16 = "gB", 1,000 = "w+B".
        let map = try parse(#"{"version":3,"sources":["a.js"],"names":[],"mappings":"w+BAgBE,EADD"}"#)
        #expect(token(map, 0, 1000) == ["a.js", "16", "2", "-"])
        #expect(token(map, 0, 1002) == ["a.js", "15", "1", "-"])
    }

    @Test func unsortedColumnsAreSorted() throws {
        // Column 10 comes before column 0 in the line: lookups still find each.
        let map = try parse(#"{"version":3,"sources":["a.js"],"names":[],"mappings":"UAAU,VAAV"}"#)
        #expect(token(map, 0, 0) == ["a.js", "0", "0", "-"])
        #expect(token(map, 0, 12) == ["a.js", "0", "10", "-"])
    }

    @Test func oneFieldSegmentsMapToNothing() throws {
        let map = try parse(#"{"version":3,"sources":["a.js"],"names":[],"mappings":"AAAA,K"}"#)
        #expect(token(map, 0, 2) == ["a.js", "0", "0", "-"])
        #expect(map.lookup(line: 0, column: 6) == nil, "past an unmapped segment")
    }

    @Test func sourceRootAndContent() throws {
        let map = try parse(
            #"{"version":3,"sourceRoot":"webpack://app/","sources":["src/a.js","/abs.js","https://x/y.js",null],"sourcesContent":["one\ntwo",null],"names":[],"mappings":"AAAA"}"#
        )
        #expect(map.sources == ["webpack://app/src/a.js", "/abs.js", "https://x/y.js", "webpack://app/"])
        #expect(map.sourcesContent == ["one\ntwo", nil, nil, nil])
    }

    @Test func indexMapSectionsAreOffset() throws {
        let map = try parse(
            #"""
            {"version":3,"sections":[
              {"offset":{"line":0,"column":0},"map":{"version":3,"sources":["a.js"],"names":["f"],"mappings":"AAAAA"}},
              {"offset":{"line":0,"column":100},"map":{"version":3,"sources":["b.js"],"names":["g"],"mappings":"AAAAA;AACA"}},
              {"offset":{"line":5,"column":0},"map":{"version":3,"sources":["c.js"],"names":[],"mappings":"AAEA"}}
            ]}
            """#)
        #expect(token(map, 0, 50) == ["a.js", "0", "0", "f"])
        #expect(token(map, 0, 100) == ["b.js", "0", "0", "g"])
        #expect(token(map, 1, 0) == ["b.js", "1", "0", "-"], "the column offset applies to the section's first line only")
        #expect(token(map, 5, 3) == ["c.js", "2", "0", "-"])
    }

    @Test func xssiPrefixIsSkipped() throws {
        let map = try SourceMap.parse(Array(")]}'\n{\"version\":3,\"sources\":[\"a.js\"],\"names\":[],\"mappings\":\"AAAA\"}".utf8))
        #expect(map.segmentCount == 1)
    }

    @Test(arguments: [
        "", "[]", "{}", #"{"version":2,"sources":[],"mappings":""}"#,
        #"{"version":3,"sources":["a.js"],"mappings":"AA"}"#,
        #"{"version":3,"sources":["a.js"],"mappings":"AAAAAA"}"#,
        #"{"version":3,"sources":["a.js"],"mappings":"CAAA"}"#.replacingOccurrences(of: "CAAA", with: "ACAA"),
        #"{"version":3,"sources":["a.js"],"mappings":"A!AA"}"#,
        #"{"version":3,"sources":["a.js"],"mappings":"g"}"#,
        #"{"version":3,"sources":["a.js"],"mappings":"D"}"#,
        #"{"version":3,"sources":["a.js"],"mappings":"AAAD"}"#,
        #"{"version":3,"sources":["a.js"],"mappings":"gggggggggggggggggggggggggA"}"#,
        #"{"version":3,"sources":"a.js","mappings":""}"#,
        #"{"version":3,"sources":["a.js"],"mappings":1}"#,
        #"{"version":3,"sections":[{"offset":{"line":0,"column":0},"map":{"sections":[]}}]}"#,
        #"{"version":3,"sections":[{"offset":{"line":-1,"column":0},"map":{"version":3,"sources":[],"mappings":""}}]}"#,
        #"{"version":3,"sections":[{"offset":{"line":0,"column":0},"url":"x.map"}]}"#,
    ])
    func malformedMapsThrow(_ text: String) {
        #expect(throws: SourceMapError.self) { try SourceMap.parse(Array(text.utf8)) }
    }

    @Test func outOfRangeNamesAreDropped() throws {
        let map = try parse(#"{"version":3,"sources":["a.js"],"names":["x"],"mappings":"AAAAC"}"#)
        #expect(token(map, 0, 0) == ["a.js", "0", "0", "-"])
    }

    @Test func theFixtureMatchesNodesReading() throws {
        // expected.json was checked against Node's own `module.SourceMap` when it was written.
        let map = try SourceMap.parse(try SourceMapFixture.bytes("app.min.js.map"))
        for frame in try SourceMapFixture.expected().frames {
            let token = try #require(map.lookup(line: 0, column: frame.colno - 1))
            #expect(token.source == frame.absPath)
            #expect(token.originalLine + 1 == frame.lineno)
            #expect(token.originalColumn + 1 == frame.originalColno)
        }
    }

    @Test func largeMapsParseIntoCompactColumns() throws {
        // 200,000 segments over 2,000 lines: parsed in one pass, looked up by binary search.
        let rest = String(repeating: ",EAAE", count: 99)
        let mappings = "AAAA" + rest + String(repeating: ";AACA" + rest, count: 1999)
        let text = #"{"version":3,"sources":["a.js"],"names":[],"mappings":""# + mappings + #""}"#
        let map = try SourceMap.parse(Array(text.utf8))
        #expect(map.segmentCount == 200_000)
        #expect(map.approximateBytes < 200_000 * 32)
        #expect(map.lookup(line: 1999, column: 199)?.originalLine == 1999)
    }
}
