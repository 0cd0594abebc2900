// swift-tools-version:6.1
import Foundation
import PackageDescription

// One settings block for every target (as Hummingbird and swift-log do): Swift 6 language mode,
// strict concurrency, explicit imports.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

// Products of the packages this one depends on (listed in `dependencies:` below), named once so
// that each target lists what it uses by name.
enum Product {
    static let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
    static let benchmark: Target.Dependency = .product(name: "Benchmark", package: "benchmark")
    static let configuration: Target.Dependency = .product(name: "Configuration", package: "swift-configuration")
    static let coreMetrics: Target.Dependency = .product(name: "CoreMetrics", package: "swift-metrics")
    static let crypto: Target.Dependency = .product(name: "Crypto", package: "swift-crypto")
    static let httpTypes: Target.Dependency = .product(name: "HTTPTypes", package: "swift-http-types")
    static let histogram: Target.Dependency = .product(name: "Histogram", package: "hdrhistogram-swift")
    static let hummingbird: Target.Dependency = .product(name: "Hummingbird", package: "hummingbird")
    static let hummingbirdCore: Target.Dependency = .product(name: "HummingbirdCore", package: "hummingbird")
    static let hummingbirdTesting: Target.Dependency = .product(name: "HummingbirdTesting", package: "hummingbird")
    static let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
    static let metrics: Target.Dependency = .product(name: "Metrics", package: "swift-metrics")
    static let nioConcurrencyHelpers: Target.Dependency = .product(name: "NIOConcurrencyHelpers", package: "swift-nio")
    static let nioCore: Target.Dependency = .product(name: "NIOCore", package: "swift-nio")
    static let nioEmbedded: Target.Dependency = .product(name: "NIOEmbedded", package: "swift-nio")
    static let nioHTTP1: Target.Dependency = .product(name: "NIOHTTP1", package: "swift-nio")
    static let nioPosix: Target.Dependency = .product(name: "NIOPosix", package: "swift-nio")
    static let nioSSL: Target.Dependency = .product(name: "NIOSSL", package: "swift-nio-ssl")
    static let postgresNIO: Target.Dependency = .product(name: "PostgresNIO", package: "postgres-nio")
    static let prometheus: Target.Dependency = .product(name: "Prometheus", package: "swift-prometheus")
    static let serviceLifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
    static let systemPackage: Target.Dependency = .product(name: "SystemPackage", package: "swift-system")
    static let unixSignals: Target.Dependency = .product(name: "UnixSignals", package: "swift-service-lifecycle")
    static let cryptoExtras: Target.Dependency = .product(name: "_CryptoExtras", package: "swift-crypto")
}

