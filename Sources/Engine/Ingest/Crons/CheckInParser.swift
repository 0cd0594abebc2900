import Foundation
package import NIOCore
import PitModel
package import PitStorage

/// One check-in as an SDK, sentry-cli or the HTTP check-in endpoint sent it, checked at ingest
/// for the writer to apply (`MonitorWrites`).
package struct CheckInUpdate: Sendable, Equatable {
    package var projectID: Int64
    package var slug: String
    /// 32 lowercase hex digits; empty for the all-zero id ("the latest in_progress check-in").
    package var guid: String
    package var status: CheckInStatus
    /// Milliseconds, when sent.
    package var duration: Int64?
    package var environment: String
    /// Upserts the monitor; without one only an existing monitor takes the check-in.
    package var config: MonitorConfig?
    /// Milliseconds since the epoch.
    package var received: Int64

    package init(
        projectID: Int64, slug: String, guid: String, status: CheckInStatus, duration: Int64? = nil, environment: String = "production",
        config: MonitorConfig? = nil, received: Int64
    ) {
        self.projectID = projectID
        self.slug = slug
        self.guid = guid
        self.status = status
        self.duration = duration
        self.environment = environment
        self.config = config
        self.received = received
    }
}

/// What a unit carries for cron monitors: check-ins from clients, and the scheduler's findings.
package enum CheckInRecord: Sendable, Equatable {
    case update(CheckInUpdate)
    /// No check-in came for the one expected at `expected`: recorded missed, and the next is
    /// expected at `next`, unless a check-in changed the expectation meanwhile.
    case missed(monitorID: Int64, environment: String, expected: Int64, next: Int64?, at: Int64)
    /// An `in_progress` check-in ran past `max_runtime`.
    case timeout(checkInRowID: Int64, at: Int64)
    /// The environment's incident opened with the event `eventID` (nil: closed).
    case incident(monitorID: Int64, environment: String, eventID: String?)
}

