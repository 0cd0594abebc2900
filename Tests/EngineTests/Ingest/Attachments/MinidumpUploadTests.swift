import Foundation
import NIOCore
import PitIngest
import PitModel
import Testing

/// The minidump endpoint's body: multipart parsing, `sentry` JSON and `sentry[...]` bracket
/// fields, extra files, raw and gzip'ed dumps, and the refusals (400 / 413).
@Suite struct MinidumpUploadTests {
    static let dump = MinidumpBuilder.dump(crash: .init(code: 11, flags: 1))

    static func form(_ parts: [(String, String?, String?, [UInt8])], boundary: String = "XyZ", lineBreak: String = "\r\n")
        -> ByteBuffer
    {
        var out: [UInt8] = Array("preamble\(lineBreak)".utf8)
        for (name, filename, contentType, body) in parts {
            var header = "--\(boundary)\(lineBreak)Content-Disposition: form-data; name=\"\(name)\""
            if let filename { header += "; filename=\"\(filename)\"" }
            header += lineBreak
            if let contentType { header += "Content-Type: \(contentType)\(lineBreak)" }
            out += Array((header + lineBreak).utf8) + body + Array(lineBreak.utf8)
        }
        out += Array("--\(boundary)--\(lineBreak)".utf8)
        return ByteBuffer(bytes: out)
    }

    static func status(_ body: ByteBuffer, contentType: String?, limits: IngestLimits = IngestLimits()) -> Int? {
        do {
            _ = try MinidumpUpload.parse(body, contentType: contentType, limits: limits)
            return nil
        } catch {
            return error.status
        }
    }

    @Test func multipartWithBracketFieldsAndFiles() throws {
        let body = Self.form([
            ("sentry[release]", nil, nil, Array("app@1.2".utf8)),
            ("sentry[tags][foo]", nil, nil, Array("bar".utf8)),
            ("sentry[user][id]", nil, nil, Array("42".utf8)),
            ("sentry[level]", nil, nil, Array("error".utf8)),
            ("upload_file_minidump", "crash.dmp", "application/octet-stream", Self.dump),
            ("log", "app.log", "text/plain", Array("line 1\r\n--XyZ is not a boundary mid-line\r\nline 3".utf8)),
            ("prod", nil, nil, Array("ignored".utf8)),
        ])
        let upload = try MinidumpUpload.parse(body, contentType: "multipart/form-data; boundary=XyZ", limits: IngestLimits())
        #expect(Array(upload.minidump.body.readableBytesView) == Self.dump && upload.minidump.name == "crash.dmp")
        #expect(upload.attachments.map(\.name) == ["app.log"])
        #expect(String(buffer: upload.attachments[0].body) == "line 1\r\n--XyZ is not a boundary mid-line\r\nline 3")
        #expect(upload.event.fields["release"] as? String == "app@1.2")
        #expect((upload.event.fields["tags"] as? [String: Any])?["foo"] as? String == "bar")
        #expect((upload.event.fields["user"] as? [String: Any])?["id"] as? String == "42")

        let info = MinidumpReader.read(Self.dump)
        let id = EventID(String(repeating: "c", count: 32))!
        let payload = MinidumpEvent.payload(upload.event, info: info, eventID: id)
        let event = try #require(MinidumpEvent.object(json: payload))
        #expect(event["platform"] as? String == "native" && event["level"] as? String == "error" && event["event_id"] as? String == id.hex)
        let exception = try #require(((event["exception"] as? [String: Any])?["values"] as? [[String: Any]])?.first)
        #expect(exception["type"] as? String == "SIGSEGV / SEGV_MAPERR")
        #expect(exception["value"] as? String == "Fatal Error: SIGSEGV / SEGV_MAPERR")
        #expect((exception["mechanism"] as? [String: Any])?["type"] as? String == "minidump")
        let os = (event["contexts"] as? [String: Any])?["os"] as? [String: Any]
        #expect(os?["name"] as? String == "Linux")
    }

