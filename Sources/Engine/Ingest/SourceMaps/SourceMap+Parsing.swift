extension SourceMap {
    /// Parses a Source Map v3 document: a plain map or an index map whose sections embed their
    /// maps (sections by `url` are refused: nothing would fetch them).
    package static func parse(_ bytes: [UInt8]) throws(SourceMapError) -> SourceMap {
        // Maps served to browsers may start with an XSSI guard line (`)]}'`), which the spec
        // says to skip.
        var start = 0
        if bytes.starts(with: Array(")]}".utf8)) {
            start = (bytes.firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count - 1) + 1
        }
        let result = bytes[start...].withUnsafeBytes { raw -> Result<SourceMap, SourceMapError> in
            let tape: JSONTape
            do {
                tape = try JSONTape.parse(raw)
            } catch {
                return .failure(.invalid("\(error)"))
            }
            let json = JSONView(tape: tape, bytes: raw)
            do throws(SourceMapError) {
                var builder = Builder()
                try builder.add(json, map: tape.root, lineOffset: 0, columnOffset: 0, allowSections: true)
                return .success(builder.build())
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Collects the sources, names and segments of a map and its sections.
    struct Builder {
        var sources: [String] = []
        var sourcesContent: [String?] = []
        var names: [String] = []
        var segments = SegmentColumns()

        func build() -> SourceMap {
            var segments = segments
            if !segments.isSorted { segments.sort() }
            return SourceMap(sources: sources, sourcesContent: sourcesContent, names: names, segments: segments)
        }

        mutating func add(_ json: JSONView, map: Int, lineOffset: UInt32, columnOffset: UInt32, allowSections: Bool) throws(SourceMapError)
        {
            guard json.kind(map) == .object else { throw .invalid("not a JSON object") }
            if let version = json.member(map, "version"), json.int(version) != 3 {
                throw .invalid("version is not 3")
            }
            if let sections = json.member(map, "sections") {
                guard allowSections else { throw .invalid("an index map's section is an index map") }
                guard json.kind(sections) == .array else { throw .invalid("sections is not an array") }
                for section in json.elements(sections) {
                    guard json.kind(section) == .object, let offset = json.member(section, "offset"), json.kind(offset) == .object,
                        let line = json.int(json.member(offset, "line")), let column = json.int(json.member(offset, "column")),
                        line >= 0, column >= 0, let sectionLine = UInt32(exactly: Int64(lineOffset) + Int64(line)),
                        let sectionColumn = UInt32(exactly: column)
                    else { throw .invalid("a section without a valid offset") }
                    guard let embedded = json.member(section, "map") else { throw .invalid("a section without an embedded map") }
                    try add(json, map: embedded, lineOffset: sectionLine, columnOffset: sectionColumn, allowSections: false)
                }
                return
            }
            let sourceBase = sources.count
            let nameBase = names.count
            let root = json.string(json.member(map, "sourceRoot")) ?? ""
            let contents = json.member(map, "sourcesContent").flatMap { json.kind($0) == .array ? json.elements($0) : nil } ?? []
            if let list = json.member(map, "sources") {
                guard json.kind(list) == .array else { throw .invalid("sources is not an array") }
                for (position, element) in json.elements(list).enumerated() {
                    // A null source is allowed; segments pointing at it resolve to an empty name.
                    sources.append(Self.joined(root: root, json.string(element) ?? ""))
                    sourcesContent.append(position < contents.count ? json.string(contents[position]) : nil)
                }
            }
            if let list = json.member(map, "names") {
                guard json.kind(list) == .array else { throw .invalid("names is not an array") }
                for element in json.elements(list) { names.append(json.scalarText(element) ?? "") }
            }
            guard let mappings = json.member(map, "mappings"), json.kind(mappings) == .string else {
                throw .invalid("mappings is missing or not a string")
            }
            let decoded = json.withStringUTF8(mappings) { utf8 -> Result<Void, SourceMapError> in
                do throws(SourceMapError) {
                    var decoder = MappingsDecoder(
                        sourceBase: sourceBase, sourceCount: sources.count - sourceBase, nameBase: nameBase,
                        nameCount: names.count - nameBase, lineOffset: lineOffset, columnOffset: columnOffset)
                    try decoder.decode(utf8, into: &segments)
                    return .success(())
                } catch {
                    return .failure(error)
                }
            }
            try decoded?.get()
        }

        /// A source URL under the map's `sourceRoot`, unless it is already absolute.
        static func joined(root: String, _ source: String) -> String {
            guard !root.isEmpty, !source.hasPrefix("/"), !source.contains("://") else { return source }
            return root.hasSuffix("/") ? root + source : root + "/" + source
        }
    }
}

/// The `mappings` string: lines separated by `;`, segments by `,`, each segment 1, 4 or 5
/// Base64 VLQ fields relative to the previous segment (the generated column to the previous
/// segment of the same line, the rest across the whole map).
struct MappingsDecoder {
    let sourceBase: Int
    let sourceCount: Int
    let nameBase: Int
    let nameCount: Int
    let lineOffset: UInt32
    let columnOffset: UInt32

    private var generatedLine: Int64 = 0
    private var generatedColumn: Int64 = 0
    private var source: Int64 = 0
    private var originalLine: Int64 = 0
    private var originalColumn: Int64 = 0
    private var name: Int64 = 0

    init(sourceBase: Int, sourceCount: Int, nameBase: Int, nameCount: Int, lineOffset: UInt32, columnOffset: UInt32) {
        self.sourceBase = sourceBase
        self.sourceCount = sourceCount
        self.nameBase = nameBase
        self.nameCount = nameCount
        self.lineOffset = lineOffset
        self.columnOffset = columnOffset
    }

    /// Base64 digit values, 0xFF for bytes outside the alphabet.
    private static let digits: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
            table[Int(byte)] = UInt8(value)
        }
        return table
    }()

    mutating func decode(_ text: UnsafeRawBufferPointer, into segments: inout SegmentColumns) throws(SourceMapError) {
        // Roughly one segment per 5 bytes of mappings: one growth step at most.
        segments.reserve(segments.count + text.count / 5)
        var fields = (Int64(0), Int64(0), Int64(0), Int64(0), Int64(0))
        var fieldCount = 0
        var position = 0
        while position <= text.count {
            let byte: UInt8 = position < text.count ? text[position] : UInt8(ascii: ";")
            if byte == UInt8(ascii: ",") || byte == UInt8(ascii: ";") {
                if fieldCount > 0 { try emit(fields, count: fieldCount, into: &segments) }
                fieldCount = 0
                if byte == UInt8(ascii: ";") && position < text.count {
                    generatedLine += 1
                    generatedColumn = 0
                }
                position += 1
                continue
            }
            guard fieldCount < 5 else { throw .invalid("a segment with more than 5 fields") }
            let value = try readVLQ(text, at: &position)
            switch fieldCount {
            case 0: fields.0 = value
            case 1: fields.1 = value
            case 2: fields.2 = value
            case 3: fields.3 = value
            default: fields.4 = value
            }
            fieldCount += 1
        }
    }

    /// One Base64 VLQ value: 5 bits a digit, least significant first, continuation in bit 5,
    /// the sign in the lowest bit of the result. Bounded to 32 bits of magnitude.
    private func readVLQ(_ text: UnsafeRawBufferPointer, at position: inout Int) throws(SourceMapError) -> Int64 {
        var result: Int64 = 0
        var shift: Int64 = 0
        while true {
            guard position < text.count else { throw .invalid("a VLQ value ends in the middle") }
            let digit = Self.digits[Int(text[position])]
            guard digit != 0xFF else { throw .invalid("byte \(text[position]) is not Base64 at \(position) of mappings") }
            position += 1
            guard shift <= 30 else { throw .invalid("a VLQ value is too large") }
            result |= Int64(digit & 0x1F) << shift
            shift += 5
            if digit & 0x20 == 0 { break }
        }
        let magnitude = result >> 1
        return result & 1 == 1 ? -magnitude : magnitude
    }

    private mutating func emit(_ fields: (Int64, Int64, Int64, Int64, Int64), count: Int, into segments: inout SegmentColumns)
        throws(SourceMapError)
    {
        guard count == 1 || count == 4 || count == 5 else { throw .invalid("a segment with \(count) fields") }
        generatedColumn += fields.0
        guard generatedColumn >= 0 else { throw .invalid("a negative generated column") }
        let lineInMap = generatedLine
        let column = lineInMap == 0 ? generatedColumn + Int64(columnOffset) : generatedColumn
        guard let line = UInt32(exactly: lineInMap + Int64(lineOffset)), let generated = UInt32(exactly: column) else {
            throw .invalid("a generated position out of range")
        }
        guard count >= 4 else {
            segments.append(
                generatedLine: line, generatedColumn: generated, sourceIndex: -1, originalLine: 0, originalColumn: 0, nameIndex: -1)
            return
        }
        source += fields.1
        originalLine += fields.2
        originalColumn += fields.3
        guard source >= 0, source < Int64(sourceCount) else { throw .invalid("a segment's source index \(source) is out of range") }
        guard let sourceLine = UInt32(exactly: originalLine), let sourceColumn = UInt32(exactly: originalColumn) else {
            throw .invalid("a negative or too large original position")
        }
        var nameIndex: Int32 = -1
        if count == 5 {
            name += fields.4
            // A name out of range is dropped rather than the map refused: tools get it wrong and
            // the position is still right.
            if name >= 0 && name < Int64(nameCount) { nameIndex = Int32(clamping: Int64(nameBase) + name) }
        }
        segments.append(
            generatedLine: line, generatedColumn: generated, sourceIndex: Int32(clamping: Int64(sourceBase) + source),
            originalLine: sourceLine, originalColumn: sourceColumn, nameIndex: nameIndex)
    }
}
