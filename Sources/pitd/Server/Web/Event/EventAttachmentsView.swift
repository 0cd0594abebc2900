import PitIngest
import PitModel
import PitStorage

/// The attachments of an event as its page shows them: a list with name, type, size and a
/// download link, screenshots inline as images served by the download route, and a view
/// hierarchy (`event.view_hierarchy`, JSON) as a readable tree.
struct EventAttachmentsView: Sendable {
    var rows: [AttachmentRow]
    /// Rendered trees of the view hierarchy attachments, by attachment id.
    var hierarchies: [Int64: HTML] = [:]
    /// The attachment's URL: `download` true gives `Content-Disposition: attachment`.
    var url: @Sendable (AttachmentRow, _ download: Bool) -> String

    /// View hierarchies larger than this are offered as downloads only.
    static let maxInlineHierarchyBytes: Int64 = 2 * 1024 * 1024

    func render() -> HTML {
        guard !rows.isEmpty else { return HTML() }
        var out: HTML = "<h2 id=\"attachments\">Attachments <span class=\"muted small\">\(rows.count)</span></h2>"
        let screenshots = rows.filter(\.isScreenshot)
        if !screenshots.isEmpty {
            out += "<div class=\"card screenshots\">"
            for row in screenshots {
                out +=
                    "<figure class=\"screenshot\"><a href=\"\(SafeURL(path: url(row, false)))\"><img src=\"\(SafeURL(path: url(row, false)))\" alt=\"\(row.name)\" loading=\"lazy\"></a><figcaption class=\"small muted\">\(row.name)</figcaption></figure>"
            }
            out += "</div>"
        }
        out +=
            "<div class=\"card\"><table class=\"list attachments\"><thead><tr><th>Name</th><th>Type</th><th>Size</th><th></th></tr></thead><tbody>"
        for row in rows {
            out +=
                "<tr><td class=\"mono\">\(row.name)</td><td><code>\(row.type)</code> <span class=\"muted small\">\(row.mimeType)</span></td>"
            out += "<td>\(Self.size(row.size))</td>"
            out += "<td><a class=\"button small\" href=\"\(SafeURL(path: url(row, true)))\" download>Download</a></td></tr>"
        }
        out += "</tbody></table></div>"
        for row in rows where row.type == "event.view_hierarchy" {
            out += "<h3>View hierarchy <span class=\"muted small\">\(row.name)</span></h3><div class=\"card view-hierarchy\">"
            if let tree = hierarchies[row.id] {
                out += tree
            } else {
                out += "<p class=\"muted small\">Not shown inline; use the download link.</p>"
            }
            out += "</div>"
        }
        return out
    }

    static func size(_ bytes: Int64) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        if bytes < 1024 * 1024 { return String(format1: Double(bytes) / 1024) + " KiB" }
        return String(format1: Double(bytes) / (1024 * 1024)) + " MiB"
    }
}

extension String {
    /// One decimal place, without Foundation's formatters.
    fileprivate init(format1 value: Double) {
        let tenths = Int((value * 10).rounded())
        self = "\(tenths / 10).\(tenths % 10)"
    }
}

/// Sentry's view hierarchy (`{"rendering_system", "windows": [{type, identifier, x, y, width,
/// height, alpha, visible, children: [...]}]}`) as nested lists: each node's type, identifier
/// and frame. Bounded: 64 levels and 5,000 nodes; what is beyond is counted, not shown.
enum ViewHierarchyView {
    static let maxDepth = 64
    static let maxNodes = 5000

    static func render(_ bytes: [UInt8]) -> HTML? {
        bytes.withUnsafeBytes { raw -> HTML? in
            guard let tape = try? JSONTape.parse(raw), tape[0].kind == .object else { return nil }
            let json = JSONView(tape: tape, bytes: raw)
            var out = HTML()
            if let system = json.string(json.member(0, "rendering_system")) {
                out += "<div class=\"small muted\">Rendering system: <code>\(system)</code></div>"
            }
            guard let windows = json.member(0, "windows"), json.kind(windows) == .array else { return out.isEmpty ? nil : out }
            var budget = maxNodes
            var hidden = 0
            out += "<ul class=\"tree\">"
            for window in json.elements(windows) { out += node(json, window, depth: 0, budget: &budget, hidden: &hidden) }
            out += "</ul>"
            if hidden > 0 { out += "<div class=\"small muted\">\(hidden) more nodes not shown.</div>" }
            return out
        }
    }

    private static func node(_ json: JSONView, _ index: Int, depth: Int, budget: inout Int, hidden: inout Int) -> HTML {
        guard json.kind(index) == .object else { return HTML() }
        let children = json.member(index, "children").flatMap { json.kind($0) == .array ? json.elements($0) : nil } ?? []
        guard budget > 0, depth < maxDepth else {
            hidden += 1 + count(json, children)
            return HTML()
        }
        budget -= 1
        var out: HTML = "<li>"
        let type = json.string(json.member(index, "type")) ?? "View"
        out += "<span class=\"vh-type\">\(type)</span>"
        if let identifier = json.scalarText(json.member(index, "identifier")), !identifier.isEmpty {
            out += " <span class=\"vh-id mono\">#\(identifier)</span>"
        }
        var frame: [String] = []
        for (key, label) in [("x", "x"), ("y", "y"), ("width", "w"), ("height", "h")] {
            if let value = json.double(member(json, index, key)) { frame.append("\(label)=\(number(value))") }
        }
        if !frame.isEmpty { out += " <span class=\"muted small\">\(frame.joined(separator: " "))</span>" }
        if json.bool(json.member(index, "visible")) == false { out += " <span class=\"muted small\">hidden</span>" }
        if let alpha = json.double(json.member(index, "alpha")), alpha < 1 {
            out += " <span class=\"muted small\">alpha \(number(alpha))</span>"
        }
        if !children.isEmpty {
            out += "<ul>"
            for child in children { out += node(json, child, depth: depth + 1, budget: &budget, hidden: &hidden) }
            out += "</ul>"
        }
        out += "</li>"
        return out
    }

    private static func member(_ json: JSONView, _ index: Int, _ key: String) -> Int? {
        switch key {
        case "x": json.member(index, "x")
        case "y": json.member(index, "y")
        case "width": json.member(index, "width")
        default: json.member(index, "height")
        }
    }

    /// Nodes under `children`, counted without recursion limits beyond the tape's own size.
    private static func count(_ json: JSONView, _ children: [Int]) -> Int {
        var total = 0
        var stack = children
        while let next = stack.popLast() {
            guard json.kind(next) == .object else { continue }
            total += 1
            if let nested = json.member(next, "children"), json.kind(nested) == .array { stack += json.elements(nested) }
        }
        return total
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
