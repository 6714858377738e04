import Foundation
import JobWireTestSupport
import Testing
import JobWireProtocol
@testable import JobWireServer
import Logging

/// A server in this process on an ephemeral loopback port, stopped by `stop()`.
final class TestServer: Sendable {
    let server: JobWireServer
    let port: Int

    init(store: any JobStore = InMemoryJobStore(), port: Int = 0,
         _ configure: (inout ServerConfiguration) -> Void = { _ in }) throws {
        expectOwnThread()
        var configuration = ServerConfiguration()
        configuration.port = port
        configuration.reaperIntervalMs = 50
        configure(&configuration)
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        server = try JobWireServer(configuration: configuration, store: store, logger: logger)
        self.port = try server.start()
    }

    func client(apiKey: String = "") throws -> TestClient {
        let client = try TestClient(port: port)
        try client.hello(apiKey: apiKey)
        return client
    }

    /// Graceful shutdown; returns when it completed.
    func stop() {
        expectOwnThread()
        let done = DispatchSemaphore(value: 0)
        server.shutdown { done.signal() }
        done.wait()
    }

    deinit {
        stop()
    }
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: TimeInterval = 5, _ condition: () throws -> Bool) rethrows -> Bool {
    expectOwnThread()
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        usleep(10_000)
    }
    return try condition()
}

/// A job spec like the streaming servers send.
func streamJob(type: String = "das_stream", labels: [String: String] = [:], priority: Int32 = 0) -> Job {
    Job(type: type, labels: labels, priority: priority, viewType: 1, frequenciesList: [0, 1.5, 3],
        linesDt: 0.5, channelToStreamIndex: [1: 0, 2: 1], streamAmount: 2, frequenciesAmount: 3, channelAmount: 2,
        metadata: StreamMetadata(dx: 1.02, prr: 2000, fiberStartMeters: 0, fiberLengthMeters: 5000, swVersion: "1.0.0"))
}
