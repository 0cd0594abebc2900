import PitIngest
import PitModel
import PitStorage

/// The parts of a stored Sentry event that the event page shows: what ingest extracted (message,
/// tags), and the display-only rest read from the original payload.
///
/// Payloads come from SDKs and from anyone holding a DSN, so every field may be missing, of
/// another type, huge or hostile. Parsing never traps: unknown shapes are skipped, long strings
/// and long lists are cut (`Limits`), and markup safety is left to `HTML`, which escapes it all.
struct EventView: Sendable {
    typealias Pair = (key: String, value: String)

    struct Frame: Sendable {
        var filename: String?
        var absPath: String?
        var module: String?
        var function: String?
        var package: String?
        var instructionAddress: String?
        var lineNumber: Int?
        var column: Int?
        /// nil when the SDK did not say.
        var inApp: Bool?
        /// (line number, source) around `lineNumber`; `contextIndex` marks the `context_line`.
        var context: [(line: Int?, code: String)] = []
        var contextIndex: Int?
        var vars: [Pair] = []
    }

    struct Exception: Sendable {
        var type: String?
        var value: String?
        var module: String?
        var mechanism: String?
        var handled: Bool?
        /// Oldest call first, as the protocol orders them.
        var frames: [Frame] = []
        var framesOmitted = 0
        /// The frames as the SDK sent them (`raw_stacktrace`), when ingest resolved them through
        /// source maps; empty otherwise.
        var rawFrames: [Frame] = []
        var rawFramesOmitted = 0
    }

    struct Breadcrumb: Sendable {
        var timestamp: String?
        var type: String?
        var category: String?
        var level: String?
        var message: String?
        var data: [Pair] = []
    }

    struct Context: Sendable {
        var name: String
        var type: String?
        var fields: [Pair]
    }

    struct Request: Sendable {
        var method: String?
        var url: String?
        var query: [Pair] = []
        var headers: [Pair] = []
        var cookies: [Pair] = []
        var data: String?
        var env: [Pair] = []
    }

    enum Limits {
        static let value = 2_000
        static let message = 16_000
        static let frames = 250
        static let exceptions = 25
        static let breadcrumbs = 200
        static let pairs = 200
        static let contextLines = 15
        static let rawJSON = 1_000_000
    }

    var message: String?
    /// Oldest (the cause) first, as the protocol orders `exception.values`.
    var exceptions: [Exception] = []
    /// The crashed or current thread's stack when no exception carries one.
    var threadStack: Exception?
    var breadcrumbs: [Breadcrumb] = []
    var breadcrumbsOmitted = 0
    var tags: [Pair] = []
    var user: [Pair] = []
    var request: Request?
    var contexts: [Context] = []
    var sdkName: String?
    var sdkVersion: String?
    var sdkPackages: [Pair] = []
    var sdkIntegrations: [String] = []
    var platform: String?
    var release: String?
    var dist: String?
    var environment: String?
    var serverName: String?
    var transaction: String?
    var logger: String?
    var fingerprint: [String] = []
    var extra: [Pair] = []
    /// The browser's report of a security event (`csp`, `expectct`, `expectstaple`, `hpkp`).
    var securityReport: (title: String, fields: [Pair])?
    var modules: [Pair] = []
    /// The whole payload, pretty-printed (cut at `Limits.rawJSON`).
    var rawJSON = ""
    /// Set when the payload is not valid JSON; the raw bytes are shown instead.
    var parseError: String?

    /// `read` is what ingest extracted and normalised (`SentryAPIRenderer.readView(of:)`): the
    /// message and tags come from it, so the page shows what `/api/0` returns; the rest (stack
    /// traces with their context, breadcrumbs, request, contexts, SDK) is display-only detail
    /// that ingest does not extract, read here from the payload.
    init(payload: [UInt8], read: EventReadView) {
        message = read.message.map { Format.truncated($0, limit: Limits.message) }
        tags = read.tags.prefix(Limits.pairs).map { ($0.key, $0.value) }
        payload.withUnsafeBytes { raw in
            let tape: JSONTape
            do {
                tape = try JSONTape.parse(raw)
            } catch {
                parseError = "\(error)"
                rawJSON = Format.truncated(String(decoding: raw.prefix(Limits.rawJSON), as: UTF8.self), limit: Limits.rawJSON)
                return
            }
            let json = JSONView(tape: tape, bytes: raw)
            let reader = Reader(json: json)
            reader.read(into: &self)
            var printer = JSONPrinter(json: json, budget: Limits.rawJSON)
            printer.pretty(0, indent: 0)
            rawJSON = printer.out
        }
    }
}

