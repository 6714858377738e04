import Foundation
import JobWireProtocol
@testable import JobWireServer
import JobWireSync
import Synchronization
import JobWireTestSupport
import Testing

/// Many clients at once, hostile clients, slow clients: the server keeps
/// serving the others and stays within its bounds.
@Suite("Load and hostile clients", .serialized, .ownThread)
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
        let failures = Locked<[String]>([])
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
        let failures = Locked<[String]>([])
        let hostileResults = Locked<[String]>([])
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
                let (pending, held, _) = try serverSideBacklog(server)
                maxPending = max(maxPending, pending)
                maxHeld = max(maxHeld, held)
            }
        }
        let final = try worker.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, status: .completed, progress: 100), as: Job.self)
        let (pending, held, _) = try serverSideBacklog(server)
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

    @Test("a peer trickling a frame it never finishes is pinged and closed like a silent one")
    func tricklingFrameIsClosed() throws {
        let server = try TestServer { $0.pingIntervalMs = 100 }
        let trickler = try TestClient(port: server.port)
        try trickler.hello()
        // A Pong sent now would only become more bytes of the unfinished frame.
        trickler.answersPings = false
        try trickler.sendRaw([0, 0, 0x03, 0xE8])  // promises 1,000 bytes
        var closed = false
        var sent = 0
        let deadline = Date().addingTimeInterval(5)
        while !closed && sent < 999 && Date() < deadline {
            try trickler.sendRaw([0x5A])
            sent += 1
            closed = try trickler.waitForClose(timeout: 0.02)
        }
        #expect(closed, "still open after \(sent) bytes, one every 20 ms")
        #expect(trickler.goAway?.status.code == .unavailable && trickler.goAway?.status.reason == Reason.pingTimeout)
        #expect(eventually { server.server.connectionCount == 0 })
    }

    @Test("a connection whose peer stops reading is closed after its GoAway, even though the GoAway cannot be written")
    func unreadGoAwayStillCloses() throws {
        let pingIntervalMs = 2000
        let server = try TestServer {
            $0.pingIntervalMs = pingIntervalMs
            $0.maxOutputBufferBytes = 64 * 1024
        }
        let worker = try server.client()
        let job = try worker.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        _ = try worker.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, status: .running), as: Job.self)
        // Watches, then neither reads nor writes again: it never answers the ping.
        let stuck = try TestClient(port: server.port, receiveBufferBytes: 4096)
        try stuck.hello()
        let watchedAt = Date()
        _ = try stuck.start(.watchJob, WatchJobRequest(jobID: job.jobID))
        // Events until the kernel's buffers are full and output waits on the
        // server, so that the GoAway, when it comes, cannot be written. The
        // server side's send buffer is shrunk (same process) so that a few
        // events fill it, well before the first ping even in a debug build.
        try #require(eventually { try serverSideBacklog(server).watchers > 0 })
        try shrinkSendBuffers(ofConnectionsWatching: server)
        let lines = Array(repeating: String(repeating: "y", count: 8000), count: 10)
        var waiting = 0
        for index in 0..<200 where waiting == 0 {
            _ = try worker.unary(.updateJob, UpdateJobRequest(jobID: job.jobID, progress: Double(index % 100), logLines: lines),
                                 as: Job.self)
            waiting = try serverSideBacklog(server).pending
        }
        let filledAfter = Date().timeIntervalSince(watchedAt)
        try #require(waiting > 0, "the socket took every event; nothing to test")
        try #require(filledAfter < Double(pingIntervalMs) / 1000, "filled only after \(filledAfter) s, after the ping")
        // Ping at 2 s, PING_TIMEOUT at 4 s, closed without its GoAway at 6 s.
        var closed = false
        let deadline = Date().addingTimeInterval(10)
        while !closed && Date() < deadline {
            try worker.pump(seconds: 0.05)
            closed = server.server.connectionCount == 1
        }
        #expect(closed, "connections open: \(server.server.connectionCount)")
        #expect(try worker.unary(.getMetadata, GetMetadataRequest(jobID: job.jobID), as: Job.self).jobID == job.jobID)
        // The stuck client's socket stays open to the end: closing it would
        // let the server's send fail and close the connection for that reason.
        withExtendedLifetime(stuck) {}
    }

    @Test("pipelined calls whose replies are not read stop being handled at the output bound, and none is lost")
    func pipelinedRepliesAreBounded() throws {
        let bound = 64 * 1024
        let server = try TestServer { $0.maxOutputBufferBytes = bound }
        let worker = try server.client()
        let big = Job(type: "t", frequenciesList: (0..<1000).map(Double.init))
        for _ in 0..<40 {
            _ = try worker.unary(.configure, ConfigureRequest(job: big), as: ConfigureResponse.self)
        }
        // 200 pages of 20 jobs (~160 KB each, ~32 MB in all), sent at once and not read.
        let reader = try TestClient(port: server.port, receiveBufferBytes: 4096)
        try reader.hello()
        let calls = 200
        let streams = try (0..<calls).map { _ in try reader.start(.listJobs, ListJobsRequest(pageSize: 20)) }
        let firstReply = try worker.unary(.listJobs, ListJobsRequest(pageSize: 20), as: ListJobsResponse.self)
        let replyBytes = firstReply.encode().count
        var maxPending = 0
        for _ in 0..<50 {
            maxPending = max(maxPending, largestPendingOutput(server))
            usleep(10_000)
        }
        // Over the bound by at most the reply that crossed it (and one more in flight).
        #expect(maxPending > bound, "the test must fill the output: \(maxPending)")
        #expect(maxPending <= bound + 2 * replyBytes, "\(maxPending) bytes waiting (replies of \(replyBytes))")
        // Reading now: every call gets its page, in order.
        for streamID in streams {
            let page = try reader.collect(streamID, timeout: 10)
            #expect(page.status == .ok)
        }
        #expect(try worker.unary(.health, HealthRequest(), as: HealthResponse.self).status == .serving)
    }

    /// The most output waiting on any one connection.
    private func largestPendingOutput(_ server: TestServer) -> Int {
        let connections = server.server.context.connections.withLock { Array($0.values) }
        return connections.map { connection in connection.loop.sync { connection.pendingOutput } }.max() ?? 0
    }

    /// Test clients are used by one worker at a time; the box lets them cross.
    struct UncheckedSendable<Value>: @unchecked Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }

    /// Bytes waiting in the slow connection's output and events it holds back.
    private func serverSideBacklog(_ server: TestServer) throws -> (pending: Int, held: Int, watchers: Int) {
        var result = (pending: 0, held: 0, watchers: 0)
        for connection in watchingConnections(server) {
            connection.loop.sync {
                var held = 0
                for case .watch(let watch) in connection.streams.values {
                    held += watch.heldCount
                }
                result.pending = max(result.pending, connection.pendingOutput)
                result.held = max(result.held, held)
                result.watchers += 1
            }
        }
        return result
    }

    private func watchingConnections(_ server: TestServer) -> [Connection] {
        server.server.context.connections.withLock { Array($0.values) }.filter { connection in
            connection.loop.sync {
                connection.streams.values.contains { if case .watch = $0 { true } else { false } }
            }
        }
    }

    /// The smallest send buffer the kernel allows, on the server's side of
    /// every watching connection.
    private func shrinkSendBuffers(ofConnectionsWatching server: TestServer) throws {
        for connection in watchingConnections(server) {
            var bytes: Int32 = 1
            let status = setsockopt(connection.fd, SOL_SOCKET, SO_SNDBUF, &bytes, socklen_t(MemoryLayout<Int32>.size))
            try #require(status == 0, "setsockopt: \(errno)")
        }
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
