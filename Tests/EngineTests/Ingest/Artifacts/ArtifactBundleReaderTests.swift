import PitIngest
import PitStorage
import Testing

struct ArtifactBundleReaderTests {
    static let manifest = """
        {"org":"pit","release":"app@1.0","dist":"web","files":{
          "_/_/app.min.js":{"url":"~/app.min.js","type":"minified_source",
            "headers":{"debug-id":"5E0F7C2B-9A51-4B8E-9C0E-8D2A6B1C4E3F","Sourcemap":"app.min.js.map"}},
          "_/_/app.min.js.map":{"url":"~/app.min.js.map","type":"source_map","headers":{"debug-id":"5e0f7c2b-9a51-4b8e-9c0e-8d2a6b1c4e3f"}},
          "_/_/notes.txt":{"url":"~/notes.txt","type":"something_else"}}}
        """

    @Test func readsTheManifestAndTheFilesItNames() throws {
        let zip = ZipBuilder.archive([
            ("manifest.json", Array(Self.manifest.utf8)),
            ("_/_/app.min.js", Array("function a(){}".utf8)),
            ("_/_/app.min.js.map", Array("{\"version\":3}".utf8)),
            ("_/_/notes.txt", Array("n".utf8)),
        ])
        let bundle = try ArtifactBundleReader.read(zip, checksum: ArtifactBundleReader.sha1Hex(zip))
        #expect(bundle.release == "app@1.0")
        #expect(bundle.dist == "web")
        #expect(bundle.size == Int64(zip.count))
        #expect(bundle.files.count == 2)
        let minified = try #require(bundle.files.first { $0.type == .minifiedSource })
        #expect(minified.url == "~/app.min.js")
        #expect(minified.debugID == "5e0f7c2b-9a51-4b8e-9c0e-8d2a6b1c4e3f")
        #expect(minified.headers["sourcemap"] == "app.min.js.map")
        #expect(minified.contents == Array("function a(){}".utf8))
        #expect(bundle.files.first { $0.type == .sourceMap }?.contents == Array("{\"version\":3}".utf8))
    }

    @Test func refusesWhatIsNotABundle() {
        #expect(throws: ArtifactBundleReader.Failure.self) { try ArtifactBundleReader.read(Array("not a zip".utf8), checksum: "x") }
        let noManifest = ZipBuilder.archive([("a.js", [1])])
        #expect(throws: ArtifactBundleReader.Failure.self) { try ArtifactBundleReader.read(noManifest, checksum: "x") }
        let missingFile = ZipBuilder.archive([("manifest.json", Array(Self.manifest.utf8))])
        #expect(throws: ArtifactBundleReader.Failure.self) { try ArtifactBundleReader.read(missingFile, checksum: "x") }
    }

    @Test func refusesEntriesOutsideTheFileAndInflationPastTheLimit() {
        var zip = ZipBuilder.archive([("manifest.json", Array("{}".utf8))])
        // The central directory's sizes now claim more than the file holds.
        let central = 30 + "manifest.json".utf8.count + 2
        zip[central + 21] = 0xFF
        zip[central + 25] = 0xFF
        #expect(throws: ZipArchive.Failure.self) { try ZipArchive(zip, maxTotalBytes: 1 << 20) }
        let big = ZipBuilder.archive([("a", [UInt8](repeating: 7, count: 4096))])
        #expect(throws: ZipArchive.Failure.self) { try ZipArchive(big, maxTotalBytes: 1000) }
    }

    @Test func sha1IsLowerCaseHex() {
        #expect(ArtifactBundleReader.sha1Hex(Array("abc".utf8)) == "a9993e364706816aba3e25717850c26c9cd0d89d")
    }

    @Test func readsAnELFHeaderAndItsBuildID() {
        // A 64-bit little-endian x86-64 ELF with one section header, a note holding the GNU build id.
        var elf = [UInt8](repeating: 0, count: 0x100)
        elf.replaceSubrange(0..<6, with: [0x7F, 0x45, 0x4C, 0x46, 2, 1])
        elf[0x12] = 0x3E
        elf[0x28] = 0x80  // section headers at 0x80
        elf[0x3A] = 0x40  // 64 bytes each
        elf[0x3C] = 1
        elf[0x80 + 4] = 7  // SHT_NOTE
        elf[0x80 + 0x18] = 0xD0  // note at 0xD0
        elf[0x80 + 0x20] = 24  // 16 bytes of header and name, 8 of build id
        let note: [UInt8] = [4, 0, 0, 0, 8, 0, 0, 0, 3, 0, 0, 0, 0x47, 0x4E, 0x55, 0, 0xDE, 0xAD, 0xBE, 0xEF, 0, 1, 2, 3]
        elf.replaceSubrange(0xD0..<(0xD0 + note.count), with: note)
        let header = DebugFileHeader(elf)
        #expect(header == DebugFileHeader.expected(objectType: "elf", arch: "x86_64", codeID: "deadbeef00010203"))
        #expect(DebugFileHeader(Array("Microsoft C/C++ MSF 7.00\r\n".utf8)).objectType == "pdb")
        #expect(DebugFileHeader([1, 2, 3]).objectType == "unknown")
    }
}

extension DebugFileHeader {
    static func expected(objectType: String, arch: String, codeID: String?) -> DebugFileHeader {
        var header = DebugFileHeader([])
        header.objectType = objectType
        header.arch = arch
        header.codeID = codeID
        return header
    }
}