/// Walks the tape; each accessor returns nil or empty for anything of an unexpected shape.
private struct Reader {
    let json: JSONView
    typealias Pair = EventView.Pair
    typealias Limits = EventView.Limits

    func text(_ index: Int?, limit: Int = Limits.value) -> String? {
        guard let value = json.scalarText(index) else { return nil }
        return Format.truncated(value, limit: limit)
    }

    /// Scalars as text, containers as compact JSON: how values of `vars`, `data`, `extra` show.
    func display(_ index: Int, limit: Int = Limits.value) -> String {
        switch json.kind(index) {
        case .string: return Format.truncated(json.string(index) ?? "", limit: limit)
        case .null: return "null"
        case .number, .true, .false: return String(decoding: json.raw(index), as: UTF8.self)
        case .object, .array:
            var printer = JSONPrinter(json: json, budget: limit)
            printer.compact(index)
            return printer.out
        }
    }

    /// Members of an object, or `[key, value]` / `{"key","value"}` elements of an array (Sentry
    /// accepts both for tags, headers, query strings).
    func pairs(_ index: Int?) -> [Pair] {
        guard let index else { return [] }
        var out: [Pair] = []
        switch json.kind(index) {
        case .object:
            json.forEachMember(index) { key, value in
                guard out.count < Limits.pairs, let name = json.string(key) else { return }
                out.append((Format.truncated(name, limit: 200), display(value)))
            }
        case .array:
            json.forEachElement(index) { element in
                guard out.count < Limits.pairs else { return }
                if json.kind(element) == .array {
                    let parts = json.elements(element)
                    if parts.count == 2, let key = text(parts[0], limit: 200) { out.append((key, display(parts[1]))) }
                } else if json.kind(element) == .object, let key = text(json.member(element, "key"), limit: 200) {
                    out.append((key, json.member(element, "value").map { display($0) } ?? ""))
                }
            }
        default: break
        }
        return out
    }

    /// `{"values": [...]}` or a bare array, as the protocol allows for exceptions and breadcrumbs.
    func values(_ index: Int?) -> [Int] {
        guard let index else { return [] }
        if json.kind(index) == .array { return json.elements(index) }
        if let inner = json.member(index, "values"), json.kind(inner) == .array { return json.elements(inner) }
        return []
    }

    func read(into view: inout EventView) {
        let root = 0
        guard json.kind(root) == .object else { return }
        let exceptionIndexes = values(json.member(root, "exception"))
        for index in exceptionIndexes.suffix(Limits.exceptions) where json.kind(index) == .object {
            view.exceptions.append(exception(index))
        }
        if !view.exceptions.contains(where: { !$0.frames.isEmpty }) {
            let threads = values(json.member(root, "threads")).filter { json.kind($0) == .object }
            let chosen =
                threads.first { json.bool(json.member($0, "crashed")) == true }
                ?? threads.first { json.bool(json.member($0, "current")) == true }
            if let chosen, let stack = json.member(chosen, "stacktrace") {
                var thread = EventView.Exception()
                thread.type = text(json.member(chosen, "name")) ?? text(json.member(chosen, "id")).map { "Thread \($0)" }
                (thread.frames, thread.framesOmitted) = frames(stack)
                if !thread.frames.isEmpty { view.threadStack = thread }
            }
        }
        let crumbs = values(json.member(root, "breadcrumbs"))
        view.breadcrumbsOmitted = max(crumbs.count - Limits.breadcrumbs, 0)
        for index in crumbs.suffix(Limits.breadcrumbs) where json.kind(index) == .object {
            view.breadcrumbs.append(breadcrumb(index))
        }
        view.user = pairs(json.member(root, "user"))
        if let request = json.member(root, "request"), json.kind(request) == .object {
            view.request = self.request(request)
        }
        if let contexts = json.member(root, "contexts") {
            json.forEachMember(contexts) { key, value in
                guard view.contexts.count < 50, let name = json.string(key), json.kind(value) == .object else { return }
                var fields = pairs(value)
                fields.removeAll { $0.key == "type" }
                view.contexts.append(
                    EventView.Context(name: Format.truncated(name, limit: 200), type: text(json.member(value, "type")), fields: fields))
            }
        }
        if let sdk = json.member(root, "sdk") {
            view.sdkName = text(json.member(sdk, "name"))
            view.sdkVersion = text(json.member(sdk, "version"))
            for element in json.elementsIfArray(json.member(sdk, "packages")) {
                guard view.sdkPackages.count < 50, let name = text(json.member(element, "name")) else { continue }
                view.sdkPackages.append((name, text(json.member(element, "version")) ?? ""))
            }
            for element in json.elementsIfArray(json.member(sdk, "integrations")) {
                if view.sdkIntegrations.count < 100, let name = text(element, limit: 200) { view.sdkIntegrations.append(name) }
            }
        }
        view.platform = text(json.member(root, "platform"), limit: 100)
        view.release = text(json.member(root, "release"))
        view.dist = text(json.member(root, "dist"))
        view.environment = text(json.member(root, "environment"))
        view.serverName = text(json.member(root, "server_name"))
        view.transaction = text(json.member(root, "transaction"))
        view.logger = text(json.member(root, "logger"))
        for element in json.elementsIfArray(json.member(root, "fingerprint")) {
            if view.fingerprint.count < 50, let part = text(element) { view.fingerprint.append(part) }
        }
        view.extra = pairs(json.member(root, "extra"))
        for (key, title): (StaticString, String) in [
            ("csp", "CSP report"), ("expectct", "Expect-CT report"), ("expectstaple", "Expect-Staple report"), ("hpkp", "HPKP report"),
        ] {
            if let report = json.member(root, key), json.kind(report) == .object {
                view.securityReport = (title, pairs(report))
                break
            }
        }
        view.modules = pairs(json.member(root, "modules"))
    }

