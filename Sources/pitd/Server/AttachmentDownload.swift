import HTTPTypes
import Hummingbird
import PitModel
import PitStorage

/// An attachment's bytes as an HTTP response, for the API's `?download=1` and the web UI's
/// download and inline-image links. Stored bytes are whatever a client uploaded, so nothing is
/// ever rendered as a page: downloads are `Content-Disposition: attachment`, only PNG, JPEG, GIF
/// and WebP images are served inline, and every answer carries `nosniff` and a sandboxing CSP.
enum AttachmentDownload {
    static func response(_ row: AttachmentRow, content: StoredAttachmentContent, inline: Bool) throws -> Response {
        let bytes: [UInt8]
        do {
            bytes = try content.decoded()
        } catch {
            throw HTTPError(.internalServerError, message: "The stored attachment could not be read.")
        }
        let showInline = inline && row.isInlineImage
        var headers: HTTPFields = [
            .contentType: showInline || !Self.isActiveContent(row.mimeType) ? row.mimeType : "application/octet-stream",
            .contentDisposition: Self.disposition(showInline ? "inline" : "attachment", filename: row.name),
            .contentSecurityPolicy: "default-src 'none'; sandbox",
            .cacheControl: "private, max-age=3600",
        ]
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Types a browser would run even from a download link opened directly.
    static func isActiveContent(_ type: String) -> Bool {
        let lower = type.lowercased()
        return lower.contains("html") || lower.contains("xml") || lower.contains("javascript") || lower.hasPrefix("image/svg")
    }

    /// `attachment; filename="…"; filename*=UTF-8''…`: the quoted name in ASCII with quotes,
    /// backslashes and control characters replaced, the exact name percent-encoded (RFC 6266).
    static func disposition(_ kind: String, filename: String) -> String {
        let ascii = String(
            filename.unicodeScalars.map { scalar -> Character in
                scalar.value < 0x20 || scalar.value >= 0x7F || scalar == "\"" || scalar == "\\" ? "_" : Character(scalar)
            })
        return "\(kind); filename=\"\(ascii)\"; filename*=UTF-8''\(PercentEncoding.component(filename))"
    }
}
