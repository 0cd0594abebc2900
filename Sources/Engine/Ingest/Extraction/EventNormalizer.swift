package import PitModel

/// An event after Relay-style normalisation (PROTOCOL.md §4): final id, corrected timestamp,
/// cleaned tags, and the processing errors Sentry would attach.
package struct NormalizedEvent: Sendable {
    package var eventID: EventID
    /// Seconds since the epoch.
    package var timestamp: Double
    package var received: Double
    package var environment: String
    package var tags: [(key: String, value: String)]
    /// Processing errors (`future_timestamp`, `invalid_tag`, ...), shown with the event.
    package var errors: [(type: String, name: String)]
    package var extracted: ExtractedEvent

    package var level: Level { extracted.level }
    package var release: String? { extracted.release }
}

package enum EventNormalizer {
    /// Relay shifts every timestamp when `sent_at` is this far from the receive time.
    static let clockDriftThreshold = 55.0 * 60
    static let maxFutureSeconds = 60.0
    static let maxAgeSeconds = 30.0 * 86400
    static let removedTagKeys: Set<String> = ["release", "dist", "user", "filename", "function"]

    package static func normalize(
        _ event: ExtractedEvent, headerEventID: EventID?, sentAt: Double?, received: Double
    ) -> NormalizedEvent {
        var errors: [(type: String, name: String)] = []
        if event.invalidEventID { errors.append(("invalid_data", "event_id")) }
        errors.append(contentsOf: event.errors)
        var timestamp = event.timestamp ?? received
        if let sentAt, abs(received - sentAt) >= clockDriftThreshold {
            timestamp += received - sentAt
            errors.append(("clock_drift", "sent_at"))
        }
        if timestamp > received + maxFutureSeconds {
            errors.append(("future_timestamp", "timestamp"))
            timestamp = received
        } else if timestamp < received - maxAgeSeconds {
            errors.append(("past_timestamp", "timestamp"))
            timestamp = received
        }

        var environment = event.environment
        var tags: [(key: String, value: String)] = []
        // Room for the fields `facetTags` adds, so its appends do not regrow the array.
        tags.reserveCapacity(event.tags.count + 10)
        // Most events carry a dozen tags: a linear scan finds duplicates without a Set's
        // allocation; past `linearScanLimit` keys (a hostile client) the Set takes over.
        var seen = SeenKeys()
        for (key, value) in event.tags {
            let key = key.trimmingSpaces
            if key == "environment" {
                if environment == nil, !value.isEmpty { environment = value }
                continue
            }
            guard !removedTagKeys.contains(key) else { continue }
            guard FieldLimits.isValidTag(key, maxScalars: FieldLimits.tagKeyScalars) else {
                errors.append(("invalid_data", "tags"))
                continue
            }
            guard FieldLimits.isValidTag(value, maxScalars: FieldLimits.tagValueScalars), !value.contains("\n") else {
                errors.append(("invalid_data", "tags.\(key)"))
                continue
            }
            guard seen.insert(key, in: tags) else { continue }
            tags.append((key, value))
        }
        func addField(_ key: String, _ value: String?) {
            if let value, FieldLimits.isValidTag(value, maxScalars: FieldLimits.tagValueScalars), seen.insert(key, in: tags) {
                tags.append((key, value))
            }
        }
        addField("server_name", event.serverName)
        addField("site", event.site)
        if event.environment == nil {
            // The field was bounded at extraction; a value from the `environment` tag was not.
            var limiter = FieldLimiter()
            limiter.bound(&environment, "environment", maxBytes: FieldLimits.environment)
            errors.append(contentsOf: limiter.errors)
        }
        return NormalizedEvent(
            eventID: headerEventID ?? event.eventID ?? .random(),
            timestamp: timestamp,
            received: received,
            environment: environment ?? "production",
            tags: tags,
            errors: errors,
            extracted: event
        )
    }

    /// The tags a facet (tag distribution) is kept for: the event's own tags plus the fields
    /// Sentry exposes as tags.
    package static func facetTags(_ event: consuming NormalizedEvent) -> [(key: String, value: String)] {
        // Taken over rather than copied: `normalize` reserved room for the fields added here,
        // so on the ingest path (the event's last use) this allocates nothing.
        var result: [(key: String, value: String)] = []
        swap(&result, &event.tags)
        result.append(("level", event.level.name))
        result.append(("environment", event.environment))
        if let release = event.release { result.append(("release", release)) }
        if let logger = event.extracted.logger { result.append(("logger", logger)) }
        // Bounded at extraction (FieldLimits), so these fit a tag value as they are.
        if let transaction = event.extracted.transaction { result.append(("transaction", transaction)) }
        if let user = event.extracted.user?.identity { result.append(("user", user)) }
        // Searchable as `user.email:` in the issue search even when the user also has an id.
        if let email = event.extracted.user?.email, !email.isEmpty { result.append(("user.email", email)) }
        return result
    }
}

/// The tag keys already taken, for `EventNormalizer.normalize`.
private struct SeenKeys {
    static let linearScanLimit = 32
    private var set: Set<String>?

    /// Records `key`; false when `tags` (the keys taken so far) already has it.
    mutating func insert(_ key: String, in tags: [(key: String, value: String)]) -> Bool {
        if set == nil, tags.count < Self.linearScanLimit {
            return !tags.contains { $0.key == key }
        }
        if set == nil { set = Set(tags.map(\.key)) }
        return set!.insert(key).inserted
    }
}
