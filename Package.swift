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
        .library(name: "Engine", targets: ["Engine"]),
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
        .target(
            name: "Engine",
            dependencies: [
                "CSQLite", "CZlib", "CBrotli", "CZstd",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // pitd as a library (HTTP server, API, web UI, auth, configuration), so its routes are
        // tested in-process (Tests/pitdTests); the `pitd` executable is the command line on top.
        .target(
            name: "PitdServer",
            dependencies: [
                "Engine",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
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
                "PitdServer",
                "Engine",
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
                "Engine", "PitPayloads",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Benchmarks/Ceiling",
            swiftSettings: swiftSettings
        ),
        // Synthetic Sentry traffic shared by pit-bench, the microbenchmarks and the tests.
        .target(name: "PitPayloads", dependencies: ["Engine"], swiftSettings: swiftSettings),
        // The load generator and soak harness as a library, so its scheduler, knee detection and
        // results are unit-tested; `pit-bench` is the command line on top.
        .target(
            name: "PitBenchCore",
            dependencies: [
                "Engine",
                "PitPayloads",
                "CZlib",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "pit-bench",
            dependencies: [
                "PitBenchCore",
                "Engine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EngineTests",
            dependencies: [
                "Engine", "PitPayloads", "CZlib", "CBrotli", "CZstd",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
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
                "PitdServer",
                "Engine",
                "PitPayloads",
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
                "PitBenchCore",
                "Engine",
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
                "Engine",
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
        ("FuzzIngest", "Tests/Fuzz/Ingest", ["Engine", .product(name: "NIOCore", package: "swift-nio")]),
        ("FuzzEnvelope", "Tests/Fuzz/Envelope", ["Engine", .product(name: "NIOCore", package: "swift-nio")]),
        ("FuzzEvent", "Tests/Fuzz/Event", ["Engine", .product(name: "NIOCore", package: "swift-nio")]),
        ("FuzzGzip", "Tests/Fuzz/Decoding/Gzip", ["Engine", .product(name: "NIOCore", package: "swift-nio")]),
        ("FuzzDeflate", "Tests/Fuzz/Decoding/Deflate", ["Engine", .product(name: "NIOCore", package: "swift-nio")]),
        ("FuzzBrotli", "Tests/Fuzz/Decoding/Brotli", ["Engine", .product(name: "NIOCore", package: "swift-nio")]),
        ("FuzzZstd", "Tests/Fuzz/Decoding/Zstd", ["Engine", .product(name: "NIOCore", package: "swift-nio")]),
        ("FuzzAuth", "Tests/Fuzz/Auth", ["Engine"]),
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
