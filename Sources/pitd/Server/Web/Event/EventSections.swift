import PitModel
import PitStorage

/// The body of one event, shared by the issue page and the event page: exceptions with stack
/// traces, message, breadcrumbs, tags, request, user, contexts, SDK, extra data and raw JSON.
enum EventSections {
    /// `traceURL`: the trace view of the event's trace, linked when the event has one.
    static func render(
        _ event: EventRow, view: EventView, jsonURL: String?, now: Int64, attachments: EventAttachmentsView? = nil, traceURL: String? = nil
    ) -> HTML {
        var out = HTML()
        out.reserveCapacity(32_000)
        out += "<div class=\"card\"><div class=\"toolbar small\"><span>Event <code>\(event.eventID.hex)</code></span>"
        out += "<span class=\"muted\">·</span><span>\(Format.time(event.timestamp, now: now))</span>"
        out += "<span class=\"muted\" title=\"received \(Format.exact(event.received))\">·</span>"
        out += "<span><span class=\"lvl lvl-\(event.level.name)\"></span>\(event.level.name)</span>"
        if let release = event.release { out += "<span class=\"muted\">release</span> <code>\(release)</code>" }
        if !event.environment.isEmpty { out += "<span class=\"muted\">env</span> <code>\(event.environment)</code>" }
        if let platform = view.platform { out += "<span class=\"muted\">platform</span> <code>\(platform)</code>" }
        if let jsonURL { out += "<a class=\"button small\" href=\"\(SafeURL(path: jsonURL))\" download>JSON</a>" }
        out += "</div>"
        if let problem = event.payloadError {
            out += "<div class=\"flash error\">The \(Format.truncated(problem, limit: 400)); only the indexed fields are shown.</div>"
        } else if let error = view.parseError {
            out += "<div class=\"flash error\">The stored payload is not valid JSON (\(error)); shown as text below.</div>"
        }
        if let traceURL, let traceID = view.traceID {
            out +=
                "<div class=\"trace-link small\">This \(view.exceptions.isEmpty ? "event" : "error") happened in trace <a class=\"mono\" href=\"\(SafeURL(path: traceURL))\">\(traceID.hex)</a> · <a href=\"\(SafeURL(path: traceURL))\">View trace</a></div>"
        }
        if let processing = event.processingErrors, processing != "[]", !processing.isEmpty {
            out +=
                "<details><summary class=\"muted small\">Processing errors</summary><pre>\(Format.truncated(processing, limit: 4000))</pre></details>"
        }
        out += "</div>"

        if !view.exceptions.isEmpty {
            out += "<h2>Exception"
            if view.exceptions.count > 1 {
                out += " <span class=\"muted small\">\(view.exceptions.count) chained, most recent first</span>"
            }
            out += "</h2>"
            for (position, exception) in view.exceptions.enumerated().reversed() {
                out += exceptionBlock(exception, id: "exc\(position)", causedBy: position < view.exceptions.count - 1)
            }
        } else if let thread = view.threadStack {
            out += "<h2>Stack trace</h2>"
            out += exceptionBlock(thread, id: "thread", causedBy: false)
        }
        if let message = view.message {
            out += "<h2>Message</h2><div class=\"card\"><pre>\(message)</pre></div>"
        }
        if let report = view.securityReport {
            out += "<h2>\(report.title)</h2><div class=\"card\">\(keyValues(report.fields))</div>"
        }
        if let attachments { out += attachments.render() }
        if !view.breadcrumbs.isEmpty { out += breadcrumbs(view) }
        if !view.tags.isEmpty {
            out += "<h2>Tags</h2><div class=\"card tags\">"
            for (key, value) in view.tags {
                out += "<span class=\"tag\"><span class=\"k\">\(key)</span><span class=\"v\">\(value)</span></span>"
            }
            out += "</div>"
        }
        if let request = view.request { out += self.request(request) }
        if !view.user.isEmpty { out += "<h2>User</h2><div class=\"card\">\(keyValues(view.user))</div>" }
        if !view.contexts.isEmpty {
            out += "<h2>Contexts</h2><div class=\"contexts\">"
            for context in view.contexts {
                out += "<div class=\"card\"><h3>\(contextTitle(context))</h3>\(keyValues(context.fields))</div>"
            }
            out += "</div>"
        }
        var details: [EventView.Pair] = []
        if let transaction = view.transaction { details.append(("transaction", transaction)) }
        if let serverName = view.serverName { details.append(("server_name", serverName)) }
        if let logger = view.logger { details.append(("logger", logger)) }
        if let dist = view.dist { details.append(("dist", dist)) }
        if !view.fingerprint.isEmpty { details.append(("fingerprint", view.fingerprint.joined(separator: ", "))) }
        if !details.isEmpty { out += "<h2>Event details</h2><div class=\"card\">\(keyValues(details))</div>" }
        if !view.extra.isEmpty { out += "<h2>Additional data</h2><div class=\"card\">\(keyValues(view.extra))</div>" }
        if view.sdkName != nil || !view.sdkPackages.isEmpty {
            out += "<h2>SDK</h2><div class=\"card\">"
            var sdk: [EventView.Pair] = [("name", view.sdkName ?? "unknown"), ("version", view.sdkVersion ?? "")]
            if !view.sdkPackages.isEmpty {
                sdk.append(("packages", view.sdkPackages.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))
            }
            if !view.sdkIntegrations.isEmpty { sdk.append(("integrations", view.sdkIntegrations.joined(separator: ", "))) }
            out += keyValues(sdk)
            out += "</div>"
        }
        if !view.modules.isEmpty {
            out +=
                "<details class=\"card\"><summary><b>Packages</b> <span class=\"muted\">\(view.modules.count)</span></summary>\(keyValues(view.modules))</details>"
        }
        out += "<details class=\"card\" id=\"raw\"\(HTML.attribute("open", if: view.parseError != nil))><summary><b>Raw JSON</b>"
        if let jsonURL { out += " · <a href=\"\(SafeURL(path: jsonURL))\" download>download</a>" }
        out += "</summary><pre class=\"json\">\(view.rawJSON)</pre></details>"
        return out
    }

