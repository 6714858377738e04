import Foundation
import JobWireProtocol
@testable import JobWireServer
import Synchronization
import Testing

/// Many clients at once, hostile clients, slow clients: the server keeps
/// serving the others and stays within its bounds.
@Suite("Load and hostile clients", .serialized)
struct LoadAndHostileTests {
    @Test("1,000 concurrent connections each doing calls")
    func thousandConnections() throws {
        let server = try TestServer()
        let seed = try server.client()
        let job = try seed.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        // All 1,000 connections are open at the same time before any call is made.
        let clients = try (0..<1000).map { _ in try TestClient(port: server.port) }
        for client in clients { try client.hello() }
        #expect(eventually { server.server.connectionCount == 1001 })
        let shared = UncheckedSendable(clients)
        let succeeded = Atomic<Int>(0)
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 10) { chunk in
            do {
                for client in shared.value[(chunk * 100)..<((chunk + 1) * 100)] {
                    let fetched = try client.unary(.getMetadata, GetMetadataRequest(jobID: job.jobID), as: Job.self)
                    let created = try client.unary(.configure, ConfigureRequest(job: Job(type: "load")), as: ConfigureResponse.self)
                    if fetched == job && created.created { succeeded.add(1, ordering: .relaxed) }
                }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0.prefix(3) })")
        #expect(succeeded.load(ordering: .relaxed) == 1000)
        #expect(server.server.registry.jobCount == 1001)
    }

    @Test("an oversized length prefix and garbage close only their connections; 100 others keep being served")
    func hostileConnectionsAreIsolated() throws {
        let server = try TestServer()
        let seed = try server.client()
        let job = try seed.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        let port = server.port
        let served = Atomic<Int>(0)
        let failures = Mutex<[String]>([])
        let hostileResults = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 5) { worker in
            do {
                if worker == 0 {
                    // The hostile side: a huge length prefix, random garbage, and a valid
                    // frame holding an undecodable body.
                    var random = SystemRandomNumberGenerator()
                    for round in 0..<20 {
                        let hostile = try TestClient(port: port)
                        try hostile.hello()
                        switch round % 3 {
                        case 0: try hostile.sendRaw([0xFF, 0xFF, 0xFF, 0xFF])
                        case 1: try hostile.sendRaw([0, 0, 0, 40] + (0..<40).map { _ in UInt8.random(in: 0...255, using: &random) })
                        default: try hostile.sendRaw([0, 0, 0, 3, 0x0A, 0x7F, 0x01])
                        }
                        let closed = try hostile.waitForClose()
                        hostileResults.withLock { $0.append(closed ? (hostile.goAway?.status.reason ?? "closed") : "open") }
                    }
                    return
                }
                let clients = try (0..<25).map { _ in try TestClient(port: port) }
                for client in clients { try client.hello() }
                for _ in 0..<10 {
                    for client in clients {
                        let fetched = try client.unary(.getMetadata, GetMetadataRequest(jobID: job.jobID), as: Job.self)
                        if fetched == job { served.add(1, ordering: .relaxed) }
                    }
                }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0.prefix(3) })")
        #expect(served.load(ordering: .relaxed) == 100 * 10)
        let reasons = hostileResults.withLock { $0 }
        #expect(reasons.count == 20)
        #expect(reasons.allSatisfy { $0 != "open" }, "\(reasons)")
        #expect(reasons.contains(Reason.frameTooLarge) && reasons.contains(Reason.malformedMessage))
    }

    @Test("a watcher that never reads does not grow server memory past the bound, and still gets every transition")
    func slowWatcherIsBounded() throws {
        let bound = 64 * 1024
        let server = try TestServer { $0.maxOutputBufferBytes = bound }
        let worker = try server.client()
        let job = try worker.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        let slow = try TestClient(port: server.port, receiveBufferBytes: 4096)
        try slow.hello()
        let watch = try slow.start(.watchJob, WatchJobRequest(jobID: job.jobID))
        guard case .success(let snapshot) = try slow.nextEvent(watch) else {
            Issue.record("no snapshot")
            return
        }

        let line = String(repeating: "x", count: 2000)
        _ = try worker.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, status: .running), as: Job.self)
        var maxHeld = 0
        var maxPending = 0
        for index in 0..<3000 {
            _ = try worker.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, progress: Double(index % 100), logLines: [line]),
                                 as: Job.self)
            if index % 250 == 0 {
                let (pending, held) = try serverSideBacklog(server)
                maxPending = max(maxPending, pending)
                maxHeld = max(maxHeld, held)
            }
        }
        let final = try worker.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, status: .completed, progress: 100), as: Job.self)
        let (pending, held) = try serverSideBacklog(server)
        maxPending = max(maxPending, pending)
        maxHeld = max(maxHeld, held)
        // ~3000 events of ~2.3 KB were produced (about 7 MB); the server held at
        // most its bound plus the event that crossed it.
        #expect(maxPending <= bound + 4096, "output waiting on the slow connection: \(maxPending) bytes")
        #expect(maxHeld <= 3, "events held back for the slow watcher: \(maxHeld)")
        // Another client is served normally meanwhile.
        #expect(try worker.unary(.getMetadata, GetMetadataRequest(jobID: job.jobID), as: Job.self) == final)

        // Now the slow client reads: ordered, no duplicates, every status, the latest state.
        var revisions: [UInt64] = [snapshot.revision]
        var statuses: [JobStatus] = [snapshot.job?.status ?? .unspecified]
        var last: WatchEvent?
        while case .success(let event) = try slow.nextEvent(watch, timeout: 10) {
            revisions.append(event.revision)
            if let status = event.job?.status, statuses.last != status { statuses.append(status) }
            last = event
        }
        #expect(revisions == revisions.sorted() && Set(revisions).count == revisions.count)
        #expect(statuses == [.pending, .running, .completed])
        #expect(last?.job == final)
        #expect(revisions.count < 3000, "events were collapsed: \(revisions.count)")
    }

    /// Test clients are used by one worker at a time; the box lets them cross.
    struct UncheckedSendable<Value>: @unchecked Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }

    /// Bytes waiting in the slow connection's output and events it holds back.
    private func serverSideBacklog(_ server: TestServer) throws -> (pending: Int, held: Int) {
        let connections = server.server.context.connections.withLock { Array($0.values) }
        var result = (pending: 0, held: 0)
        for connection in connections {
            connection.queue.sync {
                var held = 0
                for case .watch(let watch) in connection.streams.values {
                    held += watch.heldCount
                }
                if held > 0 || connection.streams.values.contains(where: { if case .watch = $0 { true } else { false } }) {
                    result.pending = max(result.pending, connection.pendingOutput)
                    result.held = max(result.held, held)
                }
            }
        }
        return result
    }

    @Test("graceful shutdown: GoAway, watches end with SERVER_SHUTTING_DOWN, connections close, no new ones")
    func gracefulShutdown() throws {
        let server = try TestServer()
        let client = try server.client()
        let idle = try server.client()
        let job = try client.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        let watch = try client.start(.watchJob, WatchJobRequest(jobID: job.jobID))
        _ = try client.nextEvent(watch)
        let done = DispatchSemaphore(value: 0)
        server.server.shutdown { done.signal() }

        guard case .goAway(let away)? = try client.nextFrame() else { Issue.record("no GoAway"); return }
        #expect(away.status.code == .unavailable && away.status.reason == Reason.serverShuttingDown)
        #expect(away.lastStreamID == watch)
        if case .failure(let end) = try client.nextEvent(watch) {
            #expect(end.status.code == .unavailable && end.status.reason == Reason.serverShuttingDown)
        } else {
            Issue.record("the watch should end")
        }
        #expect(try client.waitForClose())
        #expect(try idle.waitForClose())
        #expect(idle.goAway?.status.reason == Reason.serverShuttingDown)
        #expect(done.wait(timeout: .now() + 5) == .success)
        #expect(throws: TestClient.Failure.self) { _ = try TestClient(port: server.port) }
    }
}
