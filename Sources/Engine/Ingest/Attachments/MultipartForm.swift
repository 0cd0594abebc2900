package import NIOCore
package import PitModel

/// A `multipart/form-data` body (RFC 7578), as crash reporters upload minidumps: each part's
/// name, file name, content type and bytes. Parts are slices of the body (no copy). Bounded: at
/// most `maxParts` parts and 16 KiB of headers per part; anything malformed is a 400.
package struct MultipartForm {
    package struct Part {
        package var name: String
        package var filename: String?
        package var contentType: String?
        package var body: ByteBuffer
    }

    package var parts: [Part]

    package static let maxHeaderBytes = 16 * 1024

    /// The `boundary` parameter of a `multipart/form-data` content type; nil for any other type.
    package static func boundary(contentType: String?) -> String? {
        guard let contentType else { return nil }
        let fields = HeaderParameters.split(contentType)
        guard let type = fields.first?.name, type.lowercased() == "multipart/form-data" else { return nil }
        guard let boundary = fields.dropFirst().first(where: { $0.name.lowercased() == "boundary" })?.value,
            !boundary.isEmpty, boundary.utf8.count <= 200
        else { return nil }
        return boundary
    }

    package static func parse(_ body: ByteBuffer, boundary: String, maxParts: Int) throws(IngestError) -> MultipartForm {
        let delimiter = Array("--\(boundary)".utf8)
        var parts: [Part] = []
        let result: Result<[Part], IngestError> = body.withUnsafeReadableBytes { raw in
            do throws(IngestError) {
                // The first delimiter may open the body or follow a preamble line.
                guard var position = find(delimiter, in: raw, from: 0) else {
                    throw IngestError.badRequest("multipart body without its boundary")
                }
                while true {
                    position += delimiter.count
                    // "--" after a delimiter closes the body.
                    if position + 1 < raw.count, raw[position] == UInt8(ascii: "-"), raw[position + 1] == UInt8(ascii: "-") { break }
                    // Transport padding, then the line break that ends the delimiter line.
                    while position < raw.count, raw[position] == UInt8(ascii: " ") || raw[position] == UInt8(ascii: "\t") {
                        position += 1
                    }
                    guard let afterLine = lineEnd(raw, position), afterLine.start == position else {
                        throw IngestError.badRequest("malformed multipart delimiter")
                    }
                    position = afterLine.next
                    var headers: [(String, String)] = []
                    let headerStart = position
                    while true {
                        guard let line = lineEnd(raw, position) else { throw IngestError.badRequest("truncated multipart headers") }
                        if line.start == position {
                            position = line.next
                            break
                        }
                        guard line.next - headerStart <= maxHeaderBytes else {
                            throw IngestError.badRequest("multipart part headers too long")
                        }
                        let text = String(decoding: UnsafeRawBufferPointer(rebasing: raw[position..<line.start]), as: UTF8.self)
                        if let colon = text.firstIndex(of: ":") {
                            headers.append(
                                (String(text[..<colon]).lowercased(), String(text[text.index(after: colon)...]).trimmingSpaces))
                        }
                        position = line.next
                    }
                    guard let end = find(delimiter, in: raw, from: position) else {
                        throw IngestError.badRequest("multipart body without its closing boundary")
                    }
                    // The line break before the delimiter belongs to it, not to the part.
                    var bodyEnd = end
                    if bodyEnd > position, raw[bodyEnd - 1] == UInt8(ascii: "\n") { bodyEnd -= 1 }
                    if bodyEnd > position, raw[bodyEnd - 1] == UInt8(ascii: "\r") { bodyEnd -= 1 }
                    guard parts.count < maxParts else { throw IngestError.tooLarge("too many multipart fields") }
                    guard let disposition = headers.first(where: { $0.0 == "content-disposition" })?.1 else {
                        throw IngestError.badRequest("multipart part without Content-Disposition")
                    }
                    let fields = HeaderParameters.split(disposition)
                    guard let name = fields.dropFirst().first(where: { $0.name.lowercased() == "name" })?.value else {
                        throw IngestError.badRequest("multipart part without a name")
                    }
                    let filename = fields.dropFirst().first(where: { $0.name.lowercased() == "filename" })?.value
                    let contentType = headers.first(where: { $0.0 == "content-type" })?.1
                    parts.append(
                        Part(
                            name: name, filename: filename, contentType: contentType,
                            body: body.getSlice(at: body.readerIndex + position, length: bodyEnd - position) ?? ByteBuffer()))
                    position = end
                }
                return .success(parts)
            } catch {
                return .failure(error)
            }
        }
        return MultipartForm(parts: try result.get())
    }

    /// The next line break at or after `from`: where it starts and where the next line begins
    /// (CRLF or a bare LF).
    private static func lineEnd(_ raw: UnsafeRawBufferPointer, _ from: Int) -> (start: Int, next: Int)? {
        var index = from
        while index < raw.count {
            if raw[index] == UInt8(ascii: "\n") {
                let start = index > from && raw[index - 1] == UInt8(ascii: "\r") ? index - 1 : index
                return (start, index + 1)
            }
            index += 1
        }
        return nil
    }

    /// What may follow a boundary for it to be a delimiter (RFC 2046): `--` (the last one), or
    /// optional spaces and the line break; "--boundary and more text" is content.
    private static func isDelimiterEnd(_ raw: UnsafeRawBufferPointer, _ position: Int) -> Bool {
        if position + 1 < raw.count, raw[position] == UInt8(ascii: "-"), raw[position + 1] == UInt8(ascii: "-") { return true }
        var index = position
        while index < raw.count, raw[index] == UInt8(ascii: " ") || raw[index] == UInt8(ascii: "\t") { index += 1 }
        return index == raw.count || raw[index] == UInt8(ascii: "\r") || raw[index] == UInt8(ascii: "\n")
    }

    /// The first delimiter (`needle` at the start of the body or of a line, see
    /// `isDelimiterEnd`) at or after `from`.
    private static func find(_ needle: [UInt8], in raw: UnsafeRawBufferPointer, from: Int) -> Int? {
        guard let first = needle.first, raw.count >= needle.count else { return nil }
        var index = from
        let last = raw.count - needle.count
        while index <= last {
            if raw[index] == first, index == 0 || raw[index - 1] == UInt8(ascii: "\n") {
                var matches = true
                for offset in 1..<needle.count where raw[index + offset] != needle[offset] {
                    matches = false
                    break
                }
                if matches && isDelimiterEnd(raw, index + needle.count) { return index }
            }
            index += 1
        }
        return nil
    }
}

