import Foundation
import PitStorage
import Testing

@testable import PitdServer

/// The email form of a notification and the SMTP client's text rules (the wire conversation is
/// tested against aiosmtpd in Tests/integration/test_alerts.py).
@Suite struct AlertEmailTests {
    private func message(title: String) -> AlertMessage {
        var message = AlertMessage(
            notification: AlertNotification(
                kind: .newIssue, projectID: 1, issueID: 7, ruleName: "new-issue", title: title, level: "error", environment: "prod"),
            organization: "pit", title: title, deliveryID: 42)
        message.projectSlug = "shop"
        message.shortID = "SHOP-7"
        message.issueURL = "https://pit.example/organizations/pit/issues/7/?a=1&b=2"
        return message
    }

    @Test func headersAndBothPartsCarryTheIssueLink() throws {
        let text = message(title: "TypeError <script>").email(
            from: "pit@example.com", to: "ops@example.com", date: Date(timeIntervalSince1970: 1_796_000_000),
            messageID: "abc.42@example.com")
        let (head, body) = try #require(text.split(separator: "\r\n\r\n", maxSplits: 1).map(String.init).pairs)
        #expect(head.contains("Date: Mon, 30 Nov 2026 00:53:20 +0000\r\n"))
        #expect(head.contains("From: pit@example.com\r\nTo: ops@example.com\r\nMessage-ID: <abc.42@example.com>\r\n"))
        #expect(head.contains("Subject: [SHOP-7] New issue in shop: TypeError <script>\r\n"))
        #expect(head.contains("Content-Type: multipart/alternative; boundary=\"pit-abc42examplecom\""))
        #expect(body.contains("Content-Type: text/plain; charset=utf-8"))
        #expect(body.contains("Content-Type: text/html; charset=utf-8"))
        #expect(body.hasSuffix("--pit-abc42examplecom--\r\n"))
        let lines = text.components(separatedBy: "\r\n")
        #expect(lines.allSatisfy { $0.utf8.count <= 998 })

        let plain = message(title: "TypeError <script>").emailText
        #expect(plain.contains("Open the issue: https://pit.example/organizations/pit/issues/7/?a=1&b=2"))
        let html = message(title: "TypeError <script>").emailHTML
        #expect(html.contains("TypeError &lt;script&gt;"))
        #expect(!html.contains("<script>"))
        #expect(html.contains("href=\"https://pit.example/organizations/pit/issues/7/?a=1&amp;b=2\""))
    }

    @Test func aTitleCannotAddHeaders() {
        let text = message(title: "boom\r\nBcc: victim@example.com").email(
            from: "pit@example.com", to: "ops@example.com", date: Date(), messageID: "x@example.com")
        #expect(!text.contains("\r\nBcc:"))
    }

    @Test func nonASCIISubjectsAreEncodedWordsSplitBetweenCharacters() throws {
        #expect(AlertMessage.encodedHeaderWord("plain subject") == "plain subject")
        let subject = "Nouvelle anomalie: échec du paiement — ユーザー登録エラーが発生しました"
        let encoded = AlertMessage.encodedHeaderWord(subject)
        let words = encoded.components(separatedBy: "\r\n ")
        #expect(words.count > 1)
        var decoded = ""
        for word in words {
            #expect(word.count <= 75)
            #expect(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?="))
            let payload = try #require(Data(base64Encoded: String(word.dropFirst(10).dropLast(2))))
            // Each word is whole UTF-8 on its own (RFC 2047 6.3: no character split across words).
            decoded += try #require(String(data: payload, encoding: .utf8))
        }
        #expect(decoded == subject)
    }

    @Test func dotStuffingDoublesLeadingDotsAndEndsWithCRLF() {
        #expect(SMTPClient.dotStuffed("a\r\n.b\r\n..c\r\n.\r\nd") == "a\r\n..b\r\n...c\r\n..\r\nd\r\n")
        #expect(SMTPClient.dotStuffed("line\n.lone\n") == "line\r\n..lone\r\n")
    }

    @Test func sniIsANameNeverAnAddress() {
        #expect(SMTPClient.serverName("127.0.0.1") == nil)
        #expect(SMTPClient.serverName("::1") == nil)
        #expect(SMTPClient.serverName("smtp.example.com") == "smtp.example.com")
        #expect(SMTPClient.heloName("alerts@pit.example.com") == "pit.example.com")
    }

    @Test func emailChannelsNeedAPlausibleASCIIAddressAndKeepNoURLOrSecret() throws {
        let draft = try AlertChannel.Draft(
            name: nil, kind: .email, url: "https://ignored", recipient: " ops@example.com ", secret: "s"
        ).validated()
        #expect(draft.recipient == "ops@example.com" && draft.url.isEmpty && draft.secret == nil && draft.name == "email ops@example.com")
        #expect(throws: AdminError.self) {
            try AlertChannel.Draft(name: nil, kind: .email, url: nil, recipient: nil, secret: nil).validated()
        }
        #expect(throws: AdminError.self) {
            try AlertChannel.Draft(name: nil, kind: .email, url: nil, recipient: "ops\r\n@example.com", secret: nil).validated()
        }
        #expect(throws: AdminError.self) {
            try AlertChannel.Draft(name: nil, kind: .email, url: nil, recipient: "opé@example.com", secret: nil).validated()
        }
    }
}

extension Array where Element == String {
    fileprivate var pairs: (String, String)? { count == 2 ? (self[0], self[1]) : nil }
}
