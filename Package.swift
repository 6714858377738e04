// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "JobWire",
    products: [
        .library(name: "JobWireProtocol", targets: ["JobWireProtocol"]),
        .library(name: "JobWireServer", targets: ["JobWireServer"]),
        .library(name: "JobWireClient", targets: ["JobWireClient"]),
        .library(name: "JobWireJSON", targets: ["JobWireJSON"]),
        .library(name: "JobWireHTTP", targets: ["JobWireHTTP"]),
        .library(name: "JobWireWebhookSignature", targets: ["JobWireWebhookSignature"]),
        .executable(name: "jobwired", targets: ["jobwired"]),
        .executable(name: "jobwire", targets: ["jobwire"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
    ],
    targets: [
        // protoc-c output for proto/jobwire/v1/jobwire.proto, produced by
        // scripts/generate-proto and committed; `make check-proto` guards drift.
        .target(name: "CJobWireProto"),
        // The lock for state shared between threads: Synchronization.Mutex, or a
        // pthread mutex ThreadSanitizer can see in `make sanitize` builds.
        .target(name: "JobWireSync"),
        // Swift model types, the protobuf-c codec, framing and status codes. No sockets.
        .target(
            name: "JobWireProtocol",
            dependencies: ["CJobWireProto"]
        ),
        // The system SQLite, for the durable store.
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // epoll and eventfd for the server's event loops (not in Swift's Glibc module).
        .systemLibrary(name: "CEpoll"),
        // Debian's OpenSSL, for TLS on the binary port (the server, and the Swift client: a system library, nothing to
        // build for an app that embeds it).
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        // Debian's libpq, for the PostgreSQL store (only jobwired links it).
        .systemLibrary(
            name: "CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        // The PostgreSQL store (`jobwired --store postgres`): several nodes on one database, one writing at a time.
        .target(
            name: "JobWirePostgres",
            dependencies: ["JobWireServer", "JobWireProtocol", "JobWireSync", "CLibPQ"]
        ),
        // What a postgres standby does with its ports: relays each connection, byte for byte, to the writer.
        .target(
            name: "JobWireRelay",
            dependencies: [
                "JobWireSync",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // API keys: the keys file, key generation, SHA-256 hashing, roles.
        .target(
            name: "JobWireKeys",
            dependencies: [
                "JobWireProtocol",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The TCP server (epoll event loops): listener, connections, RPC dispatch, the job
        // registry and lifecycle, watch fan-out, stores, stats.
        .target(
            name: "JobWireServer",
            dependencies: [
                "JobWireProtocol",
                "JobWireKeys",
                "JobWireSync",
                "CSQLite",
                "CEpoll",
                "COpenSSL",
                "JobWireTLS",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The Swift client library: async/await calls, reconnection, resumable watches, JobReporter.
        .target(
            name: "JobWireClient",
            dependencies: ["JobWireProtocol", "JobWireSync", "COpenSSL", "JobWireTLS"]
        ),
        // The one JSON shape of a job (the CLI's --json, and the JSON front ends), and a JSON writer
        // whose output is the same byte for byte every time.
        .target(
            name: "JobWireJSON",
            dependencies: ["JobWireProtocol"]
        ),
        // The HTTP/JSON and Server-Sent Events front end: SwiftNIO's HTTP/1.1 codec in front of
        // the same JobService the binary port calls. Only jobwired links it: an app that embeds
        // JobWireClient builds none of NIO.
        .target(
            name: "JobWireHTTP",
            dependencies: [
                "JobWireServer",
                "JobWireProtocol",
                "JobWireJSON",
                "JobWireKeys",
                "JobWireSync",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Standard Webhooks signatures: what jobwired signs with and what a Swift receiver verifies
        // with. Only swift-crypto: a receiver builds none of the server.
        .target(
            name: "JobWireWebhookSignature",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        // Webhooks (docs/ARCHITECTURE.md): where they may go, when they are retried, what a job's
        // change is called and the body that says so.
        .target(
            name: "JobWireWebhooks",
            dependencies: ["JobWireWebhookSignature", "JobWireProtocol", "JobWireJSON", "JobWireServer", "JobWireSync"]
        ),
        // Sending webhooks: AsyncHTTPClient, with the address policy applied to every address a
        // receiver's name resolves to before each connection. Only jobwired links it.
        .target(
            name: "JobWireWebhookDelivery",
            dependencies: [
                "JobWireWebhooks",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // One TLS connection over OpenSSL on a non-blocking socket: what the server's connections and the Swift
        // client share (reads, writes, the handshake's steps, the peer's certificate).
        .target(
            name: "JobWireTLS",
            dependencies: ["COpenSSL"]
        ),
        // Argument types that jobwired and jobwire share (one duration syntax for both).
        .target(
            name: "JobWireCommandLine",
            dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // The daemon.
        .executableTarget(
            name: "jobwired",
            dependencies: [
                "JobWireServer",
                "JobWireHTTP",
                "JobWirePostgres",
                "JobWireRelay",
                "JobWireWebhooks",
                "JobWireWebhookDelivery",
                "JobWireKeys",
                "JobWireCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The CLI.
        .executableTarget(
            name: "jobwire",
            dependencies: [
                "JobWireClient",
                "JobWireJSON",
                "JobWireKeys",
                "JobWireCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Prints the annotated hex dump of a Hello + GetMetadata exchange that
        // docs/PROTOCOL.md embeds (`make wire-example`).
        .executableTarget(
            name: "jobwire-wire-example",
            dependencies: ["JobWireProtocol"]
        ),
        // Release-built codec micro-benchmark (`make bench-codec`).
        .executableTarget(
            name: "jobwire-bench-codec",
            dependencies: ["JobWireProtocol"],
            path: "bench/codec"
        ),
        // Closed-loop GetMetadata load driver against a jobwired process (`make bench-load`).
        .executableTarget(
            name: "jobwire-bench-load",
            dependencies: ["JobWireProtocol"],
            path: "bench/load"
        ),
        // Durable store start-up with many jobs (`make bench-store`).
        .executableTarget(
            name: "jobwire-bench-store",
            dependencies: ["JobWireServer", "JobWirePostgres", "JobWireProtocol"],
            path: "bench/store"
        ),
        // What every test target shares: the traits that run I/O tests on threads of
        // their own and admit them through one gate for the whole test process.
        .target(
            name: "JobWireTestSupport",
            path: "Tests/JobWireTestSupport"
        ),
        .testTarget(
            name: "JobWireProtocolTests",
            dependencies: ["CJobWireProto", "JobWireProtocol", "JobWireJSON", "JobWireSync", "JobWireTestSupport"],
            exclude: ["Fixtures"]
        ),
        .testTarget(
            name: "JobWireServerTests",
            dependencies: ["JobWireServer", "JobWireProtocol", "JobWireKeys", "JobWireSync", "JobWireTestSupport"]
        ),
        .testTarget(
            name: "JobWireHTTPTests",
            dependencies: ["JobWireHTTP", "JobWireServer", "JobWireProtocol", "JobWireJSON", "JobWireTestSupport",
                           .product(name: "NIOHTTP1", package: "swift-nio"),
                           .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "JobWireWebhooksTests",
            dependencies: ["JobWireWebhooks", "JobWireWebhookSignature", "JobWireWebhookDelivery", "JobWireProtocol", "JobWireJSON",
                           "JobWireServer", "JobWireClient", "JobWireSync", "JobWireTestSupport",
                           .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "JobWireClientTests",
            dependencies: ["JobWireClient", "JobWireServer", "JobWireProtocol", "JobWireKeys", "JobWireSync",
                           "JobWireCommandLine", "JobWireTestSupport"]
        ),
    ]
)
