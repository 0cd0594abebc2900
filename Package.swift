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
        .systemLibrary(name: "CSQLite", path: "Sources/CSystem/CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CZlib", path: "Sources/CSystem/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CBrotli", path: "Sources/CSystem/CBrotli", providers: [.apt(["libbrotli-dev"])]),
        .systemLibrary(name: "CZstd", path: "Sources/CSystem/CZstd", providers: [.apt(["libzstd-dev"])]),
        // The engine, in layers along the event path (ARCHITECTURE.md). Each target depends only
        // on targets listed above it; scripts/check-imports keeps every `import` to that order.
        //
        // The Sentry protocol and the records every layer shares: DSN, auth, limits, the envelope and
        // its item types, event ids, timestamps, `IngestError`, the JSON tape, issue states.
        .target(
            name: "PitModel",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            path: "Sources/Engine/Model",
            swiftSettings: swiftSettings
        ),
        // Metrics and rate-limited logging.
        .target(
            name: "PitObservability",
            dependencies: [
                "PitModel",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
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
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
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
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Sources/Engine/Ingest",
            swiftSettings: swiftSettings
        ),
        // The two back ends, each on its own: neither depends on the other.
        .target(
            name: "SQLiteStore",
            dependencies: [
                "PitModel", "PitObservability", "PitStorage", "PitIngest", "CSQLite",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/Engine/SQLiteStore",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PostgresStore",
            dependencies: [
                "PitModel", "PitObservability", "PitStorage", "PitIngest",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Sources/Engine/PostgresStore",
            swiftSettings: swiftSettings
        ),
        // Read models for the API and the web UI: Sentry's JSON for stored events and issues, stats windows.
        .target(
            name: "PitQuery",
            dependencies: [
                "PitModel", "PitStorage", "PitIngest",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/Engine/Query",
            swiftSettings: swiftSettings
        ),
        // The retention purger: a service beside the writer, on any back end's `PurgeStore`.
        .target(
            name: "PitLifecycle",
            dependencies: [
                "PitModel", "PitObservability", "PitStorage", "PitIngest",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Sources/Engine/Lifecycle",
            swiftSettings: swiftSettings
        ),
        // The one place that knows both back ends: opens the one the settings name.
        .target(
            name: "PitBackends",
            dependencies: [
                "PitModel", "PitObservability", "PitStorage", "PitIngest", "SQLiteStore", "PostgresStore", "PitLifecycle",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
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
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            path: "Sources/pitd/Server",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "pitd",
            dependencies: [
                "PitdServer", "PitModel", "PitStorage", "PitQuery", "SQLiteStore", "PostgresStore", "PitBackends",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Sources/pitd/Commands",
            swiftSettings: swiftSettings
        ),
        // Do-nothing servers: the ceilings of the closed-loop benchmark (scripts/bench-closed-loop).
        .executableTarget(
            name: "pit-ceiling",
            dependencies: [
                "PitModel", "PitPayloads",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Benchmarks/Ceiling",
            swiftSettings: swiftSettings
        ),
        // Synthetic Sentry traffic shared by pit-bench, the microbenchmarks and the tests.
        .target(name: "PitPayloads", dependencies: ["PitModel"], swiftSettings: swiftSettings),
        // The load generator and soak harness as a library, so its scheduler, knee detection and
        // results are unit-tested; `pit-bench` is the command line on top.
        .target(
            name: "PitBenchCore",
            dependencies: [
                "PitModel",
                "PitPayloads",
                "CZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "pit-bench",
            dependencies: [
                "PitBenchCore",
                "PitModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EngineTests",
            dependencies: [
                "PitModel", "PitObservability", "PitStorage", "PitIngest", "SQLiteStore", "PostgresStore", "PitQuery",
                "PitLifecycle", "PitPayloads", "CZlib", "CBrotli", "CZstd",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "pitdTests",
            dependencies: [
                "PitdServer", "PitModel", "PitObservability", "PitStorage", "PitIngest", "PitQuery", "PitBackends", "PitPayloads",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PitBenchTests",
            dependencies: [
                "PitBenchCore", "PitPayloads", "PitModel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
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
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "NIOCore", package: "swift-nio"),
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
            ["PitModel", "PitObservability", "PitStorage", "PitIngest", .product(name: "NIOCore", package: "swift-nio")]
        ),
        ("FuzzEnvelope", "Tests/Fuzz/Envelope", ["PitModel", "PitIngest", .product(name: "NIOCore", package: "swift-nio")]),
        ("FuzzEvent", "Tests/Fuzz/Event", ["PitModel", "PitObservability", "PitIngest", .product(name: "NIOCore", package: "swift-nio")]),
        ("FuzzGzip", "Tests/Fuzz/Decoding/Gzip", ["PitIngest", .product(name: "NIOCore", package: "swift-nio")]),
        ("FuzzDeflate", "Tests/Fuzz/Decoding/Deflate", ["PitIngest", .product(name: "NIOCore", package: "swift-nio")]),
        ("FuzzBrotli", "Tests/Fuzz/Decoding/Brotli", ["PitIngest", .product(name: "NIOCore", package: "swift-nio")]),
        ("FuzzZstd", "Tests/Fuzz/Decoding/Zstd", ["PitIngest", "PitStorage", .product(name: "NIOCore", package: "swift-nio")]),
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