    private static func contextTitle(_ context: EventView.Context) -> HTML {
        let known = [
            "os": "Operating system", "browser": "Browser", "runtime": "Runtime", "device": "Device", "app": "App",
            "trace": "Trace", "gpu": "GPU", "culture": "Culture", "cloud_resource": "Cloud resource", "response": "Response",
        ]
        if let label = known[context.name] { return "\(label) <span class=\"muted small\">\(context.name)</span>" }
        if let type = context.type, type != context.name { return "\(context.name) <span class=\"muted small\">\(type)</span>" }
        return HTML(text: context.name)
    }

    static func keyValues(_ pairs: [EventView.Pair]) -> HTML {
        var out: HTML = "<table class=\"kv\">"
        for (key, value) in pairs {
            out += "<tr><th>\(key)</th><td><pre>\(value)</pre></td></tr>"
        }
        return out + "</table>"
    }

    private static func exceptionBlock(_ exception: EventView.Exception, id: String, causedBy: Bool) -> HTML {
        var out: HTML = "<div class=\"exception\">"
        if causedBy { out += "<div class=\"muted small\">which was the direct cause of the exception above ↑</div>" }
        out += "<div class=\"exc-type\">\(exception.type ?? "Error")"
        if let module = exception.module { out += " <span class=\"muted small\">\(module)</span>" }
        if let mechanism = exception.mechanism { out += " <span class=\"badge\" title=\"mechanism\">\(mechanism)</span>" }
        if exception.handled == false { out += " <span class=\"badge st-regressed\">unhandled</span>" }
        out += "</div>"
        if let value = exception.value { out += "<div class=\"exc-value\">\(value)</div>" }
        if !exception.rawFrames.isEmpty && !exception.frames.isEmpty {
            out += frameViews(exception, id: id)
        } else if !exception.frames.isEmpty {
            out += frames(exception, id: id)
        }
        out += "</div>"
        return out
    }

    /// Frames resolved through source maps, with a switch to the minified frames the SDK sent:
    /// two radio buttons and CSS, so it works without the page's script.
    private static func frameViews(_ exception: EventView.Exception, id: String) -> HTML {
        var raw = exception
        raw.frames = exception.rawFrames
        raw.framesOmitted = exception.rawFramesOmitted
        var out: HTML = "<div class=\"frame-views\">"
        out += "<input type=\"radio\" name=\"\(id)-view\" id=\"\(id)-original\" checked>"
        out += "<label for=\"\(id)-original\" title=\"resolved through the release's source maps\">Original</label>"
        out += "<input type=\"radio\" class=\"show-minified\" name=\"\(id)-view\" id=\"\(id)-minified\">"
        out += "<label for=\"\(id)-minified\" title=\"the frames as the SDK sent them\">Minified</label>"
        out += "<div class=\"original-frames\">\(frames(exception, id: id))</div>"
        out += "<div class=\"minified-frames\">\(frames(raw, id: id + "-raw"))</div>"
        out += "</div>"
        return out
    }

    /// Newest call first, as Sentry shows them by default. When some frames are in-app, runs of
    /// the others fold into one "N more frames" row; the toggle (script) unfolds them all.
    private static func frames(_ exception: EventView.Exception, id: String) -> HTML {
        let frames = Array(exception.frames.reversed())
        let hasInApp = frames.contains { $0.inApp == true }
        let openIndex = frames.firstIndex { ($0.inApp == true || !hasInApp) && !$0.context.isEmpty }
        var out: HTML = "<div class=\"toolbar small\"><span class=\"muted\">\(frames.count) frames, most recent call first"
        if exception.framesOmitted > 0 { out += " (\(exception.framesOmitted) older frames omitted)" }
        out += "</span>"
        if hasInApp && frames.contains(where: { $0.inApp != true }) {
            out += "<button type=\"button\" class=\"small toggle-frames\" data-target=\"\(id)\" hidden>Full stack trace</button>"
        }
        out += "</div><div class=\"frames\" id=\"\(id)\">"
        var index = 0
        while index < frames.count {
            if hasInApp && frames[index].inApp != true {
                var end = index
                while end < frames.count && frames[end].inApp != true { end += 1 }
                out +=
                    "<details class=\"collapsed-frames\"><summary>\(end - index) system frame\(end - index == 1 ? "" : "s") hidden — show</summary>"
                for i in index..<end { out += frame(frames[i], open: false) }
                out += "</details>"
                index = end
            } else {
                out += frame(frames[index], open: index == openIndex)
                index += 1
            }
        }
        out += "</div>"
        return out
    }

