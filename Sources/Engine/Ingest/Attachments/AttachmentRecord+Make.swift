import Crypto
package import NIOCore
package import PitModel
import PitStorage

extension AttachmentRecord {
    /// The attachment types Relay knows (`AttachmentType`); anything else is kept as sent.
    package static let knownTypes: Set<String> = [
        "event.attachment", "event.minidump", "event.applecrashreport", "event.view_hierarchy", "unreal.context", "unreal.logs",
        "event.payload", "event.breadcrumbs",
    ]

    /// A record of `bytes` with its SHA-1; compressed (zstd) when that saves at least an eighth,
    /// which images and archives do not.
    package static func make(
        _ bytes: ByteBuffer, projectID: Int64, eventID: EventID, name: String?, attachmentType: String?, contentType: String?,
        received: Double
    ) -> AttachmentRecord {
        var hasher = Insecure.SHA1()
        bytes.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
        let sha1 = hasher.finalize().map { byte in
            let digits = String(byte, radix: 16)
            return byte < 16 ? "0" + digits : digits
        }.joined()
        var content: [UInt8]
        var compressed = false
        if bytes.readableBytes >= 64, !Self.isCompressedFormat(contentType, name: name) {
            content = PayloadCodec.compress(bytes)
            compressed = content.count <= bytes.readableBytes - bytes.readableBytes / 8
            if !compressed { content = Array(bytes.readableBytesView) }
        } else {
            content = Array(bytes.readableBytesView)
        }
        let type = attachmentType.flatMap { $0.isEmpty ? nil : $0 } ?? "event.attachment"
        return AttachmentRecord(
            projectID: projectID, eventID: eventID, name: Self.cleanName(name, type: type), attachmentType: type,
            contentType: contentType.flatMap { $0.isEmpty ? nil : String($0.prefix(200)) }, size: bytes.readableBytes, sha1: sha1,
            received: Int64(received * 1000), compressed: compressed, content: content)
    }

    /// A file name as shown and downloaded: no path, no control characters, at most 256
    /// characters; a default by type when none was sent.
    static func cleanName(_ name: String?, type: String) -> String {
        var text = name ?? ""
        if let slash = text.lastIndex(where: { $0 == "/" || $0 == "\\" }) { text = String(text[text.index(after: slash)...]) }
        text = String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map { Character($0) })
        text = String(text.prefix(256))
        if !text.isEmpty { return text }
        switch type {
        case "event.minidump": return "minidump.dmp"
        case "event.applecrashreport": return "crashreport.crash"
        case "event.view_hierarchy": return "view-hierarchy.json"
        default: return "attachment"
        }
    }

    /// Formats that zstd does not shrink.
    static func isCompressedFormat(_ contentType: String?, name: String?) -> Bool {
        let type = contentType?.lowercased() ?? ""
        if type.hasPrefix("image/") && !type.hasPrefix("image/svg") { return true }
        if type.hasPrefix("video/") || type.hasPrefix("audio/") { return true }
        for compressedType in ["application/zip", "application/gzip", "application/x-gzip", "application/zstd", "application/x-7z"]
        where type.hasPrefix(compressedType) {
            return true
        }
        let lower = name?.lowercased() ?? ""
        for suffix in [".png", ".jpg", ".jpeg", ".gif", ".webp", ".zip", ".gz", ".zst", ".7z", ".mp4"] where lower.hasSuffix(suffix) {
            return true
        }
        return false
    }
}