    func exception(_ index: Int) -> EventView.Exception {
        var exception = EventView.Exception()
        exception.type = text(json.member(index, "type"), limit: 500)
        exception.value = text(json.member(index, "value"), limit: Limits.message)
        exception.module = text(json.member(index, "module"), limit: 500)
        if let mechanism = json.member(index, "mechanism") {
            exception.mechanism = text(json.member(mechanism, "type"), limit: 200)
            exception.handled = json.bool(json.member(mechanism, "handled"))
        }
        if let stack = json.member(index, "stacktrace") ?? json.member(index, "raw_stacktrace") {
            (exception.frames, exception.framesOmitted) = frames(stack)
        }
        if json.member(index, "stacktrace") != nil, let raw = json.member(index, "raw_stacktrace") {
            (exception.rawFrames, exception.rawFramesOmitted) = frames(raw)
        }
        return exception
    }

    /// Keeps the newest frames when there are too many: the crash site is at the end.
    func frames(_ stack: Int) -> ([EventView.Frame], Int) {
        guard let list = json.member(stack, "frames"), json.kind(list) == .array else { return ([], 0) }
        let all = json.elements(list)
        var frames: [EventView.Frame] = []
        for index in all.suffix(Limits.frames) where json.kind(index) == .object {
            frames.append(frame(index))
        }
        return (frames, max(all.count - Limits.frames, 0))
    }

    func frame(_ index: Int) -> EventView.Frame {
        var frame = EventView.Frame()
        frame.filename = text(json.member(index, "filename"), limit: 1000)
        frame.absPath = text(json.member(index, "abs_path"), limit: 1000)
        frame.module = text(json.member(index, "module"), limit: 500)
        frame.function = text(json.member(index, "function"), limit: 1000)
        frame.package = text(json.member(index, "package"), limit: 500)
        frame.instructionAddress = text(json.member(index, "instruction_addr"), limit: 40)
        frame.lineNumber = json.int(json.member(index, "lineno"))
        frame.column = json.int(json.member(index, "colno"))
        frame.inApp = json.bool(json.member(index, "in_app"))
        let before = json.elementsIfArray(json.member(index, "pre_context")).suffix(Limits.contextLines)
        let after = json.elementsIfArray(json.member(index, "post_context")).prefix(Limits.contextLines)
        let line = text(json.member(index, "context_line"), limit: 1000)
        let lineNumber = frame.lineNumber
        for (offset, element) in before.enumerated() {
            let number = lineNumber.map { $0 &- before.count &+ offset }  // wrapping: line numbers are untrusted
            frame.context.append((number, text(element, limit: 1000) ?? ""))
        }
        if let line {
            frame.contextIndex = frame.context.count
            frame.context.append((lineNumber, line))
        }
        for (offset, element) in after.enumerated() {
            frame.context.append((lineNumber.map { $0 &+ offset &+ 1 }, text(element, limit: 1000) ?? ""))
        }
        frame.vars = pairs(json.member(index, "vars"))
        return frame
    }