    private static func frame(_ frame: EventView.Frame, open: Bool) -> HTML {
        let kind = frame.inApp == true ? "app" : "system"
        var out: HTML = "<details class=\"frame \(kind)\"\(HTML.attribute("open", if: open))><summary>"
        out += "<span class=\"mono\">\(frame.filename ?? frame.module ?? frame.absPath ?? frame.package ?? "?")</span>"
        if let function = frame.function { out += " <span class=\"muted\">in</span> <span class=\"fn mono\">\(function)</span>" }
        if let line = frame.lineNumber {
            out += " <span class=\"muted\">at line</span> \(line)"
            if let column = frame.column { out += ":\(column)" }
        }
        if let address = frame.instructionAddress { out += " <code class=\"muted\">\(address)</code>" }
        if frame.inApp == true { out += " <span class=\"badge\">in app</span>" }
        out += "</summary>"
        if frame.absPath != nil && frame.absPath != frame.filename {
            out += "<div class=\"vars small muted mono\">\(frame.absPath)</div>"
        }
        if !frame.context.isEmpty {
            out += "<div class=\"ctx\"><ol>"
            for (position, line) in frame.context.enumerated() {
                let highlight: HTML = position == frame.contextIndex ? " class=\"hl\"" : ""
                out += "<li\(highlight)><span class=\"ln mono\">\(line.line.map { String($0) } ?? "")</span><code>\(line.code)</code></li>"
            }
            out += "</ol></div>"
        }
        if !frame.vars.isEmpty {
            out += "<div class=\"vars\"><div class=\"muted small\">Local variables</div>\(keyValues(frame.vars))</div>"
        }
        if frame.context.isEmpty && frame.vars.isEmpty && frame.absPath == nil {
            out += "<div class=\"vars small muted\">No source context.</div>"
        }
        out += "</details>"
        return out
    }

    private static func breadcrumbs(_ view: EventView) -> HTML {
        var out: HTML = "<h2>Breadcrumbs <span class=\"muted small\">\(view.breadcrumbs.count)"
        if view.breadcrumbsOmitted > 0 { out += ", \(view.breadcrumbsOmitted) older omitted" }
        out +=
            "</span></h2><table class=\"list crumbs\"><thead><tr><th>Time</th><th>Category</th><th>Level</th><th>Message / data</th></tr></thead><tbody>"
        for crumb in view.breadcrumbs.reversed() {
            out +=
                "<tr><td class=\"nowrap mono\" title=\"\(crumb.timestamp)\">\(crumb.timestamp.map { $0.hasSuffix(" UTC") ? String($0.dropFirst(11)) : $0 } ?? "")</td>"
            out += "<td>\(crumb.category ?? crumb.type ?? "default")</td>"
            let level = crumb.level ?? "info"
            out +=
                "<td class=\"nowrap\"><span class=\"lvl lvl-\(Level(name: level)?.name ?? "debug")\"></span>\(level)</td><td class=\"msg\">"
            if let message = crumb.message { out += "<pre>\(message)</pre>" }
            if !crumb.data.isEmpty {
                out += "<div class=\"muted mono\">"
                out += HTML.join(crumb.data.map { "\($0.key): \($0.value)" }, separator: "<br>")
                out += "</div>"
            }
            out += "</td></tr>"
        }
        return out + "</tbody></table>"
    }

    private static func request(_ request: EventView.Request) -> HTML {
        var out: HTML = "<h2>Request</h2><div class=\"card\"><div class=\"mono\"><b>\(request.method ?? "")</b> "
        if let url = request.url { out += HTML.link(url, HTML(text: url)) }
        out += "</div>"
        if !request.query.isEmpty { out += "<h3>Query</h3>\(keyValues(request.query))" }
        if let data = request.data { out += "<h3>Body</h3><pre class=\"json\">\(data)</pre>" }
        if !request.headers.isEmpty { out += "<h3>Headers</h3>\(keyValues(request.headers))" }
        if !request.cookies.isEmpty { out += "<h3>Cookies</h3>\(keyValues(request.cookies))" }
        if !request.env.isEmpty { out += "<h3>Environment</h3>\(keyValues(request.env))" }
        return out + "</div>"
    }
}
