import PitStorage

/// The page chrome, the stylesheet and the script. Pages pass their body; the layout adds the
/// document head, the top bar with navigation, project switcher and sign-out form, and the flash.
enum Layout {
    static func page(title: String, chrome: Chrome, body: HTML) -> HTML {
        let org = chrome.organizationSlug
        let project = chrome.currentProject ?? chrome.projects.first
        var out = HTML()
        out.reserveCapacity(body.utf8Count + 4096)
        out += head(title: title)
        out +=
            "<body><header class=\"top\"><a class=\"brand\" href=\"\(SafeURL(path: Paths.projects(org: org)))\">Pit</a><nav class=\"main\">"
        out += navLink("Projects", Paths.projects(org: org), chrome.section == .projects)
        out += navLink("Issues", Paths.issues(org: org, project: project?.id), chrome.section == .issues)
        if let project {
            out += navLink("Events", Paths.projectEvents(org: org, project: project.slug), chrome.section == .events)
            out += navLink(
                "Performance", Paths.performance(org: org, project: project.slug), chrome.section == .performance)
            out += navLink("Logs", Paths.projectLogs(org: org, project: project.slug), chrome.section == .logs)
            out += navLink("Feedback", Paths.projectFeedback(org: org, project: project.slug), chrome.section == .feedback)
            out += navLink("Stats", Paths.projectStats(org: org, project: project.slug), chrome.section == .stats)
        }
        out += navLink("Releases", Paths.releases(org: org), chrome.section == .releases)
        out += navLink("Crons", Paths.monitors(org: org), chrome.section == .monitors)
        out += navLink("Settings", project.map { Paths.projectSettings(slug: $0.slug) } ?? Paths.tokens, chrome.section == .settings)
        out += "</nav>"
        out += projectSwitcher(chrome)
        out += "<div class=\"who\"><a href=\"\(SafeURL(path: Paths.account))\" title=\"Account settings\">\(chrome.userLabel)</a>"
        out +=
            "<form method=\"post\" action=\"\(SafeURL(path: Paths.logout))\" class=\"inline\">\(csrfField(chrome.csrfToken))<button type=\"submit\" class=\"link\">Sign out</button></form></div>"
        out += "</header><main>"
        if let flash = chrome.flash {
            out += "<div class=\"flash \(flash.kind.rawValue)\" role=\"status\">\(flash.message)</div>"
        }
        out += body
        out += "</main></body></html>"
        return out
    }

    /// A page without the top bar (sign-in).
    static func bare(title: String, body: HTML) -> HTML {
        head(title: title) + "<body class=\"bare\"><main>" + body + "</main></body></html>"
    }

    static func csrfField(_ token: String) -> HTML {
        "<input type=\"hidden\" name=\"csrf\" value=\"\(token)\">"
    }

    private static func head(title: String) -> HTML {
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"referrer\" content=\"same-origin\"><title>\(title) · Pit</title><link rel=\"stylesheet\" href=\"\(SafeURL(path: Paths.stylesheet + "?v=" + assetVersion))\"><script src=\"\(SafeURL(path: Paths.script + "?v=" + assetVersion))\" defer></script></head>"
    }

