import Foundation
import PitModel
import PitQuery
import PitStorage
import Testing

/// `SentryAPIRenderer.event` shows what ingest stored (`EventRow.view`), so an event reads the same
/// after the extraction or grouping code changes; events stored without it are derived as before.
@Suite struct SentryAPIRendererEventTests {
    private static let payload =
        Array(
            #"{"event_id":"0123456789abcdef0123456789abcdef","message":"payload message","tags":{"browser":"Firefox"},"#.utf8)
        + Array(
            #""exception":{"values":[{"type":"ValueError","value":"bad","stacktrace":{"frames":[{"module":"app","function":"f"}]}}]}}"#.utf8
        )

    private func row(view: EventReadView?) -> EventRow {
        EventRow(
            rowID: 1, projectID: 1, issueID: 7, eventID: EventID("0123456789abcdef0123456789abcdef")!, timestamp: 1_700_000_000_000,
            received: 1_700_000_000_000, level: .error, environment: "production", payload: Self.payload, view: view)
    }

    private func render(_ row: EventRow) throws -> [String: Any] {
        var writer = JSONWriter()
        SentryAPIRenderer.event(row, issue: nil, into: &writer)
        return try #require(try JSONSerialization.jsonObject(with: Data(writer.bytes)) as? [String: Any])
    }

    @Test func storedViewIsWhatIsShown() throws {
        // As if the grouping had been different when the event was stored: the page keeps it.
        let stored = EventReadView(
            kind: "default", title: "Stored title", culprit: "stored.culprit", message: "stored message", tags: [("stored", "yes")])
        let json = try render(row(view: stored))
        #expect(json["title"] as? String == "Stored title")
        #expect(json["culprit"] as? String == "stored.culprit")
        #expect(json["type"] as? String == "default")
        #expect(json["message"] as? String == "stored message")
        #expect(
            (json["tags"] as? [[String: String]]) == [
                ["key": "environment", "value": "production"], ["key": "level", "value": "error"], ["key": "stored", "value": "yes"],
            ])
    }

    @Test func olderEventsAreDerivedFromThePayload() throws {
        let json = try render(row(view: nil))
        #expect(json["title"] as? String == "ValueError: bad")
        #expect(json["type"] as? String == "error")
        #expect(json["message"] as? String == "payload message")
        #expect(
            (json["tags"] as? [[String: String]]) == [
                ["key": "browser", "value": "Firefox"], ["key": "environment", "value": "production"], ["key": "level", "value": "error"],
            ])
        #expect(SentryAPIRenderer.readView(of: row(view: nil)).title == "ValueError: bad")
    }

    /// Sentry lists the level, environment and release among an event's tags; an SDK's own tag of
    /// one of those names is kept as sent.
    @Test func levelEnvironmentAndReleaseAreTags() throws {
        var withRelease = row(view: EventReadView(kind: "error", title: "t", culprit: "c", message: nil, tags: [("level", "custom")]))
        withRelease.release = "app@1.0"
        let tags = try #require(try render(withRelease)["tags"] as? [[String: String]])
        #expect(tags.map { $0["key"] ?? "" } == ["environment", "level", "release"])
        #expect(tags.map { $0["value"] ?? "" } == ["production", "custom", "app@1.0"])
    }
}
