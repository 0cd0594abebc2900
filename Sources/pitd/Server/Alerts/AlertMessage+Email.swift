import Foundation
import PitModel
import PitStorage

/// The email form of a notification: an RFC 5322 message with a multipart/alternative body
/// (plain text first, HTML second, each base64 so that any line length and character set pass
/// every relay), the issue's link in both.
extension AlertMessage {
    func email(from: String, to: String, date: Date, messageID: String) -> String {
        let boundary = "pit-" + messageID.filter { $0.isLetter || $0.isNumber }
        var out = ""
        func header(_ name: String, _ value: String) {
            // A header value never carries a line break: a title cannot add headers of its own.
            out += "\(name): \(value.filter { $0 != "\r" && $0 != "\n" })\r\n"
        }
        header("Date", Self.rfc5322Date(date))
        header("From", from)
        header("To", to)
        header("Message-ID", "<\(messageID)>")
        // Folded by `encodedHeaderWord` itself, which keeps only its own line breaks.
        out += "Subject: \(Self.encodedHeaderWord(subject))\r\n"
        header("MIME-Version", "1.0")
        header("Auto-Submitted", "auto-generated")
        header("X-Pit-Delivery", "\(deliveryID)")
        header("Content-Type", "multipart/alternative; boundary=\"\(boundary)\"")
        out += "\r\n"
        for (type, body) in [("text/plain", emailText), ("text/html", emailHTML)] {
            out += "--\(boundary)\r\n"
            out += "Content-Type: \(type); charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            out += Self.base64Lines(body)
        }
        out += "--\(boundary)--\r\n"
        return out
    }

    /// The subject line: the headline, with the short id first when there is one.
    var subject: String {
        let line = shortID.map { "[\($0)] " } ?? ""
        return String((line + headline).prefix(200))
    }

    var emailText: String {
        var lines = [headline, ""]
        if let shortID { lines.append("Issue: \(shortID)") }
        if let culprit, !culprit.isEmpty { lines.append("Culprit: \(culprit)") }
        if let level = notification.level { lines.append("Level: \(level)") }
        if let environment = notification.environment { lines.append("Environment: \(environment)") }
        if let ruleName = notification.ruleName { lines.append("Rule: \(ruleName)") }
        for line in emailDigestLines { lines.append(line) }
        if let issueURL {
            lines += ["", "Open the issue: \(issueURL)"]
        } else if let projectURL {
            lines += ["", "Open the project: \(projectURL)"]
        }
        lines += ["", "-- ", "Sent by Pit's alert rules."]
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    var emailHTML: String {
        var html = "<!DOCTYPE html><html><body style=\"font-family:sans-serif\">"
        html += "<h2>\(HTMLEscaping.escaped(headline))</h2><table>"
        let rows: [(String, String?)] = [
            ("Issue", shortID), ("Culprit", culprit), ("Level", notification.level), ("Environment", notification.environment),
            ("Rule", notification.ruleName),
        ]
        for (label, value) in rows {
            guard let value, !value.isEmpty else { continue }
            html += "<tr><th align=\"left\">\(label)</th><td>\(HTMLEscaping.escaped(value))</td></tr>"
        }
        html += "</table>"
        let digest = emailDigestLines
        if !digest.isEmpty {
            html += "<ul>" + digest.map { "<li>\(HTMLEscaping.escaped($0))</li>" }.joined() + "</ul>"
        }
        if let issueURL {
            html += "<p><a href=\"\(HTMLEscaping.escaped(issueURL))\">Open the issue in Pit</a></p>"
        } else if let projectURL {
            html += "<p><a href=\"\(HTMLEscaping.escaped(projectURL))\">Open the project in Pit</a></p>"
        }
        html += "<p style=\"color:#777\">Sent by Pit's alert rules.</p></body></html>"
        return html
    }

    /// A digest's issues, at most 100 (a mail has room for more than a chat message).
    private var emailDigestLines: [String] {
        let entries = notification.entries ?? []
        var lines = entries.prefix(100).map { "\($0.kind.rawValue): \($0.title)" }
        if entries.count > 100 { lines.append("…and \(entries.count - 100) more") }
        return lines
    }

    /// RFC 5322 3.3: "Wed, 02 Dec 2026 12:35:51 +0000".
    static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }

    /// RFC 2047: ASCII text as it is; other text as UTF-8 "B" encoded words of at most 75
    /// characters, split between characters (never inside one), folded onto continuation lines.
    static func encodedHeaderWord(_ text: String) -> String {
        let clean = text.filter { $0 != "\r" && $0 != "\n" }
        guard !clean.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 }) else { return clean }
        // 45 bytes encode to 60 base64 characters; with "=?UTF-8?B?" and "?=" a word is 72.
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in clean {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 45, !chunk.isEmpty {
                words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    /// Base64 in lines of 76 characters (RFC 2045 6.8), each ended by CRLF.
    static func base64Lines(_ text: String) -> String {
        let encoded = Data(text.utf8).base64EncodedString()
        var out = ""
        var index = encoded.startIndex
        while index < encoded.endIndex {
            let end = encoded.index(index, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
            out += encoded[index..<end] + "\r\n"
            index = end
        }
        return out
    }
}
