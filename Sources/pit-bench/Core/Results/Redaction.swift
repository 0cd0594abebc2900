package import Foundation

/// Keeps secrets out of what pit-bench records in `results/` and prints. Recorded runs are meant
/// to be committed, and a run against a production pitd would otherwise publish its admin token,
/// its database password or a DSN's secret key.
///
/// Secrets are: the value of an option, setting or environment variable whose name contains
/// `token`, `secret` or `password` (any case), and the password of any URL, which is also where a
/// DSN keeps its secret key (`http://public:secret@host/1`; the public key stays, the SDKs need
/// it). Redacted text keeps its shape (`--token <redacted>`, `postgres://user:***@host/db`), so a
/// recorded command still shows how the run was made.
package enum Redaction {
    package static let placeholder = "<redacted>"
    /// `<` and `>` may not appear in a URL, so a URL keeps parsing with this one.
    package static let urlPlaceholder = "***"

    package static func isSecretName(_ name: some StringProtocol) -> Bool {
        let lowered = name.lowercased()
        return ["token", "secret", "password"].contains { lowered.contains($0) }
    }

    /// A command line from its arguments, joined by spaces as `run.json` records it.
    package static func command(_ arguments: [String]) -> String {
        var redacted: [String] = []
        var valueIsSecret = false
        for argument in arguments {
            // A value that looks like an option means the secret option before it was a flag.
            if valueIsSecret && !argument.hasPrefix("-") {
                redacted.append(placeholder)
                valueIsSecret = false
                continue
            }
            valueIsSecret = false
            if argument.hasPrefix("--") {
                let name = argument.dropFirst(2).prefix { $0 != "=" }
                if isSecretName(name) {
                    if argument.contains("=") {
                        redacted.append("--\(name)=\(placeholder)")
                        continue
                    }
                    valueIsSecret = true
                }
            }
            redacted.append(text(argument))
        }
        return redacted.joined(separator: " ")
    }

    /// pitd settings (`--set key=value`, `PIT_<KEY>`) as recorded in `run.json`.
    package static func settings(_ settings: [String: String]) -> [String: String] {
        settings.reduce(into: [:]) { result, setting in
            result[setting.key] = isSecretName(setting.key) ? placeholder : text(setting.value)
        }
    }

    /// Any text: a command line as recorded (also inside a JSON string, where `/` may be written
    /// `\/`), a settings list, an error message. Used to scrub files recorded before redaction, so
    /// it finds secrets by their surroundings only.
    package static func text(_ text: String) -> String {
        // scheme://user:password@ (`user` is a DSN's public key)
        let urlPassword = #/(?<head>[A-Za-z][A-Za-z0-9+.\-]*:(?:\\?/){2}[^\s/@:"'`\\]*):(?<password>[^\s/@"'`\\]+)@/#
        // --token VALUE, --token=VALUE; a following `-…` is the next option, not a value
        let option =
            #/(?<name>--[A-Za-z0-9_\-]*(?:token|secret|password)[A-Za-z0-9_\-]*)(?<separator>=|[ \t]+)(?<value>[^\s"'`\\\-][^\s"'`\\]*)/#
            .ignoresCase()
        // admin_token=VALUE (`--set`), PIT_ADMIN_TOKEN=VALUE, ?sentry_secret=VALUE&…
        let assignment = #/(?<name>[A-Za-z0-9_.\-]*(?:token|secret|password)[A-Za-z0-9_.\-]*)=(?<value>[^\s"'`\\&]+)/#
            .ignoresCase()
        // "admin_token": "VALUE" in a JSON object
        let jsonMember = #/"(?<name>[^"\\]*(?:token|secret|password)[^"\\]*)"(?<separator>\s*:\s*)"(?:[^"\\]|\\.)*"/#
            .ignoresCase()
        return
            text
            .replacing(urlPassword) { "\($0.head):\(urlPlaceholder)@" }
            .replacing(option) { "\($0.name)\($0.separator)\(placeholder)" }
            .replacing(assignment) { "\($0.name)=\(placeholder)" }
            .replacing(jsonMember) { "\"\($0.name)\"\($0.separator)\"\(placeholder)\"" }
    }

    /// A run as `run.json` holds it and `printSummary` shows it.
    package static func run(_ record: RunRecord) -> RunRecord {
        var record = record
        record.command = text(record.command)
        record.target = text(record.target)
        record.settings = settings(record.settings)
        return record
    }

    /// Rewrites the text files under `directory` (a results directory) that hold a secret, and
    /// returns them. Only the secrets change, so the recorded figures and `report` stay as they were.
    package static func scrub(directory: URL) throws -> [URL] {
        let textFiles: Set = ["json", "md", "csv", "svg", "txt", "log"]
        let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
        var changed: [URL] = []
        for file in files.sorted(by: { $0.path < $1.path }) where textFiles.contains(file.pathExtension.lowercased()) {
            guard let original = try? String(contentsOf: file, encoding: .utf8) else { continue }
            let redacted = text(original)
            guard redacted != original else { continue }
            try redacted.write(to: file, atomically: true, encoding: .utf8)
            changed.append(file)
        }
        return changed
    }

    /// A browse run as `browse.json` and `summary.md` hold it.
    package static func browse(_ record: BrowseBench.Record) -> BrowseBench.Record {
        var record = record
        record.command = text(record.command)
        return record
    }
}