    private static func navLink(_ label: String, _ href: String, _ current: Bool) -> HTML {
        "<a href=\"\(SafeURL(path: href))\"\(HTML.when(current, " class=\"current\" aria-current=\"page\""))>\(label)</a>"
    }

    /// A `<details>` menu of links, so switching works without script. It keeps the section:
    /// from an issue list to the other project's issue list, from events to events.
    private static func projectSwitcher(_ chrome: Chrome) -> HTML {
        guard !chrome.projects.isEmpty else { return "" }
        let org = chrome.organizationSlug
        let current = chrome.currentProject
        var out: HTML = "<details class=\"switcher\"><summary title=\"Switch project\">\(current?.name ?? "All projects")</summary><ul>"
        for project in chrome.projects {
            let href: String =
                switch chrome.section {
                case .events: Paths.projectEvents(org: org, project: project.slug)
                case .feedback: Paths.projectFeedback(org: org, project: project.slug)
                case .logs: Paths.projectLogs(org: org, project: project.slug)
                case .performance: Paths.performance(org: org, project: project.slug)
                case .stats: Paths.projectStats(org: org, project: project.slug)
                case .settings: Paths.projectSettings(slug: project.slug)
                default: Paths.issues(org: org, project: project.id)
                }
            let mark: HTML = project.id == current?.id ? " class=\"current\"" : ""
            out += "<li><a href=\"\(SafeURL(path: href))\"\(mark)>\(project.name) <span class=\"muted\">\(project.slug)</span></a></li>"
        }
        out += "</ul></details>"
        return out
    }

    /// Changes whenever the stylesheet or script does, so `?v=` lets them be cached for long.
    static let assetVersion: String = {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in stylesheet.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        for byte in script.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return String(hash % 0xFFFF_FFFF, radix: 36)
    }()

    /// Served at `/static/pit.css` (`text/css; charset=utf-8`).
    static let stylesheet = """
        :root{--fg:#2b2233;--muted:#80708f;--line:#e2dee6;--bg:#fff;--bg2:#faf9fb;--accent:#6c5fc7;--accent-bg:#f1effb;
        --red:#e1334d;--orange:#f5853f;--yellow:#e0a800;--green:#2ba185;--blue:#3d74db;--grey:#9a8fa6;
        font:13px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg2)}
        *{box-sizing:border-box}body{margin:0}a{color:var(--accent);text-decoration:none}a:hover{text-decoration:underline}
        code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:12px}
        pre{white-space:pre-wrap;word-break:break-all;margin:0}
        h1{font-size:20px;margin:0 0 4px;font-weight:600;word-break:break-word}h2{font-size:15px;margin:20px 0 8px;font-weight:600}
        h3{font-size:13px;margin:12px 0 6px;font-weight:600}
        .muted{color:var(--muted)}.small{font-size:12px}.nowrap{white-space:nowrap}.num{text-align:right;font-variant-numeric:tabular-nums}
        header.top{display:flex;align-items:center;gap:16px;padding:0 20px;height:44px;background:#2f1d4a;color:#fff;position:sticky;top:0;z-index:5}
        header.top a{color:#e6dff3}.brand{font-weight:700;font-size:16px;color:#fff!important;letter-spacing:.5px}
        nav.main{display:flex;gap:2px}nav.main a{padding:6px 10px;border-radius:4px}nav.main a.current,nav.main a:hover{background:#4a3470;color:#fff;text-decoration:none}
        .switcher{position:relative}.switcher summary{cursor:pointer;list-style:none;padding:4px 10px;border:1px solid #5a4580;border-radius:4px;color:#fff;max-width:220px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
        .switcher summary::after{content:" ▾";color:#bfb3d6}.switcher ul{position:absolute;top:30px;left:0;background:#fff;border:1px solid var(--line);border-radius:6px;box-shadow:0 4px 16px rgba(0,0,0,.15);list-style:none;margin:0;padding:4px;min-width:240px;max-height:60vh;overflow:auto}
        .switcher li a{display:block;padding:6px 10px;color:var(--fg)!important;border-radius:4px}.switcher li a.current{background:var(--accent-bg)}.switcher li a:hover{background:var(--bg2);text-decoration:none}
        .who{margin-left:auto;display:flex;gap:12px;align-items:center}
        form.inline{display:inline}button.link{background:none;border:0;color:#e6dff3;cursor:pointer;font:inherit;padding:0}button.link:hover{text-decoration:underline}
        main{max-width:1280px;margin:0 auto;padding:16px 20px 60px}body.bare main{max-width:380px;padding-top:10vh}
        .flash{padding:8px 12px;border-radius:4px;margin-bottom:12px;border:1px solid}.flash.success{background:#e9f7f2;border-color:#b5e3d4}.flash.error{background:#fdecef;border-color:#f5c0c9}.flash.info{background:var(--accent-bg);border-color:#d6d0f2}
        .feedback-text{white-space:pre-wrap;word-break:break-word;margin:6px 0;font-size:14px}
        table.logs td{vertical-align:top}.log-body{width:100%}.log-text{white-space:pre-wrap;word-break:break-word}
        .log-body summary{cursor:pointer}.attrs{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:6px 0 2px}
        .attrs dt{color:var(--muted)}.attrs dd{margin:0;word-break:break-all}
        td.dropped{color:#b42318;font-weight:600}
        .card{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:12px 16px;margin-bottom:12px}
        .pagehead{display:flex;align-items:flex-start;justify-content:space-between;gap:16px;margin-bottom:12px;flex-wrap:wrap}
        table{border-collapse:collapse;width:100%;background:var(--bg)}th,td{padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top;text-align:left}
        th{font-size:11px;text-transform:uppercase;letter-spacing:.4px;color:var(--muted);font-weight:600;background:var(--bg2)}
        table.list{border:1px solid var(--line);border-radius:6px}table.list tr.kbd-row.focused td{background:#f6f4fd}table.list tr:hover td{background:#fbfaff}
        table.kv{table-layout:fixed}table.kv th{width:180px;text-transform:none;font-size:12px;letter-spacing:0;background:none;word-break:break-all}table.kv td{word-break:break-word}
        .issue-title{font-weight:600;font-size:14px;color:var(--fg)!important;word-break:break-word}.issue-sub{color:var(--muted);font-size:12px;margin-top:2px;word-break:break-all}
        .badge{display:inline-block;padding:0 6px;border-radius:9px;font-size:11px;line-height:17px;border:1px solid var(--line);background:var(--bg2);color:var(--fg);white-space:nowrap;vertical-align:1px}
        .ticks{display:inline-flex;gap:2px;vertical-align:middle}.tick{display:inline-block;width:6px;height:16px;border-radius:2px;background:var(--grey)}
        .tick.ok{background:var(--green)}.tick.error{background:var(--red)}.tick.missed{background:var(--yellow)}.tick.timeout{background:var(--orange)}.tick.in_progress{background:var(--blue)}
        .cron-ok{background:#e9f7f2;border-color:#b5e3d4;color:#1c7a62}.cron-error,.cron-timeout{background:#fdecef;border-color:#f5c0c9;color:#a5182f}.cron-missed{background:#fff4e5;border-color:#fcd7a8;color:#a85b0f}
        .lvl{display:inline-block;width:9px;height:9px;border-radius:2px;margin-right:4px;background:var(--grey);vertical-align:0}
        .lvl-fatal{background:#a3122c}.lvl-error{background:var(--red)}.lvl-warning{background:var(--yellow)}.lvl-info{background:var(--blue)}.lvl-debug{background:var(--grey)}
        .st-resolved{background:#e9f7f2;border-color:#b5e3d4;color:#1c7a62}.st-ignored{background:#f0eef2;color:#6b5f78}.st-new{background:#fff4e5;border-color:#fcd7a8;color:#a85b0f}.st-regressed{background:#fdecef;border-color:#f5c0c9;color:#a5182f}
        .toolbar{display:flex;gap:8px;align-items:center;flex-wrap:wrap;margin-bottom:8px}
        input[type=text],input[type=search],input[type=email],input[type=password],input[type=number],select{font:inherit;padding:5px 8px;border:1px solid #cfc8d8;border-radius:4px;background:#fff;color:var(--fg)}
        input[type=search]{flex:1;min-width:260px}input[type=number]{width:90px}
        button,.button{font:inherit;padding:5px 12px;border:1px solid #cfc8d8;border-radius:4px;background:#fff;color:var(--fg);cursor:pointer;display:inline-block}
        button:hover,.button:hover{background:var(--bg2);text-decoration:none}button.primary{background:var(--accent);border-color:var(--accent);color:#fff}button.primary:hover{background:#5b4fb4}
        button.danger{color:var(--red)}button.small,.button.small{padding:1px 8px;font-size:12px}button.current{background:var(--accent-bg);border-color:#bdb3ea}
        .sorts a{padding:2px 8px;border-radius:4px}.sorts a.current{background:var(--accent-bg);font-weight:600}
        .pager{display:flex;gap:8px;justify-content:flex-end;margin-top:10px}
        .bulkbar{display:flex;gap:8px;align-items:center;padding:6px 8px;background:var(--bg2);border:1px solid var(--line);border-bottom:0;border-radius:6px 6px 0 0}
        .bulkbar+table.list{border-radius:0 0 6px 6px}
        svg.chart .bar{fill:#a396da}svg.chart .hit{fill:transparent}svg.chart g:hover .hit{fill:#f1effb}svg .axis{stroke:#e2dee6}
        svg.spark path{fill:#a396da}svg.share .rest{fill:#eeebf3}svg.share .s0{fill:#6c5fc7}svg.share .s1{fill:#8f84d9}svg.share .s2{fill:#b1a9e6}svg.share .s3{fill:#cfc9f0}svg.share .s4{fill:#e0dcf6}
        .grid{display:grid;grid-template-columns:minmax(0,1fr) 300px;gap:16px}@media (max-width:900px){.grid{grid-template-columns:1fr}}
        .side .card h3:first-child{margin-top:0}.stat{display:flex;justify-content:space-between;gap:8px;padding:2px 0}
        .exception{margin-bottom:16px}.exc-type{font-weight:600;font-size:14px}.exc-value{margin:2px 0 8px;word-break:break-word;white-space:pre-wrap}
        .frames{border:1px solid var(--line);border-radius:6px;overflow:hidden;background:var(--bg)}
        details.frame>summary{padding:5px 10px;cursor:pointer;border-top:1px solid var(--line);list-style:none;word-break:break-all}details.frame:first-child>summary{border-top:0}
        details.frame>summary::before{content:"▸ ";color:var(--muted)}details.frame[open]>summary::before{content:"▾ "}
        details.frame.system>summary{color:var(--muted);background:var(--bg2)}details.frame.app>summary .fn{font-weight:600}
        .ctx{background:#fbfafc;border-top:1px solid var(--line);padding:4px 0}.ctx ol{margin:0;padding:0;list-style:none}.ctx li{display:flex;white-space:pre;overflow:hidden}
        .ctx .ln{color:var(--muted);min-width:52px;text-align:right;padding-right:10px;user-select:none}.ctx li.hl{background:#ece8fb}.ctx code{white-space:pre-wrap;word-break:break-all}
        .vars{padding:6px 10px;border-top:1px dashed var(--line)}.vars table.kv th{width:160px}
        details.collapsed-frames>summary{padding:4px 10px;cursor:pointer;color:var(--muted);border-top:1px solid var(--line);background:var(--bg2);font-size:12px}
        .frames.full details.collapsed-frames>summary{display:none}
        .frame-views>input{position:absolute;opacity:0;pointer-events:none}.frame-views>label{display:inline-block;padding:1px 8px;font-size:12px;border:1px solid var(--line);border-radius:6px;cursor:pointer;margin:0 4px 8px 0}
        .frame-views>input:checked+label{background:var(--accent-bg);border-color:#bdb3ea;font-weight:600}.frame-views>input:focus-visible+label{outline:2px solid var(--accent-bg)}
        .frame-views>.minified-frames{display:none}.frame-views>input.show-minified:checked~.original-frames{display:none}.frame-views>input.show-minified:checked~.minified-frames{display:block}
        .card>.toolbar:last-child{margin-bottom:0}.copyable pre{flex:1}.project-card h2{margin-top:0}
        .contexts{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:0 12px}
        .crumbs td{font-size:12px}.crumbs td.msg{word-break:break-word}
        .tags{display:flex;flex-wrap:wrap;gap:6px}.tag{display:inline-flex;border:1px solid var(--line);border-radius:4px;overflow:hidden;font-size:12px;max-width:100%}
        .tag .k{background:var(--bg2);padding:1px 6px;color:var(--muted)}.tag .v{padding:1px 6px;word-break:break-all}
        .facet{margin-bottom:10px}.facet .top{display:flex;justify-content:space-between;font-size:12px}.facet ol{margin:2px 0 0;padding:0;list-style:none;font-size:12px}.facet li{display:flex;justify-content:space-between;gap:8px}.facet li .v{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
        .navbtns{display:flex;gap:4px}.navbtns a.button.disabled{color:#c0b8c9;pointer-events:none}
        .tree,.tree ul{list-style:none;margin:0;padding-left:16px}.tree{padding-left:0}.tree li{padding:1px 0}.tree .nc{color:#a89db3}.tree .nc .val{text-decoration:line-through}.tree .hint{color:var(--muted);font-style:italic}.tree .val{background:var(--bg2);border:1px solid var(--line);border-radius:3px;padding:0 4px;word-break:break-all}
        .screenshots{display:flex;flex-wrap:wrap;gap:12px}.screenshot{margin:0;max-width:320px}.screenshot img{max-width:100%;max-height:480px;border:1px solid var(--line);border-radius:4px;display:block}
        .view-hierarchy{max-height:480px;overflow:auto}.view-hierarchy .tree li{border-left:1px dotted var(--line);padding-left:6px}.vh-type{font-weight:600}.vh-id{color:var(--muted)}
        .variant{margin-bottom:8px}.variant>summary{cursor:pointer;font-weight:600}
        .copyable{display:flex;gap:6px;align-items:flex-start}.copyable code{flex:1;background:var(--bg2);border:1px solid var(--line);border-radius:4px;padding:4px 8px;word-break:break-all}
        pre.snippet{background:#2f1d4a;color:#f1ecf9;padding:10px 12px;border-radius:6px;white-space:pre;overflow:auto}
        details.sdk{border-top:1px solid var(--line);padding:4px 0}details.sdk>summary{cursor:pointer;padding:2px 0}
        .project-card{display:grid;grid-template-columns:minmax(0,1fr) 380px;gap:16px}@media (max-width:900px){.project-card{grid-template-columns:1fr}}
        form.stack label{display:block;margin:10px 0 4px;font-weight:600}form.stack input[type=text],form.stack input[type=email],form.stack input[type=password]{width:100%}
        .token-once{background:#fff9e6;border:1px solid #f3dc98;border-radius:6px;padding:12px 16px;margin-bottom:12px}
        .json{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:10px;max-height:600px;overflow:auto}
        .empty{padding:40px;text-align:center;color:var(--muted)}
        .errorbox{text-align:center;padding:60px 0}.errorbox .code{font-size:48px;font-weight:700;color:#cfc8d8}
        .login{background:#fff;border:1px solid var(--line);border-radius:8px;padding:24px}.login h1{text-align:center}.login hr{border:0;border-top:1px solid var(--line);margin:18px 0}
        .axislabels{display:flex;justify-content:space-between;margin-bottom:4px}svg.chart{display:block;width:100%}
        .ptabs{display:flex;gap:4px;margin:0 0 10px;flex-wrap:wrap}.ptabs a{padding:4px 12px;border:1px solid var(--line);border-radius:4px;background:var(--bg)}.ptabs a.current{background:var(--accent-bg);border-color:#bdb3ea;font-weight:600}
        th a.sort{color:var(--muted)}th a.sort.current{color:var(--fg)}th .nocase{text-transform:none}table.perf td{vertical-align:middle}table.perf td.desc{word-break:break-all;max-width:520px}
        .r-good{color:#1c7a62}.r-meh{color:#a85b0f}.r-poor{color:#a5182f}.badge.r-good{background:#e9f7f2;border-color:#b5e3d4}.badge.r-meh{background:#fff4e5;border-color:#fcd7a8}.badge.r-poor{background:#fdecef;border-color:#f5c0c9}
        svg.split{display:block;margin-top:3px}svg.split .rest{fill:#eeebf3}svg.split .good{fill:var(--green)}svg.split .meh{fill:var(--orange)}svg.split .poor{fill:var(--red)}
        .vitals{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:12px;margin-bottom:12px}.vitals .card{margin:0}.vitals .big{font-size:22px;font-weight:600}
        .facts.perf{gap:8px 28px}.facts.perf dd{font-size:16px}
        .twocharts{display:grid;grid-template-columns:1fr 1fr;gap:16px;margin:8px 0}.release-health{margin-top:16px}.release-health .twocharts{grid-template-columns:1fr 1fr 1fr}.facts{display:flex;flex-wrap:wrap;gap:8px 24px;margin:8px 0}.facts dd{margin:0}.project-card .sdk-setup{grid-column:1/-1;border-top:1px solid var(--line);padding-top:4px}
        .tabs>input{position:absolute;opacity:0;pointer-events:none}.tabs>label{display:inline-block;padding:4px 10px;margin:0 2px 6px 0;border:1px solid var(--line);border-radius:4px;cursor:pointer;background:var(--bg2)}
        .tabs>input:checked+label{background:var(--accent-bg);border-color:#bdb3ea;font-weight:600}.tabs>input:focus-visible+label{outline:2px solid var(--accent)}.tabs .panel{display:none}
        .tabs>input:nth-of-type(1):checked~.panels>.panel:nth-child(1),.tabs>input:nth-of-type(2):checked~.panels>.panel:nth-child(2),.tabs>input:nth-of-type(3):checked~.panels>.panel:nth-child(3),.tabs>input:nth-of-type(4):checked~.panels>.panel:nth-child(4),.tabs>input:nth-of-type(5):checked~.panels>.panel:nth-child(5),.tabs>input:nth-of-type(6):checked~.panels>.panel:nth-child(6),.tabs>input:nth-of-type(7):checked~.panels>.panel:nth-child(7),.tabs>input:nth-of-type(8):checked~.panels>.panel:nth-child(8),.tabs>input:nth-of-type(9):checked~.panels>.panel:nth-child(9),.tabs>input:nth-of-type(10):checked~.panels>.panel:nth-child(10),.tabs>input:nth-of-type(11):checked~.panels>.panel:nth-child(11),.tabs>input:nth-of-type(12):checked~.panels>.panel:nth-child(12){display:block}
        \(TraceStyles.css)[hidden]{display:none!important}
        """

    /// Served at `/static/pit.js` (`text/javascript; charset=utf-8`). Everything works without it;
    /// it adds copy buttons, j/k row navigation, "select all", the full-stack toggle and the
    /// composition of the issue filter into one `query`.
    static let script = """
        "use strict";
        document.addEventListener("DOMContentLoaded", function () {
          document.querySelectorAll("button.copy").forEach(function (button) {
            button.hidden = false;
            button.addEventListener("click", function () {
              var target = document.getElementById(button.getAttribute("data-copy-target"));
              var text = target ? target.textContent : "";
              var done = function () { var old = button.textContent; button.textContent = "Copied"; setTimeout(function () { button.textContent = old; }, 1200); };
              if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(text).then(done); }
              else { var area = document.createElement("textarea"); area.value = text; document.body.appendChild(area); area.select(); document.execCommand("copy"); area.remove(); done(); }
            });
          });
          document.querySelectorAll("input.select-all").forEach(function (box) {
            box.addEventListener("change", function () {
              var form = box.form; if (!form) return;
              form.querySelectorAll("input[name=id]").forEach(function (row) { row.checked = box.checked; });
            });
          });
          document.querySelectorAll("button.toggle-frames").forEach(function (button) {
            button.hidden = false;
            button.addEventListener("click", function () {
              var frames = document.getElementById(button.getAttribute("data-target")); if (!frames) return;
              var full = frames.classList.toggle("full");
              frames.querySelectorAll("details.collapsed-frames").forEach(function (d) { d.open = full; });
              button.textContent = full ? "In-app frames" : "Full stack trace";
            });
          });
          document.querySelectorAll("form.autosubmit select").forEach(function (select) {
            select.addEventListener("change", function () { var form = select.form; if (form.requestSubmit) form.requestSubmit(); else form.submit(); });
          });
          var filter = document.getElementById("issue-filter");
          if (filter) {
            filter.querySelectorAll("select").forEach(function (select) {
              select.addEventListener("change", function () { if (filter.requestSubmit) filter.requestSubmit(); else filter.submit(); });
            });
            filter.addEventListener("submit", function () {
              var terms = [];
              ["status", "level", "release"].forEach(function (name) {
                var field = filter.elements[name]; if (!field) return;
                if (field.value) {
                  var value = field.value; if (/[\\s"]/.test(value)) value = '"' + value.replace(/"/g, "") + '"';
                  terms.push((name === "status" ? "is" : name) + ":" + value);
                }
                field.disabled = true;
              });
              var text = filter.elements["query"];
              if (text.value.trim()) terms.push(text.value.trim());
              text.value = terms.join(" ");
            });
          }
          var rows = Array.prototype.slice.call(document.querySelectorAll("tr.kbd-row"));
          var index = -1;
          function focusRow(next) {
            if (!rows.length) return;
            if (index >= 0) rows[index].classList.remove("focused");
            index = Math.max(0, Math.min(rows.length - 1, next));
            rows[index].classList.add("focused");
            rows[index].scrollIntoView({ block: "nearest" });
          }
          document.addEventListener("keydown", function (event) {
            var tag = event.target.tagName;
            if (tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || event.metaKey || event.ctrlKey || event.altKey) return;
            if (event.key === "j") { focusRow(index + 1); event.preventDefault(); }
            else if (event.key === "k") { focusRow(index - 1); event.preventDefault(); }
            else if ((event.key === "Enter" || event.key === "o") && index >= 0) {
              var link = rows[index].querySelector("a.row-link"); if (link) { link.click(); event.preventDefault(); }
            } else if (event.key === "x" && index >= 0) {
              var box = rows[index].querySelector("input[name=id]"); if (box) { box.checked = !box.checked; event.preventDefault(); }
            }
          });
        });
        """
}
