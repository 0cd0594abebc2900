/// What a debug file's own header tells: its object format, architecture and (for ELF) its
/// code id, the GNU build id. sentry-cli's assemble request names only the file and its debug
/// id, so the rest is read here. Bounds-checked; a file it does not recognise is `unknown`.
package struct DebugFileHeader: Equatable {
    package var objectType: String
    package var arch: String
    package var codeID: String?

    package init(_ bytes: [UInt8]) {
        objectType = "unknown"
        arch = "unknown"
        if bytes.starts(with: [0x7F, 0x45, 0x4C, 0x46]) {
            objectType = "elf"
            readELF(bytes)
        } else if let magic = Self.u32(bytes, 0, littleEndian: true), [0xFEED_FACF, 0xFEED_FACE].contains(magic) {
            objectType = "macho"
            arch = Self.machOArch(Self.u32(bytes, 4, littleEndian: true))
        } else if bytes.starts(with: Array("Microsoft C/C++ MSF 7.00".utf8)) {
            objectType = "pdb"
        } else if bytes.starts(with: [0x4D, 0x5A]) {
            objectType = "pe"
        } else if bytes.starts(with: [0x00, 0x61, 0x73, 0x6D]) {
            objectType = "wasm"
            arch = "wasm32"
        } else if bytes.starts(with: Array("MODULE ".utf8)) {
            objectType = "breakpad"
        }
    }

    private mutating func readELF(_ bytes: [UInt8]) {
        guard bytes.count >= 0x34 else { return }
        let is64 = bytes[4] == 2
        let little = bytes[5] == 1
        arch = Self.elfArch(Self.u16(bytes, 0x12, littleEndian: little), is64: is64)
        let headerTable = is64 ? Self.u64(bytes, 0x28, littleEndian: little) : Self.u32(bytes, 0x20, littleEndian: little).map(UInt64.init)
        guard let tableOffset = headerTable.flatMap({ Int(exactly: $0) }),
            let entrySize = Self.u16(bytes, is64 ? 0x3A : 0x2E, littleEndian: little).map(Int.init),
            let count = Self.u16(bytes, is64 ? 0x3C : 0x30, littleEndian: little).map(Int.init), entrySize > 0
        else { return }
        for index in 0..<count {
            let header = tableOffset + index * entrySize
            guard Self.u32(bytes, header + 4, littleEndian: little) == 7 else { continue }  // SHT_NOTE
            let offset =
                is64
                ? Self.u64(bytes, header + 0x18, littleEndian: little)
                : Self.u32(bytes, header + 0x10, littleEndian: little).map(UInt64.init)
            let size =
                is64
                ? Self.u64(bytes, header + 0x20, littleEndian: little)
                : Self.u32(bytes, header + 0x14, littleEndian: little).map(UInt64.init)
            guard let start = offset.flatMap({ Int(exactly: $0) }), let length = size.flatMap({ Int(exactly: $0) }),
                start >= 0, length >= 0, start <= bytes.count, length <= bytes.count - start
            else { continue }
            if let buildID = Self.gnuBuildID(bytes, start, start + length, littleEndian: little) {
                codeID = buildID
                return
            }
        }
    }

    /// The `NT_GNU_BUILD_ID` note among the notes in `start..<end`, as hex.
    private static func gnuBuildID(_ bytes: [UInt8], _ start: Int, _ end: Int, littleEndian: Bool) -> String? {
        var position = start
        while position + 12 <= end {
            guard let nameSize = u32(bytes, position, littleEndian: littleEndian).map(Int.init),
                let descSize = u32(bytes, position + 4, littleEndian: littleEndian).map(Int.init),
                let type = u32(bytes, position + 8, littleEndian: littleEndian)
            else { return nil }
            let nameStart = position + 12
            let descStart = nameStart + (nameSize + 3) / 4 * 4
            let next = descStart + (descSize + 3) / 4 * 4
            guard next <= end, next > position else { return nil }
            if type == 3, nameSize == 4, Array(bytes[nameStart..<(nameStart + 4)]) == [0x47, 0x4E, 0x55, 0x00], descSize > 0 {
                return bytes[descStart..<(descStart + descSize)].map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
            }
            position = next
        }
        return nil
    }

    private static func elfArch(_ machine: UInt16?, is64: Bool) -> String {
        switch machine {
        case 0x03: "x86"
        case 0x3E: "x86_64"
        case 0x28: "arm"
        case 0xB7: "arm64"
        case 0xF3: is64 ? "riscv64" : "riscv32"
        case 0x08: is64 ? "mips64" : "mips"
        case 0x15: "ppc64"
        default: "unknown"
        }
    }

    private static func machOArch(_ cpuType: UInt32?) -> String {
        switch cpuType {
        case 0x0100_0007: "x86_64"
        case 0x0000_0007: "x86"
        case 0x0100_000C: "arm64"
        case 0x0000_000C: "arm"
        default: "unknown"
        }
    }

    private static func u16(_ bytes: [UInt8], _ at: Int, littleEndian: Bool) -> UInt16? {
        guard at >= 0, at + 2 <= bytes.count else { return nil }
        let (a, b) = (UInt16(bytes[at]), UInt16(bytes[at + 1]))
        return littleEndian ? a | b << 8 : a << 8 | b
    }

    private static func u32(_ bytes: [UInt8], _ at: Int, littleEndian: Bool) -> UInt32? {
        guard at >= 0, at + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for index in 0..<4 {
            let byte = UInt32(bytes[at + (littleEndian ? 3 - index : index)])
            value = value << 8 | byte
        }
        return value
    }

    private static func u64(_ bytes: [UInt8], _ at: Int, littleEndian: Bool) -> UInt64? {
        guard at >= 0, at + 8 <= bytes.count else { return nil }
        var value: UInt64 = 0
        for index in 0..<8 {
            let byte = UInt64(bytes[at + (littleEndian ? 7 - index : index)])
            value = value << 8 | byte
        }
        return value
    }
}
