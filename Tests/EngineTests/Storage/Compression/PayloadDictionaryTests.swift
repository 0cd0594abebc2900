import Foundation
import Logging
import NIOCore
import PitIngest
import PitModel
import PitObservability
import PitPayloads
import PitStorage
import SQLiteStore
import Testing

@Suite struct PayloadDictionaryTests {
    @Test func trainedDictionaryRoundTripsAndShrinksPayloads() async throws {
        let generator = SyntheticEvents(fingerprints: 20)
        let samples = (0..<200).map { generator.eventPayload(index: $0, eventID: .random(), timestamp: receiveTime) }
        let bytes = try #require(PayloadDictionary.train(samples: samples))
        let dictionary = try #require(PayloadDictionary(id: 7, bytes: bytes))
        let payload = generator.eventPayload(index: 1234, eventID: .random(), timestamp: receiveTime)
        let plain = PayloadCodec.compress(ByteBuffer(bytes: payload))
        let withDictionary = dictionary.compress(ByteBuffer(bytes: payload))
        #expect(try dictionary.decompress(withDictionary, limit: 1 << 20) == payload)
        #expect(withDictionary.count * 2 < plain.count, "\(withDictionary.count) vs \(plain.count) bytes")
        // A payload compressed with a dictionary does not decode without it, nor above the limit.
        #expect(throws: (any Error).self) { try PayloadCodec.decompress(withDictionary, limit: 1 << 20) }
        #expect(throws: PayloadCodecError.self) { try dictionary.decompress(withDictionary, limit: 16) }
    }

    /// 1,000 samples of 1 MiB events used to be held whole (1 GiB, and a joined copy while
    /// training). Samples keep a prefix, and the set is handed over once its bytes reach the cap.
    @Test func trainingSamplesAreBoundedInBytes() async throws {
        let dictionaries = PayloadDictionaries(sampleCount: 1000, maxSampleBytes: 1024, maxTotalBytes: 10 * 1024) { _ in nil }
        let huge = ByteBuffer(repeating: UInt8(ascii: "x"), count: 1 << 20)
        for _ in 0..<9 { #expect(dictionaries.offerSample(huge) == nil) }
        let samples = try #require(dictionaries.offerSample(huge))
        #expect(samples.count == 10)
        #expect(samples.allSatisfy { $0.count == 1024 })
        #expect(dictionaries.offerSample(huge) == nil, "one training at a time")
    }

    @Test func tooFewSamplesTrainNothing() async {
        #expect(PayloadDictionary.train(samples: [[1, 2, 3]]) == nil)
    }

    /// The pipeline trains a dictionary from its first payloads, stores it through the writer,
    /// compresses later payloads with it, and a reader that starts afresh (a restart) decodes
    /// every stored event, with or without a dictionary.
    @Test func pipelineTrainsStoresAndUsesADictionary() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("pit.db")
        let admin = try SQLiteAdminStore(path: path)
        _ = try await admin.ensureDefaults(organizationSlug: "org", projectSlug: "proj")
        _ = try await admin.createKey(projectID: 1, publicKey: "dictkey", label: nil)
        let keys = KeyCache()
        try await keys.reload(from: admin)
        let queue = IngestQueue(maxCount: 1000, maxBytes: 64 << 20)
        let writer = BatchWriter(
            queue: queue, store: try SQLiteBatchStore(path: path, durability: StorageDurability()),
            batchSize: 64, metrics: PitMetrics(), logger: Logger(label: "pit.tests", factory: { _ in SwiftLogNoOpLogHandler() }))
        let dictionaries = PayloadDictionaries(sampleCount: 50) { id in try admin.loadPayloadDictionary(id: id) }
        let pipeline = IngestPipeline(
            keys: keys, queue: queue, ack: .committed, limits: IngestLimits(), metrics: PitMetrics(),
            dictionaries: dictionaries)
        let generator = SyntheticEvents(fingerprints: 10)
        var sent: [EventID: [UInt8]] = [:]

        func send(_ index: Int) async throws {
            let id = EventID.random()
            let envelope = generator.errorEnvelope(index: index, eventID: id, timestamp: receiveTime)
            let request = IngestPipeline.Request(
                projectID: 1, auth: SentryAuth(publicKey: "dictkey", version: 7),
                contentEncoding: nil, contentType: nil, body: ByteBuffer(bytes: envelope))
            #expect(try await pipeline.envelope(request) == id)
            sent[id] = generator.eventPayload(index: index, eventID: id, timestamp: receiveTime)
        }

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await writer.run() }
            for index in 0..<50 { try await send(index) }
            let deadline = Date().addingTimeInterval(20)
            while dictionaries.current == nil && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(dictionaries.current != nil, "a dictionary was trained and stored")
            for index in 50..<100 { try await send(index) }
            writer.finish()
            try await group.waitForAll()
        }

        let connection = try SQLiteConnection(path: path, readOnly: true)
        #expect(try connection.scalarInt("SELECT COUNT(*) FROM payload_dictionaries") == 1)
        #expect(try connection.scalarInt("SELECT COUNT(*) FROM events WHERE dictionary_id IS NOT NULL") == 50)

        // A fresh registry and reader, as after a restart: dictionaries load from the database.
        let restarted = PayloadDictionaries(sampleCount: 50) { id in try admin.loadPayloadDictionary(id: id) }
        let reader = SQLiteReadStore(path: path, dictionaries: restarted)
        for (id, payload) in sent {
            let row = try #require(try await reader.event(projectID: 1, eventID: id))
            #expect(row.payload == payload)
        }
    }
}
