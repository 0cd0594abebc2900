import PitModel
import PitQuery
import PitStorage

/// Small pieces that several pages share.
enum Widgets {
    static func level(_ level: Level) -> HTML {
        "<span class=\"nowrap\"><span class=\"lvl lvl-\(level.name)\" aria-hidden=\"true\"></span>\(level.name)</span>"
    }

    /// Status and substatus as badges: "Resolved in 1.2", "Ignored", "New", "Regressed".
    static func status(_ issue: IssueRow) -> HTML {
        switch issue.status {
        case .resolved:
            if let release = issue.resolvedInRelease {
                return "<span class=\"badge st-resolved\">Resolved in \(release)</span>"
            }
            return "<span class=\"badge st-resolved\">Resolved</span>"
        case .ignored:
            return "<span class=\"badge st-ignored\">Ignored</span>"
        case .unresolved:
            switch issue.substatus {
            case .new: return "<span class=\"badge st-new\">New</span>"
            case .regressed: return "<span class=\"badge st-regressed\">Regressed</span>"
            case .escalating: return "<span class=\"badge st-regressed\">Escalating</span>"
            default: return ""
            }
        }
    }

    static func shortID(_ issue: IssueRow, project: Project) -> String {
        SentryAPIRenderer.shortID(projectSlug: project.slug, number: issue.shortID)
    }

    /// Text with a copy button; the button stays hidden until the script shows it, and the text
    /// can always be selected by hand. `id` must be unique on the page.
    static func copyable(_ text: String, id: String) -> HTML {
        "<div class=\"copyable\"><code id=\"\(id)\">\(text)</code><button type=\"button\" class=\"copy small\" data-copy-target=\"\(id)\" hidden>Copy</button></div>"
    }

    static func copyableBlock(_ text: String, id: String) -> HTML {
        "<div class=\"copyable\"><pre class=\"snippet\" id=\"\(id)\">\(text)</pre><button type=\"button\" class=\"copy small\" data-copy-target=\"\(id)\" hidden>Copy</button></div>"
    }

    static func option(_ value: String, label: String, selected: Bool) -> HTML {
        "<option value=\"\(value)\"\(HTML.attribute("selected", if: selected))>\(label)</option>"
    }

    static func empty(_ message: HTML) -> HTML {
        "<div class=\"card empty\">\(message)</div>"
    }
}
