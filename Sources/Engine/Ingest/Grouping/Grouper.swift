import Crypto
import Foundation
package import NIOCore
import PitModel

/// What grouping decided for one event.
package struct GroupingResult: Sendable {
    /// Every distinct hash of the event, preferred first (app, then system, or the fingerprint's).
    package var hashes: [GroupHash]
    package var title: String
    package var culprit: String
    /// `{"type","value","filename","function"}` for errors, `{"title"}` otherwise.
    package var metadata: [UInt8]
    /// "error" when the event has an exception, "default" otherwise (Sentry's event types).
    package var kind: String
    /// What the explanation is built from when it is needed (a new issue).
    package var source: GroupingSource
}

/// The event a grouping came from. The ingest path keeps the payload bytes rather than the
/// extracted event: one buffer instead of a few dozen strings and arrays per queued event, all of
/// which the writer thread used to free (7 % of its time at 10,000 events/s, perf); the event is
/// extracted again only for the rare new issue. The buffer is the request's own (see
/// `GroupingSource.payload(sharing:)`), so keeping it costs neither a copy nor a malloc.
package enum GroupingSource: Sendable {
    case event(ExtractedEvent)
    case payload(ByteBuffer)

    /// Shares the payload's storage unless the storage is much larger than the payload (an event
    /// beside a large attachment in one envelope), which a queued event should not pin.
    package static func payload(sharing payload: ByteBuffer) -> GroupingSource {
        if payload.storageCapacity <= 2 * payload.readableBytes + 4096 { return .payload(payload) }
        return .payload(ByteBuffer(bytes: payload.readableBytesView))
    }

    var event: ExtractedEvent {
        switch self {
        case .event(let event): return event
        case .payload(let buffer):
            let extracted = try? EventExtractor.extract(payload: buffer)
            // The same bytes were extracted once already, on the way in.
            return extracted ?? ExtractedEvent()
        }
    }
}

extension GroupingResult {
    /// The variants that were considered, with the components that explain each hash.
    package var variants: [GroupingVariant] { Grouper.explain(source.event).variants }

    /// The variants as JSON: `[{"variant":"app","hash":"…","component":{…}}, …]`. Rendered on
    /// demand, since only the first event of an issue has it stored.
    package var explanation: [UInt8] {
        var writer = JSONWriter()
        writer.beginArray()
        for variant in variants {
            writer.beginObject()
            writer.field("variant", variant.name)
            writer.key("hash")
            writer.value(variant.hash?.description)
            if let fingerprint = variant.fingerprint {
                writer.key("fingerprint")
                writer.beginArray()
                for value in fingerprint { writer.value(value) }
                writer.endArray()
            }
            if let component = variant.component {
                writer.key("component")
                component.write(to: &writer)
            }
            writer.endObject()
        }
        writer.endArray()
        return writer.bytes
    }
}

package struct GroupingVariant: Sendable {
    package var name: String
    package var hash: GroupHash?
    package var component: GroupingComponent?
    package var fingerprint: [String]?
}

