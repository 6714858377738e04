import Foundation
import JobWireClient
import JobWireProtocol
import JobWireSync
import JobWireTestSupport
import Testing

/// The Swift client's connections run on Dispatch sources; the server's
/// stopped using them after libdispatch aborted ("Source finalized twice")
/// under a churn of reset connections. This churns the client's instead:
/// every connection is reset (RST, often mid-frame) a few milliseconds into
/// its life, while clients come and go, call, and watch. Five seconds in
/// `make test`; `JOBWIRE_CHURN_SECONDS=60` for the minute docs/TESTING.md records.
@Suite("JobWireClient under connection churn", .ownThread)
struct ClientChurnTests {
    static var seconds: Double {
        ProcessInfo.processInfo.environment["JOBWIRE_CHURN_SECONDS"].flatMap(Double.init) ?? 5
    }

    /// What the workers saw, shared between them.
    final class Tally: Sendable {
        let successes = Locked<[Int: Int]>([:])
        let unexpected = Locked<[String]>([])
        let watchEvents = Locked(0)

        func succeeded(_ worker: Int) { successes.withLock { $0[worker, default: 0] += 1 } }

        /// A reset connection may fail a call as lost (UNAVAILABLE) or make it miss its deadline; nothing else.
        func failed(_ error: any Error, _ worker: Int) {
            if let error = error as? JobWireError, error.code == .unavailable || error.code == .deadlineExceeded { return }
            unexpected.withLock { $0.append("worker \(worker): \(error)") }
        }
    }

    @Test("clients whose every connection is reset within milliseconds keep working: no abort, only transient errors, watches in order")
    func churn() async throws {
        let harness = ServerHarness()
        try harness.start()
        defer { harness.stop() }
        let proxy = try ResettingProxy(targetPort: harness.port, lifetimeMs: 2...120)
        defer { proxy.stop() }

        // The writer talks to the server directly; everyone else goes through the proxy.
        let writer = harness.client()
        let jobID = try await writer.configure(streamJob()).job.jobID
        _ = try await writer.update(UpdateJobRequest(jobID: jobID, status: .running))
        let deadline = ContinuousClock.now + .seconds(Self.seconds)
        let tally = Tally()

        func throughProxy() -> JobWireClient {
            var configuration = JobWireClient.Configuration(host: "127.0.0.1", port: proxy.port,
                                                            defaultTimeout: .milliseconds(400))
            configuration.connectTimeout = .milliseconds(200)
            configuration.backoff = .init(initial: .milliseconds(5), multiplier: 1.6, jitter: 0.2, maximum: .milliseconds(50))
            return JobWireClient(configuration: configuration)
        }

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var progress = 0.0
                while ContinuousClock.now < deadline {
                    progress = progress >= 99 ? 1 : progress + 1
                    _ = try await writer.update(UpdateJobRequest(jobID: jobID, progress: progress))
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
            for worker in 0..<6 {
                group.addTask {
                    var client = throughProxy()
                    while ContinuousClock.now < deadline {
                        if Int.random(in: 0..<4) == 0 {
                            // Clients come and go too: a dropped client closes sockets mid-call.
                            await client.close()
                            client = throughProxy()
                        }
                        do {
                            let job = try await client.metadata(for: jobID)
                            if job.jobID == jobID { tally.succeeded(worker) }
                        } catch {
                            tally.failed(error, worker)
                        }
                    }
                    await client.close()
                }
            }
            for watcher in 6..<8 {
                group.addTask {
                    let client = throughProxy()
                    let watching = Task {
                        var last: UInt64 = 0
                        for try await event in client.watch(jobID) {
                            if event.kind != .resync && event.revision <= last {
                                tally.unexpected.withLock { $0.append("watcher \(watcher): revision \(event.revision) after \(last)") }
                            }
                            last = event.revision
                            tally.watchEvents.withLock { $0 += 1 }
                            tally.succeeded(watcher)
                        }
                    }
                    try await Task.sleep(until: deadline)
                    watching.cancel()
                    if case .failure(let error) = await watching.result, !(error is CancellationError) {
                        tally.failed(error, watcher)
                    }
                    await client.close()
                }
            }
            try await group.waitForAll()
        }

        let successes = tally.successes.withLock { $0 }
        #expect(tally.unexpected.withLock { $0 }.isEmpty, "\(tally.unexpected.withLock { $0.prefix(10) })")
        for worker in 0..<8 {
            #expect(successes[worker, default: 0] > 0, "worker \(worker) never got through: \(successes)")
        }
        // The churn really happened: many connections, each reset.
        #expect(proxy.accepted >= 20, "only \(proxy.accepted) connections in \(Self.seconds) s")
        print("churn: \(Self.seconds) s, \(proxy.accepted) connections reset, calls and events per worker \(successes.sorted { $0.key < $1.key }.map(\.value))")
    }
}
