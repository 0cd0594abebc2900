import Benchmark
import Foundation
import NIOCore
import PitIngest
import PitModel
import PitObservability
import PitPayloads
import PitStorage
import SQLiteStore

/// Engine microbenchmarks. Run: `PIT_BENCHMARKS=1 swift package --allow-writing-to-directory results benchmark`.
/// Throughput figures are in bytes (parse) or rows (writer) per second of wall-clock time.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .instructions, .mallocCountTotal],
        warmupIterations: 3,
        scalingFactor: .one,
        maxDuration: .seconds(5),
        maxIterations: 10_000
    )

    // The ingest queue, lock-free ring against its mutex baseline (IngestQueueBenchmarks.swift).
    ingestQueueBenchmarks()

    // Source-map resolution, cold and warm (SourceMapBenchmarks.swift).
    sourceMapBenchmarks()

    // 1,000 distinct ~2.9 KiB error envelopes, as pit-bench sends them.
    let generator = SyntheticEvents(fingerprints: 100, users: 1000, releases: 5)
    let now = Date().timeIntervalSince1970
    let envelopes: [ByteBuffer] = (0..<1000).map { i in
        ByteBuffer(bytes: generator.errorEnvelope(index: i, eventID: EventID.random(), timestamp: now))
    }
    let totalBytes = envelopes.reduce(0) { $0 + $1.readableBytes }
    let parser = EnvelopeParser()

    // Envelope parse + JSON extract + normalise + group: the CPU work of one request. One
    // iteration is 1,000 envelopes (`totalBytes` bytes): MB/s = throughput × totalBytes / 1e6.
    print("EngineBenchmarks: 1000 envelopes, \(totalBytes) bytes in total per iteration")
    Benchmark("ParseExtractGroup") { benchmark in
        for _ in benchmark.scaledIterations {
            for envelope in envelopes {
                let parsed = try parser.parse(envelope)
                for item in parsed.items where item.type == .event {
                    // From the buffer, as the ingest path extracts (frame strings share its bytes).
                    let extracted = try EventExtractor.extract(payload: item.payload)
                    blackHole(EventNormalizer.normalize(extracted, headerEventID: parsed.header.eventID, sentAt: nil, received: now))
                    blackHole(Grouper.group(extracted))
                }
            }
        }
    }

    // The same plus payload compression, i.e. everything before the queue.
    let keys = KeyCache()
    let pipeline = IngestPipeline(
        keys: keys, queue: IngestQueue(maxCount: 1, maxBytes: 1), ack: .queued,
        limits: IngestLimits(), metrics: PitMetrics())
    Benchmark("EventRecord") { benchmark in
        for _ in benchmark.scaledIterations {
            for envelope in envelopes {
                let parsed = try parser.parse(envelope)
                for item in parsed.items where item.type == .event {
                    blackHole(try pipeline.makeEventRecord(item.payload, header: parsed.header, projectID: 1, received: now))
                }
            }
        }
    }

    // At-rest compression of the same 1,000 payloads at zstd level 1 and at the shipped level 3,
    // plain and with a dictionary trained on them (as pitd does after its first 1,000 events): what
    // a lower level would save on the event loops. One iteration is 1,000 payloads; the mean
    // compressed size is printed.
    let payloads = try! envelopes.map { try parser.parse($0).items[0].payload }
    let dictionaryBytes = PayloadDictionary.train(samples: payloads.map { Array($0.readableBytesView) })!
    for level: Int32 in [1, 3] {
        let dictionary = PayloadDictionary(id: 1, bytes: dictionaryBytes, level: level)!
        let plainBytes = payloads.reduce(0) { $0 + PayloadCodec.compress($1, level: level).count }
        let dictionaryBytes = payloads.reduce(0) { $0 + dictionary.compress($1).count }
        print(
            "EngineBenchmarks: level \(level): \(plainBytes / payloads.count) B per payload plain, "
                + "\(dictionaryBytes / payloads.count) B with the dictionary")
        Benchmark("PayloadCompression.level\(level)") { benchmark in
            for _ in benchmark.scaledIterations {
                for payload in payloads { blackHole(PayloadCodec.compress(payload, level: level)) }
            }
        }
        Benchmark("PayloadCompression.dictionary.level\(level)") { benchmark in
            for _ in benchmark.scaledIterations {
                for payload in payloads { blackHole(dictionary.compress(payload)) }
            }
        }
    }

    // The SQLite writer: one iteration is one batch of 1,000 event records in one transaction,
    // WAL + synchronous=NORMAL: rows/s = throughput × 1,000.
    let records = try! envelopes.map { envelope in
        let parsed = try parser.parse(envelope)
        return try pipeline.makeEventRecord(parsed.items[0].payload, header: nil, projectID: 1, received: now)
    }
    Benchmark("Writer", configuration: .init(scalingFactor: .one, maxDuration: .seconds(10))) { benchmark in
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pit-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("pit.sqlite").path
        let admin = try SQLiteAdminStore(path: path)
        _ = try BlockingWork.waitOnThisThread { try await admin.ensureDefaults(organizationSlug: "pit", projectSlug: "default") }
        let store = try SQLiteBatchStore(path: path, durability: StorageDurability(synchronous: .normal, journalMode: .wal))
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let batch = records.map { record -> IngestQueue.Entry in
                var record = record
                record.eventID = EventID.random()
                return .write(WriteUnit(event: record, items: []))
            }
            blackHole(try store.write(batch))
        }
        benchmark.stopMeasurement()
        store.close()
    }
}
