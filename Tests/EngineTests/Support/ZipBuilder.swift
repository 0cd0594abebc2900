/// Writes zip archives of stored (uncompressed) entries for tests, with the local headers,
/// central directory and end record a reader walks. CRCs are left zero: `ZipArchive` does not
/// check them.
enum ZipBuilder {
    static func archive(_ entries: [(path: String, contents: [UInt8])]) -> [UInt8] {
        var bytes: [UInt8] = []
        var directory: [UInt8] = []
        for entry in entries {
            let name = Array(entry.path.utf8)
            let offset = bytes.count
            bytes += le32(0x0403_4b50) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + le32(0)
            bytes += le32(UInt32(entry.contents.count)) + le32(UInt32(entry.contents.count)) + le16(UInt16(name.count)) + le16(0)
            bytes += name + entry.contents
            directory += le32(0x0201_4b50) + le16(20) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + le32(0)
            directory += le32(UInt32(entry.contents.count)) + le32(UInt32(entry.contents.count)) + le16(UInt16(name.count))
            directory += le16(0) + le16(0) + le16(0) + le16(0) + le32(0) + le32(UInt32(offset)) + name
        }
        let directoryOffset = bytes.count
        bytes += directory
        bytes += le32(0x0605_4b50) + le16(0) + le16(0) + le16(UInt16(entries.count)) + le16(UInt16(entries.count))
        bytes += le32(UInt32(directory.count)) + le32(UInt32(directoryOffset)) + le16(0)
        return bytes
    }

    private static func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
    private static func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8((value >> (8 * $0)) & 0xFF) } }
}
