import PitIngest
import PitModel

/// "Why are these events grouped": the issue's stored grouping explanation (the JSON written by
/// `GroupingResult.explanation`: `[{"variant","hash","fingerprint"?,"component"?}]` with
/// components `{"id","name"?,"contributes","hint"?,"values":[string | component]}`).
enum GroupingView {
    struct Node: Sendable {
        enum Value: Sendable {
            case text(String)
            case node(Node)
        }

        var id: String
        var name: String?
        var contributes: Bool
        var hint: String?
        var values: [Value]
    }

    struct Variant: Sendable {
        var name: String
        var hash: String?
        var fingerprint: [String]?
        var component: Node?

        /// A variant feeds the issue's hashes when it has one and something went into it.
        var contributes: Bool { hash != nil && (fingerprint != nil || component?.contributes == true) }
    }

    static func parse(_ text: String) -> [Variant] {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { raw -> [Variant] in
            guard let tape = try? JSONTape.parse(raw) else { return [] }
            let json = JSONView(tape: tape, bytes: raw)
            var variants: [Variant] = []
            json.forEachElement(0) { element in
                guard variants.count < 10, let name = json.string(json.member(element, "variant")) else { return }
                var variant = Variant(name: name, hash: json.string(json.member(element, "hash")))
                if let list = json.member(element, "fingerprint"), json.kind(list) == .array {
                    variant.fingerprint = json.elements(list).compactMap { json.scalarText($0) }
                }
                if let component = json.member(element, "component") {
                    var budget = 5_000
                    variant.component = node(json, component, depth: 0, budget: &budget)
                }
                variants.append(variant)
            }
            return variants
        }
    }

    /// At most `budget` nodes and 40 levels: the tree is stored data, rendered recursively.
    private static func node(_ json: JSONView, _ index: Int, depth: Int, budget: inout Int) -> Node? {
        guard json.kind(index) == .object, budget > 0, depth < 40 else { return nil }
        budget -= 1
        var node = Node(
            id: json.string(json.member(index, "id")) ?? "?", name: json.string(json.member(index, "name")),
            contributes: json.bool(json.member(index, "contributes")) ?? false,
            hint: json.string(json.member(index, "hint")), values: [])
        for element in json.elementsIfArray(json.member(index, "values")) {
            if json.kind(element) == .object {
                if let child = self.node(json, element, depth: depth + 1, budget: &budget) { node.values.append(.node(child)) }
            } else if let text = json.scalarText(element) {
                budget -= 1
                node.values.append(.text(Format.truncated(text, limit: 500)))
            }
        }
        return node
    }

    static func render(_ grouping: String) -> HTML {
        let variants = parse(grouping)
        guard !variants.isEmpty else { return "<p class=\"muted\">No grouping information stored for this issue.</p>" }
        var out = HTML()
        // Open the first variant that feeds the hash; the others stay one click away.
        let opened = variants.firstIndex(where: \.contributes)
        for (index, variant) in variants.enumerated() {
            let state: HTML =
                variant.contributes
                ? "<span class=\"badge st-resolved\">contributes</span>" : "<span class=\"badge\">does not contribute</span>"
            out +=
                "<details class=\"variant\"\(HTML.attribute("open", if: index == opened))><summary>\(variantTitle(variant.name)) \(state)"
            if let hash = variant.hash { out += " <code class=\"muted\" title=\"group hash\">\(hash)</code>" }
            out += "</summary>"
            if let fingerprint = variant.fingerprint {
                out += "<p>Fingerprint: "
                out += HTML.join(fingerprint.map { "<code class=\"val\">\($0)</code>" }, separator: " ")
                out += "</p>"
            }
            if let component = variant.component {
                out += "<ul class=\"tree\">"
                out += render(component, parentContributes: true)
                out += "</ul>"
            }
            out += "</details>"
        }
        return out
    }

    private static func variantTitle(_ name: String) -> HTML {
        switch name {
        case "app": "In-app frames (app)"
        case "system": "All frames (system)"
        case "custom-fingerprint": "Custom fingerprint"
        default: HTML(text: name)
        }
    }

    private static func render(_ node: Node, parentContributes: Bool) -> HTML {
        let contributes = node.contributes && parentContributes
        var out: HTML = "<li class=\"\(contributes ? "c" : "nc")\"><span class=\"cid\">\(node.name ?? node.id)</span>"
        if let hint = node.hint { out += " <span class=\"hint\">(\(hint))</span>" }
        var children = HTML()
        for value in node.values {
            switch value {
            case .text(let text): out += " <code class=\"val\">\(text)</code>"
            case .node(let child): children += render(child, parentContributes: contributes)
            }
        }
        if !children.isEmpty { out += "<ul>" + children + "</ul>" }
        return out + "</li>"
    }
}
