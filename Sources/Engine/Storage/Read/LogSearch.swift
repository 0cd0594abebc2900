import PitModel

/// Sentry's search syntax for logs (the explorer's search box and the API's `query`), into a
/// `LogQuery`'s filters. Terms are ANDed:
///
/// - `severity:error`, `severity:[warn,error]` (also `level:`, `severity_text:`), `severity_number:17`
/// - `message:"*timed out*"` (`*` is a wildcard; without one the whole message must match, ignoring
///   case); free text matches a message containing it (`user logged in`, `"two words"`)
/// - `trace:ID` (also `trace_id:`, `trace.id:`), `span_id:ID`
/// - `release:1.2.3`, `environment:production` or `environment:[production,staging]` (also
///   `sentry.release:`, `sentry.environment:`)
/// - `has:key`: the log has the attribute
/// - any other `key:value` (or `tags[key]:value`): the attribute `key` equals `value` (a string,
///   or the number or boolean it reads as)
/// - `!` before a key negates the filter (`!severity:debug`, `!environment:dev`, `!has:user.id`)
package enum LogSearch {
    package struct Invalid: Error, Sendable, Equatable {
        package var detail: String

        package init(detail: String) { self.detail = detail }
    }

    package static func apply(_ text: String, to query: inout LogQuery) throws(Invalid) {
        var freeText: [String] = []
        for token in try tokens(text) {
            guard let (rawKey, value) = token.filter else {
                if token.quoted || (token.text != "AND" && !token.text.isEmpty) {
                    if !token.quoted && token.text == "OR" { throw Invalid(detail: "OR is not supported in log searches") }
                    freeText.append(token.text)
                }
                continue
            }
            let negated = rawKey.hasPrefix("!")
            let key = negated ? String(rawKey.dropFirst()) : rawKey
            switch key {
            case "severity", "level", "severity_text", "log.level", "sentry.severity_text", "severity_number", "sentry.severity_number":
                for text in list(value) {
                    let severity =
                        key.hasSuffix("severity_number") ? Int(text).flatMap { LogSeverity(severityNumber: $0) } : LogSeverity(name: text)
                    guard let severity else {
                        throw Invalid(
                            detail: key.hasSuffix("severity_number")
                                ? "severity_number takes 1 to 24" : "unknown severity \(text): use trace, debug, info, warn, error or fatal"
                        )
                    }
                    if negated {
                        if !query.excludedSeverities.contains(severity) { query.excludedSeverities.append(severity) }
                    } else if !query.severities.contains(severity) {
                        query.severities.append(severity)
                    }
                }
            case "message", "body":
                if negated {
                    query.excludedMessagePatterns.append(pattern(value, contains: false))
                } else {
                    query.messagePatterns.append(pattern(value, contains: false))
                }
            case "trace", "trace_id", "trace.id":
                let id = value.lowercased().filter { $0 != "-" }
                if negated { query.excludedValues[.traceID, default: []].append(id) } else { query.traceID = id }
            case "span_id", "span.id", "span":
                let id = value.lowercased().filter { $0 != "-" }
                if negated { query.excludedValues[.spanID, default: []].append(id) } else { query.spanID = id }
            case "release", "sentry.release":
                if negated { query.excludedValues[.release, default: []].append(value) } else { query.release = value }
            case "environment", "sentry.environment":
                if negated {
                    query.excludedValues[.environment, default: []].append(contentsOf: list(value))
                } else {
                    query.environments.append(contentsOf: list(value))
                }
            case "has":
                let group = [LogAttributeText.quoted(value) + ":{"]
                if negated { query.excludedAttributeFragments.append(group) } else { query.attributeFragments.append(group) }
            default:
                var name = key
                if name.hasPrefix("tags[") && name.hasSuffix("]") { name = String(name.dropFirst(5).dropLast()) }
                let group = fragments(key: name, value: value)
                if negated { query.excludedAttributeFragments.append(group) } else { query.attributeFragments.append(group) }
            }
        }
        if !freeText.isEmpty { query.messagePatterns.append(pattern(freeText.joined(separator: " "), contains: true)) }
    }

    /// The stored texts an attribute `key` equal to `value` can have: as a string, and as the
    /// integer, double or boolean the value reads as.
    package static func fragments(key: String, value: String) -> [String] {
        var out = [LogAttributeText.fragment(key: key, type: "string", valueJSON: LogAttributeText.quoted(value))]
        if let number = Int64(value) { out.append(LogAttributeText.fragment(key: key, type: "integer", valueJSON: String(number))) }
        if let number = Double(value), value.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E || $0 == 0x2D }),
            let text = LogAttributeText.double(number)
        {
            out.append(LogAttributeText.fragment(key: key, type: "double", valueJSON: text))
        }
        if value == "true" || value == "false" { out.append(LogAttributeText.fragment(key: key, type: "boolean", valueJSON: value)) }
        return out
    }

    /// A lowercase `LIKE` pattern: `*` is a wildcard, everything else literal; `contains` adds one
    /// at each end.
    package static func pattern(_ text: String, contains: Bool) -> String {
        let body = text.lowercased().split(separator: "*", omittingEmptySubsequences: false).map { LikePattern.escape(String($0)) }
            .joined(separator: "%")
        return contains ? "%" + body + "%" : body
    }

    /// `[a, b]` as its elements; anything else as itself.
    private static func list(_ value: String) -> [String] {
        guard value.hasPrefix("["), value.hasSuffix("]") else { return [value] }
        return value.dropFirst().dropLast().split(separator: ",").map { $0.trimmedSpaces() }.filter { !$0.isEmpty }
    }

    struct Token {
        var text: String
        var quoted: Bool
        var filter: (String, String)?
    }

    /// Splits on spaces outside double quotes; `key:value` and `key:"a value"` are filters.
    static func tokens(_ text: String) throws(Invalid) -> [Token] {
        var out: [Token] = []
        var current = ""
        var key: String?
        var quoted = false
        var inQuotes = false
        var escaped = false
        func finish() {
            if let key {
                out.append(Token(text: key + ":" + current, quoted: false, filter: (key, current)))
            } else if !current.isEmpty || quoted {
                out.append(Token(text: current, quoted: quoted, filter: nil))
            }
            current = ""
            key = nil
            quoted = false
        }
        for c in text {
            if inQuotes {
                if escaped {
                    current.append(c)
                    escaped = false
                } else if c == "\\" {
                    escaped = true
                } else if c == "\"" {
                    inQuotes = false
                } else {
                    current.append(c)
                }
                continue
            }
            switch c {
            case " ", "\t", "\n":
                // Inside a value's list (`key:[a, b]`) spaces separate nothing.
                if key != nil && current.hasPrefix("[") && !current.contains("]") { continue }
                finish()
            case "\"":
                inQuotes = true
                quoted = true
            case ":" where key == nil && !quoted && !current.isEmpty && isKey(current):
                key = current
                current = ""
            default:
                current.append(c)
            }
        }
        if inQuotes { throw Invalid(detail: "unterminated quote in search") }
        finish()
        return out
    }

    private static func isKey(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { c in
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || "._-[]@!".unicodeScalars.contains(c)
        }
    }
}

extension StringProtocol {
    fileprivate func trimmedSpaces() -> String {
        var slice = Substring(self)
        while slice.first == " " { slice.removeFirst() }
        while slice.last == " " { slice.removeLast() }
        return String(slice)
    }
}
