package import PitModel

/// One stored attachment's metadata (`ReadStore.attachments`), without its bytes.
package struct AttachmentRow: Sendable, Equatable {
    package var id: Int64
    package var projectID: Int64
    package var eventID: EventID
    package var name: String
    /// `event.attachment`, `event.minidump`, `event.view_hierarchy`, ...
    package var type: String
    package var contentType: String?
    /// Bytes as sent.
    package var size: Int64
    /// SHA-1 of the bytes as sent, lowercase hex.
    package var sha1: String
    /// Milliseconds since the epoch.
    package var received: Int64

    package init(
        id: Int64, projectID: Int64, eventID: EventID, name: String, type: String, contentType: String?, size: Int64, sha1: String,
        received: Int64
    ) {
        self.id = id
        self.projectID = projectID
        self.eventID = eventID
        self.name = name
        self.type = type
        self.contentType = contentType
        self.size = size
        self.sha1 = sha1
        self.received = received
    }

    /// The content type a download is served with: the one the SDK sent, else by file name.
    package var mimeType: String {
        if let contentType, !contentType.isEmpty { return contentType }
        let lower = name.lowercased()
        if lower.hasSuffix(".json") { return "application/json" }
        if lower.hasSuffix(".txt") || lower.hasSuffix(".log") { return "text/plain" }
        if lower.hasSuffix(".png") { return "image/png" }
        if lower.hasSuffix(".jpg") || lower.hasSuffix(".jpeg") { return "image/jpeg" }
        if type == "event.minidump" { return "application/x-dmp" }
        return "application/octet-stream"
    }

    /// A screenshot a page may show inline: a PNG, JPEG, GIF or WebP image (never SVG, which can
    /// carry script).
    package var isInlineImage: Bool {
        let type = mimeType.lowercased()
        return type.hasPrefix("image/png") || type.hasPrefix("image/jpeg") || type.hasPrefix("image/gif") || type.hasPrefix("image/webp")
    }

    /// Sentry shows images whose name starts with `screenshot` as screenshots.
    package var isScreenshot: Bool { isInlineImage && name.lowercased().hasPrefix("screenshot") }
}

/// An attachment's bytes as stored (`ReadStore.attachmentContent`).
package struct StoredAttachmentContent: Sendable {
    package var size: Int64
    package var compressed: Bool
    package var bytes: [UInt8]

    package init(size: Int64, compressed: Bool, bytes: [UInt8]) {
        self.size = size
        self.compressed = compressed
        self.bytes = bytes
    }

    /// The bytes as sent; throws `PayloadCodecError` when a compressed frame is corrupt or
    /// inflates past the recorded size.
    package func decoded() throws -> [UInt8] {
        guard compressed else { return bytes }
        return try PayloadCodec.decompress(bytes, limit: Int(clamping: size))
    }
}
