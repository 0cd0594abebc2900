import Foundation
package import NIOCore
package import PitModel

/// `POST /api/{pid}/minidump/` as Relay reads it: a raw minidump body (`MDMP`/`PMDM`, possibly
/// gzip'ed), or `multipart/form-data` with the dump in `upload_file_minidump`, the event in a
/// `sentry` field (JSON) or in `sentry[...]` bracket fields, and any other file as an attachment.
package struct MinidumpUpload {
    package struct File {
        package var name: String
        package var contentType: String?
        package var body: ByteBuffer
    }

    /// The event as the upload describes it (before the minidump's placeholder is applied).
    package var event: MinidumpEvent.Object
    package var minidump: File
    package var attachments: [File]

    /// The field crash reporters (breakpad, crashpad, sentry-native) put the dump in.
    package static let minidumpField = "upload_file_minidump"

    package static func parse(_ body: ByteBuffer, contentType: String?, limits: IngestLimits) throws(IngestError) -> MinidumpUpload {
        guard body.readableBytes > 0 else { throw .badRequest("empty minidump upload") }
        guard let boundary = MultipartForm.boundary(contentType: contentType) else {
            let dump = try validatedMinidump(body, limits: limits)
            return MinidumpUpload(
                event: MinidumpEvent.Object(), minidump: File(name: "minidump.dmp", contentType: "application/x-dmp", body: dump),
                attachments: [])
        }
        let form = try MultipartForm.parse(body, boundary: boundary, maxParts: 200)
        var event = MinidumpEvent.Object()
        var minidump: File?
        var attachments: [File] = []
        var attachmentBytes = 0
        for part in form.parts {
            if part.name == minidumpField {
                guard minidump == nil else { throw .badRequest("duplicate \(minidumpField) field") }
                minidump = File(
                    name: part.filename.flatMap { $0.isEmpty ? nil : $0 } ?? "minidump.dmp", contentType: part.contentType,
                    body: try validatedMinidump(part.body, limits: limits))
            } else if part.name == "sentry" {
                guard part.body.readableBytes <= limits.maxEventBytes else {
                    throw .tooLarge("event exceeds \(limits.maxEventBytes) bytes")
                }
                guard let object = MinidumpEvent.object(json: part.body) else {
                    throw .badRequest("invalid sentry field: not a JSON object")
                }
                event.merge(object)
            } else if part.name.hasPrefix("sentry[") && part.filename == nil {
                guard part.body.readableBytes <= limits.maxEventBytes else {
                    throw .tooLarge("event exceeds \(limits.maxEventBytes) bytes")
                }
                event.setBracketField(part.name, value: String(decoding: part.body.readableBytesView, as: UTF8.self))
            } else if part.filename != nil && !part.name.hasPrefix("__sentry") {
                // Relay's other files (crashpad's annotations, logs, user files) become attachments.
                guard part.body.readableBytes <= limits.maxAttachmentBytes else {
                    throw .tooLarge("attachment \(part.filename ?? part.name) exceeds \(limits.maxAttachmentBytes) bytes")
                }
                attachmentBytes += part.body.readableBytes
                attachments.append(
                    File(
                        name: part.filename.flatMap { $0.isEmpty ? nil : $0 } ?? part.name, contentType: part.contentType,
                        body: part.body))
            }
        }
        guard let minidump else { throw .badRequest("missing minidump: no \(minidumpField) field") }
        if attachments.count + 1 > limits.maxAttachmentCount { throw .tooLarge("too many attachments") }
        if attachmentBytes + minidump.body.readableBytes > limits.maxAttachmentsBytes { throw .tooLarge("attachments too large") }
        return MinidumpUpload(event: event, minidump: minidump, attachments: attachments)
    }

    /// The dump's bytes, inflated when gzip'ed (crash reporters may compress the file alone),
    /// checked for a minidump signature and the attachment size limit.
    package static func validatedMinidump(_ bytes: ByteBuffer, limits: IngestLimits) throws(IngestError) -> ByteBuffer {
        var dump = bytes
        if dump.readableBytes >= 2, dump.getInteger(at: dump.readerIndex, as: UInt8.self) == 0x1F,
            dump.getInteger(at: dump.readerIndex + 1, as: UInt8.self) == 0x8B
        {
            do {
                dump = try BodyDecoder.decode(bytes, encoding: .gzip, limit: limits.maxAttachmentBytes)
            } catch let error as BodyDecodingError where error.code == .tooLarge {
                throw .tooLarge("minidump exceeds \(limits.maxAttachmentBytes) bytes")
            } catch {
                throw .badRequest("invalid minidump: gzip stream could not be decoded")
            }
        }
        guard dump.readableBytes <= limits.maxAttachmentBytes else {
            throw .tooLarge("minidump exceeds \(limits.maxAttachmentBytes) bytes")
        }
        guard dump.readableBytes > 0 else { throw .badRequest("missing minidump: empty upload_file_minidump") }
        guard MinidumpReader.hasSignature(dump.readableBytesView) else {
            throw .badRequest("invalid minidump: the file does not start with MDMP or PMDM")
        }
        return dump
    }
}