    @Test func sentryJSONFieldAndBareLineBreaks() throws {
        let event = #"{"event_id":"\#(String(repeating: "d", count: 32))","release":"r9","tags":{"a":"b"}}"#
        let body = Self.form(
            [("sentry", nil, "application/json", Array(event.utf8)), ("upload_file_minidump", "m.dmp", nil, Self.dump)], boundary: "b-1",
            lineBreak: "\n")
        let upload = try MinidumpUpload.parse(body, contentType: "multipart/form-data; boundary=\"b-1\"", limits: IngestLimits())
        #expect(MinidumpEvent.eventID(of: upload.event, header: nil).hex == String(repeating: "d", count: 32))
        #expect(upload.event.fields["release"] as? String == "r9")
        #expect(Array(upload.minidump.body.readableBytesView) == Self.dump)
    }

    @Test func rawAndGzippedBodies() throws {
        let raw = try MinidumpUpload.parse(ByteBuffer(bytes: Self.dump), contentType: "application/octet-stream", limits: IngestLimits())
        #expect(Array(raw.minidump.body.readableBytesView) == Self.dump && raw.attachments.isEmpty)
        let gzipped = try Self.gzip(Self.dump)
        let inflated = try MinidumpUpload.parse(ByteBuffer(bytes: gzipped), contentType: "application/x-dmp", limits: IngestLimits())
        #expect(Array(inflated.minidump.body.readableBytesView) == Self.dump)
        let inForm = try MinidumpUpload.parse(
            Self.form([("upload_file_minidump", "m.dmp.gz", nil, gzipped)]), contentType: "multipart/form-data; boundary=XyZ",
            limits: IngestLimits())
        #expect(Array(inForm.minidump.body.readableBytesView) == Self.dump)
    }

    @Test func refusals() throws {
        let multipart = "multipart/form-data; boundary=XyZ"
        #expect(Self.status(ByteBuffer(), contentType: nil) == 400)
        #expect(Self.status(ByteBuffer(string: "not a dump"), contentType: "application/octet-stream") == 400)
        #expect(Self.status(Self.form([("other", "x.txt", nil, [1, 2])]), contentType: multipart) == 400, "no minidump field")
        #expect(Self.status(Self.form([("upload_file_minidump", "x", nil, Array("ELF".utf8))]), contentType: multipart) == 400)
        #expect(Self.status(Self.form([("upload_file_minidump", "x", nil, [])]), contentType: multipart) == 400)
        #expect(
            Self.status(ByteBuffer(string: "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx"), contentType: multipart) == 400)
        #expect(Self.status(ByteBuffer(string: "no boundary at all"), contentType: multipart) == 400)
        #expect(
            Self.status(
                Self.form([("sentry", nil, nil, Array("[1]".utf8)), ("upload_file_minidump", "m", nil, Self.dump)]), contentType: multipart)
                == 400)
        #expect(
            Self.status(
                Self.form([("upload_file_minidump", "m", nil, Self.dump), ("upload_file_minidump", "m", nil, Self.dump)]),
                contentType: multipart)
                == 400)
        var small = IngestLimits()
        small.maxAttachmentBytes = 100
        #expect(Self.status(ByteBuffer(bytes: Self.dump), contentType: nil, limits: small) == 413)
        #expect(Self.status(ByteBuffer(bytes: try Self.gzip(Self.dump)), contentType: nil, limits: small) == 413, "bounded inflation")
        var few = IngestLimits()
        few.maxAttachmentCount = 2
        let files = (0..<3).map { ("f\($0)", "f\($0).txt" as String?, nil as String?, [UInt8](repeating: 1, count: 3)) }
        #expect(Self.status(Self.form([("upload_file_minidump", "m", nil, Self.dump)] + files), contentType: multipart, limits: few) == 413)
        let manyParts = (0..<300).map { ("x\($0)", nil as String?, nil as String?, [UInt8]()) }
        #expect(Self.status(Self.form(manyParts), contentType: multipart) == 413)
    }

    @Test func headerParameters() {
        let fields = HeaderParameters.split(#"form-data; name="a\"b"; filename=c.txt ;x"#)
        #expect(fields.map(\.name) == ["form-data", "name", "filename", "x"])
        #expect(fields[1].value == "a\"b" && fields[2].value == "c.txt")
        #expect(MultipartForm.boundary(contentType: "multipart/form-data; charset=utf-8; boundary=----abc") == "----abc")
        #expect(MultipartForm.boundary(contentType: "application/json") == nil)
        #expect(MultipartForm.boundary(contentType: "multipart/form-data") == nil)
    }

    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] { Fixtures.gzip(bytes) }
}
