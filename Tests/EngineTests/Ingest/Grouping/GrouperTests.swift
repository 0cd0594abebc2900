import PitIngest
import PitModel
import PitStorage
import Testing

/// A frame as JSON.
private func frame(
    module: String? = nil, function: String? = nil, filename: String? = nil, absPath: String? = nil,
    lineno: Int? = nil, contextLine: String? = nil, inApp: Bool? = nil
) -> String {
    var parts: [String] = []
    if let module { parts.append("\"module\":\(JSONWriter.quoted(module))") }
    if let function { parts.append("\"function\":\(JSONWriter.quoted(function))") }
    if let filename { parts.append("\"filename\":\(JSONWriter.quoted(filename))") }
    if let absPath { parts.append("\"abs_path\":\(JSONWriter.quoted(absPath))") }
    if let lineno { parts.append("\"lineno\":\(lineno)") }
    if let contextLine { parts.append("\"context_line\":\(JSONWriter.quoted(contextLine))") }
    if let inApp { parts.append("\"in_app\":\(inApp)") }
    return "{" + parts.joined(separator: ",") + "}"
}

/// One exception value as JSON.
private func exception(_ type: String? = "ValueError", _ value: String? = "bad", frames: [String] = [], mechanism: String? = nil) -> String
{
    var parts: [String] = []
    if let type { parts.append("\"type\":\(JSONWriter.quoted(type))") }
    if let value { parts.append("\"value\":\(JSONWriter.quoted(value))") }
    if let mechanism { parts.append("\"mechanism\":\(mechanism)") }
    if !frames.isEmpty { parts.append("\"stacktrace\":{\"frames\":[\(frames.joined(separator: ","))]}") }
    return "{" + parts.joined(separator: ",") + "}"
}

/// An event with the given exceptions (oldest first) and extra top-level members.
private func event(_ exceptions: [String], platform: String = "python", extra: String = "") -> String {
    "{\"platform\":\"\(platform)\",\"exception\":{\"values\":[\(exceptions.joined(separator: ","))]}\(extra.isEmpty ? "" : "," + extra)}"
}

private func hashes(_ json: String) throws -> [String] {
    try group(json).hashes.map(\.description)
}

private func md5(_ values: [String]) -> String { Grouper.md5(values).description }

/// What the teammate's value normaliser does to `text` (a pass-through today).
private func n(_ text: String) -> String { GroupingValueNormalizer.normalize(text) }

private let appFrame = frame(module: "app.views", function: "index", inApp: true)
private let systemFrame = frame(module: "django.core", function: "handle", inApp: false)

@Suite struct GrouperHashTests {
    @Test func md5ConcatenatesValues() {
        #expect(md5([]) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(md5(["a", "bc"]) == "900150983cd24fb0d6963f7d28e17f72")
        #expect(md5(["abc"]) == md5(["a", "b", "c"]))
    }

    @Test func sameExceptionTwiceGroupsTogether() throws {
        let json = event([exception(frames: [systemFrame, appFrame])])
        let first = try hashes(json)
        #expect(try hashes(json) == first)
    }

    @Test func differentTypeGroupsApart() throws {
        let keyError = try hashes(event([exception("KeyError", frames: [appFrame])]))
        #expect(try hashes(event([exception("ValueError", frames: [appFrame])])) != keyError)
        let keyErrorWithoutFrames = try hashes(event([exception("KeyError")]))
        #expect(try hashes(event([exception("ValueError")])) != keyErrorWithoutFrames)
    }

    @Test func systemOnlyFramesGiveOneSystemHash() throws {
        let result = try group(event([exception(frames: [frame(module: "app.views", function: "index", inApp: false)])]))
        #expect(result.hashes.map(\.description) == [md5(["app.views", "index", "ValueError"])])
        #expect(try variantNames(result) == ["system"])
    }

    @Test func framesWithoutInAppCountAsSystem() throws {
        let result = try group(event([exception(frames: [frame(module: "app.views", function: "index")])]))
        #expect(result.hashes.map(\.description) == [md5(["app.views", "index", "ValueError"])])
    }

