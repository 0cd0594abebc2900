import PitIngest
import Testing

/// The minidump reader on hand-built dumps: crash reasons named as Sentry names them per OS,
/// both byte orders, and truncated or hostile dumps read without a crash or an out-of-bounds read.
@Suite struct MinidumpReaderTests {
    @Test func linuxSegfault() throws {
        let dump = MinidumpBuilder.dump(crash: .init(code: 11, flags: 1, address: 0xdead))
        let info = try #require(MinidumpReader.read(dump))
        #expect(info.os == .linux && info.cpuArchitecture == "x86_64" && info.osVersion == "5.15.0")
        #expect(info.osBuild == "Linux 5.15.0 #1 SMP x86_64")
        #expect(info.exception?.threadID == 7 && info.exception?.address == 0xdead)
        #expect(info.crashReason == "SIGSEGV / SEGV_MAPERR")
    }

    @Test(arguments: [
        (UInt32(0x8201), UInt32(6), UInt32(0), [UInt64](), "SIGABRT"),
        (0x8203, 7, 2, [], "SIGBUS / BUS_ADRERR"),
        (0x8201, 8, 1, [], "SIGFPE / FPE_INTDIV"),
        (0x8201, 4, 1, [], "SIGILL / ILL_ILLOPC"),
        (0x8201, 11, 0, [], "SIGSEGV / SI_USER"),
        (2, 0xC000_0005, 0, [0, 0x10], "EXCEPTION_ACCESS_VIOLATION_READ"),
        (2, 0xC000_0005, 0, [1, 0x10], "EXCEPTION_ACCESS_VIOLATION_WRITE"),
        (2, 0xC000_0005, 0, [8, 0x10], "EXCEPTION_ACCESS_VIOLATION_EXEC"),
        (2, 0xC000_00FD, 0, [], "EXCEPTION_STACK_OVERFLOW"),
        (2, 0x8000_0003, 0, [], "EXCEPTION_BREAKPOINT"),
        (2, 0x1234_5678, 0, [], "0x12345678"),
        (0x8101, 1, 1, [], "EXC_BAD_ACCESS / KERN_INVALID_ADDRESS"),
        (0x8102, 6, 0, [], "EXC_BREAKPOINT"),
        (0x8101, 99, 0, [], "0x00000063"),
    ])
    func crashReasonsByOS(platform: UInt32, code: UInt32, flags: UInt32, parameters: [UInt64], expected: String) throws {
        let dump = MinidumpBuilder.dump(platform: platform, crash: .init(code: code, flags: flags, parameters: parameters))
        #expect(try #require(MinidumpReader.read(dump)).crashReason == expected)
    }

    @Test func bigEndianDump() throws {
        let dump = MinidumpBuilder.dump(
            platform: 2, architecture: 12, csd: "Service Pack 1", crash: .init(code: 0xC000_0094), bigEndian: true)
        let info = try #require(MinidumpReader.read(dump))
        #expect(info.bigEndian && info.os == .windows && info.cpuArchitecture == "arm64" && info.osBuild == "Service Pack 1")
        #expect(info.crashReason == "EXCEPTION_INT_DIVIDE_BY_ZERO")
    }

    @Test func dumpWithoutExceptionStream() throws {
        let info = try #require(MinidumpReader.read(MinidumpBuilder.dump(crash: nil)))
        #expect(info.exception == nil && info.crashReason == nil && info.os == .linux)
    }

    @Test func notMinidumps() {
        #expect(MinidumpReader.read([UInt8]()) == nil)
        #expect(MinidumpReader.read(Array("MDMP".utf8)) == nil)
        #expect(MinidumpReader.read(Array(repeating: 0x41, count: 100)) == nil)
        var badVersion = MinidumpBuilder.dump(crash: .init(code: 11))
        badVersion[4] = 0
        #expect(MinidumpReader.read(badVersion) == nil)
        #expect(MinidumpReader.hasSignature(Array("PMDMxx".utf8)) && !MinidumpReader.hasSignature(Array("MDM".utf8)))
    }

    /// Every prefix of a valid dump: the header and directory must be whole, streams that are cut
    /// off are left out, and nothing reads past the end.
    @Test func everyTruncationIsReadSafely() {
        let dump = MinidumpBuilder.dump(crash: .init(code: 11, flags: 1, parameters: [1, 2, 3]))
        for length in 0..<dump.count {
            let info = MinidumpReader.read(Array(dump.prefix(length)))
            if length < 32 { #expect(info == nil) }
            if let info, info.exception != nil { #expect(length == dump.count || info.exception?.code == 11) }
        }
        #expect(MinidumpReader.read(dump)?.exception != nil)
    }

    @Test func hostileDirectories() {
        var dump = MinidumpBuilder.dump(crash: .init(code: 11))
        func set(_ offset: Int, _ value: UInt32) {
            for index in 0..<4 { dump[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(index))) }
        }
        let original = dump
        // Stream count far past the file, and past the reader's own cap.
        set(8, 1000)
        #expect(MinidumpReader.read(dump) == nil)
        set(8, UInt32.max)
        #expect(MinidumpReader.read(dump) == nil)
        // Directory RVA past the end, and at the very end of the address space.
        dump = original
        set(12, UInt32.max - 4)
        #expect(MinidumpReader.read(dump) == nil)
        // A stream whose RVA + size overflows 32 bits, and one past the end: skipped.
        dump = original
        set(32 + 4, UInt32.max)
        set(32 + 8, UInt32.max - 8)
        set(44 + 8, UInt32(dump.count - 10))
        let info = MinidumpReader.read(dump)
        #expect(info != nil && info?.os == nil && info?.exception == nil)
        // A CSD string RVA out of bounds and a string length far larger than the file.
        dump = original
        set(56 + 24, UInt32.max)
        #expect(MinidumpReader.read(dump)?.osBuild == nil)
        dump = original
        set(56 + 56, UInt32.max - 1)
        #expect(MinidumpReader.read(dump)?.os == .linux)
        // An exception stream claiming more than 15 parameters reads at most 15.
        dump = original
        let exception = dump.count - 168
        set(exception + 32, UInt32.max)
        #expect(MinidumpReader.read(dump)?.exception?.parameters.count == 15)
    }

    /// Random byte flips over a valid dump, with a fixed seed: any result, never a trap.
    @Test func mutatedDumpsNeverTrap() {
        var generator = SplitMix(seed: 0x5EED)
        let dump = MinidumpBuilder.dump(crash: .init(code: 0xC000_0005, parameters: [1, 2]))
        for _ in 0..<3000 {
            var copy = dump
            for _ in 0..<Int(generator.next() % 8 + 1) {
                copy[Int(generator.next() % UInt64(copy.count))] = UInt8(truncatingIfNeeded: generator.next())
            }
            if generator.next() % 4 == 0 { copy = Array(copy.prefix(Int(generator.next() % UInt64(copy.count)))) }
            _ = MinidumpReader.read(copy)
        }
    }
}

struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
