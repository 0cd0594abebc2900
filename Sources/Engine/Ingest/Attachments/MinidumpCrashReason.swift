/// A minidump's exception code and flags named as Sentry shows them (rust-minidump's
/// `CrashReason`, which Symbolicator puts in the event's exception type): a signal and its
/// `si_code` on Linux and Android, a Mach exception and its code on Apple systems, an NTSTATUS
/// on Windows, hexadecimal when unknown.
package enum MinidumpCrashReason {
    package static func name(of exception: MinidumpInfo.Exception, os: MinidumpInfo.OperatingSystem?) -> String {
        switch os {
        case .linux, .android, .solaris, .unix, .fuchsia, .nacl, .ps3:
            return signal(exception.code, code: exception.flags) ?? hex(exception.code)
        case .macOS, .iOS:
            return mach(exception.code, code: exception.flags) ?? hex(exception.code)
        case .windows, nil:
            return windows(exception) ?? hex(exception.code)
        }
    }

    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    /// POSIX signal numbers as Linux numbers them, with the `si_code` names of the signals that
    /// have them.
    static func signal(_ number: UInt32, code: UInt32) -> String? {
        let names: [UInt32: String] = [
            1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE",
            9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM",
            16: "SIGSTKFLT", 17: "SIGCHLD", 24: "SIGXCPU", 25: "SIGXFSZ", 31: "SIGSYS",
        ]
        guard let name = names[number] else { return nil }
        let codes: [String]
        switch number {
        case 11: codes = ["", "SEGV_MAPERR", "SEGV_ACCERR", "SEGV_BNDERR", "SEGV_PKUERR"]
        case 7: codes = ["", "BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR", "BUS_MCEERR_AR", "BUS_MCEERR_AO"]
        case 8:
            codes = ["", "FPE_INTDIV", "FPE_INTOVF", "FPE_FLTDIV", "FPE_FLTOVF", "FPE_FLTUND", "FPE_FLTRES", "FPE_FLTINV", "FPE_FLTSUB"]
        case 4:
            codes = ["", "ILL_ILLOPC", "ILL_ILLOPN", "ILL_ILLADR", "ILL_ILLTRP", "ILL_PRVOPC", "ILL_PRVREG", "ILL_COPROC", "ILL_BADSTK"]
        case 5: codes = ["", "TRAP_BRKPT", "TRAP_TRACE"]
        default: codes = []
        }
        if Int(code) < codes.count, !codes[Int(code)].isEmpty { return "\(name) / \(codes[Int(code)])" }
        if number == 11 || number == 7 || number == 8 || number == 4, code == 0 { return "\(name) / SI_USER" }
        return name
    }

    /// Mach exception types (`EXC_*`) with the `KERN_*` codes of a bad access.
    static func mach(_ type: UInt32, code: UInt32) -> String? {
        let names: [UInt32: String] = [
            1: "EXC_BAD_ACCESS", 2: "EXC_BAD_INSTRUCTION", 3: "EXC_ARITHMETIC", 4: "EXC_EMULATION", 5: "EXC_SOFTWARE",
            6: "EXC_BREAKPOINT", 7: "EXC_SYSCALL", 8: "EXC_MACH_SYSCALL", 9: "EXC_RPC_ALERT", 10: "EXC_CRASH", 11: "EXC_RESOURCE",
            12: "EXC_GUARD", 13: "EXC_CORPSE_NOTIFY",
        ]
        guard let name = names[type] else { return nil }
        if type == 1 {
            let kern: [UInt32: String] = [
                1: "KERN_INVALID_ADDRESS", 2: "KERN_PROTECTION_FAILURE", 8: "KERN_NO_ACCESS", 10: "KERN_MEMORY_FAILURE",
                11: "KERN_MEMORY_ERROR", 13: "KERN_CODESIGN_ERROR",
            ]
            if let reason = kern[code] { return "\(name) / \(reason)" }
        }
        if type == 5, code == 0x10003 { return "\(name) / SIGABRT" }
        return name
    }

    /// NTSTATUS exception codes; an access violation says read, write or execute by its first
    /// parameter.
    static func windows(_ exception: MinidumpInfo.Exception) -> String? {
        if exception.code == 0xC000_0005 {
            switch exception.parameters.first {
            case 0: return "EXCEPTION_ACCESS_VIOLATION_READ"
            case 1: return "EXCEPTION_ACCESS_VIOLATION_WRITE"
            case 8: return "EXCEPTION_ACCESS_VIOLATION_EXEC"
            default: return "EXCEPTION_ACCESS_VIOLATION"
            }
        }
        let names: [UInt32: String] = [
            0x8000_0002: "EXCEPTION_DATATYPE_MISALIGNMENT", 0x8000_0003: "EXCEPTION_BREAKPOINT", 0x8000_0004: "EXCEPTION_SINGLE_STEP",
            0xC000_0006: "EXCEPTION_IN_PAGE_ERROR", 0xC000_0008: "EXCEPTION_INVALID_HANDLE",
            0xC000_001D: "EXCEPTION_ILLEGAL_INSTRUCTION", 0xC000_0025: "EXCEPTION_NONCONTINUABLE_EXCEPTION",
            0xC000_0026: "EXCEPTION_INVALID_DISPOSITION", 0xC000_008C: "EXCEPTION_ARRAY_BOUNDS_EXCEEDED",
            0xC000_008D: "EXCEPTION_FLT_DENORMAL_OPERAND", 0xC000_008E: "EXCEPTION_FLT_DIVIDE_BY_ZERO",
            0xC000_008F: "EXCEPTION_FLT_INEXACT_RESULT", 0xC000_0090: "EXCEPTION_FLT_INVALID_OPERATION",
            0xC000_0091: "EXCEPTION_FLT_OVERFLOW", 0xC000_0092: "EXCEPTION_FLT_STACK_CHECK", 0xC000_0093: "EXCEPTION_FLT_UNDERFLOW",
            0xC000_0094: "EXCEPTION_INT_DIVIDE_BY_ZERO", 0xC000_0095: "EXCEPTION_INT_OVERFLOW",
            0xC000_0096: "EXCEPTION_PRIV_INSTRUCTION", 0xC000_00FD: "EXCEPTION_STACK_OVERFLOW",
            0xC000_0409: "EXCEPTION_STACK_BUFFER_OVERRUN", 0xC000_0374: "EXCEPTION_HEAP_CORRUPTION",
            0xC000_0602: "EXCEPTION_UNKNOWN_ERROR", 0xC000_0420: "EXCEPTION_ASSERTION_FAILURE",
            0xE06D_7363: "Unhandled C++ Exception", 0x4000_0015: "STATUS_FATAL_APP_EXIT",
            0xC000_0135: "STATUS_DLL_NOT_FOUND", 0xC000_0142: "STATUS_DLL_INIT_FAILED",
        ]
        return names[exception.code]
    }
}