let package = Package(
    name: "pit",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "pitd", targets: ["pitd"]),
        .executable(name: "pit-bench", targets: ["pit-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // System libraries from Debian: libsqlite3-dev, zlib1g-dev, libbrotli-dev, libzstd-dev.
        .systemLibrary(name: "CSQLite", path: "Sources/Engine/CSystem/CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/Engine/CSystem/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CBrotli", path: "Sources/Engine/CSystem/CBrotli", providers: [.apt(["libbrotli-dev"])]),
        .systemLibrary(name: "CZstd", path: "Sources/Engine/CSystem/CZstd", providers: [.apt(["libzstd-dev"])]),
        // The engine, in layers along the event path (ARCHITECTURE.md). Each target depends only
        // on targets listed above it; scripts/check-imports keeps every `import` to that order.
        //
        // The Sentry protocol and the records every layer shares: DSN, auth, limits, the envelope and
        // its item types, event ids, timestamps, `IngestError`, the JSON tape, issue states.
        .target(
            name: "PitModel",
            dependencies: [Product.nioCore],
            path: "Sources/Engine/Model",
            swiftSettings: swiftSettings
        ),
        // Metrics and rate-limited logging.
        .target(
            name: "PitObservability",
            dependencies: [
                "PitModel",
                Product.nioConcurrencyHelpers,
                Product.metrics,
                Product.coreMetrics,
            ],
            path: "Sources/Engine/Observability",
            swiftSettings: swiftSettings
        ),
        // What every storage back end shares: the admin, read and purge contracts, accounts and
        // password hashing, hourly counts, storage health, blocking work off the cooperative pool,
        // at-rest payload compression, the disk guard and retention settings.
        .target(
            name: "PitStorage",
            dependencies: [
                "PitModel", "CZstd",
                Product.nioCore,
                Product.nioPosix,
                Product.nioConcurrencyHelpers,
                Product.logging,
                Product.serviceLifecycle,
                Product.crypto,
                Product.cryptoExtras,
            ],
            path: "Sources/Engine/Storage",
            swiftSettings: swiftSettings
        ),
        // Request to commit: decoding, extraction, grouping, the pipeline, queue, admission and the
        // batch writer. It writes through `BatchStore`, a contract it owns in its own types.
        .target(
            name: "PitIngest",
            dependencies: [
                "PitModel", "PitObservability", "PitStorage", "CZlib", "CBrotli",
                Product.nioCore,
                Product.nioConcurrencyHelpers,
                Product.logging,
                Product.coreMetrics,
                Product.serviceLifecycle,
                Product.crypto,
            ],
            path: "Sources/Engine/Ingest",
            swiftSettings: swiftSettings
        ),
        // The two back ends, each on its own: neither depends on the other.
        .target(
            name: "SQLiteStore",
            dependencies: [
                "PitModel", "PitObservability", "PitStorage", "PitIngest", "CSQLite",
                Product.nioCore,
                Product.nioConcurrencyHelpers,
                Product.logging,
            ],
            path: "Sources/Engine/SQLiteStore",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PostgresStore",
            dependencies: [
                "PitModel", "PitObservability", "PitStorage", "PitIngest",
                Product.nioCore,
                Product.nioPosix,
                Product.nioConcurrencyHelpers,
                Product.nioSSL,
                Product.logging,
                Product.serviceLifecycle,
                Product.postgresNIO,
            ],
            path: "Sources/Engine/PostgresStore",
            swiftSettings: swiftSettings
        ),
        // Read models for the API and the web UI: Sentry's JSON for stored events and issues, stats windows.
        .target(
            name: "PitQuery",
            dependencies: [
                "PitModel", "PitStorage", "PitIngest",
                Product.nioCore,
            ],
            path: "Sources/Engine/Query",
            swiftSettings: swiftSettings
        ),
        // The retention purger: a service beside the writer, on any back end's `PurgeStore`.
        .target(
            name: "PitLifecycle",
            dependencies: [
                "PitModel", "PitObservability", "PitStorage", "PitIngest",
                Product.logging,
                Product.metrics,
                Product.nioCore,
                Product.serviceLifecycle,
            ],
            path: "Sources/Engine/Lifecycle",
            swiftSettings: swiftSettings
        ),
        // The one place that knows both back ends: opens the one the settings name.
        .target(
            name: "PitBackends",
            dependencies: [
                "PitModel", "PitObservability", "PitStorage", "PitIngest", "SQLiteStore", "PostgresStore", "PitLifecycle",
                Product.logging,
                Product.serviceLifecycle,
            ],
            path: "Sources/Engine/Backends",
            swiftSettings: swiftSettings
        ),
        // pitd as a library (HTTP server, API, web UI, auth, configuration), so its routes are
        // tested in-process (Tests/pitdTests); the `pitd` executable is the command line on top.
        .target(
            name: "PitdServer",
            dependencies: [
                "PitModel", "PitObservability", "PitStorage", "PitIngest", "SQLiteStore", "PitQuery", "PitLifecycle", "PitBackends",
                Product.hummingbird,
                Product.hummingbirdCore,
                Product.httpTypes,
                Product.nioCore,
                Product.nioHTTP1,
                Product.nioPosix,
                Product.nioConcurrencyHelpers,
                Product.nioSSL,
                Product.configuration,
                Product.systemPackage,
                Product.crypto,
                Product.logging,
                Product.metrics,
                Product.prometheus,
                Product.serviceLifecycle,
                Product.unixSignals,
            ],
            path: "Sources/pitd/Server",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "pitd",
            dependencies: [
                "PitdServer", "PitModel", "PitStorage", "PitQuery", "SQLiteStore", "PostgresStore", "PitBackends",
                Product.argumentParser,
                Product.logging,
            ],
            path: "Sources/pitd/Commands",
            swiftSettings: swiftSettings
        ),
        // Do-nothing servers: the ceilings of the closed-loop benchmark (scripts/bench-closed-loop).
        .executableTarget(
            name: "pit-ceiling",
            dependencies: [
                "PitModel", "PitPayloads",
                Product.hummingbird,
                Product.nioCore,
                Product.nioHTTP1,
                Product.nioPosix,
            ],
            path: "Benchmarks/Ceiling",
            swiftSettings: swiftSettings
        ),
        // Synthetic Sentry traffic shared by pit-bench, the microbenchmarks and the tests.
        .target(name: "PitPayloads", dependencies: ["PitModel"], path: "Sources/pit-bench/Payloads", swiftSettings: swiftSettings),
        // The load generator and soak harness as a library, so its scheduler, knee detection and
        // results are unit-tested; `pit-bench` is the command line on top.
        .target(
            name: "PitBenchCore",
            dependencies: [
                "PitModel",
                "PitPayloads",
                "CZlib",
                Product.nioCore,
                Product.nioPosix,
                Product.nioHTTP1,
                Product.nioConcurrencyHelpers,
                Product.logging,
                Product.histogram,
            ],
            path: "Sources/pit-bench/Core",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "pit-bench",
            dependencies: [
                "PitBenchCore",
                "PitModel",
                "PitPayloads",
                Product.argumentParser,
            ],
            path: "Sources/pit-bench/Command",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EngineTests",
            dependencies: [
                "PitModel", "PitObservability", "PitStorage", "PitIngest", "SQLiteStore", "PostgresStore", "PitQuery",
                "PitLifecycle", "PitPayloads", "CZlib", "CBrotli", "CZstd",
                Product.nioCore,
                Product.nioEmbedded,
                Product.nioConcurrencyHelpers,
                Product.logging,
                Product.postgresNIO,
                Product.nioSSL,
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "pitdTests",
            dependencies: [
                "PitdServer", "PitModel", "PitObservability", "PitStorage", "PitIngest", "PitQuery", "PitBackends", "PitPayloads",
                Product.hummingbird,
                Product.hummingbirdTesting,
                Product.httpTypes,
                Product.nioCore,
                Product.logging,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PitBenchTests",
            dependencies: [
                "PitBenchCore", "PitPayloads", "PitModel",
                Product.nioCore,
                Product.nioPosix,
                Product.nioHTTP1,
            ],
            swiftSettings: swiftSettings
        ),
    ]
)

// Microbenchmarks (package-benchmark) are opt-in, as Hummingbird does with ENABLE_HB_BENCHMARKS,
// so that ordinary builds and CI do not fetch and build the benchmark tooling:
//   PIT_BENCHMARKS=1 swift package benchmark
if ProcessInfo.processInfo.environment["PIT_BENCHMARKS"] != nil {
    package.dependencies.append(.package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]))
    package.targets.append(
        .executableTarget(
            name: "EngineBenchmarks",
            dependencies: [
                "PitModel", "PitObservability", "PitStorage", "PitIngest", "SQLiteStore",
                "PitPayloads",
                Product.benchmark,
                Product.logging,
                Product.nioCore,
            ],
            path: "Benchmarks/EngineBenchmarks",
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    )
}

// libFuzzer targets, opt-in so that ordinary builds never see them (they only link with
// libFuzzer's runtime). scripts/fuzz sets PIT_FUZZ=1 and builds them with the sanitizer flags that
// work with SwiftPM (see Tests/Fuzz/README.md) into a scratch path of their own.
if ProcessInfo.processInfo.environment["PIT_FUZZ"] != nil {
    let fuzzTargets: [(name: String, path: String, dependencies: [Target.Dependency])] = [
        (
            "FuzzIngest", "Tests/Fuzz/Ingest",
            ["PitModel", "PitObservability", "PitStorage", "PitIngest", Product.nioCore]
        ),
        ("FuzzEnvelope", "Tests/Fuzz/Envelope", ["PitModel", "PitIngest", Product.nioCore]),
        ("FuzzEvent", "Tests/Fuzz/Event", ["PitModel", "PitObservability", "PitIngest", Product.nioCore]),
        ("FuzzGzip", "Tests/Fuzz/Decoding/Gzip", ["PitIngest", Product.nioCore]),
        ("FuzzDeflate", "Tests/Fuzz/Decoding/Deflate", ["PitIngest", Product.nioCore]),
        ("FuzzBrotli", "Tests/Fuzz/Decoding/Brotli", ["PitIngest", Product.nioCore]),
        ("FuzzZstd", "Tests/Fuzz/Decoding/Zstd", ["PitIngest", "PitStorage", Product.nioCore]),
        ("FuzzAuth", "Tests/Fuzz/Auth", ["PitModel", "PitIngest"]),
    ]
    for target in fuzzTargets {
        package.targets.append(
            .executableTarget(
                name: target.name,
                dependencies: target.dependencies,
                path: target.path,
                // The seed corpus sits next to the code it feeds.
                exclude: ["corpus"],
                swiftSettings: swiftSettings
            )
        )
    }
}
