/// Hand-built minidumps for tests: a header, a stream directory, a system info stream (with its
/// CSD version string) and an exception stream, laid out as breakpad and crashpad write them.
enum MinidumpBuilder {
    struct Crash {
        var threadID: UInt32 = 7
        var code: UInt32
        var flags: UInt32 = 0
        var address: UInt64 = 0
        var parameters: [UInt64] = []
    }

    /// platform: 2 Windows, 0x8101 macOS, 0x8201 Linux; architecture: 9 amd64, 12 arm64.
    static func dump(
        platform: UInt32 = 0x8201, architecture: UInt16 = 9, version: (UInt32, UInt32, UInt32) = (5, 15, 0),
        csd: String? = "Linux 5.15.0 #1 SMP x86_64", crash: Crash?, bigEndian: Bool = false
    ) -> [UInt8] {
        var out: [UInt8] = []
        func u16(_ value: UInt16) { append(UInt64(value), 2) }
        func u32(_ value: UInt32) { append(UInt64(value), 4) }
        func u64(_ value: UInt64) { append(value, 8) }
        func append(_ value: UInt64, _ size: Int) {
            var bytes: [UInt8] = []
            for index in 0..<size { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(index)))) }
            out += bigEndian ? bytes.reversed() : bytes
        }
        let streams = crash == nil ? 1 : 2
        let directory = 32
        let systemInfo = directory + 12 * streams
        let systemInfoSize = 56
        let csdOffset = systemInfo + systemInfoSize
        let csdUnits = Array((csd ?? "").utf16)
        let exception = csdOffset + 4 + csdUnits.count * 2
        // Header.
        out += bigEndian ? Array("PMDM".utf8) : Array("MDMP".utf8)
        u32(0xA793)
        u32(UInt32(streams))
        u32(UInt32(directory))
        u32(0)
        u32(0)
        u64(0)
        // Directory.
        u32(7)
        u32(UInt32(systemInfoSize))
        u32(UInt32(systemInfo))
        if crash != nil {
            u32(6)
            u32(168)
            u32(UInt32(exception))
        }
        // MINIDUMP_SYSTEM_INFO.
        u16(architecture)
        u16(6)
        u16(0)
        out.append(2)
        out.append(1)
        u32(version.0)
        u32(version.1)
        u32(version.2)
        u32(platform)
        u32(csd == nil ? 0 : UInt32(csdOffset))
        u16(0)
        u16(0)
        out += Array(repeating: 0, count: 24)
        // MINIDUMP_STRING.
        u32(UInt32(csdUnits.count * 2))
        for unit in csdUnits { u16(unit) }
        // MINIDUMP_EXCEPTION_STREAM.
        if let crash {
            u32(crash.threadID)
            u32(0)
            u32(crash.code)
            u32(crash.flags)
            u64(0)
            u64(crash.address)
            u32(UInt32(crash.parameters.count))
            u32(0)
            for index in 0..<15 { u64(index < crash.parameters.count ? crash.parameters[index] : 0) }
            u32(0)
            u32(0)
        }
        return out
    }
}
