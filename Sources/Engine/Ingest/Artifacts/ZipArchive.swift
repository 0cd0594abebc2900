import CZlib
import NIOCore
import PitStorage

/// The entries of a zip file (PKWARE APPNOTE 6.3), read through its central directory: stored
/// and deflated entries, no zip64, no encryption, which is what sentry-cli writes for artifact
/// bundles. Bounded: every offset is checked against the file, and the inflated total may not
/// exceed `maxTotalBytes`, so a crafted archive cannot make it read out of bounds or inflate
/// without end.
package struct ZipArchive {
    package struct Entry {
        package var path: String
        package var contents: [UInt8]
    }

    package struct Failure: Error, Equatable, CustomStringConvertible {
        package var description: String
        init(_ description: String) { self.description = description }
    }

    package var entries: [Entry]

    package subscript(path: String) -> Entry? { entries.first { $0.path == path } }

    package init(_ bytes: [UInt8], maxTotalBytes: Int) throws(Failure) {
        let end = try Self.endOfCentralDirectory(bytes)
        let count = Int(Self.u16(bytes, end + 10))
        let directorySize = Int(Self.u32(bytes, end + 12))
        let directoryOffset = Int(Self.u32(bytes, end + 16))
        guard directoryOffset + directorySize <= end else { throw Failure("the central directory lies outside the file") }
        var entries: [Entry] = []
        var position = directoryOffset
        var total = 0
        for _ in 0..<count {
            guard position + 46 <= end, Self.u32(bytes, position) == 0x0201_4b50 else {
                throw Failure("a central directory entry is malformed")
            }
            let flags = Self.u16(bytes, position + 8)
            let method = Self.u16(bytes, position + 10)
            let compressedSize = Int(Self.u32(bytes, position + 20))
            let size = Int(Self.u32(bytes, position + 24))
            let nameLength = Int(Self.u16(bytes, position + 28))
            let extraLength = Int(Self.u16(bytes, position + 30))
            let commentLength = Int(Self.u16(bytes, position + 32))
            let localOffset = Int(Self.u32(bytes, position + 42))
            guard position + 46 + nameLength <= end else { throw Failure("a file name runs past the central directory") }
            let path = String(decoding: bytes[(position + 46)..<(position + 46 + nameLength)], as: UTF8.self)
            position += 46 + nameLength + extraLength + commentLength
            guard flags & 1 == 0 else { throw Failure("\(path) is encrypted") }
            if path.hasSuffix("/") { continue }
            guard localOffset + 30 <= bytes.count, Self.u32(bytes, localOffset) == 0x0403_4b50 else {
                throw Failure("the local header of \(path) is missing")
            }
            let dataStart = localOffset + 30 + Int(Self.u16(bytes, localOffset + 26)) + Int(Self.u16(bytes, localOffset + 28))
            guard dataStart + compressedSize <= bytes.count else { throw Failure("the data of \(path) runs past the file") }
            total += size
            guard total <= maxTotalBytes else { throw Failure("the archive inflates to more than \(maxTotalBytes) bytes") }
            let data = bytes[dataStart..<(dataStart + compressedSize)]
            let contents: [UInt8]
            switch method {
            case 0: contents = Array(data)
            case 8: contents = try Self.inflate(data, size: size, path: path)
            default: throw Failure("\(path) uses compression method \(method)")
            }
            guard contents.count == size else { throw Failure("\(path) is not the size its entry gives") }
            entries.append(Entry(path: path, contents: contents))
        }
        self.entries = entries
    }

    private static func inflate(_ data: ArraySlice<UInt8>, size: Int, path: String) throws(Failure) -> [UInt8] {
        let result: Result<ByteBuffer, InflationFailure> = data.withUnsafeBytes { raw in
            do throws(InflationFailure) {
                return .success(try BoundedInflation.run(ZlibInflater(windowBits: -MAX_WBITS), raw, limit: size))
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let buffer): return Array(buffer.readableBytesView)
        case .failure: throw Failure("\(path) does not inflate")
        }
    }

    /// The end-of-central-directory record: the last one in the file's final 64 KiB + 22 bytes
    /// (its comment is at most 65,535 bytes).
    private static func endOfCentralDirectory(_ bytes: [UInt8]) throws(Failure) -> Int {
        guard bytes.count >= 22 else { throw Failure("not a zip archive") }
        var position = bytes.count - 22
        let lowest = max(0, bytes.count - 22 - 65_535)
        while position >= lowest {
            if u32(bytes, position) == 0x0605_4b50 {
                guard u16(bytes, position + 10) != 0xFFFF, u32(bytes, position + 16) != 0xFFFF_FFFF else {
                    throw Failure("zip64 archives are not supported")
                }
                return position
            }
            position -= 1
        }
        throw Failure("not a zip archive")
    }

    static func u16(_ bytes: [UInt8], _ at: Int) -> UInt16 {
        UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
    }

    static func u32(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
    }
}
