// swift-tools-version:6.0
// An application that embeds only JobWire's client library, as an app would:
// `scripts/check-embedding` builds it from a clean scratch folder and fails if
// any server-only module (SwiftNIO, the HTTP front end, the server, SQLite)
// was compiled for it.
import PackageDescription

let package = Package(
    name: "embedding",
    dependencies: [
        .package(name: "JobWire", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "embedding",
            dependencies: [
                .product(name: "JobWireClient", package: "JobWire"),
                .product(name: "JobWireProtocol", package: "JobWire"),
            ]
        ),
    ]
)
