import Foundation
import NIOCore
import PitIngest
import PitModel
import PitStorage
import SQLiteStore
import Testing

/// Attachments and minidumps through the pipeline and the writer into SQLite: committed means
/// stored (metadata row and bytes), attachments sent apart from their event are linked by its
/// id, resends are stored once, and the minidump endpoint stores a native event titled by the
/// dump's exception stream.
@Suite struct AttachmentIngestTests {
    static let eventID = String(repeating: "a", count: 32)
    static let event = #"{"exception":{"values":[{"type":"CheckoutError","value":"card declined"}]}}"#

    /// An envelope; each item's extra header fields are given as JSON members.
    static func envelope(eventID: String?, items: [(header: String, payload: [UInt8])]) -> ByteBuffer {
        var out: [UInt8] = Array((eventID.map { "{\"event_id\":\"\($0)\"}" } ?? "{}").utf8) + [0x0A]
        for item in items {
            out += Array("{\(item.header),\"length\":\(item.payload.count)}\n".utf8) + item.payload + [0x0A]
        }
        return ByteBuffer(bytes: out)
    }

    static func attachment(_ filename: String, type: String? = nil, contentType: String? = nil, _ bytes: [UInt8]) -> (String, [UInt8]) {
        var header = "\"type\":\"attachment\",\"filename\":\"\(filename)\""
        if let type { header += ",\"attachment_type\":\"\(type)\"" }
        if let contentType { header += ",\"content_type\":\"\(contentType)\"" }
        return (header, bytes)
    }

