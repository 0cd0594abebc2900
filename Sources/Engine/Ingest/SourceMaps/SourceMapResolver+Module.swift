import Foundation

/// A resolved browser frame's `module`, made up from its original URL as Sentry's JavaScript
/// processing does (`generate_module`): the path without query, extension and `.min`, after any
/// hash-like segment, without the usual build prefixes (`/static/js/`, versions, short hashes).
/// Grouping then prefers it to the file name, as Sentry's does ("module takes precedence"), so
/// two files of the same name in different folders are told apart.
extension SourceMapResolver {
    /// Only URLs of these schemes get a module, as in Sentry.
    static let moduleSchemes = ["http:", "https:", "webpack:", "app:"]

    /// A path segment that is a content hash: what follows it is the module.
    private static let hashSegment = try! NSRegularExpression(pattern: "^(?:[a-f0-9]{32}|[a-f0-9]{40}$)", options: [.caseInsensitive])

    /// Leading build folders (scripts, js, build, static, node_modules, bower_components, dot and
    /// underscore folders, versions, short and long hashes) and a trailing commit-ish.
    private static let cleanModule = try! NSRegularExpression(
        pattern: #"""
            ^(?:/|(?:(?:java)?scripts?|js|build|static|node_modules|bower_components|[_.~].*?|v?(?:\d+\.)*\d+|[a-f0-9]{7,8}|[a-f0-9]{32}|[a-f0-9]{40})/)+|(?:[-.][a-f0-9]{7,}$)
            """#,
        options: [.caseInsensitive])

    /// The module Sentry would give a frame at `url`; nil for other schemes.
    package static func module(forURL url: String) -> String? {
        guard moduleSchemes.contains(where: { url.hasPrefix($0) }) else { return nil }
        var path = Substring(url)
        if let scheme = path.range(of: "://") {
            let afterScheme = path[scheme.upperBound...]
            path = afterScheme[(afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex)...]
        } else if let colon = path.firstIndex(of: ":") {
            path = path[path.index(after: colon)...]
        }
        if let end = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<end] }
        // The extension of the last segment only (`splitext`).
        let lastSegment = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
        if let dot = path[lastSegment...].lastIndex(of: "."), dot > lastSegment { path = path[..<dot] }
        if path.hasSuffix(".min") { path = path.dropLast(4) }
        let tokens = path.split(separator: "/", omittingEmptySubsequences: false)
        for (index, token) in tokens.enumerated() {
            let text = String(token)
            if hashSegment.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil {
                return tokens[(index + 1)...].joined(separator: "/")
            }
        }
        let text = String(path)
        let cleaned = cleanModule.stringByReplacingMatches(
            in: text, range: NSRange(text.startIndex..., in: text), withTemplate: "")
        return cleaned.isEmpty ? "<unknown module>" : cleaned
    }
}
