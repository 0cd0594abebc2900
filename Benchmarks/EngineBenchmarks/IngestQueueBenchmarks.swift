import Benchmark
import Foundation
import PitIngest

#if canImport(Glibc)
    import Glibc
#endif

/// What the hand-off benchmark needs of a queue, so the lock-free ring and its mutex baseline run
/// the same code.
protocol HandOffQueue: Sendable {
    func offer(_ unit: WriteUnit) -> IngestQueue.OfferResult
    func take(maxCount limit: Int, commitDelay: Double) -> [IngestQueue.Entry]?
}

extension IngestQueue: HandOffQueue {
    func take(maxCount limit: Int, commitDelay: Double) -> [IngestQueue.Entry]? {
        take(maxCount: limit, commitDelay: commitDelay, idleTimeout: nil)
    }
}
extension MutexIngestQueue: HandOffQueue {}

/// 2 producer threads (the event loops) offer `units` small write units between them while 1
/// consumer thread (the writer) takes batches of up to 1,000; a producer told `.full` retries.
/// Empty units (no event, no items: cost 0, nothing to retain), so the figure is the queue's own
/// cost. Blocks until the consumer has taken every unit.
func handOff(_ queue: some HandOffQueue, units: Int, producers: Int = 2) {
    let perProducer = units / producers
    let total = perProducer * producers
    let done = DispatchSemaphore(value: 0)
    Thread {
        var taken = 0
        while taken < total, let batch = queue.take(maxCount: 1000, commitDelay: 0) { taken += batch.count }
        done.signal()
    }.start()
    for _ in 0..<producers {
        Thread {
            for _ in 0..<perProducer {
                while queue.offer(WriteUnit(event: nil, items: [])) != .accepted { sched_yield() }
            }
            done.signal()
        }.start()
    }
    for _ in 0...producers { done.wait() }
}

/// One iteration moves 200,000 units: units/s = throughput × 200,000. Both queues have the
/// default budget of pitd (20,000 entries); a queue lives across iterations, as in pitd.
func ingestQueueBenchmarks() {
    let units = 200_000
    // The ring's cells: 24 bytes of atomics plus the entry each (the mutex queue's array holds
    // the entry and an 8-byte time per queued entry).
    print("IngestQueue: \(MemoryLayout<IngestQueue.Entry>.stride) + 24 bytes per ring cell")
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .throughput, .cpuTotal, .mallocCountTotal],
        warmupIterations: 3,
        scalingFactor: .one,
        maxDuration: .seconds(10),
        maxIterations: 100
    )
    let lockFree = IngestQueue(maxCount: 20_000, maxBytes: 256 << 20)
    Benchmark("IngestQueue.lockFree.2p1c", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations { handOff(lockFree, units: units) }
    }
    let mutex = MutexIngestQueue(maxCount: 20_000, maxBytes: 256 << 20)
    Benchmark("IngestQueue.mutex.2p1c", configuration: configuration) { benchmark in
        for _ in benchmark.scaledIterations { handOff(mutex, units: units) }
    }
}
