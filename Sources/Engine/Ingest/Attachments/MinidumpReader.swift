/// What a minidump says about its crash, read from its header, stream directory, system info
/// stream and exception stream: enough for the title Sentry gives an unsymbolicated native
/// event (`SIGSEGV / SEGV_MAPERR`, `EXCEPTION_ACCESS_VIOLATION_READ`, `EXC_BAD_ACCESS /
/// KERN_INVALID_ADDRESS`) and its OS and CPU contexts.
///
/// Hand-written on purpose: there is no Swift minidump library (Sentry reads them with
/// rust-minidump inside Symbolicator, breakpad's processor is C++), and the four structures read
/// here are small and fixed-size. Every read is bounds-checked against the dump's bytes and
/// fails as `nil` rather than trapping: the input is whatever a client uploaded.
package struct MinidumpInfo: Sendable, Equatable {
    /// `MDMP` (little-endian, every real producer) or `PMDM` (big-endian).
    package var bigEndian: Bool
    package var streamCount: Int
    /// `MINIDUMP_SYSTEM_INFO`: absent when the dump has no readable system info stream.
    package var os: OperatingSystem?
    package var cpuArchitecture: String?
    package var osVersion: String?
    package var osBuild: String?
    /// `MINIDUMP_EXCEPTION_STREAM`: absent when the dump records no crash.
    package var exception: Exception?

    package enum OperatingSystem: String, Sendable, Equatable {
        case windows = "Windows"
        case macOS = "macOS"
        case iOS = "iOS"
        case linux = "Linux"
        case android = "Android"
        case solaris = "Solaris"
        case fuchsia = "Fuchsia"
        case ps3 = "PS3"
        case nacl = "NaCl"
        case unix = "Unix"
    }

    package struct Exception: Sendable, Equatable {
        package var threadID: UInt32
        package var code: UInt32
        package var flags: UInt32
        package var address: UInt64
        package var parameters: [UInt64]
    }

    /// The crash reason as Sentry names it, by the dump's OS (its exception code means a signal
    /// on Linux and Android, a Mach exception on Apple systems, an NTSTATUS on Windows).
    package var crashReason: String? {
        guard let exception else { return nil }
        return MinidumpCrashReason.name(of: exception, os: os)
    }
}

