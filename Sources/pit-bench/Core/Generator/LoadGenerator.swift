import Foundation
import NIOCore
import NIOPosix
import PitModel

/// An open-loop HTTP/1.1 load generator on one SwiftNIO event loop.
///
/// Request i of a step is due at `stepStart + i / rate`, whatever the server does. A 1 ms tick
/// moves due requests to idle keep-alive connections (opening more, up to the maximum, when
/// none is idle) or to a FIFO of pending requests. Latency runs from the due time, so time spent
/// waiting for a connection counts: a stalled server shows in p99 instead of silently lowering
/// the offered rate (no coordinated omission).
package final class LoadGenerator: Sendable {
    private let group: MultiThreadedEventLoopGroup

    package init() {
        // One loop: the generator's state is confined to it, no locks on the request path.
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    package func shutdown() async {
        try? await group.shutdownGracefully()
    }

    package func run(
        target: LoadTarget, steps: [RateStep], source: RequestSource, options: GeneratorOptions,
        sampler: (any ServerSampling)? = nil, onSecond: @escaping @Sendable (SecondSample) -> Void = { _ in }
    ) async throws -> LoadResult {
        let loop = group.next()
        let promise = loop.makePromise(of: LoadResult.self)
        loop.execute {
            let run = GeneratorRun(
                loop: loop, target: target, steps: steps, source: source, options: options,
                sampler: sampler, onSecond: onSecond, promise: promise)
            run.start()
        }
        return try await promise.futureResult.get()
    }
}
