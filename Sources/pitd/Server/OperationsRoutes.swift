import HTTPTypes
import Hummingbird
import PitIngest
import PitModel
import PitStorage
import Prometheus

/// `/health` (liveness), `/ready` (queue depth, writer lag, whether the database takes writes) and `/metrics` (Prometheus text).
struct OperationsRoutes: Sendable {
    let queue: IngestQueue
    let health: StorageHealth
    let registry: PrometheusCollectorRegistry
    /// Low free disk makes the instance not ready (ingest answers 503 meanwhile).
    var diskGuard: DiskGuard? = nil
    /// Whether the database answers, asked only while the writers report failures: an idle
    /// instance writes nothing that could show the database is back, and a load balancer that
    /// took it out of rotation on a 503 would never send it the event that would.
    /// Runs off the cooperative pool with a deadline (`PitServer`): a database that hangs must not
    /// hang the probe that is meant to report it.
    var probe: (@Sendable () async -> Bool)? = nil

    func register(on router: Router<PitRequestContext>) {
        router.get("health") { _, _ in HTTPResponses.text("ok\n") }
        router.get("ready") { _, _ in await ready() }
        router.get("metrics") { _, _ in
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }

    func ready() async -> Response {
        let depth = queue.depth
        let lag = queue.oldestAgeSeconds
        var writer = JSONWriter()
        writer.beginObject()
        let full = depth.count >= queue.maxCount || depth.bytes >= queue.maxBytes
        if !health.isHealthy, let probe, await probe() { health.recordSuccess() }
        let storageError = health.lastError
        let diskLow = diskGuard?.isLow ?? false
        writer.field("status", storageError != nil ? "storage_unavailable" : (diskLow ? "disk_low" : (full ? "saturated" : "ready")))
        // The error itself is in the writer's log; `/ready` is public and database errors name
        // hosts, users and tables.
        writer.field("storage_error", storageError.map { _ in "the database is not accepting writes; see the server log" })
        if let diskGuard {
            if diskGuard.lastFreeBytes != Int64.max { writer.field("disk_free_bytes", diskGuard.lastFreeBytes) }
            writer.field("min_free_disk_bytes", diskGuard.minimumFreeBytes)
        }
        writer.field("queue_depth", depth.count)
        writer.field("queue_bytes", depth.bytes)
        writer.field("queue_max_events", queue.maxCount)
        writer.field("queue_max_bytes", queue.maxBytes)
        writer.key("writer_lag_seconds")
        writer.value(lag)
        writer.endObject()
        return HTTPResponses.json(writer, status: full || diskLow || storageError != nil ? .serviceUnavailable : .ok)
    }
}
