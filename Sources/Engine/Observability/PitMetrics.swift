package import CoreMetrics
import Metrics
import NIOConcurrencyHelpers
package import PitModel

/// The catalog of every metric `pitd` emits (as Relay's `statsd.rs` is): one place that says what
/// each name means and which labels it has. Instruments are created once and reused, never per
/// event; label combinations are cached.
package final class PitMetrics: Sendable {
    /// `pit_events_accepted_total{item_type}`: items answered 200 (or queued in ack=queued);
    /// `item_type` is a known type's name or `unknown`.
    private let acceptedCache = InstrumentCache<Counter>()
    /// `pit_events_rejected_total{reason,item_type}`: requests refused, by the status reason.
    private let rejectedCache = InstrumentCache<Counter>()
    /// `pit_queue_depth`: write units waiting for the writer.
    package let queueDepth = Gauge(label: "pit_queue_depth")
    /// `pit_queue_bytes`: bytes of queued write units (the byte budget in use).
    package let queueBytes = Gauge(label: "pit_queue_bytes")
    /// `pit_batch_size`: entries per committed batch (bounded by `ingest_batch_size`).
    package let batchSize = Recorder(label: "pit_batch_size", aggregate: true)
    /// `pit_commit_seconds`: time from BEGIN to COMMIT of one batch.
    package let commitLatency = Timer(label: "pit_commit_seconds")
    /// `pit_events_stored_total`: events committed (duplicates excluded).
    package let stored = Counter(label: "pit_events_stored_total")
    /// `pit_events_duplicate_total`: events ignored because (project, event_id) was stored already.
    package let duplicates = Counter(label: "pit_events_duplicate_total")
    /// `pit_issues_created_total`, `pit_issues_regressed_total`.
    package let issuesCreated = Counter(label: "pit_issues_created_total")
    package let regressions = Counter(label: "pit_issues_regressed_total")
    /// `pit_writer_failures_total`: batches whose transaction failed (their requests got 503).
    package let writerFailures = Counter(label: "pit_writer_failures_total")
    /// `pit_requests_shed_total`: ingest requests answered 503 at their head by admission control
    /// (see `AdmissionControl`; setting `admission_target_us`).
    private let shed = Counter(label: "pit_requests_shed_total")
    /// `pit_sourcemap_late_total`: JavaScript events held (acknowledged from `deferred_events`)
    /// because their source maps did not resolve within `sourcemap_resolve_deadline_ms`; each is
    /// written when its resolution finishes.
    private let sourceMapsLate = Counter(label: "pit_sourcemap_late_total")
    /// `pit_sourcemap_skipped_total`: JavaScript events held without trying, because as many
    /// resolutions as allowed were running and waiting already; the next sweep resolves them.
    private let sourceMapsSkipped = Counter(label: "pit_sourcemap_skipped_total")
    /// `pit_sourcemap_held_resolved_total`: held events written by the sweep
    /// (`resolveHeldEvents`: after a restart, or once their lease ran out).
    private let heldEventsResolved = Counter(label: "pit_sourcemap_held_resolved_total")

    package init() {}

    package func recordShed() { shed.increment() }
    package func recordSourceMapsLate() { sourceMapsLate.increment() }
    package func recordSourceMapsSkipped() { sourceMapsSkipped.increment() }
    package func recordHeldEventsResolved(_ count: Int) { heldEventsResolved.increment(by: count) }

    /// `item_type` values are an item type's name (bounded by `ItemType.metricLabel`), or
    /// `envelope` for a request refused as a whole.
    static func itemTypeLabel(_ name: String) -> String {
        name == "envelope" ? name : ItemType(name).metricLabel
    }

    package func accepted(itemType: String) {
        accepted(label: Self.itemTypeLabel(itemType))
    }

    /// The ingest path's form: the type is parsed already, no name to look up again.
    package func accepted(_ type: ItemType) {
        accepted(label: type.metricLabel)
    }

    private func accepted(label itemType: String) {
        acceptedCache.instrument(key: itemType) {
            Counter(label: "pit_events_accepted_total", dimensions: [("item_type", itemType)])
        }.increment()
    }

    package func rejected(reason: String, itemType: String) {
        let itemType = Self.itemTypeLabel(itemType)
        rejectedCache.instrument(key: "\(reason)|\(itemType)") {
            Counter(label: "pit_events_rejected_total", dimensions: [("reason", reason), ("item_type", itemType)])
        }.increment()
    }
}

private final class InstrumentCache<Instrument: Sendable>: Sendable {
    private let instruments = NIOLockedValueBox<[String: Instrument]>([:])

    func instrument(key: String, make: () -> Instrument) -> Instrument {
        instruments.withLockedValue { cache in
            if let existing = cache[key] { return existing }
            let created = make()
            cache[key] = created
            return created
        }
    }
}