    func breadcrumb(_ index: Int) -> EventView.Breadcrumb {
        var crumb = EventView.Breadcrumb()
        if let stamp = json.member(index, "timestamp") {
            let seconds = json.double(stamp) ?? json.string(stamp).flatMap { Timestamp.parse($0) }
            if let seconds, seconds.isFinite, abs(seconds) < 1e11 {
                crumb.timestamp = Format.exact(Int64(seconds * 1000))
            } else {
                crumb.timestamp = text(stamp, limit: 40)
            }
        }
        crumb.type = text(json.member(index, "type"), limit: 100)
        crumb.category = text(json.member(index, "category"), limit: 200)
        crumb.level = text(json.member(index, "level"), limit: 20)
        crumb.message = text(json.member(index, "message"))
        crumb.data = pairs(json.member(index, "data"))
        return crumb
    }

    func request(_ index: Int) -> EventView.Request {
        var request = EventView.Request()
        request.method = text(json.member(index, "method"), limit: 20)
        request.url = text(json.member(index, "url"))
        if let query = json.member(index, "query_string") {
            if json.kind(query) == .string {
                let raw = json.string(query) ?? ""
                request.query = raw.split(separator: "&").prefix(Limits.pairs).map { part in
                    let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    return (
                        Format.truncated(String(pieces[0]), limit: 200),
                        pieces.count > 1 ? Format.truncated(String(pieces[1]), limit: Limits.value) : ""
                    )
                }
            } else {
                request.query = pairs(query)
            }
        }
        request.headers = pairs(json.member(index, "headers"))
        if let cookies = json.member(index, "cookies") {
            if json.kind(cookies) == .string {
                request.cookies = (json.string(cookies) ?? "").split(separator: ";").prefix(Limits.pairs).map { part in
                    let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    return (pieces[0].trimmingSpaces, pieces.count > 1 ? Format.truncated(String(pieces[1]), limit: Limits.value) : "")
                }
            } else {
                request.cookies = pairs(cookies)
            }
        }
        if let data = json.member(index, "data"), json.kind(data) != .null {
            if json.kind(data) == .object || json.kind(data) == .array {
                var printer = JSONPrinter(json: json, budget: 20_000)
                printer.pretty(data, indent: 0)
                request.data = printer.out
            } else {
                request.data = display(data, limit: 20_000)
            }
        }
        request.env = pairs(json.member(index, "env"))
        return request
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}

/// Writes a subtree back out as JSON, stopping at a byte budget. Strings are copied from the
/// source (still JSON-escaped), so the output is what the SDK sent, re-indented.
struct JSONPrinter {
    let json: JSONView
    var budget: Int
    var out = ""
    private var exhausted = false

    init(json: JSONView, budget: Int) {
        self.json = json
        self.budget = budget
    }

    private mutating func emit(_ text: String) {
        guard !exhausted else { return }
        if text.utf8.count > budget {
            out += String(decoding: text.utf8.prefix(max(budget, 0)), as: UTF8.self)
            out += " … (truncated)"
            exhausted = true
            budget = 0
            return
        }
        budget -= text.utf8.count
        out += text
    }

    private mutating func emit(_ bytes: UnsafeRawBufferPointer) {
        guard !exhausted else { return }
        if bytes.count > budget {
            emit(String(decoding: bytes, as: UTF8.self))
            return
        }
        budget -= bytes.count
        out += String(decoding: bytes, as: UTF8.self)
    }

    mutating func compact(_ index: Int) {
        switch json.kind(index) {
        case .object:
            emit("{")
            var first = true
            json.forEachMember(index) { key, value in
                guard !exhausted else { return }
                if !first { emit(",") }
                first = false
                emit(json.source(key))
                emit(":")
                compact(value)
            }
            emit("}")
        case .array:
            emit("[")
            var first = true
            json.forEachElement(index) { element in
                guard !exhausted else { return }
                if !first { emit(",") }
                first = false
                compact(element)
            }
            emit("]")
        default:
            emit(json.source(index))
        }
    }

    mutating func pretty(_ index: Int, indent: Int) {
        let pad = String(repeating: "  ", count: indent + 1)
        let closePad = String(repeating: "  ", count: indent)
        switch json.kind(index) {
        case .object:
            guard json.count(index) > 0 else {
                emit("{}")
                return
            }
            emit("{\n")
            var first = true
            json.forEachMember(index) { key, value in
                guard !exhausted else { return }
                if !first { emit(",\n") }
                first = false
                emit(pad)
                emit(json.source(key))
                emit(": ")
                pretty(value, indent: indent + 1)
            }
            emit("\n" + closePad + "}")
        case .array:
            guard json.count(index) > 0 else {
                emit("[]")
                return
            }
            emit("[\n")
            var first = true
            json.forEachElement(index) { element in
                guard !exhausted else { return }
                if !first { emit(",\n") }
                first = false
                emit(pad)
                pretty(element, indent: indent + 1)
            }
            emit("\n" + closePad + "]")
        default:
            emit(json.source(index))
        }
    }
}