/// Sentry-style grouping (PROTOCOL.md §6, Sentry's `newstyle:2023-01-11` strategy order:
/// stacktrace, then type, then value).
package enum Grouper {
    /// Groups an event. The hashes come from `fastHashes`, which walks the event once and feeds
    /// MD5 directly; the component tree that explains them (`explain`) is built only when asked
    /// for, i.e. for the first event of a new issue. Building the tree for every event cost about
    /// a fifth of the server's CPU at 4,000 events/s (perf, results/).
    package static func group(_ event: ExtractedEvent) -> GroupingResult {
        let exceptions = reduceExceptionGroups(event.exceptions)
        let hashes = fastHashes(event, exceptions: exceptions) ?? explain(event, exceptions: exceptions).hashes
        let (title, culprit, metadata, kind) = describe(event, exceptions: exceptions)
        return GroupingResult(hashes: hashes, title: title, culprit: culprit, metadata: metadata, kind: kind, source: .event(event))
    }

    /// The grouping variants with their component trees, and the hashes they give.
    package static func explain(_ event: ExtractedEvent) -> (hashes: [GroupHash], variants: [GroupingVariant]) {
        explain(event, exceptions: reduceExceptionGroups(event.exceptions))
    }

    static func explain(_ event: ExtractedEvent, exceptions: [ExceptionInfo]) -> (hashes: [GroupHash], variants: [GroupingVariant]) {
        var variants: [(name: String, component: GroupingComponent)] = []
        let pair = defaultComponents(event, exceptions: exceptions)
        let system = pair.system
        let app = pair.app
        let systemHasStack = system.hasContributingStacktrace
        let appHasStack = app.hasContributingStacktrace
        // A variant without a contributing stack trace stops contributing when another has one.
        if appHasStack || !systemHasStack {
            variants.append(("app", app))
        }
        variants.append(("system", system))
        if !appHasStack && !systemHasStack {
            // Both hash the same values; keep one.
            variants.removeFirst()
        }

        var hashes: [GroupHash] = []
        var explained: [GroupingVariant] = []
        if let fingerprint = event.fingerprint, !isDefaultFingerprint(fingerprint) {
            // With `{{ default }}` each default variant is extended; without, one custom hash.
            let usesDefault = fingerprint.contains(where: isDefaultMarker)
            if usesDefault {
                for variant in variants {
                    let values = resolve(
                        fingerprint, event: event, exceptions: exceptions, defaultValues: variant.component.contributingValues)
                    let hash = md5(values)
                    if !hashes.contains(hash) { hashes.append(hash) }
                    explained.append(GroupingVariant(name: variant.name, hash: hash, component: variant.component, fingerprint: values))
                }
            } else {
                let values = resolve(fingerprint, event: event, exceptions: exceptions, defaultValues: [])
                let hash = md5(values)
                hashes.append(hash)
                explained.append(GroupingVariant(name: "custom-fingerprint", hash: hash, component: nil, fingerprint: values))
                for variant in variants {
                    explained.append(GroupingVariant(name: variant.name, hash: nil, component: variant.component, fingerprint: nil))
                }
            }
        } else {
            for variant in variants {
                let hash = md5(variant.component.contributingValues)
                if !hashes.contains(hash) { hashes.append(hash) }
                explained.append(GroupingVariant(name: variant.name, hash: hash, component: variant.component, fingerprint: nil))
            }
        }

        return (hashes, explained)
    }

    // MARK: Hashes without the tree

    /// The hashes `explain` would give, computed in one pass without allocating components: the
    /// app and system variants are fed into two MD5 states frame by frame. Nil for custom
    /// fingerprints, which take the tree path (they are rare and need the default values).
    /// `GrouperFastPathTests` checks both paths agree.
    package static func fastHashes(_ event: ExtractedEvent, exceptions: [ExceptionInfo]) -> [GroupHash]? {
        if let fingerprint = event.fingerprint, !isDefaultFingerprint(fingerprint) { return nil }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2 * FrameScratch.capacity) { storage in
            var scratch = FrameScratch(storage: storage)
            return fastHashes(event, exceptions: exceptions, scratch: &scratch)
        }
    }

    private static func fastHashes(_ event: ExtractedEvent, exceptions: [ExceptionInfo], scratch: inout FrameScratch) -> [GroupHash] {
        var app = Insecure.MD5()
        var system = Insecure.MD5()
        var appHasStack = false
        var systemHasStack = false
        if !exceptions.isEmpty {
            for exception in exceptions {
                var appStack = false
                var systemStack = false
                feedFrames(
                    exception.frames, platform: event.platform, app: &app, system: &system,
                    appContributes: &appStack, systemContributes: &systemStack, scratch: &scratch)
                if let type = exception.type, !exception.synthetic {
                    feed(type, into: &app)
                    feed(type, into: &system)
                }
                if let raw = exception.value, !(appStack && systemStack) {
                    let normalized = GroupingValueNormalizer.normalize(raw)
                    if !appStack { feed(normalized, into: &app) }
                    if !systemStack { feed(normalized, into: &system) }
                }
                appHasStack = appHasStack || appStack
                systemHasStack = systemHasStack || systemStack
            }
        } else {
            var handled = false
            if let frames = event.threadFrames, !frames.isEmpty {
                var appStack = false
                var systemStack = false
                var threadApp = Insecure.MD5()
                var threadSystem = Insecure.MD5()
                feedFrames(
                    frames, platform: event.platform, app: &threadApp, system: &threadSystem,
                    appContributes: &appStack, systemContributes: &systemStack, scratch: &scratch)
                if systemStack {
                    app = threadApp
                    system = threadSystem
                    appHasStack = appStack
                    systemHasStack = true
                    handled = true
                }
            }
            if !handled, let message = event.message, let text = message.template ?? message.formatted {
                let normalized = GroupingValueNormalizer.normalize(text)
                feed(normalized, into: &app)
                feed(normalized, into: &system)
            }
        }
        let appHash = GroupHash(digest: app.finalize())
        let systemHash = GroupHash(digest: system.finalize())
        if !appHasStack && !systemHasStack { return [systemHash] }
        if !appHasStack { return [systemHash] }
        return appHash == systemHash ? [appHash] : [appHash, systemHash]
    }

    private static func feed(_ text: String, into hasher: inout Insecure.MD5) {
        var text = text
        text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
    }

    /// The frame rules of `frameComponent`, feeding contributing values straight into the hashers.
    /// Values are fed as bytes: a frame's strings are slices of the payload (`PayloadText`), and
    /// the usual frame (no `$` in its names, an ASCII file name) is hashed without a `String`.
    private static func feedFrames(
        _ frames: [FrameInfo], platform eventPlatform: String, app: inout Insecure.MD5, system: inout Insecure.MD5,
        appContributes: inout Bool, systemContributes: inout Bool, scratch: inout FrameScratch
    ) {
        // Indexed through a buffer pointer, with `borrowing` helpers and no `PayloadText` bound
        // to a local: a copied frame is seven retains and releases, a copied text one, and these
        // were 4 % of an event loop's CPU (perf). Cleaned values go to scratch buffers.
        // Frames are read through pointers (`pointee` is an addressor): a subscript of the array
        // or buffer copies the whole frame.
        frames.withUnsafeBufferPointer { frames in
            guard let base = frames.baseAddress else { return }
            for index in frames.indices {
                let frame = base + index
                if index > 0, isRecursion(frame - 1, frame) { continue }
                let platform = frame.pointee.platform ?? eventPlatform
                let location = location(of: frame, platform: platform, scratch: &scratch)
                let function = function(of: frame, platform: platform)
                var contextLine: UnsafeRawBufferPointer?
                if usesContextLine(platform) {
                    contextLine = frame.pointee.contextLine?.withUTF8 { scratch.collapseWhitespace($0) } ?? nil
                }
                guard location != nil || function != nil || contextLine != nil else { continue }
                feedFrame(frame, location: location, function: function, contextLine: contextLine, scratch: scratch, into: &system)
                systemContributes = true
                if frame.pointee.inApp == true {
                    feedFrame(frame, location: location, function: function, contextLine: contextLine, scratch: scratch, into: &app)
                    appContributes = true
                }
            }
        }
    }

    /// Where a frame's location value is, for `feedFrames`.
    private enum FrameLocation {
        /// The frame's module as sent (no `$` to clean).
        case module
        /// The lower-cased base name, in `FrameScratch.location`.
        case scratch
        case string(String)
    }

    /// Which of a frame's values is its function, for `feedFrames`.
    private enum FrameFunction {
        /// `function`, or `raw_function` when there is no `function`, as sent.
        case function
        case rawFunction
        case string(String)
    }

    /// `frameComponent`'s function rule: unknown JavaScript functions do not count, and only
    /// JavaScript, Ruby and names with `$` are cleaned (into a `String`).
    private static func function(of frame: UnsafePointer<FrameInfo>, platform: String) -> FrameFunction? {
        let useRaw = frame.pointee.function == nil
        guard useRaw ? frame.pointee.rawFunction != nil : true else { return nil }
        let isJavaScript = platform == "javascript" || platform == "node"
        func test(_ predicate: (PayloadText) -> Bool) -> Bool {
            (useRaw ? frame.pointee.rawFunction.map(predicate) : frame.pointee.function.map(predicate)) ?? false
        }
        if isJavaScript && test({ $0.equals("<anonymous>") || $0.equals("eval") || $0.equals("[native code]") || $0.equals("?") }) {
            return nil
        }
        if isJavaScript || platform == "ruby" || test({ $0.contains(UInt8(ascii: "$")) }) {
            let name = (useRaw ? frame.pointee.rawFunction?.string : frame.pointee.function?.string) ?? ""
            return .string(cleanFunction(name, platform: platform))
        }
        return useRaw ? .rawFunction : .function
    }

    /// Fixed buffers on the stack that `feedFrames` reuses from frame to frame: a base name to
    /// lower-case, a context line to collapse. Values that do not fit take the `String` path.
    struct FrameScratch {
        static let capacity = 256
        let location: UnsafeMutableBufferPointer<UInt8>
        let contextLine: UnsafeMutableBufferPointer<UInt8>
        var locationCount = 0

        init(storage: UnsafeMutableBufferPointer<UInt8>) {
            location = UnsafeMutableBufferPointer(rebasing: storage[0..<Self.capacity])
            contextLine = UnsafeMutableBufferPointer(rebasing: storage[Self.capacity..<2 * Self.capacity])
        }

        var locationBytes: UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: location[0..<locationCount]))
        }

        /// `Grouper.collapseWhitespace` into `contextLine`; nil when the result is empty or longer
        /// than the 120 bytes a contributing context line may have (so it never needs more room).
        func collapseWhitespace(_ line: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
            var count = 0
            var pendingSpace = false
            for byte in line {
                if byte == 0x20 || byte == 0x09 {
                    pendingSpace = count > 0
                    continue
                }
                if pendingSpace {
                    guard count < 120 else { return nil }
                    contextLine[count] = 0x20
                    count += 1
                    pendingSpace = false
                }
                guard count < 120 else { return nil }
                contextLine[count] = byte
                count += 1
            }
            guard count > 0 else { return nil }
            return UnsafeRawBufferPointer(UnsafeMutableBufferPointer(rebasing: contextLine[0..<count]))
        }
    }

    /// `frameComponent`'s location: the cleaned module, else the lower-cased file name.
    private static func location(of frame: UnsafePointer<FrameInfo>, platform: String, scratch: inout FrameScratch) -> FrameLocation? {
        if let hasDollar = frame.pointee.module?.contains(UInt8(ascii: "$")) {
            return hasDollar ? .string(cleanModule(frame.pointee.module?.string ?? "", platform: platform)) : .module
        }
        let useAbsPath = frame.pointee.filename == nil
        guard !(useAbsPath && frame.pointee.absPath == nil) else { return nil }
        // `isOpaquePath(absPath ?? filename)`
        let opaque = (frame.pointee.absPath.map(isOpaquePath) ?? frame.pointee.filename.map(isOpaquePath)) ?? false
        guard !opaque else { return nil }
        let fits: Bool? = (useAbsPath ? frame.pointee.absPath : frame.pointee.filename)?.withUTF8 { bytes -> Bool in
            guard !bytes.contains(where: { $0 >= 0x80 }) else { return false }
            // `split(separator:).last ?? whole`, first on "/", then on "\\", lower-cased.
            let slash = lastComponent(bytes[...], separator: UInt8(ascii: "/"))
            let base = lastComponent(slash, separator: UInt8(ascii: "\\"))
            guard base.count <= FrameScratch.capacity else { return false }
            for (offset, byte) in base.enumerated() { scratch.location[offset] = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte }
            scratch.locationCount = base.count
            return true
        }
        if fits == true { return .scratch }
        return .string(basename((useAbsPath ? frame.pointee.absPath?.string : frame.pointee.filename?.string) ?? ""))
    }

    /// The last non-empty `separator`-separated part of `bytes`, or all of it when there is none:
    /// what `split(separator:).last ?? bytes` gives, without the array.
    private static func lastComponent(_ bytes: Slice<UnsafeRawBufferPointer>, separator: UInt8) -> Slice<UnsafeRawBufferPointer> {
        var end = bytes.endIndex
        while end > bytes.startIndex && bytes[end - 1] == separator { end -= 1 }
        guard end > bytes.startIndex else { return bytes }
        var start = end
        while start > bytes.startIndex && bytes[start - 1] != separator { start -= 1 }
        return bytes[start..<end]
    }

    /// The lower-cased last path component, on either separator.
    static func basename(_ filename: String) -> String {
        let base = filename.split(separator: "/").last.map(String.init) ?? filename
        return (base.split(separator: "\\").last.map(String.init) ?? base).lowercased()
    }

    private static func feedFrame(
        _ frame: UnsafePointer<FrameInfo>, location: FrameLocation?, function: FrameFunction?,
        contextLine: UnsafeRawBufferPointer?, scratch: FrameScratch, into hasher: inout Insecure.MD5
    ) {
        switch location {
        case .module: frame.pointee.module?.withUTF8 { hasher.update(bufferPointer: $0) }
        case .scratch: hasher.update(bufferPointer: scratch.locationBytes)
        case .string(let string): feed(string, into: &hasher)
        case nil: break
        }
        switch function {
        case .function: frame.pointee.function?.withUTF8 { hasher.update(bufferPointer: $0) }
        case .rawFunction: frame.pointee.rawFunction?.withUTF8 { hasher.update(bufferPointer: $0) }
        case .string(let string): feed(string, into: &hasher)
        case nil: break
        }
        if let contextLine { hasher.update(bufferPointer: contextLine) }
    }

    package static func md5(_ values: [String]) -> GroupHash {
        var hasher = Insecure.MD5()
        for value in values {
            var value = value
            value.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        }
        return GroupHash(digest: hasher.finalize())
    }

    // MARK: Fingerprints

    static func isDefaultMarker(_ part: String) -> Bool {
        let trimmed = part.replacingSpaces
        return trimmed == "{{default}}"
    }

    static func isDefaultFingerprint(_ fingerprint: [String]) -> Bool {
        fingerprint.count == 1 && isDefaultMarker(fingerprint[0])
    }

    /// Resolves `{{ variable }}` entries; `{{ default }}` splices in the default values.
    static func resolve(_ fingerprint: [String], event: ExtractedEvent, exceptions: [ExceptionInfo], defaultValues: [String]) -> [String] {
        var out: [String] = []
        let main = exceptions.last
        let topFrame = (main?.frames ?? event.threadFrames ?? []).last
        for part in fingerprint {
            let compact = part.replacingSpaces
            guard compact.hasPrefix("{{"), compact.hasSuffix("}}") else {
                out.append(part)
                continue
            }
            let variable = String(compact.dropFirst(2).dropLast(2))
            switch variable {
            case "default": out.append(contentsOf: defaultValues)
            case "transaction": out.append(event.transaction ?? "<no-transaction>")
            case "type", "error.type": out.append(main?.type ?? "<no-type>")
            case "value", "error.value": out.append(main?.value ?? "<no-value>")
            case "function", "stack.function": out.append(topFrame?.function?.string ?? "<no-function>")
            case "module", "stack.module": out.append(topFrame?.module?.string ?? "<no-module>")
            case "package", "stack.package": out.append(topFrame?.package?.string ?? "<no-package>")
            case "level": out.append(event.level.name)
            case "logger": out.append(event.logger ?? "<no-logger>")
            case "message": out.append(event.message?.display ?? "<no-message>")
            default:
                if variable.hasPrefix("tags.") {
                    let key = String(variable.dropFirst(5))
                    out.append(event.tags.first(where: { $0.key == key })?.value ?? "<no-value-for-tag-\(key)>")
                } else {
                    out.append(part)
                }
            }
        }
        return out
    }

    // MARK: Default components

    /// The app and system variants of one component: built together so every frame, value and
    /// message is examined once (the variants differ only in which frames contribute).
    struct VariantPair {
        var app: GroupingComponent
        var system: GroupingComponent

        static func same(_ component: GroupingComponent) -> VariantPair { VariantPair(app: component, system: component) }
    }

    static func defaultComponents(_ event: ExtractedEvent, exceptions: [ExceptionInfo]) -> VariantPair {
        if !exceptions.isEmpty {
            let pairs = exceptions.map { exceptionComponents($0, platform: event.platform) }
            if pairs.count == 1 { return pairs[0] }
            func chain(_ components: [GroupingComponent]) -> GroupingComponent {
                GroupingComponent(
                    id: "chained-exception", contributes: components.contains(where: \.contributes),
                    values: components.map { .component($0) })
            }
            return VariantPair(app: chain(pairs.map(\.app)), system: chain(pairs.map(\.system)))
        }
        if let frames = event.threadFrames, !frames.isEmpty {
            let stacks = stacktraceComponents(frames, platform: event.platform)
            if stacks.system.contributes {
                return VariantPair(
                    app: GroupingComponent(id: "threads", contributes: stacks.app.contributes, values: [.component(stacks.app)]),
                    system: GroupingComponent(id: "threads", contributes: true, values: [.component(stacks.system)])
                )
            }
        }
        if let message = event.message, let text = message.template ?? message.formatted {
            let normalized = GroupingValueNormalizer.normalize(text)
            return .same(
                GroupingComponent(
                    id: "message", contributes: true,
                    hint: normalized == text ? nil : "stripped event-specific values",
                    values: [.text(normalized)]))
        }
        return .same(
            GroupingComponent(
                id: "fallback", contributes: false, hint: "no grouping information; all such events share one group", values: []))
    }

    static func exceptionComponents(_ exception: ExceptionInfo, platform: String) -> VariantPair {
        let stacks = stacktraceComponents(exception.frames, platform: platform)
        var type = GroupingComponent(id: "type", contributes: exception.type != nil, values: exception.type.map { [.text($0)] } ?? [])
        if exception.synthetic {
            type.contributes = false
            type.hint = "ignored because the exception is synthetic"
        }
        let normalized = exception.value.map(GroupingValueNormalizer.normalize)
        func build(_ stack: GroupingComponent) -> GroupingComponent {
            var value = GroupingComponent(id: "value", contributes: false, values: [])
            if let raw = exception.value, let normalized {
                value.values = [.text(normalized)]
                if stack.contributes {
                    value.hint = "ignored because stacktrace takes precedence"
                } else {
                    value.contributes = true
                    if normalized != raw { value.hint = "stripped event-specific values" }
                }
            }
            return GroupingComponent(
                id: "exception", contributes: stack.contributes || type.contributes || value.contributes,
                values: [.component(stack), .component(type), .component(value)])
        }
        return VariantPair(app: build(stacks.app), system: build(stacks.system))
    }

    static func stacktraceComponents(_ frames: [FrameInfo], platform: String) -> VariantPair {
        var system: [GroupingComponent.Value] = []
        var app: [GroupingComponent.Value] = []
        system.reserveCapacity(frames.count)
        app.reserveCapacity(frames.count)
        var previous: FrameInfo?
        var systemContributes = false
        var appContributes = false
        for frame in frames {
            defer { previous = frame }
            if let previous, isRecursion(previous, frame) {
                let skipped = GroupingComponent.Value.component(
                    GroupingComponent(id: "frame", contributes: false, hint: "ignored due to recursion", values: []))
                system.append(skipped)
                app.append(skipped)
                continue
            }
            let component = frameComponent(frame, platform: frame.platform ?? platform)
            system.append(.component(component))
            systemContributes = systemContributes || component.contributes
            if frame.inApp != true && component.contributes {
                var nonApp = component
                nonApp.contributes = false
                nonApp.hint = "non app frame"
                app.append(.component(nonApp))
            } else {
                app.append(.component(component))
                appContributes = appContributes || component.contributes
            }
        }
        return VariantPair(
            app: GroupingComponent(id: "stacktrace", contributes: appContributes, values: app),
            system: GroupingComponent(id: "stacktrace", contributes: systemContributes, values: system)
        )
    }

    /// `isRecursion` on frames read in place: passing `pointee` as an argument copied both
    /// frames (a retain per string) for every frame grouped (perf, `FrameInfo` value witnesses).
    private static func isRecursion(_ a: UnsafePointer<FrameInfo>, _ b: UnsafePointer<FrameInfo>) -> Bool {
        a.pointee.lineno == b.pointee.lineno && a.pointee.colno == b.pointee.colno && a.pointee.function == b.pointee.function
            && a.pointee.module == b.pointee.module && a.pointee.filename == b.pointee.filename
            && a.pointee.absPath == b.pointee.absPath && a.pointee.package == b.pointee.package
    }

    static func isRecursion(_ a: borrowing FrameInfo, _ b: borrowing FrameInfo) -> Bool {
        // Line numbers first: neighbouring frames nearly always differ there, and the integers
        // are compared without touching (retaining) the strings.
        a.lineno == b.lineno && a.colno == b.colno && a.function == b.function && a.module == b.module
            && a.filename == b.filename && a.absPath == b.absPath && a.package == b.package
    }

    /// Platforms whose context lines group (Sentry's rule). A `switch` rather than a `Set`: it
    /// runs per frame, and hashing the platform showed in the profile.
    static func usesContextLine(_ platform: String) -> Bool {
        switch platform {
        case "javascript", "node", "python", "php", "ruby": true
        default: false
        }
    }

    static func frameComponent(_ frame: FrameInfo, platform: String) -> GroupingComponent {
        let isJavaScript = platform == "javascript" || platform == "node"
        var values: [GroupingComponent.Value] = []
        if let module = frame.module {
            values.append(
                .component(
                    GroupingComponent(id: "module", contributes: true, values: [.text(cleanModule(module.string, platform: platform))])))
        } else if let filename = frame.filename ?? frame.absPath, !isOpaquePath(frame.absPath ?? filename) {
            values.append(.component(GroupingComponent(id: "filename", contributes: true, values: [.text(basename(filename.string))])))
        }
        if let function = (frame.function ?? frame.rawFunction)?.string {
            if isJavaScript && ["<anonymous>", "eval", "[native code]", "?"].contains(function) {
                values.append(
                    .component(
                        GroupingComponent(id: "function", contributes: false, hint: "ignored unknown function", values: [.text(function)])))
            } else {
                values.append(
                    .component(
                        GroupingComponent(id: "function", contributes: true, values: [.text(cleanFunction(function, platform: platform))])))
            }
        }
        if let line = frame.contextLine?.string, usesContextLine(platform) {
            let collapsed = collapseWhitespace(line)
            if collapsed.utf8.count <= 120 && !collapsed.isEmpty {
                values.append(.component(GroupingComponent(id: "context-line", contributes: true, values: [.text(collapsed)])))
            } else if !collapsed.isEmpty {
                values.append(
                    .component(
                        GroupingComponent(id: "context-line", contributes: false, hint: "discarded because line too long", values: [])))
            }
        }
        let contributes = values.contains { if case .component(let c) = $0 { return c.contributes } else { return false } }
        return GroupingComponent(id: "frame", contributes: contributes, values: values)
    }

    /// Trims and collapses runs of spaces and tabs to one space, on bytes (the per-frame hot path).
    static func collapseWhitespace(_ line: String) -> String {
        var out: [UInt8] = []
        var line = line
        line.withUTF8 { collapseWhitespace(UnsafeRawBufferPointer($0), into: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    static func collapseWhitespace(_ line: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        var pendingSpace = false
        for byte in line {
            if byte == 0x20 || byte == 0x09 {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace {
                    out.append(0x20)
                    pendingSpace = false
                }
                out.append(byte)
            }
        }
    }

    static func isOpaquePath(_ path: PayloadText) -> Bool {
        path.hasPrefix("http://") || path.hasPrefix("https://") || path.equals("<anonymous>") || path.equals("[native code]")
            || path.hasPrefix("blob:")
    }

    /// Java proxies and lambdas and Ruby erb templates carry generated numbers that change between
    /// builds; Sentry strips them so a redeploy does not split groups.
    static func cleanModule(_ module: String, platform: String) -> String {
        guard module.utf8.contains(UInt8(ascii: "$")) else { return module }
        var result = module
        if let range = result.range(of: "$$Lambda$") { result = String(result[..<range.upperBound]) }
        if let range = result.range(of: "$Proxy"), result[range.upperBound...].allSatisfy(\.isNumber) {
            result = String(result[..<range.upperBound])
        }
        return result
    }

    static func cleanFunction(_ function: String, platform: String) -> String {
        guard platform == "javascript" || platform == "node" || platform == "ruby" || function.utf8.contains(UInt8(ascii: "$")) else {
            return function
        }
        var result = function
        if platform == "javascript" || platform == "node" {
            // `Foo.bar` groups as `bar`: the receiver differs between minified builds.
            if let dot = result.lastIndex(of: "."), result.index(after: dot) < result.endIndex {
                result = String(result[result.index(after: dot)...])
            }
        }
        if platform == "ruby", let range = result.range(of: "__erb__") ?? result.range(of: "_erb__") {
            result = String(result[..<range.lowerBound])
        }
        if let range = result.range(of: "$$Lambda$") { result = String(result[..<range.upperBound]) }
        return result
    }

    /// Exception groups (`is_exception_group` trees) are reduced to their distinct top-level
    /// children; a group wrapping one exception is that exception.
    static func reduceExceptionGroups(_ exceptions: [ExceptionInfo]) -> [ExceptionInfo] {
        guard exceptions.contains(where: \.isExceptionGroup) else { return exceptions }
        guard
            let root = exceptions.first(where: { $0.isExceptionGroup && $0.parentID == nil })
                ?? exceptions.first(where: \.isExceptionGroup),
            let rootID = root.exceptionID
        else { return exceptions }
        // Nested groups directly under the root are represented by their own children. (This
        // comment used to stand above a plain `filter { $0.parentID == rootID }`, so a nested group
        // contributed as itself, splitting issues that Sentry's top-level-exceptions rule joins.)
        // Iterative with an index and a visited set: ids come from the client and may be deep or
        // form cycles.
        var byParent: [Int: [ExceptionInfo]] = [:]
        for exception in exceptions { if let parent = exception.parentID { byParent[parent, default: []].append(exception) } }
        var visited: Set<Int> = [rootID]
        var children: [ExceptionInfo] = []
        var pending = Array((byParent[rootID] ?? []).reversed())
        while let child = pending.popLast() {
            if child.isExceptionGroup, let id = child.exceptionID {
                guard visited.insert(id).inserted else { continue }
                if let nested = byParent[id], !nested.isEmpty {
                    pending.append(contentsOf: nested.reversed())
                    continue
                }
            }
            children.append(child)
        }
        var seen: Set<[String]> = []
        children = children.filter { child in
            let key =
                [child.type ?? "", child.value.map(GroupingValueNormalizer.normalize) ?? ""]
                + child.frames.map { "\(($0.module ?? $0.filename)?.string ?? ""):\($0.function?.string ?? "")" }
            return seen.insert(key).inserted
        }
        if children.isEmpty { return [root] }
        return children
    }

    // MARK: Title, culprit, metadata

    static func describe(_ event: ExtractedEvent, exceptions: [ExceptionInfo]) -> (String, String, [UInt8], String) {
        var metadata = JSONWriter()
        metadata.beginObject()
        let frames = exceptions.last?.frames ?? event.threadFrames ?? []
        let culpritFrame = frames.last(where: { $0.inApp == true }) ?? frames.last
        let culprit =
            event.transaction ?? event.culprit ?? culpritFrame.map { frameCulprit($0, platform: $0.platform ?? event.platform) } ?? ""
        if let main = event.exceptions.last(where: { !$0.isExceptionGroup }) ?? event.exceptions.last {
            let type = main.type ?? "Error"
            let value = main.value ?? ""
            let firstLine = Self.firstLine(value)
            let title = firstLine.isEmpty ? type : "\(type): \(truncate(firstLine, 100))"
            metadata.field("type", type)
            metadata.field("value", truncate(value, 1024))
            if let frame = culpritFrame {
                if let filename = frame.filename ?? frame.absPath { metadata.field("filename", filename) }
                if let function = frame.function { metadata.field("function", function) }
            }
            metadata.field("in_app_frame_mix", inAppMix(frames))
            metadata.endObject()
            return (title, truncate(culprit, 200), metadata.bytes, "error")
        }
        let message = event.message?.display ?? ""
        let firstLine = Self.firstLine(message)
        let title = firstLine.isEmpty ? (event.transaction ?? "<unlabeled event>") : truncate(firstLine, 100)
        metadata.field("title", title)
        if !message.isEmpty { metadata.field("value", truncate(message, 1024)) }
        metadata.endObject()
        return (title, truncate(culprit, 200), metadata.bytes, "default")
    }

    /// The first non-empty line, as `split(separator: "\n", maxSplits: 1).first` gives it,
    /// without the array (or a copy when the text is one line).
    ///
    /// Scans bytes rather than `Character`s (grapheme breaking was ~1 % of the event loops'
    /// time). The result is the same: a line feed is a `Character` of its own except right
    /// after a carriage return, where "\r\n" is one `Character` and does not split.
    package static func firstLine(_ text: String) -> Substring {
        let utf8 = text.utf8
        let lineFeed = UInt8(ascii: "\n")
        var start = utf8.startIndex
        while start < utf8.endIndex && utf8[start] == lineFeed { start = utf8.index(after: start) }
        var previous: UInt8 = 0
        var cursor = start
        while cursor < utf8.endIndex {
            let byte = utf8[cursor]
            if byte == lineFeed && previous != UInt8(ascii: "\r") { return text[start..<cursor] }
            previous = byte
            cursor = utf8.index(after: cursor)
        }
        return text[start...]
    }

    static func inAppMix(_ frames: [FrameInfo]) -> String {
        var inApp = 0
        for frame in frames where frame.inApp == true { inApp += 1 }
        if inApp == 0 { return "system-only" }
        return inApp == frames.count ? "in-app-only" : "mixed"
    }

    static func frameCulprit(_ frame: FrameInfo, platform: String) -> String {
        let function = frame.function?.string
        if platform == "javascript" || platform == "node" {
            let location = (frame.absPath ?? frame.filename)?.string ?? ""
            guard let function else { return location }
            return location.isEmpty ? function : "\(function)(\(location))"
        }
        let location = (frame.module ?? frame.filename)?.string ?? ""
        if let function, !location.isEmpty { return "\(location) in \(function)" }
        return location.isEmpty ? (function ?? "") : location
    }

    /// Counts Unicode scalars, not `Character`s: one letter followed by a million combining
    /// marks is a single `Character`, and would make a megabyte title or culprit.
    package static func truncate(_ text: String, _ limit: Int) -> String {
        // A substring of the whole string converts back without a copy.
        truncate(text[...], limit)
    }

    package static func truncate(_ text: Substring, _ limit: Int) -> String {
        // A scalar takes at least one byte, and the UTF-8 count of a native string is stored.
        if text.utf8.count <= limit { return String(text) }
        let scalars = text.unicodeScalars
        guard scalars.count > limit else { return String(text) }
        return String(String.UnicodeScalarView(scalars.prefix(limit - 1))) + "…"
    }
}

extension GroupingComponent {
    /// Whether a stack trace (of an exception, a chain, or threads) contributes to this variant.
    var hasContributingStacktrace: Bool {
        if id == "stacktrace" { return contributes }
        return values.contains { value in
            if case .component(let child) = value { return child.hasContributingStacktrace }
            return false
        }
    }
}

extension String {
    var replacingSpaces: String { String(filter { $0 != " " }) }
}