/// `type/subtype; name=value; name="quoted value"` split into its first token and parameters.
package enum HeaderParameters {
    package static func split(_ header: String) -> [(name: String, value: String)] {
        var result: [(name: String, value: String)] = []
        var bytes = Array(header.utf8)[...]
        func skipSpaces() { while let byte = bytes.first, byte == 0x20 || byte == 0x09 { bytes = bytes.dropFirst() } }
        skipSpaces()
        let firstEnd = bytes.firstIndex(of: UInt8(ascii: ";")) ?? bytes.endIndex
        result.append((String(decoding: bytes[..<firstEnd], as: UTF8.self).trimmingSpaces, ""))
        bytes = bytes[firstEnd...]
        while bytes.first == UInt8(ascii: ";") {
            bytes = bytes.dropFirst()
            skipSpaces()
            let nameEnd = bytes.firstIndex { $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: ";") } ?? bytes.endIndex
            let name = String(decoding: bytes[..<nameEnd], as: UTF8.self).trimmingSpaces
            bytes = bytes[nameEnd...]
            var value: [UInt8] = []
            if bytes.first == UInt8(ascii: "=") {
                bytes = bytes.dropFirst()
                skipSpaces()
                if bytes.first == UInt8(ascii: "\"") {
                    bytes = bytes.dropFirst()
                    while let byte = bytes.first, byte != UInt8(ascii: "\"") {
                        bytes = bytes.dropFirst()
                        if byte == UInt8(ascii: "\\"), let escaped = bytes.first {
                            value.append(escaped)
                            bytes = bytes.dropFirst()
                        } else {
                            value.append(byte)
                        }
                    }
                    bytes = bytes.dropFirst()
                    let next = bytes.firstIndex(of: UInt8(ascii: ";")) ?? bytes.endIndex
                    bytes = bytes[next...]
                } else {
                    let valueEnd = bytes.firstIndex(of: UInt8(ascii: ";")) ?? bytes.endIndex
                    value = Array(bytes[..<valueEnd])
                    bytes = bytes[valueEnd...]
                }
            }
            if !name.isEmpty { result.append((name, String(decoding: value, as: UTF8.self).trimmingSpaces)) }
        }
        return result
    }
}
