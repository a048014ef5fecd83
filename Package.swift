// swift-tools-version: 6.1
// Quorum: an active-learning annotation pipeline.
//
// Targets follow the pipeline, one home per stage:
//   storage (QuorumStore) · numerics (QuorumNumerics over CBLAS/CLAPACKE) ·
//   item files (QuorumImport) · features and models (QuorumModels) ·
//   sampling (QuorumSampling) · what an annotator sees and answers (QuorumLabelling) ·
//   consensus (QuorumConsensus) · snapshots (QuorumSnapshots) ·
//   reporting (QuorumReporting) · use-case services (QuorumPipeline) ·
//   the two views annotators label in: the terminal loop (QuorumTerminal) and
//   the HTTP API with its web pages (QuorumServer) · the `quorum` executable.
import PackageDescription

let swift6: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "Quorum",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "quorum", targets: ["quorum"]),
        .library(name: "QuorumPipeline", targets: ["QuorumPipeline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // System libraries: a module map and a shim header each.
        .systemLibrary(name: "CBLAS", pkgConfig: "blas", providers: [.apt(["libblas-dev", "libopenblas-dev"])]),
        .systemLibrary(name: "CLAPACKE", pkgConfig: "lapacke", providers: [.apt(["liblapacke-dev"])]),

        // Pure modules: no SQLite, no command line.
        .target(name: "QuorumCore", swiftSettings: swift6),
        .target(name: "QuorumNumerics", dependencies: ["CBLAS", "CLAPACKE"], swiftSettings: swift6),
        .target(name: "QuorumImport", swiftSettings: swift6),
        .target(name: "QuorumModels", dependencies: ["QuorumNumerics"], swiftSettings: swift6),
        .target(name: "QuorumSampling", dependencies: ["QuorumNumerics"], swiftSettings: swift6),
        .target(name: "QuorumConsensus", swiftSettings: swift6),
        .target(name: "QuorumSnapshots", dependencies: ["QuorumCore", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: swift6),
        .target(name: "QuorumReporting", dependencies: ["QuorumCore", "QuorumConsensus"], swiftSettings: swift6),
        .target(name: "QuorumLabelling", dependencies: ["QuorumCore"], swiftSettings: swift6),
        .target(name: "QuorumTerminal", dependencies: ["QuorumCore", "QuorumLabelling"], swiftSettings: swift6),

        // Storage: the only module that knows SQLite.
        .target(name: "QuorumStore", dependencies: [
            "QuorumCore",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "GRDBSQLite", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
        ], swiftSettings: swift6),

        // The PostgreSQL store: the same protocols as QuorumStore's SQLite store, over postgres-nio.
        .target(name: "QuorumPostgres", dependencies: [
            "QuorumCore", "QuorumStore",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: swift6),

        // Use-case services that join the store to the pure modules.
        .target(name: "QuorumPipeline", dependencies: [
            "QuorumCore", "QuorumStore", "QuorumPostgres", "QuorumImport", "QuorumNumerics", "QuorumModels",
            "QuorumSampling", "QuorumConsensus", "QuorumSnapshots", "QuorumReporting", "QuorumLabelling",
            .product(name: "Crypto", package: "swift-crypto"),
        ], swiftSettings: swift6),

        // The web view: HTTP API and pages over the same labelling service as the terminal.
        .target(name: "QuorumServer", dependencies: [
            "QuorumCore", "QuorumLabelling", "QuorumPipeline", "QuorumStore",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ], resources: ["index.html", "lead.html", "app.css", "quorum.js", "app.js", "lead.js"].map { .embedInCode("Assets/\($0)") },
        swiftSettings: swift6),

        .executableTarget(name: "quorum", dependencies: [
            "QuorumCore", "QuorumImport", "QuorumLabelling", "QuorumModels", "QuorumNumerics", "QuorumPipeline",
            "QuorumReporting", "QuorumSampling", "QuorumServer", "QuorumStore", "QuorumTerminal",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: swift6),
        .executableTarget(name: "quorum-bench", dependencies: [
            "QuorumCore", "QuorumPipeline", "QuorumPostgres", "QuorumStore", "QuorumNumerics", "QuorumImport", "QuorumModels", "QuorumSampling", "QuorumConsensus",
            "QuorumLabelling", "QuorumTerminal",
        ], swiftSettings: swift6),

        .testTarget(name: "QuorumNumericsTests", dependencies: ["QuorumNumerics"], swiftSettings: swift6),
        .testTarget(name: "QuorumImportTests", dependencies: ["QuorumImport"], swiftSettings: swift6),
        .testTarget(name: "QuorumModelsTests", dependencies: ["QuorumModels", "QuorumNumerics"], swiftSettings: swift6),
        .testTarget(name: "QuorumSamplingTests", dependencies: ["QuorumSampling"], swiftSettings: swift6),
        .testTarget(name: "QuorumConsensusTests", dependencies: ["QuorumConsensus", "QuorumModels", "QuorumNumerics"], swiftSettings: swift6),
        .testTarget(name: "QuorumSnapshotsTests", dependencies: ["QuorumSnapshots", "QuorumCore"], swiftSettings: swift6),
        .testTarget(name: "QuorumReportingTests", dependencies: ["QuorumReporting", "QuorumConsensus", "QuorumCore"], swiftSettings: swift6),
        .testTarget(name: "QuorumStoreTests", dependencies: ["QuorumStore", "QuorumCore"], swiftSettings: swift6),
        .testTarget(name: "QuorumStoreConformanceTests", dependencies: ["QuorumStore", "QuorumPostgres", "QuorumCore"], swiftSettings: swift6),
        .testTarget(name: "QuorumLabellingTests", dependencies: ["QuorumLabelling", "QuorumCore"], swiftSettings: swift6),
        .testTarget(name: "QuorumTerminalTests", dependencies: ["QuorumTerminal", "QuorumLabelling", "QuorumCore"], swiftSettings: swift6),
        .testTarget(name: "QuorumEndToEndTests", dependencies: ["quorum", "QuorumStore", "QuorumPostgres", "QuorumCore", .product(name: "Crypto", package: "swift-crypto")], swiftSettings: swift6),
    ]
)
