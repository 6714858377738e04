import Foundation

/// Locations inside the package checkout, found from this file's path so the
/// tests work from any working directory.
enum TestPaths {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // JobWireProtocolTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    static let goldenFixtures = packageRoot.appendingPathComponent("Tests/JobWireProtocolTests/Fixtures/golden")

    /// The Python with Google's protobuf for the interop check: JOBWIRE_PYTHON,
    /// else the virtual environment `make test` creates.
    static var referencePython: URL? {
        if let configured = ProcessInfo.processInfo.environment["JOBWIRE_PYTHON"], !configured.isEmpty {
            return URL(fileURLWithPath: configured)
        }
        let venv = packageRoot.appendingPathComponent(".venv/bin/python")
        return FileManager.default.isExecutableFile(atPath: venv.path) ? venv : nil
    }

    /// `make test` sets this, so a missing reference Python fails the run
    /// instead of skipping the interop test.
    static var interopRequired: Bool {
        ProcessInfo.processInfo.environment["JOBWIRE_REQUIRE_INTEROP"] == "1"
    }
}
