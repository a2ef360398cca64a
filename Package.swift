// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "Quiver",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "quiver", targets: ["quiver"]),
        .library(name: "QuiverStore", targets: ["QuiverStore"]),
        .library(name: "QuiverModel", targets: ["QuiverModel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // MARK: - System libraries
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL"),
        // Kernels in C where Swift cannot reach the vector instructions (chosen at run time, not at build).
        .target(name: "CQuiverKernels"),

        // MARK: - Libraries
        .target(name: "QuiverTensor", dependencies: ["CDNNL", "CQuiverKernels"]),
        .target(name: "QuiverCodec", dependencies: ["CZlib"]),
        // What models and adapters are: file formats, adapter kinds, the encoder, tokenizers, training math.
        .target(name: "QuiverModel", dependencies: ["QuiverTensor", .product(name: "Crypto", package: "swift-crypto")]),
        // Blobs, catalog, manifests and registry operations.
        .target(
            name: "QuiverStore",
            dependencies: [
                "QuiverModel", "QuiverTensor", "QuiverCodec",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        // Runs and trains what a registry holds.
        .target(name: "QuiverRuntime", dependencies: ["QuiverModel", "QuiverStore"]),
        .target(
            name: "QuiverHub",
            dependencies: [
                "QuiverStore", "QuiverModel", "QuiverRuntime",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),

        // MARK: - Executables
        .executableTarget(
            name: "quiver",
            dependencies: [
                "QuiverStore", "QuiverModel", "QuiverRuntime", "QuiverHub",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "quiver-bench",
            dependencies: [
                "QuiverTensor", "QuiverCodec", "QuiverStore", "QuiverModel", "QuiverRuntime", "QuiverHub", "QuiverTestServers",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Benchmarks/quiver-bench"),
        // Replays (and, built by scripts/fuzz.sh, fuzzes) request sessions against `quiver serve`'s router.
        .executableTarget(
            name: "quiver-fuzz-http",
            dependencies: ["QuiverStore", "QuiverHub", .product(name: "HummingbirdTesting", package: "hummingbird")],
            path: "Fuzz/HTTP"),

        // MARK: - Tests

        // Free ports, docker-registry and readiness, for the hub tests and `quiver-bench hub`.
        .target(
            name: "QuiverTestServers",
            dependencies: [.product(name: "AsyncHTTPClient", package: "async-http-client")],
            path: "Tests/Support/QuiverTestServers"),
        // Its fixtures are read from the source tree (#filePath), not bundled.
        .testTarget(name: "QuiverTensorTests", dependencies: ["QuiverTensor"], exclude: ["Fixtures"]),
        .testTarget(name: "QuiverCodecTests", dependencies: ["QuiverCodec"]),
        .testTarget(name: "QuiverStoreTests", dependencies: ["QuiverStore", "QuiverModel", "QuiverTestServers"], resources: [.copy("Fixtures")]),
        .testTarget(name: "QuiverModelTests", dependencies: ["QuiverModel", "QuiverStore", "QuiverRuntime"], resources: [.copy("Fixtures")]),
        .testTarget(name: "QuiverCLITests", dependencies: ["quiver", "QuiverHub", "QuiverStore", "QuiverModel", "QuiverTestServers"]),
        .testTarget(
            name: "QuiverHubTests",
            dependencies: ["QuiverHub", "QuiverModel", "QuiverStore", "QuiverRuntime", "quiver", "QuiverTestServers", .product(name: "HummingbirdTesting", package: "hummingbird")]),
    ]
)