/// The event of a minidump: what the SDK sent (a `sentry` JSON field, `sentry[...]` fields, or
/// the envelope's event item) with Sentry's minidump placeholder applied (platform `native`, level
/// `fatal`, a synthetic unhandled `minidump` exception) and what the dump tells: the exception
/// type and value Sentry gives an unsymbolicated crash, the OS and CPU.
package enum MinidumpEvent {
    /// A JSON object being built (Foundation's JSON values); used only for the rare minidump
    /// events, never on the event path.
    package struct Object: @unchecked Sendable {
        package var fields: [String: Any] = [:]

        package init() {}

        mutating func merge(_ other: [String: Any]) {
            for (key, value) in other { fields[key] = value }
        }

        /// `sentry[release]`, `sentry[tags][foo]`, `sentry[user][id]`: a string value at the path
        /// the brackets name (at most 16 levels deep; an empty key is ignored).
        mutating func setBracketField(_ name: String, value: String) {
            guard name.hasPrefix("sentry[") else { return }
            var path: [String] = []
            var rest = name.dropFirst("sentry".count)
            while rest.first == "[", let close = rest.firstIndex(of: "]") {
                path.append(String(rest[rest.index(after: rest.startIndex)..<close]))
                rest = rest[rest.index(after: close)...]
            }
            guard !path.isEmpty, path.count <= 16, !path.contains(where: \.isEmpty), rest.isEmpty else { return }
            fields = Self.setting(fields, path[...], to: value)
        }

        private static func setting(_ object: [String: Any], _ path: ArraySlice<String>, to value: String) -> [String: Any] {
            var object = object
            guard let key = path.first else { return object }
            if path.count == 1 {
                object[key] = value
            } else {
                object[key] = setting(object[key] as? [String: Any] ?? [:], path.dropFirst(), to: value)
            }
            return object
        }
    }

    /// A JSON object's fields; nil when `json` is not a JSON object.
    package static func object(json: ByteBuffer) -> [String: Any]? {
        let data = Data(json.readableBytesView)
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    /// The event's id: the envelope's when given, else the SDK's `event_id`, else a new one.
    package static func eventID(of event: Object, header: EventID?) -> EventID {
        if let header { return header }
        if let text = event.fields["event_id"] as? String, let id = EventID(text) { return id }
        return EventID.random()
    }

    /// The event JSON to store, with the placeholder and the dump's facts applied.
    package static func payload(_ event: Object, info: MinidumpInfo?, eventID: EventID) -> ByteBuffer {
        var fields = event.fields
        fields["event_id"] = eventID.hex
        fields["platform"] = "native"
        if fields["level"] == nil { fields["level"] = "fatal" }
        var exception: [String: Any] = [
            "type": "Minidump",
            "mechanism": ["type": "minidump", "handled": false, "synthetic": true] as [String: Any],
        ]
        if let info {
            if let crash = info.exception {
                let reason = info.crashReason ?? MinidumpCrashReason.hex(crash.code)
                exception["type"] = reason
                exception["value"] = "Fatal Error: \(reason)"
                exception["thread_id"] = Int(crash.threadID)
                exception["mechanism"] =
                    [
                        "type": "minidump", "handled": false, "synthetic": true,
                        "data": ["crash_address": "0x" + String(crash.address, radix: 16)],
                    ] as [String: Any]
            }
            var contexts = fields["contexts"] as? [String: Any] ?? [:]
            if let os = info.os {
                var context = contexts["os"] as? [String: Any] ?? [:]
                if context["name"] == nil { context["name"] = os.rawValue }
                if context["version"] == nil, let version = info.osVersion { context["version"] = version }
                if context["build"] == nil, let build = info.osBuild { context["build"] = build }
                context["type"] = "os"
                contexts["os"] = context
            }
            if let architecture = info.cpuArchitecture {
                var context = contexts["device"] as? [String: Any] ?? [:]
                if context["arch"] == nil { context["arch"] = architecture }
                context["type"] = "device"
                contexts["device"] = context
            }
            if !contexts.isEmpty { fields["contexts"] = contexts }
        } else {
            exception["value"] = "Invalid Minidump"
        }
        fields["exception"] = ["values": [exception]]
        let data = (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])) ?? Data("{}".utf8)
        return ByteBuffer(bytes: data)
    }
}
