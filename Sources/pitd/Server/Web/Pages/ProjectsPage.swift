import PitStorage

/// `/organizations/{org}/projects/`: each project with its last 24 hours, DSNs and SDK setup.
enum ProjectsPage {
    static func render(_ model: ProjectsModel, chrome: Chrome) -> HTML {
        let org = chrome.organizationSlug
        var body: HTML = "<div class=\"pagehead\"><h1>Projects</h1></div>"
        if model.entries.isEmpty {
            body += Widgets.empty("No projects yet. Create one with <code>pitd project create NAME</code>.")
        }
        for (position, entry) in model.entries.enumerated() {
            let project = entry.project
            let events24h = entry.eventsPerHour.reduce(0, +)
            let new24h = entry.newIssuesPerHour.reduce(0, +)
            body += "<section class=\"card project-card\" id=\"project-\(project.slug)\"><div>"
            body +=
                "<h2><a href=\"\(SafeURL(path: Paths.issues(org: org, project: project.id)))\">\(project.name)</a> <span class=\"muted small\">\(project.slug) · id \(project.id)\(project.platform.map { " · " + $0 })</span></h2>"
            body +=
                "<div class=\"toolbar small\"><span><b>\(Format.count(events24h))</b> events and <b>\(Format.count(new24h))</b> new issues in 24 h</span><span class=\"muted\">·</span><span>\(Format.count(entry.totalEvents)) events, \(Format.count(entry.totalIssues)) issues stored</span></div>"
            body += "<div class=\"twocharts\"><div><div class=\"small muted\">Events per hour</div>"
            body += Charts.bars(
                Charts.Series(values: entry.eventsPerHour, start: entry.chartStart), noun: "events", width: 360, height: 48,
                label: "Events per hour in the last 24 hours")
            body += "</div><div><div class=\"small muted\">New issues per hour</div>"
            body += Charts.bars(
                Charts.Series(values: entry.newIssuesPerHour, start: entry.chartStart), noun: "new issues", width: 360, height: 48,
                label: "New issues per hour in the last 24 hours")
            body += "</div></div>"
            body +=
                "<div class=\"toolbar\"><a class=\"button small\" href=\"\(SafeURL(path: Paths.issues(org: org, project: project.id)))\">Issues</a>"
            body += "<a class=\"button small\" href=\"\(SafeURL(path: Paths.projectEvents(org: org, project: project.slug)))\">Events</a>"
            body += "<a class=\"button small\" href=\"\(SafeURL(path: Paths.projectSettings(slug: project.slug)))\">Settings</a></div>"
            body += "</div><div><h3>DSN</h3>"
            if entry.keys.isEmpty { body += "<p class=\"muted\">No keys. Add one in the project settings.</p>" }
            for (index, key) in entry.keys.enumerated() {
                body += "<div class=\"small muted\">\(key.key.label)\(key.key.enabled ? "" : " (disabled)")</div>"
                body += Widgets.copyable(key.dsn, id: "dsn-\(position)-\(index)")
            }
            body += "</div>"
            if let dsn = entry.keys.first(where: \.key.enabled)?.dsn ?? entry.keys.first?.dsn {
                body += sdkTabs(dsn: dsn, platform: project.platform, group: "sdk-\(position)")
            }
            body += "</section>"
        }
        return Layout.page(title: "Projects", chrome: chrome, body: body)
    }

    /// One tab per SDK, switched by radio buttons and CSS so it works without script. The
    /// project's platform picks the first tab.
    private static func sdkTabs(dsn: String, platform: String?, group: String) -> HTML {
        let snippets = snippets(dsn: dsn)
        let selected = snippets.firstIndex { $0.platforms.contains(platform ?? "") } ?? 0
        var out: HTML = "<div class=\"sdk-setup\"><h3>Set up an SDK</h3><div class=\"tabs\">"
        for (index, sdk) in snippets.enumerated() {
            out +=
                "<input type=\"radio\" name=\"\(group)\" id=\"\(group)-\(index)\"\(HTML.attribute("checked", if: index == selected))><label for=\"\(group)-\(index)\">\(sdk.name)</label>"
        }
        out += "<div class=\"panels\">"
        for (index, sdk) in snippets.enumerated() {
            out += "<div class=\"panel\">\(Widgets.copyableBlock(sdk.code, id: "\(group)-code-\(index)"))</div>"
        }
        return out + "</div></div></div>"
    }

    struct Snippet {
        var name: String
        var platforms: [String]
        var code: String
    }

    /// The documented `init` call of each official SDK, with the DSN filled in.
    static func snippets(dsn: String) -> [Snippet] {
        [
            Snippet(
                name: "Python", platforms: ["python"],
                code: """
                    # pip install --upgrade sentry-sdk
                    import sentry_sdk

                    sentry_sdk.init(
                        dsn="\(dsn)",
                    )
                    """),
            Snippet(
                name: "JavaScript (browser)", platforms: ["javascript", "javascript-react", "javascript-vue"],
                code: """
                    // npm install --save @sentry/browser
                    import * as Sentry from "@sentry/browser";

                    Sentry.init({
                      dsn: "\(dsn)",
                    });
                    """),
            Snippet(
                name: "Node.js", platforms: ["node", "javascript-node"],
                code: """
                    // npm install --save @sentry/node
                    // instrument.js — require it before anything else
                    const Sentry = require("@sentry/node");

                    Sentry.init({
                      dsn: "\(dsn)",
                    });
                    """),
            Snippet(
                name: "Go", platforms: ["go"],
                code: """
                    // go get github.com/getsentry/sentry-go
                    import (
                    	"log"
                    	"time"

                    	"github.com/getsentry/sentry-go"
                    )

                    func main() {
                    	err := sentry.Init(sentry.ClientOptions{
                    		Dsn: "\(dsn)",
                    	})
                    	if err != nil {
                    		log.Fatalf("sentry.Init: %s", err)
                    	}
                    	defer sentry.Flush(2 * time.Second)
                    }
                    """),
            Snippet(
                name: "Java", platforms: ["java", "java-spring-boot", "android"],
                code: """
                    // io.sentry:sentry
                    import io.sentry.Sentry;

                    Sentry.init(options -> {
                      options.setDsn("\(dsn)");
                    });
                    """),
            Snippet(
                name: ".NET", platforms: ["csharp", "dotnet", "csharp-aspnetcore"],
                code: """
                    // dotnet add package Sentry
                    using Sentry;

                    SentrySdk.Init(options =>
                    {
                        options.Dsn = "\(dsn)";
                    });
                    """),
            Snippet(
                name: "Ruby", platforms: ["ruby", "ruby-rails"],
                code: """
                    # gem "sentry-ruby"
                    require "sentry-ruby"

                    Sentry.init do |config|
                      config.dsn = "\(dsn)"
                    end
                    """),
            Snippet(
                name: "PHP", platforms: ["php", "php-laravel"],
                code: """
                    // composer require sentry/sentry
                    \\Sentry\\init([
                      'dsn' => '\(dsn)',
                    ]);
                    """),
            Snippet(
                name: "Swift / Cocoa", platforms: ["cocoa", "apple", "apple-ios", "apple-macos", "swift"],
                code: """
                    // Swift Package Manager: https://github.com/getsentry/sentry-cocoa
                    import Sentry

                    SentrySDK.start { options in
                        options.dsn = "\(dsn)"
                    }
                    """),
        ]
    }
}
