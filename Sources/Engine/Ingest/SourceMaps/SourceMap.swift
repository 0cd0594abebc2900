/// A parsed Source Map v3 (https://tc39.es/ecma426/): plain maps and index maps (`sections`,
/// flattened into one token list), with the mappings decoded once into parallel integer arrays
/// and looked up by binary search.
///
/// Why hand-written: a bundle's map is often megabytes with hundreds of thousands of segments;
/// a DOM of them (one object per segment) costs tens of bytes each and a pass of the allocator,
/// where five `UInt32`/`Int32` arrays cost 20 bytes a segment. It is read from uploaded files,
/// so every index is checked: malformed input throws `SourceMapError`, never traps.
package final class SourceMap: Sendable {
    /// Resolved source URLs (`sourceRoot` applied), by source index.
    package let sources: [String]
    /// `sourcesContent` by source index; nil where the map has none.
    package let sourcesContent: [String?]
    package let names: [String]
    /// Segments sorted by generated (line, column); all 0-based, as in the map.
    let generatedLines: [UInt32]
    let generatedColumns: [UInt32]
    /// -1: a segment that maps to no source (a 1-field segment).
    let sourceIndexes: [Int32]
    let originalLines: [UInt32]
    let originalColumns: [UInt32]
    /// -1: no name.
    let nameIndexes: [Int32]

    /// The bytes this map holds, roughly: the cache bounds its memory by this.
    package let approximateBytes: Int

    init(sources: [String], sourcesContent: [String?], names: [String], segments: SegmentColumns) {
        self.sources = sources
        self.sourcesContent = sourcesContent
        self.names = names
        generatedLines = segments.generatedLines
        generatedColumns = segments.generatedColumns
        sourceIndexes = segments.sourceIndexes
        originalLines = segments.originalLines
        originalColumns = segments.originalColumns
        nameIndexes = segments.nameIndexes
        let textBytes =
            sources.reduce(0) { $0 + $1.utf8.count } + names.reduce(0) { $0 + $1.utf8.count }
            + sourcesContent.reduce(0) { $0 + ($1?.utf8.count ?? 0) }
        approximateBytes = textBytes + segments.count * 24 + (sources.count + names.count) * 16 + 256
    }

    /// How many mapping segments the map has.
    package var segmentCount: Int { generatedLines.count }

    /// Where a generated position came from.
    package struct Token: Sendable, Equatable {
        /// 0-based, as in the map.
        package var generatedLine: Int
        package var generatedColumn: Int
        package var sourceIndex: Int
        package var source: String
        package var originalLine: Int
        package var originalColumn: Int
        package var name: String?
    }

    /// The segment covering a generated position (0-based line and column): the last segment of
    /// that line starting at or before the column, as browsers' and Sentry's symbolicators pick
    /// it. Nil when the line has no such segment or it maps to no source.
    package func lookup(line: Int, column: Int) -> Token? {
        guard line >= 0, column >= 0, line <= Int(UInt32.max), column <= Int(UInt32.max) else { return nil }
        let wantedLine = UInt32(line)
        let wantedColumn = UInt32(column)
        // The first segment past (line, column), then one back.
        var low = 0
        var high = generatedLines.count
        while low < high {
            let middle = (low + high) / 2
            let middleLine = generatedLines[middle]
            if middleLine < wantedLine || (middleLine == wantedLine && generatedColumns[middle] <= wantedColumn) {
                low = middle + 1
            } else {
                high = middle
            }
        }
        guard low > 0 else { return nil }
        let index = low - 1
        guard generatedLines[index] == wantedLine else { return nil }
        let sourceIndex = Int(sourceIndexes[index])
        guard sourceIndex >= 0, sourceIndex < sources.count else { return nil }
        let nameIndex = Int(nameIndexes[index])
        return Token(
            generatedLine: line, generatedColumn: Int(generatedColumns[index]), sourceIndex: sourceIndex, source: sources[sourceIndex],
            originalLine: Int(originalLines[index]), originalColumn: Int(originalColumns[index]),
            name: nameIndex >= 0 && nameIndex < names.count ? names[nameIndex] : nil)
    }
}

/// Why a source map could not be read.
package struct SourceMapError: Error, Hashable, CustomStringConvertible {
    package let reason: String

    package var description: String { "invalid source map: \(reason)" }

    @inline(never)
    static func invalid(_ reason: String) -> SourceMapError {
        SourceMapError(reason: reason)
    }
}

/// The decoded segments as parallel columns (one allocation per field, not per segment).
struct SegmentColumns {
    var generatedLines: [UInt32] = []
    var generatedColumns: [UInt32] = []
    var sourceIndexes: [Int32] = []
    var originalLines: [UInt32] = []
    var originalColumns: [UInt32] = []
    var nameIndexes: [Int32] = []

    var count: Int { generatedLines.count }

    mutating func reserve(_ capacity: Int) {
        generatedLines.reserveCapacity(capacity)
        generatedColumns.reserveCapacity(capacity)
        sourceIndexes.reserveCapacity(capacity)
        originalLines.reserveCapacity(capacity)
        originalColumns.reserveCapacity(capacity)
        nameIndexes.reserveCapacity(capacity)
    }

    mutating func append(
        generatedLine: UInt32, generatedColumn: UInt32, sourceIndex: Int32, originalLine: UInt32, originalColumn: UInt32,
        nameIndex: Int32
    ) {
        generatedLines.append(generatedLine)
        generatedColumns.append(generatedColumn)
        sourceIndexes.append(sourceIndex)
        originalLines.append(originalLine)
        originalColumns.append(originalColumn)
        nameIndexes.append(nameIndex)
    }

    /// Whether the segments are already in generated (line, column) order: the mappings grammar
    /// orders lines but not the columns within one, and index-map sections may overlap.
    var isSorted: Bool {
        var index = 1
        while index < count {
            let previousLine = generatedLines[index - 1]
            let line = generatedLines[index]
            if line < previousLine || (line == previousLine && generatedColumns[index] < generatedColumns[index - 1]) { return false }
            index += 1
        }
        return true
    }

    /// Sorts by generated position, keeping the map's order among equal positions.
    mutating func sort() {
        let order = (0..<count).sorted { a, b in
            let lineA = generatedLines[a]
            let lineB = generatedLines[b]
            if lineA != lineB { return lineA < lineB }
            let columnA = generatedColumns[a]
            let columnB = generatedColumns[b]
            if columnA != columnB { return columnA < columnB }
            return a < b
        }
        generatedLines = order.map { generatedLines[$0] }
        generatedColumns = order.map { generatedColumns[$0] }
        sourceIndexes = order.map { sourceIndexes[$0] }
        originalLines = order.map { originalLines[$0] }
        originalColumns = order.map { originalColumns[$0] }
        nameIndexes = order.map { nameIndexes[$0] }
    }
}
