import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PitModel
import PitStorage
import Testing

@testable import PitdServer

/// Attachments end to end through pitd's own HTTP channel: stored from envelopes and from the
/// minidump endpoint, listed and downloaded through `/api/0` (scoped to the project of the URL),
/// and shown on the event page (screenshots inline, the view hierarchy as a tree).
@Suite struct AttachmentRoutesTests {
    static let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + (0..<64).map { UInt8($0) }
    static let hierarchy =
        #"{"rendering_system":"android_view_system","windows":[{"type":"com.android.internal.policy.DecorView","width":1080,"height":2340,"children":[{"type":"android.widget.Button","identifier":"checkout_button","x":12,"y":40}]}]}"#

    static func envelope(_ id: EventID, items: [(header: String, payload: [UInt8])]) -> ByteBuffer {
        var out = Array(#"{"event_id":"\#(id.hex)"}"#.utf8) + [0x0A]
        for item in items { out += Array("{\(item.header),\"length\":\(item.payload.count)}\n".utf8) + item.payload + [0x0A] }
        return ByteBuffer(bytes: out)
    }

    /// A little-endian Linux minidump with a system info and an exception stream.
    static func minidump(signal: UInt32, code: UInt32) -> [UInt8] {
        var out: [UInt8] = []
        func u32(_ value: UInt32) { for index in 0..<4 { out.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(index)))) } }
        out += Array("MDMP".utf8)
        for value: UInt32 in [0xA793, 2, 32, 0, 0, 0, 0] { u32(value) }
        for value: UInt32 in [7, 56, 56, 6, 168, 112] { u32(value) }
        u32(9)  // amd64, level 0
        u32(0)
        for value: UInt32 in [5, 15, 0, 0x8201, 0, 0] { u32(value) }
        out += Array(repeating: 0, count: 24)
        u32(3)  // thread id
        u32(0)
        u32(signal)
        u32(code)
        out += Array(repeating: 0, count: 168 - 16)
        return out
    }

    @Test func attachmentsAreListedDownloadedAndShown() async throws {
        let server = try await TestServer()
        let other = try await server.store.createProject(name: "Other", id: nil, platform: nil)
        let readOnly = try await server.token([.read])
        try await server.test(.live) { client in
            let id = EventID.random()
            let body = Self.envelope(
                id,
                items: [
                    ("\"type\":\"event\"", Array(#"{"message":"checkout failed","level":"error"}"#.utf8)),
                    (
                        "\"type\":\"attachment\",\"filename\":\"debug \\\"1\\\".log\",\"content_type\":\"text/plain\"",
                        Array("line1\nline2\n".utf8)
                    ),
                    ("\"type\":\"attachment\",\"filename\":\"screenshot.png\",\"content_type\":\"image/png\"", Self.png),
                    (
                        "\"type\":\"attachment\",\"filename\":\"view-hierarchy.json\",\"attachment_type\":\"event.view_hierarchy\",\"content_type\":\"application/json\"",
                        Array(Self.hierarchy.utf8)
                    ),
                ])
            let response = try await client.execute(
                uri: "/api/\(server.project.id)/envelope/", method: .post, headers: IngestRoutesTests.auth(server.key.publicKey), body: body
            )
            #expect(response.status == .ok, "\(response.text)")

            let base = "/api/0/projects/pit/default/events/\(id.hex)/attachments/"
            let list = try await client.api(base, token: readOnly)
            #expect(list.status == .ok, "\(list.text)")
            let rows = try list.array()
            #expect(rows.map { $0["name"] as? String } == ["debug \"1\".log", "screenshot.png", "view-hierarchy.json"])
            #expect(rows.map { $0["type"] as? String } == ["event.attachment", "event.attachment", "event.view_hierarchy"])
            #expect(rows[0]["size"] as? Int == 12 && rows[0]["mimetype"] as? String == "text/plain")
            #expect(rows[0]["event_id"] as? String == id.hex && rows[0]["dateCreated"] is String)
            #expect(rows[0]["sha1"] as? String == "c696f3d4b296c737155637d3a708d2b986ab6f6f")
            #expect((rows[0]["headers"] as? [String: Any])?["Content-Type"] as? String == "text/plain")
            let logID = try #require(rows[0]["id"] as? String)
            let pngID = try #require(rows[1]["id"] as? String)

            let one = try await client.api(base + "\(logID)/", token: readOnly)
            #expect(try one.object()["name"] as? String == "debug \"1\".log")
            let download = try await client.api(base + "\(logID)/?download=1", token: readOnly)
            #expect(download.status == .ok && download.text == "line1\nline2\n")
            #expect(download.headers[.contentType] == "text/plain")
            #expect(download.headers[.contentDisposition]?.hasPrefix("attachment; filename=\"debug _1_.log\"") == true)
            let image = try await client.api(base + "\(pngID)/?download=1", token: readOnly)
            #expect(Array(image.body.readableBytesView) == Self.png && image.headers[.contentType] == "image/png")

            // Another project's URL, an unknown id, another event's id: 404; no token: 401.
            #expect(
                try await client.api("/api/0/projects/pit/\(other.slug)/events/\(id.hex)/attachments/\(logID)/?download=1", token: readOnly)
                    .status == .notFound)
            #expect(
                try await client.api("/api/0/projects/pit/\(other.slug)/events/\(id.hex)/attachments/", token: readOnly).array().isEmpty)
            #expect(try await client.api(base + "999999/", token: readOnly).status == .notFound)
            #expect(
                try await client.api("/api/0/projects/pit/default/events/\(EventID.random().hex)/attachments/\(logID)/", token: readOnly)
                    .status == .notFound)
            #expect(try await client.api(base, token: nil).status == .unauthorized)

            let session = try await client.signIn(token: server.adminToken)
            let page = try await client.page("/organizations/pit/projects/default/events/\(id.hex)/", cookies: session.cookies)
            #expect(page.status == .ok)
            let imageURL = "/organizations/pit/projects/default/events/\(id.hex)/attachments/\(pngID)/"
            #expect(page.text.contains("Attachments") && page.text.contains("debug &quot;1&quot;.log"))
            #expect(page.text.contains("<img src=\"\(imageURL)\""))
            #expect(page.text.contains("android.widget.Button") && page.text.contains("#checkout_button"))
            // The issue page shows the same section for its latest event.
            let event = try await client.api("/api/0/projects/pit/default/events/\(id.hex)/", token: readOnly).object()
            let issueID = try #require(event["groupID"] as? String)
            let issuePage = try await client.page("/organizations/pit/issues/\(issueID)/", cookies: session.cookies)
            #expect(issuePage.text.contains("<img src=\"\(imageURL)\"") && issuePage.text.contains("#checkout_button"))
            let inline = try await client.page(imageURL, cookies: session.cookies)
            #expect(inline.status == .ok && inline.headers[.contentType] == "image/png")
            #expect(inline.headers[.contentDisposition]?.hasPrefix("inline") == true)
            let forced = try await client.page(imageURL + "?download=1", cookies: session.cookies)
            #expect(forced.headers[.contentDisposition]?.hasPrefix("attachment") == true)
            #expect(
                try await client.page(
                    "/organizations/pit/projects/\(other.slug)/events/\(id.hex)/attachments/\(pngID)/", cookies: session.cookies
                ).status == .notFound)
        }
    }

    @Test func minidumpEndpointAnswersTheEventIDAsText() async throws {
        let server = try await TestServer()
        try await server.test(.live) { client in
            let dump = Self.minidump(signal: 11, code: 1)
            let boundary = "------------------------crashpad"
            var form: [UInt8] = []
            func field(_ name: String, filename: String? = nil, _ bytes: [UInt8]) {
                var header = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\""
                if let filename { header += "; filename=\"\(filename)\"\r\nContent-Type: application/octet-stream" }
                form += Array((header + "\r\n\r\n").utf8) + bytes + Array("\r\n".utf8)
            }
            field("sentry[release]", Array("native@2.0".utf8))
            field("sentry[tags][gpu]", Array("rtx".utf8))
            field("upload_file_minidump", filename: "3f1c.dmp", dump)
            form += Array("--\(boundary)--\r\n".utf8)
            for path in ["/api/\(server.project.id)/minidump/", "/api/\(server.project.id)/minidump"] {
                let response = try await client.execute(
                    uri: path + "?sentry_key=\(server.key.publicKey)", method: .post,
                    headers: [.contentType: "multipart/form-data; boundary=\(boundary)"], body: ByteBuffer(bytes: form))
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                let id = try #require(EventID(response.text))
                let event = try await client.api("/api/0/projects/pit/default/events/\(id.hex)/", token: server.adminToken).object()
                #expect(event["title"] as? String == "SIGSEGV / SEGV_MAPERR: Fatal Error: SIGSEGV / SEGV_MAPERR")
                #expect(event["platform"] as? String == "native")
                let attachments = try await client.api(
                    "/api/0/projects/pit/default/events/\(id.hex)/attachments/", token: server.adminToken
                ).array()
                #expect(attachments.map { $0["type"] as? String } == ["event.minidump"])
                #expect(attachments.first?["name"] as? String == "3f1c.dmp")
            }
            // A raw body with the key in X-Sentry-Auth.
            let raw = try await client.execute(
                uri: "/api/\(server.project.id)/minidump/", method: .post,
                headers: IngestRoutesTests.auth(server.key.publicKey).merging([.contentType: "application/x-dmp"]),
                body: ByteBuffer(bytes: Self.minidump(signal: 6, code: 0)))
            #expect(raw.status == .ok && EventID(raw.text) != nil, "\(raw.text)")
            // Refusals: no key, not a dump, no dump field.
            let uri = "/api/\(server.project.id)/minidump/?sentry_key=\(server.key.publicKey)"
            #expect(
                try await client.execute(uri: "/api/\(server.project.id)/minidump/", method: .post, body: ByteBuffer(bytes: dump)).status
                    == .unauthorized)
            let notDump = try await client.execute(
                uri: uri, method: .post, headers: [.contentType: "application/octet-stream"], body: ByteBuffer(string: "hello"))
            #expect(notDump.status == .badRequest && notDump.text.contains("invalid minidump"))
            let noField = try await client.execute(
                uri: uri, method: .post, headers: [.contentType: "multipart/form-data; boundary=x"],
                body: ByteBuffer(string: "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--x--\r\n"))
            #expect(noField.status == .badRequest && noField.text.contains("missing minidump"))
        }
    }
}

extension HTTPFields {
    fileprivate func merging(_ other: HTTPFields) -> HTTPFields {
        var fields = self
        for field in other { fields[field.name] = field.value }
        return fields
    }
}
