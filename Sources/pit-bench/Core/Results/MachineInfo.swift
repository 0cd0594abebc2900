import Foundation

/// What the run ran on, recorded with every result.
package struct MachineInfo: Sendable, Codable, Equatable {
    package var nproc: Int
    package var memoryBytes: Int
    package var cpuModel: String
    package var kernel: String
    package var hostname: String

    package static func current() -> MachineInfo {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model =
            cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "unknown"
        var name = utsname()
        uname(&name)
        let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return MachineInfo(
            nproc: ProcessInfo.processInfo.activeProcessorCount,
            memoryBytes: Int(ProcessInfo.processInfo.physicalMemory),
            cpuModel: model, kernel: release, hostname: ProcessInfo.processInfo.hostName
        )
    }

    /// `git rev-parse HEAD`, plus `-dirty` when the checkout has changes, of the checkout that
    /// holds this pit-bench binary (`.build/release/pit-bench`), else of the working directory.
    /// The documented rated run starts from an empty folder, outside any checkout, and recorded
    /// "unknown" when only the working directory was asked.
    package static func gitCommit() -> String {
        let binaryFolder = Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent().path
        return binaryFolder.flatMap { gitCommit(in: $0) } ?? gitCommit(in: nil) ?? "unknown"
    }

    private static func gitCommit(in directory: String?) -> String? {
        func git(_ arguments: [String]) -> String? {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["git"] + (directory.map { ["-C", $0] } ?? []) + arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { return nil }
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { return nil }
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let commit = git(["rev-parse", "HEAD"]) else { return nil }
        let dirty = !(git(["status", "--porcelain", "--untracked-files=no"]) ?? "").isEmpty
        return dirty ? commit + "-dirty" : commit
    }
}