package enum MinidumpReader {
    /// The two signatures a minidump starts with.
    package static func hasSignature(_ bytes: some Collection<UInt8>) -> Bool {
        let head = Array(bytes.prefix(4))
        return head == Array("MDMP".utf8) || head == Array("PMDM".utf8)
    }

    static let exceptionStream: UInt32 = 6
    static let systemInfoStream: UInt32 = 7
    /// A directory longer than this is not a real dump (breakpad and crashpad write ~20 streams).
    static let maxStreams = 4096

    /// Reads `bytes`; nil when it is not a minidump (no signature, header or directory out of
    /// bounds). Streams that are missing or out of bounds are left out of the result.
    package static func read(_ bytes: UnsafeRawBufferPointer) -> MinidumpInfo? {
        guard bytes.count >= 32 else { return nil }
        let bigEndian: Bool
        switch (bytes[0], bytes[1], bytes[2], bytes[3]) {
        case (0x4D, 0x44, 0x4D, 0x50): bigEndian = false  // "MDMP"
        case (0x50, 0x4D, 0x44, 0x4D): bigEndian = true  // "PMDM"
        default: return nil
        }
        let reader = Reader(bytes: bytes, bigEndian: bigEndian)
        guard let version = reader.u32(4), version & 0xFFFF == 0xA793,
            let count = reader.u32(8), let directory = reader.u32(12), Int(count) <= maxStreams
        else { return nil }
        var info = MinidumpInfo(bigEndian: bigEndian, streamCount: Int(count))
        for index in 0..<Int(count) {
            let entry = Int(directory) + index * 12
            guard let type = reader.u32(entry), let size = reader.u32(entry + 4), let rva = reader.u32(entry + 8) else { return nil }
            let start = Int(rva)
            guard reader.contains(start, Int(size)) else { continue }
            switch type {
            case systemInfoStream where size >= 32 && info.os == nil && info.cpuArchitecture == nil:
                readSystemInfo(reader, at: start, into: &info)
            case exceptionStream where size >= 168 && info.exception == nil:
                info.exception = readException(reader, at: start)
            default:
                continue
            }
        }
        return info
    }

    package static func read(_ bytes: [UInt8]) -> MinidumpInfo? {
        bytes.withUnsafeBytes { read($0) }
    }

    /// `MINIDUMP_SYSTEM_INFO`: architecture (u16 at 0), version (u32s at 8, 12, 16), platform id
    /// (u32 at 20), service pack / kernel string (`MINIDUMP_STRING` at the RVA at 24).
    private static func readSystemInfo(_ reader: Reader, at start: Int, into info: inout MinidumpInfo) {
        if let architecture = reader.u16(start) { info.cpuArchitecture = architectureName(architecture) }
        guard let major = reader.u32(start + 8), let minor = reader.u32(start + 12), let build = reader.u32(start + 16),
            let platform = reader.u32(start + 20)
        else { return }
        info.os = operatingSystem(platform)
        info.osVersion = "\(major).\(minor).\(build)"
        if let rva = reader.u32(start + 24), rva != 0, let text = reader.string(Int(rva)), !text.isEmpty {
            info.osBuild = text
        }
    }

    /// `MINIDUMP_EXCEPTION_STREAM`: thread id (u32 at 0), then `MINIDUMP_EXCEPTION` at 8: code,
    /// flags, record (u64), address (u64 at 24), parameter count (u32 at 32), up to 15 u64
    /// parameters from 40.
    private static func readException(_ reader: Reader, at start: Int) -> MinidumpInfo.Exception? {
        guard let thread = reader.u32(start), let code = reader.u32(start + 8), let flags = reader.u32(start + 12),
            let address = reader.u64(start + 24), let count = reader.u32(start + 32)
        else { return nil }
        var parameters: [UInt64] = []
        for index in 0..<Int(min(count, 15)) {
            guard let value = reader.u64(start + 40 + index * 8) else { break }
            parameters.append(value)
        }
        return MinidumpInfo.Exception(threadID: thread, code: code, flags: flags, address: address, parameters: parameters)
    }

    static func operatingSystem(_ platform: UInt32) -> MinidumpInfo.OperatingSystem? {
        switch platform {
        case 0, 1, 2: .windows  // VER_PLATFORM_WIN32s, WIN32_WINDOWS, WIN32_NT
        case 0x8000: .unix
        case 0x8101: .macOS
        case 0x8102: .iOS
        case 0x8201: .linux
        case 0x8202: .solaris
        case 0x8203: .android
        case 0x8204: .ps3
        case 0x8205: .nacl
        case 0x8206: .fuchsia
        default: nil
        }
    }

    static func architectureName(_ value: UInt16) -> String? {
        switch value {
        case 0: "x86"
        case 1: "mips"
        case 2: "alpha"
        case 3: "ppc"
        case 5: "arm"
        case 6: "ia64"
        case 9: "x86_64"
        case 12, 0x8003: "arm64"
        case 0x8001: "sparc"
        case 0x8002: "ppc64"
        case 0x8004: "mips64"
        case 0x8005: "riscv"
        case 0x8006: "riscv64"
        default: nil
        }
    }

    /// Bounds-checked integer and string reads at absolute offsets.
    struct Reader {
        let bytes: UnsafeRawBufferPointer
        let bigEndian: Bool

        func contains(_ offset: Int, _ length: Int) -> Bool {
            offset >= 0 && length >= 0 && offset <= bytes.count && length <= bytes.count - offset
        }

        func u16(_ offset: Int) -> UInt16? {
            guard contains(offset, 2) else { return nil }
            let value = UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
            return bigEndian ? value.byteSwapped : value
        }

        func u32(_ offset: Int) -> UInt32? {
            guard contains(offset, 4) else { return nil }
            var value: UInt32 = 0
            for index in 0..<4 { value |= UInt32(bytes[offset + index]) << (8 * UInt32(index)) }
            return bigEndian ? value.byteSwapped : value
        }

        func u64(_ offset: Int) -> UInt64? {
            guard contains(offset, 8) else { return nil }
            var value: UInt64 = 0
            for index in 0..<8 { value |= UInt64(bytes[offset + index]) << (8 * UInt64(index)) }
            return bigEndian ? value.byteSwapped : value
        }

        /// A `MINIDUMP_STRING` (u32 byte length, then UTF-16), at most 256 code units read.
        func string(_ offset: Int) -> String? {
            guard let length = u32(offset), length % 2 == 0 else { return nil }
            let units = min(Int(length) / 2, 256)
            var text: [UInt16] = []
            text.reserveCapacity(units)
            for index in 0..<units {
                guard let unit = u16(offset + 4 + index * 2) else { return nil }
                if unit == 0 { break }
                text.append(unit)
            }
            var string = Substring(String(decoding: text, as: UTF16.self))
            while string.first == " " { string = string.dropFirst() }
            while string.last == " " { string = string.dropLast() }
            return String(string)
        }
    }
}