/// `check_in` items and HTTP check-ins to `CheckInUpdate`s, with Relay's rules: a slug is
/// normalised (lowercase, other characters to `-`, 50 bytes), a status must be one a client may
/// send, a check-in id must be a UUID, and an invalid `monitor_config` drops the check-in.
package enum CheckInParser {
    package enum Drop: String, Sendable, Error {
        case malformed = "invalid_json"
        case invalid = "invalid_check_in"
        case invalidConfig = "invalid_monitor_config"
    }

    /// Relay's `MAX_SLUG_LENGTH`.
    package static let maxSlugBytes = 50

    package static func checkIn(_ payload: ByteBuffer, projectID: Int64, received: Double) throws(Drop) -> CheckInUpdate {
        let result: Result<CheckInUpdate, Drop> = payload.withUnsafeReadableBytes { raw in
            guard let tape = try? JSONTape.parse(raw) else { return .failure(.malformed) }
            do throws(Drop) {
                return .success(try checkIn(JSONView(tape: tape, bytes: raw), projectID: projectID, received: received, slug: nil))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// A JSON check-in; `slug` (the HTTP endpoint's path) replaces `monitor_slug` when given.
    package static func checkIn(_ json: JSONView, projectID: Int64, received: Double, slug pathSlug: String?) throws(Drop)
        -> CheckInUpdate
    {
        let root = json.tape.root
        guard json.kind(root) == .object else { throw .invalid }
        guard let slug = normalizedSlug(pathSlug ?? json.string(json.member(root, "monitor_slug")) ?? "") else { throw .invalid }
        guard let status = clientStatus(json.string(json.member(root, "status")) ?? "") else { throw .invalid }
        let guid = try checkInID(json.string(json.member(root, "check_in_id")))
        var config: MonitorConfig?
        if let object = json.member(root, "monitor_config"), json.kind(object) != .null {
            config = try monitorConfig(json, object)
        }
        return CheckInUpdate(
            projectID: projectID, slug: slug, guid: guid, status: status,
            duration: duration(json.double(json.member(root, "duration"))),
            environment: environment(json.string(json.member(root, "environment"))), config: config,
            received: Int64(received * 1000))
    }

    /// `GET|POST /api/{pid}/cron/{slug}/{key}/?status=...&check_in_id=&environment=&duration=`.
    package static func query(
        slug: String, parameters: [String: String], projectID: Int64, received: Double
    ) throws(Drop) -> CheckInUpdate {
        guard let normalized = normalizedSlug(slug), let status = clientStatus(parameters["status"] ?? "") else { throw .invalid }
        var duration: Int64?
        if let text = parameters["duration"] {
            guard let value = Double(text) else { throw .invalid }
            duration = Self.duration(value)
        }
        return CheckInUpdate(
            projectID: projectID, slug: normalized, guid: try checkInID(parameters["check_in_id"]), status: status,
            duration: duration, environment: environment(parameters["environment"]), received: Int64(received * 1000))
    }

    /// Relay's slugify: ASCII letters and digits kept (lowercased), runs of anything else one
    /// `-`, no `-` at either end, at most 50 bytes; nil when nothing is left.
    package static func normalizedSlug(_ text: String) -> String? {
        var out: [UInt8] = []
        for byte in text.utf8 {
            if out.count >= maxSlugBytes { break }
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
                out.append(byte)
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): out.append(byte + 32)
            default: if let last = out.last, last != UInt8(ascii: "-") { out.append(UInt8(ascii: "-")) }
            }
        }
        while out.last == UInt8(ascii: "-") { out.removeLast() }
        return out.isEmpty ? nil : String(decoding: out, as: UTF8.self)
    }

    /// Clients send in_progress, ok or error; missed and timeout are the server's to say.
    private static func clientStatus(_ text: String) -> CheckInStatus? {
        switch text {
        case "in_progress": .inProgress
        case "ok": .ok
        case "error": .error
        default: nil
        }
    }

    /// A UUID (dashes or not) as 32 lowercase hex digits. All zero or none is "": the latest
    /// `in_progress` check-in of the monitor's environment, or a new check-in when there is none
    /// (Relay's nil UUID; Sentry's heartbeat `?status=in_progress` then `?status=ok` is one run).
    private static func checkInID(_ text: String?) throws(Drop) -> String {
        guard let text, !text.isEmpty else { return "" }
        guard let id = EventID(text) else { throw .invalid }
        return id == EventID(high: 0, low: 0) ? "" : id.hex
    }

    private static func duration(_ seconds: Double?) -> Int64? {
        guard let seconds, seconds.isFinite, seconds >= 0, seconds < 1e9 else { return nil }
        return Int64(seconds * 1000)
    }

    private static func environment(_ text: String?) -> String {
        let value = FieldLimits.prefix(FieldLimits.removingNUL((text ?? "").trimmingSpaces), maxBytes: FieldLimits.environment)
        return value.isEmpty ? "production" : value
    }

    private static func monitorConfig(_ json: JSONView, _ object: Int) throws(Drop) -> MonitorConfig {
        guard json.kind(object) == .object else { throw .invalidConfig }
        let scheduleObject = json.member(object, "schedule")
        guard let scheduleObject, json.kind(scheduleObject) == .object,
            let type = json.string(json.member(scheduleObject, "type")),
            let value = json.scalarText(json.member(scheduleObject, "value"))
        else { throw .invalidConfig }
        let schedule: MonitorSchedule
        do {
            schedule = try MonitorConfig.schedule(type: type, value: value, unit: json.string(json.member(scheduleObject, "unit")))
        } catch {
            throw .invalidConfig
        }
        func minutes(_ key: StaticString) throws(Drop) -> Int? {
            guard let index = json.member(object, key), !json.isNull(index) else { return nil }
            guard let value = json.int(index), value >= 0, value <= MonitorConfig.maxMinutes else { throw .invalidConfig }
            return value
        }
        func threshold(_ key: StaticString) throws(Drop) -> Int {
            guard let index = json.member(object, key), !json.isNull(index) else { return 1 }
            guard let value = json.int(index), value >= 1, value <= MonitorConfig.maxThreshold else { throw .invalidConfig }
            return value
        }
        var timezone = "UTC"
        if let name = json.string(json.member(object, "timezone")), !name.isEmpty {
            // An IANA name is letters, digits and `/_+-`: anything else (`..`, a leading `/`) is no
            // zone, and must not reach the system's zone lookup as a path.
            let allowed = name.utf8.allSatisfy { byte in
                (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                    || byte == UInt8(ascii: "/") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")
            }
            guard name.utf8.count <= 64, allowed, !name.hasPrefix("/"), TimeZone(identifier: name) != nil else { throw .invalidConfig }
            timezone = name
        }
        return MonitorConfig(
            schedule: schedule, timezone: timezone, checkinMargin: try minutes("checkin_margin"), maxRuntime: try minutes("max_runtime"),
            failureIssueThreshold: try threshold("failure_issue_threshold"), recoveryThreshold: try threshold("recovery_threshold"))
    }
}
