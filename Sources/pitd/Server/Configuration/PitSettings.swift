import Configuration
import Foundation
import NIOCore
package import PitBackends
import PitIngest
import PitModel
package import PitStorage
import SystemPackage

#if canImport(Glibc)
    import Glibc
#endif

/// Every setting of `pitd`, read through one swift-configuration `ConfigReader`. Highest
/// priority first:
/// 1. `--set key=value` flags (and `--bind`),
/// 2. environment variables `PIT_<KEY>` (`PIT_INGEST_BATCH_SIZE=5000`),
/// 3. the JSON config file `<data-dir>/pit.json` (`{"ingest_batch_size": 5000}`),
/// 4. the defaults below.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `bind` | `127.0.0.1:8000` | listen address `HOST:PORT` |
/// | `public_url` | `http://<bind>` | URL SDKs use; the host of every DSN |
/// | `ack` | `committed` | `committed`: 200 after the batch commits; `queued`: 200 after enqueue |
/// | `ingest_batch_size` | `1000` | most write units per transaction (group commit) |
/// | `commit_delay_us` | `5000` | how long a small batch waits for more events before it commits, while they arrive faster than one per delay |
/// | `synchronous` | `NORMAL` | SQLite `synchronous`: `NORMAL` survives kill -9, `FULL` also power loss |
/// | `journal_mode` | `WAL` | SQLite journal mode: `WAL` or `DELETE` |
/// | `queue_max_events` | `20000` | queued write units before 503 |
/// | `queue_max_bytes` | `268435456` | memory held by queued write units (estimated: compressed payload, decoded event, strings) before 503 |
/// | `max_request_bytes` | `209715200` | request body as received |
/// | `ingest_inflight_bytes` | `268435456` | request bodies held at once across all connections (as received while collected, decompressed while prepared); a request that does not fit is answered 503 + `Retry-After` and its connection closed; at least `max_request_bytes` |
/// | `max_envelope_bytes` | `209715200` | decompressed envelope |
/// | `max_event_bytes` | `1048576` | one event, transaction or feedback item |
/// | `max_attachment_bytes` | `209715200` | one attachment |
/// | `retry_after_seconds` | `1` | `Retry-After` on 503 |
/// | `admission_target_us` | `5000` | overload shedding: past this event-loop or writer delay, a growing share of new ingest requests is answered 503 at their head; 0 turns it off |
/// | `admission_contention_percent` | `0` | when set (e.g. 30), a loop that runs at least 20 % of the time and waits this share of it for a CPU (the machine is oversubscribed, pitd among the cause) is as late as `admission_target_us`; 0 ignores CPU contention |
/// | `admission_busy_percent` | `90` | an event loop's lateness counts only when it was running or runnable this share of the interval (below, other processes made it late) |
/// | `http_max_connections` | `10000` (less when the open-files limit is lower) | open HTTP connections; beyond it a new one is answered 503 and closed |
/// | `http_idle_timeout_seconds` | `60` | an HTTP connection is closed after this long without a request, or when a request it is sending stalls this long |
/// | `http_header_timeout_seconds` | `30` | from the first byte of a request to the end of its head |
/// | `http_body_timeout_seconds` | `30` | a request body must arrive within this long plus 1 s per `http_body_min_rate_bytes` received; else 408 and the connection is closed |
/// | `http_body_min_rate_bytes` | `500` | see `http_body_timeout_seconds` (Apache mod_reqtimeout's `body=30,MinRate=500`) |
/// | `shutdown_grace_seconds` | `10` | on SIGTERM, how long open requests may finish before their connections are closed |
/// | `ack_timeout_seconds` | `30` | `ack=committed`: a request whose event has not committed after this long is answered 503 + `Retry-After` (the event stays queued) |
/// | `key_refresh_seconds` | `2` | how often DSN keys created elsewhere are picked up |
/// | `session_days` | `14` | how long a web sign-in lasts |
/// | `login_failures_per_account` | `10` | failed sign-ins an account takes back to back; then one a minute (429 with `Retry-After`); 0 turns it off |
/// | `login_failures_per_ip` | `30` | failed sign-ins from one client address back to back; then one every 10 s; 0 turns it off |
/// | `trusted_proxies` | none | reverse proxies (addresses or CIDR blocks, comma-separated or a JSON array) whose `X-Forwarded-For` / `Forwarded` name the client address for `login_failures_per_ip` |
/// | `payload_dictionary_samples` | `1000` | events sampled to train the zstd dictionary for stored payloads; 0 disables it |
/// | `log_level` | `info` | `trace` … `critical` |
/// | `database_url` | none | `postgres://user:password@host:5432/db[?sslmode=…]`: store everything in PostgreSQL instead of SQLite; TLS is required to non-loopback hosts unless `sslmode` says otherwise |
/// | `writers` | `1` | PostgreSQL: writer threads draining the queue, each with its own connection; SQLite always uses one |
/// | `database_pool_size` | `8` | PostgreSQL connections for the read API |
/// | `retention_days` | `90` | events (and items, hourly counters, issues left without events) older than this are purged; per project: `pitd project retention`; 0 keeps everything |
/// | `log_retention_days` | `30` | logs stamped longer ago than this are purged (their own retention, as Sentry's); per project: the retention API's `logRetentionDays`; 0 keeps them |
/// | `max_database_bytes` | `0` | SQLite: past this size of live data the oldest events are purged whatever their age (down to 95 %); 0 = no cap |
/// | `min_free_disk_bytes` | `1073741824` | below this much free space under the data directory ingest answers 503 and `/ready` says `disk_low`; 0 turns it off |
/// | `retention_interval_seconds` | `3600` | time between purge passes |
/// | `retention_batch_size` | `1000` | most rows per purge transaction (halved while a batch takes over 20 ms) |
/// | `retention_writer_lag_ms` | `100` | the purge waits (up to 0.5 s per batch) while the writer's oldest queued event has waited longer |
/// | `cron_interval_seconds` | `30` | time between cron scheduler passes (missed check-ins, timeouts, incidents) |
/// | `alert_ceiling_per_hour` | `100` | alert notifications per project and hour; past it they are counted and announced once ("…and N more") |
/// | `alert_retry_base_seconds` | `30` | first retry of a failed alert delivery; each next one waits twice as long (at most an hour), for 24 h |
/// | `alert_quiet_seconds` | `10` | how long a project's held-back notifications must stop growing before their "…and N more" notice is sent |
/// | `alert_health_interval_seconds` | `60` | how often crash-free-rate alert rules read the session counters |
/// | `smtp_host` | none | SMTP server for email alert channels; without it email deliveries fail (and are retried) |
/// | `smtp_port` | `587` (`465` with `smtp_security=tls`, `25` with `none`) | its port |
/// | `smtp_security` | `starttls` | `starttls` (refused if the server does not offer it), `tls` (implicit, SMTPS) or `none` |
/// | `smtp_username` | none | AUTH PLAIN (or LOGIN) as this user when set |
/// | `smtp_password` | none | its password: a secret, never logged or shown (prefer `PIT_SMTP_PASSWORD` to a flag) |
/// | `smtp_from` | `pit@<smtp_host>` | the sender address (`From`, `MAIL FROM`) |
/// | `smtp_ca_file` | system roots | PEM certificates to trust for the SMTP server's TLS instead (a private CA) |
/// | `cron_clock_offset_seconds` | `0` | added to the time the cron scheduler reads: lets a test see a schedule hours ahead without waiting |
/// | `retention_batch_pause_ms` | `20` | least pause between purge transactions (also at least 3× the batch's duration) |
/// | `sourcemap_resolve_deadline_ms` | `50` | the longest a JavaScript event's ack waits for its source maps; past it the event is held durably (acknowledged) and written, resolved, when its maps are read and parsed; 0: never wait |
/// | `held_event_sweep_seconds` | `10` | how often held JavaScript events that no resolution wrote (a restart, a lease run out) are claimed and written |
/// | `held_event_lease_seconds` | `60` | how long a held JavaScript event is left to the instance that holds it before any instance (PostgreSQL) may claim it |
package struct PitSettings: Sendable {
    package var dataDirectory: String
    var bind: (host: String, port: Int)
    package var publicURL: String
    var ack: AckMode
    var batchSize: Int
    var commitDelayMicroseconds: Int
    var durability: StorageDurability
    var queueMaxEvents: Int
    var queueMaxBytes: Int
    var limits: IngestLimits
    var inflightBytes: Int
    var retryAfterSeconds: Int
    /// Overload shedding at request heads (`admission_target_us`, 0 turns it off).
    var admission: AdmissionControl.Configuration
    var keyRefreshSeconds: Int
    var connectionLimits: ConnectionLimits
    var ackTimeoutSeconds: Int
    var sessionDays: Int
    var loginFailuresPerAccount: Int
    var loginFailuresPerIP: Int
    var trustedProxies: TrustedProxies
    var dictionarySamples: Int
    package var logLevel: String
    var databaseURL: String?
    var writers: Int
    var databasePoolSize: Int
    package var backend: StorageBackend
    var retentionDays: Int
    var logRetentionDays: Int
    var maxDatabaseBytes: Int64
    var minFreeDiskBytes: Int64
    var retentionIntervalSeconds: Int
    var cronIntervalSeconds: Int
    var cronClockOffsetSeconds: Int
    package var alertCeilingPerHour: Int
    var alertRetryBaseSeconds: Int
    var alertQuietSeconds: Int
    var alertHealthIntervalSeconds: Int
    /// Email alert channels' server (`smtp_*`); nil without `smtp_host`.
    var smtp: SMTPClient.Configuration?
    package var smtpConfigured: Bool { smtp != nil }
    var retentionBatchSize: Int
    var retentionBatchPauseMilliseconds: Int
    var sourceMapResolveDeadlineMilliseconds: Int
    var heldEventSweepSeconds: Int
    var heldEventLeaseSeconds: Int
    var retentionWriterLagMilliseconds: Int

    package var databasePath: String { dataDirectory + "/pit.sqlite" }
    package var serverLockPath: String { dataDirectory + "/pitd.lock" }

    /// Retention as configured; per-project overrides are loaded from the database.
    package var retentionPolicy: RetentionPolicy {
        RetentionPolicy(
            defaultDays: retentionDays, maxDatabaseBytes: maxDatabaseBytes > 0 && !backend.isPostgres ? maxDatabaseBytes : nil,
            defaultLogDays: logRetentionDays)
    }
    package var adminTokenPath: String { dataDirectory + "/admin-token" }
    var configFilePath: String { dataDirectory + "/pit.json" }

    /// The soft limit on open files, when the system says.
    static func openFilesLimit() -> Int? {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return nil }
        return Int(clamping: limit.rlim_cur)
    }

    package struct Invalid: Error, CustomStringConvertible {
        package let description: String
    }

    /// Resolves the data directory first (flag, then `PIT_DATA_DIR`, then `./pit-data`), since the
    /// config file lives in it, then reads everything else.
    package static func load(dataDirectory flag: String?, overrides: [String: String]) async throws -> PitSettings {
        let environment = ProcessInfo.processInfo.environment
        let directory = flag ?? environment["PIT_DATA_DIR"] ?? "./pit-data"
        let absolute = URL(fileURLWithPath: directory).standardizedFileURL.path
        var providers: [any ConfigProvider] = []
        var values: [AbsoluteConfigKey: ConfigValue] = [:]
        for (key, value) in overrides {
            values[AbsoluteConfigKey(key.split(separator: ".").map(String.init))] = ConfigValue(
                .string(value), isSecret: key == "smtp_password")
        }
        providers.append(InMemoryProvider(name: "flags", values: values))
        providers.append(EnvironmentVariablesProvider().prefixKeys(with: "pit"))
        let configFile = absolute + "/pit.json"
        if FileManager.default.fileExists(atPath: configFile) {
            providers.append(try await FileProvider<JSONSnapshot>(filePath: FilePath(configFile)))
        }
        return try PitSettings(reader: ConfigReader(providers: providers), dataDirectory: absolute)
    }

    init(reader: ConfigReader, dataDirectory: String) throws {
        self.dataDirectory = dataDirectory
        // Values from flags and the environment are strings; accept numbers written either way.
        func integer(_ key: String, _ fallback: Int) throws -> Int {
            if let number = reader.int(forKey: ConfigKey(key)) { return number }
            guard let text = reader.string(forKey: ConfigKey(key)) else { return fallback }
            guard let number = Int(text.trimmingCharacters(in: .whitespaces)) else {
                throw Invalid(description: "setting \(key) must be an integer, not \(text)")
            }
            return number
        }
        let bindText = reader.string(forKey: "bind", default: "127.0.0.1:8000")
        guard let colon = bindText.lastIndex(of: ":"), let port = Int(bindText[bindText.index(after: colon)...]) else {
            throw Invalid(description: "bind must be HOST:PORT, not \(bindText)")
        }
        bind = (String(bindText[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port)
        let urlHost = ["0.0.0.0", "::", ""].contains(bind.host) ? "127.0.0.1" : bind.host
        publicURL = reader.string(forKey: "public_url", default: "http://\(urlHost.contains(":") ? "[\(urlHost)]" : urlHost):\(port)")
        while publicURL.hasSuffix("/") { publicURL.removeLast() }
        let ackText = reader.string(forKey: "ack", default: "committed").lowercased()
        guard let ack = AckMode(rawValue: ackText) else { throw Invalid(description: "ack must be committed or queued") }
        self.ack = ack
        batchSize = try integer("ingest_batch_size", 1000)
        guard batchSize >= 1 else { throw Invalid(description: "ingest_batch_size must be at least 1") }
        commitDelayMicroseconds = try integer("commit_delay_us", 5000)
        guard (0...1_000_000).contains(commitDelayMicroseconds) else { throw Invalid(description: "commit_delay_us must be 0...1000000") }
        let synchronousText = reader.string(forKey: "synchronous", default: "NORMAL").uppercased()
        guard let synchronous = StorageDurability.Synchronous(rawValue: synchronousText) else {
            throw Invalid(description: "synchronous must be OFF, NORMAL or FULL")
        }
        let journalText = reader.string(forKey: "journal_mode", default: "WAL").uppercased()
        guard let journal = StorageDurability.JournalMode(rawValue: journalText) else {
            throw Invalid(description: "journal_mode must be WAL or DELETE")
        }
        durability = StorageDurability(synchronous: synchronous, journalMode: journal)
        queueMaxEvents = try integer("queue_max_events", 20_000)
        queueMaxBytes = try integer("queue_max_bytes", 256 * 1024 * 1024)
        var limits = IngestLimits()
        limits.maxRequestBytes = try integer("max_request_bytes", limits.maxRequestBytes)
        limits.maxEnvelopeBytes = try integer("max_envelope_bytes", limits.maxEnvelopeBytes)
        limits.maxEventBytes = try integer("max_event_bytes", limits.maxEventBytes)
        limits.maxAttachmentBytes = try integer("max_attachment_bytes", limits.maxAttachmentBytes)
        self.limits = limits
        inflightBytes = try integer("ingest_inflight_bytes", 256 * 1024 * 1024)
        guard inflightBytes >= limits.maxRequestBytes else {
            throw Invalid(
                description:
                    "ingest_inflight_bytes (\(inflightBytes)) must be at least max_request_bytes (\(limits.maxRequestBytes)): a request that may be sent could never be read"
            )
        }
        retryAfterSeconds = try integer("retry_after_seconds", 1)
        let admissionTarget = try integer("admission_target_us", 5000)
        guard (0...10_000_000).contains(admissionTarget) else { throw Invalid(description: "admission_target_us must be 0...10000000") }
        let busyPercent = try integer("admission_busy_percent", 90)
        guard (0...100).contains(busyPercent) else { throw Invalid(description: "admission_busy_percent must be 0...100") }
        // Off by default: it also fires when other processes load the machine (a debug build
        // beside its test clients did in CI), not only when pitd's own load does.
        let contentionPercent = try integer("admission_contention_percent", 0)
        guard (0...100).contains(contentionPercent) else { throw Invalid(description: "admission_contention_percent must be 0...100") }
        admission = AdmissionControl.Configuration(
            target: Double(admissionTarget) / 1e6, saturation: Double(busyPercent) / 100,
            contentionTarget: Double(contentionPercent) / 100)
        keyRefreshSeconds = try integer("key_refresh_seconds", 2)
        let maxConnections = try integer(
            "http_max_connections", ConnectionLimits.defaultMaxConnections(openFilesLimit: Self.openFilesLimit()))
        let idle = try integer("http_idle_timeout_seconds", 60)
        let header = try integer("http_header_timeout_seconds", 30)
        let grace = try integer("shutdown_grace_seconds", 10)
        let body = try integer("http_body_timeout_seconds", 30)
        let bodyRate = try integer("http_body_min_rate_bytes", 500)
        guard maxConnections >= 1, idle >= 1, header >= 1, body >= 1, bodyRate >= 1, grace >= 0 else {
            throw Invalid(
                description:
                    "http_max_connections, http_idle_timeout_seconds, http_header_timeout_seconds, http_body_timeout_seconds and http_body_min_rate_bytes must be at least 1, shutdown_grace_seconds at least 0"
            )
        }
        connectionLimits = ConnectionLimits(
            maxConnections: maxConnections, idleTimeout: .seconds(Int64(idle)),
            headerTimeout: .seconds(Int64(header)), bodyTimeout: .seconds(Int64(body)),
            bodyMinimumRate: bodyRate, shutdownGrace: .seconds(Int64(grace)))
        ackTimeoutSeconds = try integer("ack_timeout_seconds", 30)
        guard ackTimeoutSeconds >= 1 else { throw Invalid(description: "ack_timeout_seconds must be at least 1") }
        sessionDays = max(1, try integer("session_days", 14))
        loginFailuresPerAccount = try integer("login_failures_per_account", 10)
        loginFailuresPerIP = try integer("login_failures_per_ip", 30)
        guard loginFailuresPerAccount >= 0, loginFailuresPerIP >= 0 else {
            throw Invalid(description: "login_failures_per_account and login_failures_per_ip must be 0 or more")
        }
        do {
            trustedProxies = try TrustedProxies(
                reader.stringArray(forKey: "trusted_proxies") ?? reader.string(forKey: "trusted_proxies").map { [$0] } ?? [])
        } catch {
            throw Invalid(description: error.description)
        }
        dictionarySamples = try integer("payload_dictionary_samples", 1000)
        logLevel = reader.string(forKey: "log_level", default: "info")
        let url = reader.string(forKey: "database_url")?.trimmingCharacters(in: .whitespaces)
        databaseURL = url?.isEmpty == false ? url : nil
        do {
            backend = try StorageBackend(databaseURL: databaseURL, sqlitePath: dataDirectory + "/pit.sqlite", durability: durability)
        } catch {
            throw Invalid(description: "\(error)")
        }
        writers = backend.isPostgres ? try integer("writers", backend.defaultWriters) : 1
        guard (1...64).contains(writers) else { throw Invalid(description: "writers must be 1...64") }
        databasePoolSize = try integer("database_pool_size", 8)
        guard databasePoolSize >= 1 else { throw Invalid(description: "database_pool_size must be at least 1") }
        retentionDays = try integer("retention_days", 90)
        guard (0...RetentionPolicy.maximumDays).contains(retentionDays) else {
            throw Invalid(description: "retention_days must be 0 (keep forever) to \(RetentionPolicy.maximumDays)")
        }
        logRetentionDays = try integer("log_retention_days", RetentionPolicy.defaultLogDays)
        guard (0...RetentionPolicy.maximumDays).contains(logRetentionDays) else {
            throw Invalid(description: "log_retention_days must be 0 (keep forever) to \(RetentionPolicy.maximumDays)")
        }
        maxDatabaseBytes = Int64(try integer("max_database_bytes", 0))
        minFreeDiskBytes = Int64(try integer("min_free_disk_bytes", 1 << 30))
        guard maxDatabaseBytes >= 0, minFreeDiskBytes >= 0 else {
            throw Invalid(description: "max_database_bytes and min_free_disk_bytes must not be negative")
        }
        retentionIntervalSeconds = try integer("retention_interval_seconds", 3600)
        cronIntervalSeconds = try integer("cron_interval_seconds", 30)
        cronClockOffsetSeconds = try integer("cron_clock_offset_seconds", 0)
        guard cronIntervalSeconds >= 1, abs(cronClockOffsetSeconds) <= 10 * 365 * 86400 else {
            throw Invalid(description: "cron_interval_seconds must be at least 1, cron_clock_offset_seconds within ten years")
        }
        alertCeilingPerHour = try integer("alert_ceiling_per_hour", 100)
        alertRetryBaseSeconds = try integer("alert_retry_base_seconds", 30)
        alertQuietSeconds = try integer("alert_quiet_seconds", 10)
        alertHealthIntervalSeconds = try integer("alert_health_interval_seconds", 60)
        guard (1...1_000_000).contains(alertCeilingPerHour), (1...3600).contains(alertRetryBaseSeconds),
            (1...3600).contains(alertQuietSeconds), (1...3600).contains(alertHealthIntervalSeconds)
        else {
            throw Invalid(
                description:
                    "alert_ceiling_per_hour must be 1 to 1000000; alert_retry_base_seconds, alert_quiet_seconds and alert_health_interval_seconds 1 to 3600"
            )
        }
        smtp = try Self.smtp(reader: reader, integer: integer)
        sourceMapResolveDeadlineMilliseconds = try integer("sourcemap_resolve_deadline_ms", 50)
        guard (0...60_000).contains(sourceMapResolveDeadlineMilliseconds) else {
            throw Invalid(description: "sourcemap_resolve_deadline_ms must be 0 to 60000")
        }
        heldEventSweepSeconds = try integer("held_event_sweep_seconds", 10)
        heldEventLeaseSeconds = try integer("held_event_lease_seconds", 60)
        guard (1...3600).contains(heldEventSweepSeconds), (1...86_400).contains(heldEventLeaseSeconds) else {
            throw Invalid(description: "held_event_sweep_seconds must be 1 to 3600, held_event_lease_seconds 1 to 86400")
        }
        retentionBatchSize = try integer("retention_batch_size", 1000)
        retentionBatchPauseMilliseconds = try integer("retention_batch_pause_ms", 20)
        retentionWriterLagMilliseconds = max(1, try integer("retention_writer_lag_ms", 100))
        guard retentionIntervalSeconds >= 1, (1...100_000).contains(retentionBatchSize),
            (0...60_000).contains(retentionBatchPauseMilliseconds)
        else {
            throw Invalid(
                description:
                    "retention_interval_seconds must be at least 1, retention_batch_size 1...100000, retention_batch_pause_ms 0...60000")
        }
    }

    private static func smtp(reader: ConfigReader, integer: (String, Int) throws -> Int) throws -> SMTPClient.Configuration? {
        guard let host = reader.string(forKey: "smtp_host")?.trimmingCharacters(in: .whitespaces), !host.isEmpty else { return nil }
        let securityText = reader.string(forKey: "smtp_security", default: "starttls").lowercased()
        guard let security = SMTPClient.Configuration.Security(rawValue: securityText) else {
            throw Invalid(description: "smtp_security must be starttls, tls or none")
        }
        let defaultPort = security == .tls ? 465 : security == .none ? 25 : 587
        let port = try integer("smtp_port", defaultPort)
        guard (1...65535).contains(port) else { throw Invalid(description: "smtp_port must be 1...65535") }
        let from = reader.string(forKey: "smtp_from")?.trimmingCharacters(in: .whitespaces) ?? "pit@\(host)"
        guard User.isPlausibleEmail(from), from.unicodeScalars.allSatisfy(\.isASCII) else {
            throw Invalid(description: "smtp_from must be an ASCII email address, not \(from)")
        }
        let username = reader.string(forKey: "smtp_username")
        let password = reader.string(forKey: "smtp_password", isSecret: true)
        let caFile = reader.string(forKey: "smtp_ca_file")
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw Invalid(description: "smtp_ca_file \(caFile) cannot be read")
        }
        return SMTPClient.Configuration(
            host: host, port: port, security: security, username: username?.isEmpty == false ? username : nil, password: password,
            from: from, caFile: caFile)
    }
}
