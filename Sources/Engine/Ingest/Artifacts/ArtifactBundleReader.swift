import Crypto
package import PitStorage

/// Reads an artifact bundle as sentry-cli builds it: a zip whose `manifest.json` names each
/// file (`files: {"<path in the zip>": {url, type, headers}}`) and the bundle's release and dist.
/// Files of a type the resolver has no use for are left out; debug ids are lower-cased, as
/// lookups ask for them.
package enum ArtifactBundleReader {
    /// What a bundle may inflate to in all.
    package static let maxTotalBytes = 512 * 1024 * 1024

    package struct Failure: Error, Equatable, CustomStringConvertible {
        package var description: String
        init(_ description: String) { self.description = description }
    }

    package static func read(_ zip: [UInt8], checksum: String) throws(Failure) -> ArtifactBundleUpload {
        let archive: ZipArchive
        do {
            archive = try ZipArchive(zip, maxTotalBytes: maxTotalBytes)
        } catch {
            throw Failure("the bundle is not a readable zip: \(error.description)")
        }
        guard let manifest = archive["manifest.json"] else { throw Failure("the bundle has no manifest.json") }
        let parsed: Result<ArtifactBundleUpload, Failure> = manifest.contents.withUnsafeBytes { raw in
            guard let tape = try? JSONTape.parse(raw), tape[0].kind == .object else {
                return .failure(Failure("manifest.json is not a JSON object"))
            }
            let json = JSONView(tape: tape, bytes: raw)
            let release = json.string(json.member(0, "release")).flatMap { $0.isEmpty ? nil : $0 }
            let dist = json.string(json.member(0, "dist")).flatMap { $0.isEmpty ? nil : $0 }
            let bundleID = json.string(json.member(0, "debug_id"))?.lowercased()
            var files: [ArtifactFile] = []
            var missing: String?
            if let entries = json.member(0, "files") {
                json.forEachMember(entries) { key, value in
                    guard let path = json.string(key), let url = json.string(json.member(value, "url")),
                        let type = json.string(json.member(value, "type")).flatMap(ArtifactFileType.init(rawValue:))
                    else { return }
                    guard let entry = archive[path] else {
                        missing = path
                        return
                    }
                    var headers: [String: String] = [:]
                    if let object = json.member(value, "headers") {
                        json.forEachMember(object) { name, text in
                            guard let name = json.string(name), let text = json.scalarText(text), !text.contains("\n") else { return }
                            headers[name.lowercased()] = text
                        }
                    }
                    let debugID = (headers["debug-id"] ?? headers["debug_id"])?.lowercased()
                    files.append(
                        ArtifactFile(url: url, type: type, debugID: debugID, headers: headers, bundleID: 0, contents: entry.contents))
                }
            }
            if let missing { return .failure(Failure("manifest.json names \(missing), which the bundle does not hold")) }
            return .success(
                ArtifactBundleUpload(
                    checksum: checksum, bundleUUID: bundleID ?? uuid(fromChecksum: checksum), release: release, dist: dist,
                    size: Int64(zip.count), files: files))
        }
        return try parsed.get()
    }

    /// A UUID-shaped id from the zip's SHA-1, for a manifest without `debug_id`: the same bundle
    /// gets the same id wherever it is uploaded.
    static func uuid(fromChecksum checksum: String) -> String {
        let hex = Array(checksum.prefix(32))
        guard hex.count == 32 else { return checksum }
        return [hex[0..<8], hex[8..<12], hex[12..<16], hex[16..<20], hex[20..<32]].map { String($0) }.joined(separator: "-")
    }

    /// SHA-1 as lower-case hex: how sentry-cli names chunks and whole files.
    package static func sha1Hex(_ bytes: some Sequence<UInt8>) -> String {
        var hasher = Insecure.SHA1()
        hasher.update(data: Array(bytes))
        return hasher.finalize().map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
