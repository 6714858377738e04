// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "JobWire",
    products: [
        .library(name: "JobWireProtocol", targets: ["JobWireProtocol"]),
    ],
    targets: [
        // protoc-c output for proto/jobwire/v1/jobwire.proto, produced by
        // scripts/generate-proto and committed; `make check-proto` guards drift.
        .target(name: "CJobWireProto"),
        // Swift model types, the protobuf-c codec, framing and status codes. No sockets.
        .target(
            name: "JobWireProtocol",
            dependencies: ["CJobWireProto"]
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
        .testTarget(
            name: "JobWireProtocolTests",
            dependencies: ["JobWireProtocol"],
            exclude: ["Fixtures"]
        ),
    ]
)
