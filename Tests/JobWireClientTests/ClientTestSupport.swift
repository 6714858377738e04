import Dispatch
import Foundation
import JobWireClient
import JobWireProtocol
@testable import JobWireServer
import JobWireSync
import JobWireTestSupport
import Testing
import Logging

/// A store that outlives server instances: what it was given, it loads again.
/// Lets a test restart the server on the same port without losing jobs, which
/// is what the durable store will do for real.
final class SurvivingStore: JobStore {
    private let jobs = Locked<[String: StoredJob]>([:])

    var kind: String { "surviving-test-store" }
    var state: String { "ok" }
    var stoppedBecause: JobWireError? { nil }
    var commits: Int { 0 }
    func onStop(_ handler: @escaping @Sendable (JobWireError) -> Void) {}

    func load(expect: (Int) -> Void,
              restore: (StoredJob) throws(JobWireError) -> Void) throws(JobWireError) -> [StoredTombstone] {
        let saved = jobs.withLock { $0.values.sorted { $0.sequence < $1.sequence } }
        expect(saved.count)
        for job in saved {
            try restore(job)
        }
        return []
    }

    func loadDetails(sequence: UInt64) throws(JobWireError) -> StoredDetails {
        jobs.withLock { $0.values.first { $0.sequence == sequence }?.details ?? StoredDetails() }
    }

    func persist(_ change: StoredChange, completion: @escaping @Sendable (Result<Void, JobWireError>) -> Void) {
        jobs.withLock { jobs in
            switch change {
            case .put(let update):
                let jobID = update.summary.jobID
                var stored = jobs[jobID] ?? StoredJob(
                    summary: update.summary, encodedJob: update.encodedJob, details: StoredDetails(),
                    sequence: update.sequence, requestID: update.requestID, requestFingerprint: update.requestFingerprint,
                    leaseTTLMs: update.leaseTTLMs)
                stored.summary = update.summary
                stored.encodedJob = update.encodedJob
                stored.leaseTTLMs = update.leaseTTLMs
                stored.changeSequence = update.changeSequence
                stored.details?.logLines += update.appendedLogLines
                stored.details?.history.append(update.appendedEvent)
                jobs[jobID] = stored
            case .remove(let jobID, _, _):
                jobs.removeValue(forKey: jobID)
            case .expire(let tombstone, _, _):
                jobs.removeValue(forKey: tombstone.jobID)
            case .forget, .pruneRemovals, .webhook:
                break
            }
        }
        completion(.success(()))
    }
}

/// Starts and stops in-process servers on one port.
final class ServerHarness: @unchecked Sendable {
    let store: any JobStore
    private(set) var server: JobWireServer?
    private(set) var port: Int
    private let configure: @Sendable (inout ServerConfiguration) -> Void

    init(store: any JobStore = InMemoryJobStore(), port: Int = 0,
         _ configure: @escaping @Sendable (inout ServerConfiguration) -> Void = { _ in }) {
        self.store = store
        self.port = port
        self.configure = configure
    }

    @discardableResult
    func start() throws -> Int {
        expectOwnThread()
        var configuration = ServerConfiguration()
        configuration.port = port
        configuration.reaperIntervalMs = 50
        configure(&configuration)
        let server = try JobWireServer(configuration: configuration, store: store,
                                       logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        port = try server.start()
        self.server = server
        return port
    }

    func stop() {
        expectOwnThread()
        guard let server else { return }
        let done = DispatchSemaphore(value: 0)
        server.shutdown { done.signal() }
        done.wait()
        self.server = nil
    }

    /// Like a crash: every connection is dropped at once, without a GoAway,
    /// then the listener closes. Watches see their connection vanish.
    func kill() {
        guard let server else { return }
        let connections = server.context.connections.withLock { Array($0.values) }
        for connection in connections {
            let closed = DispatchSemaphore(value: 0)
            // A loop that stopped already closed its connections.
            if connection.loop.execute({ connection.close(); closed.signal() }) { closed.wait() }
        }
        stop()
    }

    func client(_ adjust: (inout JobWireClient.Configuration) -> Void = { _ in }) -> JobWireClient {
        var configuration = JobWireClient.Configuration(host: "127.0.0.1", port: port, defaultTimeout: .seconds(10))
        configuration.backoff = .init(initial: .milliseconds(50), multiplier: 1.6, jitter: 0.2, maximum: .milliseconds(500))
        adjust(&configuration)
        return JobWireClient(configuration: configuration)
    }

    deinit { stop() }
}

/// A free loopback port (bound, then released).
func freePort() throws -> Int {
    let harness = ServerHarness()
    let port = try harness.start()
    harness.stop()
    return port
}

func streamJob(type: String = "das_stream") -> Job {
    Job(type: type, labels: ["site": "haifa"], viewType: 1, frequenciesList: [0, 1.5, 3], linesDt: 0.5,
        channelToStreamIndex: [1: 0, 2: 1], streamAmount: 2, frequenciesAmount: 3, channelAmount: 2,
        metadata: StreamMetadata(dx: 1.02, prr: 2000, fiberStartMeters: 0, fiberLengthMeters: 5000, swVersion: "1.0.0"))
}