    static let log = Array(String(repeating: "INFO checkout step ok\n", count: 200).utf8)
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 37) }
    static let hierarchy = Array(
        #"{"rendering_system":"UIKIT","windows":[{"type":"UIWindow","children":[{"type":"UIButton","identifier":"pay"}]}]}"#.utf8)

    @Test func attachmentsAreStoredWithTheirEvent() async throws {
        let fixture = try await PipelineFixture()
        try await fixture.withWriter {
            let body = Self.envelope(
                eventID: Self.eventID,
                items: [
                    ("\"type\":\"event\"", Array(Self.event.utf8)),
                    Self.attachment("debug.log", contentType: "text/plain", Self.log),
                    Self.attachment("screenshot.png", contentType: "image/png", Self.png),
                    Self.attachment("view-hierarchy.json", type: "event.view_hierarchy", contentType: "application/json", Self.hierarchy),
                    Self.attachment("empty.txt", []),
                ])
            #expect(try await fixture.pipeline.envelope(fixture.request(body))?.hex == Self.eventID)
            let id = try #require(EventID(Self.eventID))
            let rows = try await fixture.reader.attachments(projectID: 1, eventID: id)
            #expect(rows.map(\.name) == ["debug.log", "screenshot.png", "view-hierarchy.json", "empty.txt"])
            #expect(rows.map(\.type) == ["event.attachment", "event.attachment", "event.view_hierarchy", "event.attachment"])
            #expect(rows.map(\.size) == [Int64(Self.log.count), Int64(Self.png.count), Int64(Self.hierarchy.count), 0])
            #expect(rows[0].sha1 == Self.sha1(Self.log) && rows[3].sha1 == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
            #expect(rows[1].isScreenshot && !rows[0].isScreenshot && rows[0].mimeType == "text/plain")
            for (row, bytes) in zip(rows, [Self.log, Self.png, Self.hierarchy, []]) {
                let content = try #require(try await fixture.reader.attachmentContent(projectID: 1, id: row.id))
                #expect(try content.decoded() == bytes)
            }
            // The log compresses, the PNG is kept as sent.
            #expect(try await fixture.reader.attachmentContent(projectID: 1, id: rows[0].id)?.compressed == true)
            #expect(try await fixture.reader.attachmentContent(projectID: 1, id: rows[1].id)?.compressed == false)
            #expect(try await fixture.reader.counts(projectID: 1).items == 0, "attachments are not raw items any more")
            // Another project sees none of them.
            #expect(try await fixture.reader.attachment(projectID: 2, id: rows[0].id) == nil)
            #expect(try await fixture.reader.attachmentContent(projectID: 2, id: rows[0].id) == nil)
            #expect(try await fixture.reader.attachments(projectID: 2, eventID: id).isEmpty)

            // An SDK's resend of the same envelope stores nothing twice.
            _ = try await fixture.pipeline.envelope(fixture.request(body))
            #expect(try await fixture.reader.attachments(projectID: 1, eventID: id).count == 4)
        }
    }

    @Test func attachmentBeforeItsEventIsKeptAndLinked() async throws {
        let fixture = try await PipelineFixture()
        let other = String(repeating: "b", count: 32)
        try await fixture.withWriter {
            _ = try await fixture.pipeline.envelope(
                fixture.request(Self.envelope(eventID: other, items: [Self.attachment("late.txt", Array("hello".utf8))])))
            let id = try #require(EventID(other))
            #expect(try await fixture.reader.event(projectID: 1, eventID: id) == nil)
            #expect(try await fixture.reader.attachments(projectID: 1, eventID: id).map(\.name) == ["late.txt"])
            _ = try await fixture.pipeline.envelope(
                fixture.request(Self.envelope(eventID: other, items: [("\"type\":\"event\"", Array(Self.event.utf8))])))
            #expect(try await fixture.reader.event(projectID: 1, eventID: id) != nil)
            #expect(try await fixture.reader.attachments(projectID: 1, eventID: id).count == 1)
        }
    }

    @Test func refusedAttachments() async throws {
        var limits = IngestLimits()
        limits.maxAttachmentBytes = 1000
        limits.maxAttachmentsBytes = 1500
        let fixture = try await PipelineFixture(limits: limits)
        let big = [UInt8](repeating: 1, count: 1001)
        #expect(
            await fixture.envelopeStatus(fixture.request(Self.envelope(eventID: Self.eventID, items: [Self.attachment("a", big)]))) == 413)
        let half = [UInt8](repeating: 1, count: 800)
        #expect(
            await fixture.envelopeStatus(
                fixture.request(Self.envelope(eventID: Self.eventID, items: [Self.attachment("a", half), Self.attachment("b", half)])))
                == 413)
        let many = (0..<31).map { Self.attachment("f\($0)", [1]) }
        #expect(await fixture.envelopeStatus(fixture.request(Self.envelope(eventID: Self.eventID, items: many))) == 413)
        // Without an event id there is nothing to link it to.
        #expect(await fixture.envelopeStatus(fixture.request(Self.envelope(eventID: nil, items: [Self.attachment("a", [1])]))) == 400)
    }

    @Test func minidumpEndpointStoresANativeEventWithTheDump() async throws {
        let fixture = try await PipelineFixture()
        let dump = MinidumpBuilder.dump(platform: 2, crash: .init(code: 0xC000_0005, parameters: [1, 0x10]))
        try await fixture.withWriter {
            let body = MinidumpUploadTests.form([
                ("sentry[release]", nil, nil, Array("game@3.1".utf8)),
                ("sentry[tags][map]", nil, nil, Array("dust".utf8)),
                ("upload_file_minidump", "crash.dmp", "application/octet-stream", dump),
                ("settings.ini", "settings.ini", "text/plain", Array("volume=3".utf8)),
            ])
            let id = try await fixture.pipeline.minidump(fixture.request(body, contentType: "multipart/form-data; boundary=XyZ"))
            let event = try #require(try await fixture.reader.event(projectID: 1, eventID: id))
            #expect(event.level == .fatal && event.release == "game@3.1")
            let issue = try #require(try await fixture.reader.issue(id: event.issueID))
            #expect(issue.title == "EXCEPTION_ACCESS_VIOLATION_WRITE: Fatal Error: EXCEPTION_ACCESS_VIOLATION_WRITE")
            let rows = try await fixture.reader.attachments(projectID: 1, eventID: id)
            #expect(rows.map(\.type) == ["event.minidump", "event.attachment"])
            #expect(rows.map(\.name) == ["crash.dmp", "settings.ini"])
            #expect(try await fixture.reader.attachmentContent(projectID: 1, id: rows[0].id)?.decoded() == dump)

            // A raw body; and a dump that is a minidump by signature but unreadable still stores.
            let raw = try await fixture.pipeline.minidump(
                fixture.request(ByteBuffer(bytes: MinidumpBuilder.dump(crash: .init(code: 6))), contentType: "application/x-dmp"))
            let rawIssue = try #require(
                try await fixture.reader.event(projectID: 1, eventID: raw).asyncFlatMap { try await fixture.reader.issue(id: $0.issueID) })
            #expect(rawIssue.title == "SIGABRT: Fatal Error: SIGABRT")
            let broken = try await fixture.pipeline.minidump(
                fixture.request(ByteBuffer(bytes: Array("MDMP".utf8) + [1, 2, 3]), contentType: nil))
            let brokenIssue = try #require(
                try await fixture.reader.event(projectID: 1, eventID: broken).asyncFlatMap {
                    try await fixture.reader.issue(id: $0.issueID)
                })
            #expect(brokenIssue.title == "Minidump: Invalid Minidump")
            #expect(try await fixture.reader.attachments(projectID: 1, eventID: broken).map(\.type) == ["event.minidump"])
        }
    }

    @Test func envelopeMinidumpMakesItsEventNative() async throws {
        let fixture = try await PipelineFixture()
        let dump = MinidumpBuilder.dump(platform: 0x8101, crash: .init(code: 1, flags: 1))
        try await fixture.withWriter {
            // sentry-native: the event (no exception) and the dump in one envelope.
            let body = Self.envelope(
                eventID: Self.eventID,
                items: [
                    ("\"type\":\"event\"", Array(#"{"level":"fatal","release":"native@1","platform":"native"}"#.utf8)),
                    Self.attachment("minidump.dmp", type: "event.minidump", dump),
                ])
            let id = try #require(try await fixture.pipeline.envelope(fixture.request(body)))
            let event = try #require(try await fixture.reader.event(projectID: 1, eventID: id))
            #expect(event.release == "native@1")
            #expect(
                try await fixture.reader.issue(id: event.issueID)?.title
                    == "EXC_BAD_ACCESS / KERN_INVALID_ADDRESS: Fatal Error: EXC_BAD_ACCESS / KERN_INVALID_ADDRESS")
            #expect(try await fixture.reader.attachments(projectID: 1, eventID: id).map(\.type) == ["event.minidump"])
        }
    }

    static func sha1(_ bytes: [UInt8]) -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha1sum")
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try? process.run()
        input.fileHandleForWriting.write(Data(bytes))
        try? input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: data, as: UTF8.self).prefix(40))
    }
}

extension Optional {
    fileprivate func asyncFlatMap<T>(_ transform: (Wrapped) async throws -> T?) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