    @Test func mixedFramesGiveAppAndSystemHashes() throws {
        let result = try group(event([exception(frames: [systemFrame, appFrame])]))
        #expect(
            result.hashes.map(\.description) == [
                md5(["app.views", "index", "ValueError"]),
                md5(["django.core", "handle", "app.views", "index", "ValueError"]),
            ])
        #expect(try variantNames(result) == ["app", "system"])
    }

    @Test func allInAppFramesGiveOneHash() throws {
        let result = try group(event([exception(frames: [appFrame, frame(module: "app.models", function: "save", inApp: true)])]))
        #expect(result.hashes.map(\.description) == [md5(["app.views", "index", "app.models", "save", "ValueError"])])
        #expect(try variantNames(result) == ["app", "system"])
    }

    @Test func appVariantJoinsAcrossDifferentSystemFrames() throws {
        // The app hash stays the same when only library frames change, so both events share a group.
        let first = try hashes(event([exception(frames: [systemFrame, appFrame])]))
        let second = try hashes(event([exception(frames: [frame(module: "flask.app", function: "dispatch", inApp: false), appFrame])]))
        #expect(first[0] == second[0])
        #expect(first[1] != second[1])
    }

    @Test func valueIgnoredWhenStacktraceContributes() throws {
        let a = try hashes(event([exception("ValueError", "user 1 not found", frames: [appFrame])]))
        let b = try hashes(event([exception("ValueError", "totally different", frames: [appFrame])]))
        #expect(a == b)
    }

    @Test func valueUsedWithoutFrames() throws {
        let result = try hashes(event([exception("ValueError", "bad input")]))
        #expect(result == [md5(["ValueError", n("bad input")])])
        #expect(try hashes(event([exception("ValueError", "other problem")])) != result)
        #expect(try hashes(event([exception(nil, "only value")])) == [md5([n("only value")])])
    }

    @Test func valueUsedWhenNoFrameContributes() throws {
        // Frames without any contributing field (no module, filename or function) leave the value in.
        let result = try hashes(event([exception("ValueError", "bad", frames: [frame(lineno: 3)])]))
        #expect(result == [md5(["ValueError", n("bad")])])
    }

    @Test func syntheticMechanismIgnoresType() throws {
        let mechanism = #"{"type":"signalhandler","synthetic":true}"#
        let a = try hashes(event([exception("SIGSEGV", "x", frames: [appFrame], mechanism: mechanism)], platform: "native"))
        let b = try hashes(event([exception("SIGBUS", "y", frames: [appFrame], mechanism: mechanism)], platform: "native"))
        #expect(a == b)
        #expect(a == [md5(["app.views", "index"])])
        // Without frames, the value is what is left.
        #expect(try hashes(event([exception("SIGSEGV", "fault", mechanism: mechanism)])) == [md5([n("fault")])])
        // Not synthetic: the type counts again.
        let handled = #"{"type":"generic","synthetic":false}"#
        #expect(
            try hashes(event([exception("SIGSEGV", "x", frames: [appFrame], mechanism: handled)])) == [
                md5(["app.views", "index", "SIGSEGV"])
            ])
    }

    @Test func recursionFramesAreDropped() throws {
        let a = frame(module: "m", function: "recurse", lineno: 10, inApp: true)
        let b = frame(module: "m", function: "leaf", lineno: 20, inApp: true)
        let recursive = try hashes(event([exception(frames: [a, a, a, b])]))
        #expect(try recursive == hashes(event([exception(frames: [a, b])])))
        #expect(recursive == [md5(["m", "recurse", "m", "leaf", "ValueError"])])
        // Same function on another line is not recursion.
        let c = frame(module: "m", function: "recurse", lineno: 11, inApp: true)
        #expect(try hashes(event([exception(frames: [a, c, b])])) == [md5(["m", "recurse", "m", "recurse", "m", "leaf", "ValueError"])])
    }

    @Test(arguments: ["python", "javascript", "node", "php", "ruby"])
    func contextLineCountsForScriptingPlatforms(platform: String) throws {
        let x = try hashes(
            event([exception(frames: [frame(module: "m", function: "f", contextLine: "x = compute()", inApp: true)])], platform: platform))
        let y = try hashes(
            event([exception(frames: [frame(module: "m", function: "f", contextLine: "y = other()", inApp: true)])], platform: platform))
        #expect(x != y)
        #expect(x == [md5(["m", "f", "x = compute()", "ValueError"])])
    }

    @Test(arguments: ["java", "cocoa", "native", "go", "csharp", "other"])
    func contextLineIgnoredElsewhere(platform: String) throws {
        let x = try hashes(
            event([exception(frames: [frame(module: "m", function: "f", contextLine: "x = compute()", inApp: true)])], platform: platform))
        let y = try hashes(
            event([exception(frames: [frame(module: "m", function: "f", contextLine: "y = other()", inApp: true)])], platform: platform))
        #expect(x == y)
        #expect(x == [md5(["m", "f", "ValueError"])])
    }

    @Test func contextLineWhitespaceCollapsesAndLongLinesAreIgnored() throws {
        let collapsed = try hashes(
            event([exception(frames: [frame(module: "m", function: "f", contextLine: "  x  =\tcompute( ) ", inApp: true)])]))
        #expect(collapsed == [md5(["m", "f", "x = compute( )", "ValueError"])])
        let line120 = String(repeating: "a", count: 120)
        #expect(
            try hashes(event([exception(frames: [frame(module: "m", function: "f", contextLine: line120, inApp: true)])]))
                == [md5(["m", "f", line120, "ValueError"])])
        let line121 = String(repeating: "a", count: 121)
        #expect(
            try hashes(event([exception(frames: [frame(module: "m", function: "f", contextLine: line121, inApp: true)])]))
                == [md5(["m", "f", "ValueError"])])
    }

    @Test func filenameBasenameWhenNoModule() throws {
        let a = try hashes(event([exception(frames: [frame(function: "index", filename: "/src/App/Views.py", inApp: true)])]))
        let b = try hashes(event([exception(frames: [frame(function: "index", filename: "/other/app/views.py", inApp: true)])]))
        let c = try hashes(event([exception(frames: [frame(function: "index", filename: "C:\\src\\VIEWS.py", inApp: true)])]))
        #expect(a == [md5(["views.py", "index", "ValueError"])])
        #expect(a == b && b == c)
    }

    @Test func javascriptFunctionsAndURLs() throws {
        let a = frame(
            function: "Foo.handler", filename: "https://cdn.example.com/a.js", absPath: "https://cdn.example.com/a.js", inApp: true)
        let b = frame(
            function: "Bar.handler", filename: "https://other.example.com/b.js", absPath: "https://other.example.com/b.js", inApp: true)
        let x = try hashes(event([exception("TypeError", "x", frames: [a])], platform: "javascript"))
        #expect(try x == hashes(event([exception("TypeError", "y", frames: [b])], platform: "javascript")))
        #expect(x == [md5(["handler", "TypeError"])])
        // Anonymous frames do not contribute at all.
        let anonymous = frame(function: "<anonymous>", filename: "<anonymous>", absPath: "<anonymous>", inApp: true)
        #expect(
            try hashes(event([exception("TypeError", "v", frames: [anonymous])], platform: "javascript")) == [md5(["TypeError", n("v")])])
    }

    @Test func chainedExceptionsContributeInOrder() throws {
        let first = exception("KeyError", "k", frames: [frame(module: "a", function: "fa", inApp: false)])
        let second = exception("ValueError", "v", frames: [frame(module: "b", function: "fb", inApp: false)])
        let forward = try hashes(event([first, second]))
        #expect(forward == [md5(["a", "fa", "KeyError", "b", "fb", "ValueError"])])
        #expect(try hashes(event([second, first])) != forward)
        #expect(try hashes(event([second])) != forward)
    }

    static let child = frame(module: "worker", function: "run", inApp: true)

    static func member(_ type: String, id: Int, parent: Int?, group: Bool = false, frames: [String] = [child]) -> String {
        let parentPart = parent.map { ",\"parent_id\":\($0)" } ?? ""
        return exception(
            type, group ? "group" : "boom \(type)", frames: group ? [] : frames,
            mechanism: "{\"type\":\"chained\",\"exception_id\":\(id)\(parentPart),\"is_exception_group\":\(group)}")
    }

    @Test func exceptionGroupOfIdenticalChildrenIsTheChild() throws {
        let grouped = try hashes(
            event([
                Self.member("ExceptionGroup", id: 0, parent: nil, group: true),
                Self.member("ValueError", id: 1, parent: 0), Self.member("ValueError", id: 2, parent: 0),
            ]))
        #expect(grouped == [md5(["worker", "run", "ValueError"])])
        #expect(try grouped == hashes(event([exception("ValueError", "plain", frames: [Self.child])])))
    }

    @Test func exceptionGroupOfDistinctChildren() throws {
        let grouped = try hashes(
            event([
                Self.member("ExceptionGroup", id: 0, parent: nil, group: true),
                Self.member("ValueError", id: 1, parent: 0), Self.member("TypeError", id: 2, parent: 0),
                Self.member("ValueError", id: 3, parent: 0),
            ]))
        #expect(grouped == [md5(["worker", "run", "ValueError", "worker", "run", "TypeError"])])
    }

    @Test func nestedExceptionGroupsAreFlattenedToTheirChildren() throws {
        // ExceptionGroup(0) ── ExceptionGroup(1) ── ValueError(2), TypeError(3)
        //                   └─ ValueError(4)
        // The top-level exceptions are ValueError, TypeError, ValueError: two distinct ones.
        let nested = try hashes(
            event([
                Self.member("ExceptionGroup", id: 0, parent: nil, group: true),
                Self.member("ExceptionGroup", id: 1, parent: 0, group: true),
                Self.member("ValueError", id: 2, parent: 1), Self.member("TypeError", id: 3, parent: 1),
                Self.member("ValueError", id: 4, parent: 0),
            ]))
        #expect(nested == [md5(["worker", "run", "ValueError", "worker", "run", "TypeError"])])
    }

    @Test func cyclicExceptionGroupsTerminate() throws {
        let result = try group(
            event([
                Self.member("ExceptionGroup", id: 1, parent: 2, group: true),
                Self.member("ExceptionGroup", id: 2, parent: 1, group: true),
                Self.member("ValueError", id: 3, parent: 1),
            ]))
        #expect(!result.hashes.isEmpty)
    }

    @Test func messageTemplateIgnoresParams() throws {
        let a = try hashes(#"{"logentry":{"message":"User %s failed to log in","params":["alice"]}}"#)
        let b = try hashes(#"{"logentry":{"message":"User %s failed to log in","params":["bob"]}}"#)
        #expect(a == b)
        #expect(a == [md5([n("User %s failed to log in")])])
        #expect(try hashes(#"{"logentry":{"message":"Cache miss for %s","params":["alice"]}}"#) != a)
    }

    @Test func messageFormattedAndLegacyForms() throws {
        #expect(try hashes(#"{"logentry":{"formatted":"Hello there"}}"#) == [md5([n("Hello there")])])
        #expect(try hashes(#"{"message":"Hello there"}"#) == [md5([n("Hello there")])])
    }

    @Test func threadStacktraceBeatsMessage() throws {
        let json =
            #"{"message":"hello","threads":{"values":[{"crashed":true,"stacktrace":{"frames":[{"module":"m","function":"f","in_app":false}]}}]}}"#
        #expect(try hashes(json) == [md5(["m", "f"])])
    }

    @Test func fallbackIsMD5OfNothing() throws {
        let result = try group("{}")
        #expect(result.hashes.map(\.description) == ["d41d8cd98f00b204e9800998ecf8427e"])
        #expect(result.kind == "default")
        #expect(result.title == "<unlabeled event>")
        #expect(result.culprit == "")
        // Every event without grouping information shares it.
        #expect(try hashes(#"{"level":"info","tags":{"a":"b"},"exception":{"values":[]}}"#) == ["d41d8cd98f00b204e9800998ecf8427e"])
    }
}

@Suite struct GrouperFingerprintTests {
    @Test func customFingerprintWithoutDefault() throws {
        let a = try group(event([exception("ValueError", frames: [appFrame])], extra: #""fingerprint":["my-group"]"#))
        let b = try group(event([exception("KeyError")], extra: #""fingerprint":["my-group"]"#))
        #expect(a.hashes.map(\.description) == [md5(["my-group"])])
        #expect(a.hashes == b.hashes)
        #expect(try variantNames(a) == ["custom-fingerprint", "app", "system"])
        let variants = try explanation(a)
        #expect(variants[0].hash == md5(["my-group"]))
        #expect(variants[1].hash == nil && variants[2].hash == nil)
    }

    @Test func defaultMarkerAloneIsTheDefault() throws {
        let plain = try hashes(event([exception(frames: [systemFrame, appFrame])]))
        for marker in ["{{ default }}", "{{default}}", "{{  default  }}"] {
            #expect(try hashes(event([exception(frames: [systemFrame, appFrame])], extra: "\"fingerprint\":[\"\(marker)\"]")) == plain)
        }
    }

    @Test func defaultMarkerExtendsEachVariant() throws {
        let noFrames = try hashes(event([exception("ValueError", "bad")], extra: #""fingerprint":["{{ default }}","extra"]"#))
        #expect(noFrames == [md5(["ValueError", n("bad"), "extra"])])
        let withFrames = try hashes(event([exception(frames: [systemFrame, appFrame])], extra: #""fingerprint":["pre","{{ default }}"]"#))
        #expect(
            withFrames == [
                md5(["pre", "app.views", "index", "ValueError"]),
                md5(["pre", "django.core", "handle", "app.views", "index", "ValueError"]),
            ])
    }

    @Test(arguments: [
        (#"["{{ type }}"]"#, ["ValueError"]), (#"["{{ error.type }}","{{ level }}"]"#, ["ValueError", "warning"]),
        (#"["{{ transaction }}"]"#, ["/api/orders"]), (#"["{{ value }}"]"#, ["bad"]), (#"["{{ function }}"]"#, ["index"]),
        (#"["{{ module }}","{{ package }}"]"#, ["app.views", "<no-package>"]), (#"["{{ logger }}"]"#, ["<no-logger>"]),
        (#"["{{ tags.region }}","{{ tags.missing }}"]"#, ["eu", "<no-value-for-tag-missing>"]),
        (#"["{{ message }}"]"#, ["<no-message>"]), (#"["{{ unknown }}","x"]"#, ["{{ unknown }}", "x"]),
    ])
    func fingerprintVariables(fingerprint: String, values: [String]) throws {
        let extra = #""level":"warning","transaction":"/api/orders","tags":{"region":"eu"},"fingerprint":\#(fingerprint)"#
        #expect(try hashes(event([exception("ValueError", "bad", frames: [systemFrame, appFrame])], extra: extra)) == [md5(values)])
    }

    @Test func missingVariablesUsePlaceholders() throws {
        #expect(try hashes(#"{"fingerprint":["{{ transaction }}","{{ type }}"]}"#) == [md5(["<no-transaction>", "<no-type>"])])
        #expect(try hashes(#"{"level":"info","fingerprint":["{{ level }}"]}"#) == [md5(["info"])])
    }
}

@Suite struct GrouperDescriptionTests {
    @Test func pythonTitleCulpritAndMetadata() throws {
        let result = try group(
            event([
                exception(
                    "ValueError", "msg\nsecond line",
                    frames: [
                        systemFrame, frame(module: "app.views", function: "index", filename: "app/views.py", inApp: true),
                        frame(module: "lib.util", function: "helper", inApp: false),
                    ])
            ]))
        #expect(result.title == "ValueError: msg")
        #expect(result.culprit == "app.views in index")
        #expect(result.kind == "error")
        try withJSON(String(decoding: result.metadata, as: UTF8.self)) { json in
            #expect(json.string(json.member(0, "type")) == "ValueError")
            #expect(json.string(json.member(0, "value")) == "msg\nsecond line")
            #expect(json.string(json.member(0, "filename")) == "app/views.py")
            #expect(json.string(json.member(0, "function")) == "index")
            #expect(json.string(json.member(0, "in_app_frame_mix")) == "mixed")
            #expect(json.count(0) == 5)
        }
    }

    @Test func javascriptCulprit() throws {
        let result = try group(
            event(
                [
                    exception(
                        "TypeError", "x is undefined",
                        frames: [
                            frame(function: "handleClick", filename: "app.js", absPath: "https://example.com/app.js", inApp: true)
                        ])
                ], platform: "javascript"))
        #expect(result.title == "TypeError: x is undefined")
        #expect(result.culprit == "handleClick(https://example.com/app.js)")
    }

    @Test func culpritFallsBackToTheLastFrameAndTransactionWins() throws {
        let systemOnly = try group(
            event([exception(frames: [frame(module: "lib", function: "a", inApp: false), frame(filename: "x.py", inApp: false)])]))
        #expect(systemOnly.culprit == "x.py")
        let withTransaction = try group(event([exception(frames: [appFrame])], extra: #""transaction":"/checkout""#))
        #expect(withTransaction.culprit == "/checkout")
        let explicit = try group(event([exception(frames: [appFrame])], extra: #""culprit":"explicit""#))
        #expect(explicit.culprit == "explicit")
    }

    @Test func titleForms() throws {
        #expect(try group(event([exception("TypeError", nil)])).title == "TypeError")
        #expect(try group(event([exception(nil, "just a value")])).title == "Error: just a value")
        let long = String(repeating: "x", count: 150)
        #expect(try group(event([exception("ValueError", long)])).title == "ValueError: " + String(repeating: "x", count: 99) + "…")
        // The newest (last) exception names the issue.
        #expect(try group(event([exception("KeyError", "a"), exception("RuntimeError", "b")])).title == "RuntimeError: b")
    }

    @Test func messageEventDescription() throws {
        let result = try group(#"{"logentry":{"message":"Disk %s full\nmore","params":["/var"]}}"#)
        #expect(result.kind == "default")
        #expect(result.title == "Disk /var full")
        try withJSON(String(decoding: result.metadata, as: UTF8.self)) { json in
            #expect(json.string(json.member(0, "title")) == "Disk /var full")
            #expect(json.string(json.member(0, "value")) == "Disk /var full\nmore")
        }
        #expect(try group(#"{"transaction":"/t"}"#).title == "/t")
    }

    @Test func explanationNamesContributingComponents() throws {
        let result = try group(event([exception("ValueError", "bad", frames: [systemFrame, appFrame])]))
        let variants = try explanation(result)
        #expect(variants.map(\.name) == ["app", "system"])
        #expect(variants.map(\.hash) == result.hashes.map(\.description))
        let app = variants[0].components
        #expect(app.filter(\.contributes).map(\.id) == ["exception", "stacktrace", "frame", "module", "function", "type"])
        #expect(app.first { $0.id == "value" }?.hint == "ignored because stacktrace takes precedence")
        #expect(app.contains { $0.id == "frame" && $0.hint == "non app frame" })
        let system = variants[1].components
        #expect(
            system.filter(\.contributes).map(\.id) == [
                "exception", "stacktrace", "frame", "module", "function", "frame", "module", "function", "type",
            ])
    }

    @Test func explanationOfAMessageAndFallback() throws {
        let message = try explanation(try group(#"{"message":"hello"}"#))
        #expect(message.map(\.name) == ["system"])
        #expect(message[0].components.map(\.id) == ["message"])
        let fallback = try explanation(try group("{}"))
        #expect(fallback[0].components.map(\.id) == ["fallback"])
        #expect(fallback[0].components[0].contributes == false)
        #expect(fallback[0].hash == "d41d8cd98f00b204e9800998ecf8427e")
    }
}

// MARK: Reading the explanation JSON

struct ExplainedComponent: Sendable {
    var id: String
    var contributes: Bool
    var hint: String?
}

struct ExplainedVariant: Sendable {
    var name: String
    var hash: String?
    /// Every component, depth-first; `contributes` already folds in the parents'.
    var components: [ExplainedComponent]
}

private func variantNames(_ result: GroupingResult) throws -> [String] {
    try explanation(result).map(\.name)
}

private func explanation(_ result: GroupingResult) throws -> [ExplainedVariant] {
    try withJSON(String(decoding: result.explanation, as: UTF8.self)) { json in
        json.elements(0).map { variant in
            var components: [ExplainedComponent] = []
            // A component contributes only when its parent does (a non-app frame keeps its own
            // module and function marked as contributing).
            func walk(_ index: Int, parentContributes: Bool) {
                guard json.kind(index) == .object else { return }
                let contributes = parentContributes && json.bool(json.member(index, "contributes")) == true
                components.append(
                    ExplainedComponent(
                        id: json.string(json.member(index, "id")) ?? "?",
                        contributes: contributes,
                        hint: json.string(json.member(index, "hint"))
                    ))
                if let values = json.member(index, "values") {
                    json.forEachElement(values) { walk($0, parentContributes: contributes) }
                }
            }
            if let component = json.member(variant, "component") { walk(component, parentContributes: true) }
            return ExplainedVariant(
                name: json.string(json.member(variant, "variant")) ?? "?",
                hash: json.string(json.member(variant, "hash")), components: components)
        }
    }
}
