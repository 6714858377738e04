import Foundation
import JobWireProtocol
import JobWireTestSupport
import Testing

/// The connection protocol: handshake, stream rules, errors that end a call
/// and errors that end a connection, keep-alive.
@Suite("Connection protocol", .ownThread)
struct ProtocolTests {
    private func goAwayStatus(_ client: TestClient) throws -> Status? {
        guard try client.waitForClose() else { return nil }
        return client.goAway?.status
    }

    @Test("Hello gets the connection's limits; a smaller client frame limit is honoured, but not below 64 KiB")
    func handshake() throws {
        let server = try TestServer { $0.maxStreamsPerConnection = 7; $0.pingIntervalMs = 12_000 }
        let client = try TestClient(port: server.port)
        let ack = try client.hello(maxFrameBytes: 100_000)
        #expect(ack.protocolVersion == 1 && ack.maxFrameBytes == 100_000 && ack.maxConcurrentStreams == 7)
        #expect(ack.pingIntervalMs == 12_000 && ack.tenant == "default" && ack.serverName.hasPrefix("jobwired/"))
        let tiny = try TestClient(port: server.port)
        #expect(try tiny.hello(maxFrameBytes: 10).maxFrameBytes == UInt32(Limits.minMaxFrameBytes))
    }

    @Test("anything before Hello is refused with HELLO_REQUIRED")
    func helloRequired() throws {
        let server = try TestServer()
        let client = try TestClient(port: server.port)
        try client.send(.ping(Ping(payload: 1)))
        let status = try goAwayStatus(client)
        #expect(status?.code == .invalidArgument && status?.reason == Reason.helloRequired)
    }

    @Test("an unknown protocol version is refused")
    func badVersion() throws {
        let server = try TestServer()
        let client = try TestClient(port: server.port)
        try client.send(.hello(Hello(protocolVersion: 2)))
        let status = try goAwayStatus(client)
        #expect(status?.code == .failedPrecondition && status?.reason == Reason.unsupportedProtocolVersion)
    }

    @Test("a client that never says Hello is closed with HANDSHAKE_TIMEOUT")
    func handshakeTimeout() throws {
        let server = try TestServer { $0.handshakeTimeoutMs = 200 }
        let silent = try TestClient(port: server.port)
        let status = try goAwayStatus(silent)
        #expect(status?.code == .deadlineExceeded && status?.reason == Reason.handshakeTimeout)
        // One byte of a length prefix is not a Hello either.
        let trickle = try TestClient(port: server.port)
        try trickle.sendRaw([0])
        #expect(try goAwayStatus(trickle)?.reason == Reason.handshakeTimeout)
    }

    @Test("calls may be sent right behind the Hello, before its answer")
    func pipelinedCall() throws {
        let server = try TestServer()
        let client = try TestClient(port: server.port)
        var bytes = try FrameEncoder.encode(.hello(Hello()))
        try FrameEncoder.append(.call(Call(streamID: 1, method: Method.health.rawValue, request: [])), to: &bytes)
        try client.sendRaw(bytes)
        guard case .helloAck? = try client.nextFrame() else { Issue.record("no HelloAck first"); return }
        let result = try client.collect(1)
        #expect(try result.only(HealthResponse.self).status == .serving)
    }

    @Test("unknown methods and malformed requests end only that call")
    func perCallErrors() throws {
        let server = try TestServer()
        let client = try server.client()
        let id = client.nextStreamID
        try client.send(.call(Call(streamID: id, method: "/jobwire.v1.JobService/Nope", request: [])))
        let unknown = try client.collect(id)
        #expect(unknown.status.code == .unimplemented && unknown.status.reason == Reason.unknownMethod)
        try client.send(.call(Call(streamID: id + 1, method: Method.getMetadata.rawValue, request: [0x0A, 0x7F, 0x41])))
        let malformed = try client.collect(id + 1)
        #expect(malformed.status.code == .invalidArgument && malformed.status.reason == Reason.malformedMessage)
        let pageSize = try client.call(.listJobs, ListJobsRequest(pageSize: 100))
        #expect(pageSize.status == .ok, "the connection still serves")
    }

    @Test("stream id 0, a stream id in use and server-only frames are connection errors",
          arguments: ["zero", "in use", "hello ack", "second hello"])
    func connectionErrors(kind: String) throws {
        let server = try TestServer()
        let client = try server.client()
        let expected: String
        switch kind {
        case "zero":
            try client.send(.call(Call(streamID: 0, method: Method.health.rawValue, request: [])))
            expected = Reason.invalidStreamID
        case "in use":
            let job = try client.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
            let stream = try client.start(.watchJob, WatchJobRequest(jobID: job.jobID))
            try client.send(.call(Call(streamID: stream, method: Method.health.rawValue, request: [])))
            expected = Reason.streamIDInUse
        case "hello ack":
            try client.send(.helloAck(HelloAck()))
            expected = Reason.unexpectedFrame
        default:
            try client.send(.hello(Hello()))
            expected = Reason.unexpectedFrame
        }
        #expect(try goAwayStatus(client)?.reason == expected)
        // The server goes on serving others.
        let other = try server.client()
        #expect(try other.unary(.health, HealthRequest(), as: HealthResponse.self).status == .serving)
    }

    @Test("more open calls than allowed get TOO_MANY_STREAMS; the connection goes on")
    func tooManyStreams() throws {
        let server = try TestServer { $0.maxStreamsPerConnection = 3 }
        let client = try server.client()
        let job = try client.unary(.configure, ConfigureRequest(job: streamJob()), as: ConfigureResponse.self).job
        let watches = try (0..<3).map { _ in try client.start(.watchJob, WatchJobRequest(jobID: job.jobID)) }
        for watch in watches { _ = try client.nextEvent(watch) }
        let refused = try client.collect(try client.start(.watchJob, WatchJobRequest(jobID: job.jobID)))
        #expect(refused.status.code == .resourceExhausted && refused.status.reason == Reason.tooManyStreams)
        try client.send(.cancelCall(CancelCall(streamID: watches[0])))
        let accepted = try client.start(.watchJob, WatchJobRequest(jobID: job.jobID))
        if case .success(let event) = try client.nextEvent(accepted) {
            #expect(event.type == .snapshot)
        } else {
            Issue.record("the freed slot should accept a new watch")
        }
    }

    @Test("an oversized length prefix is FRAME_TOO_LARGE; the negotiated limit applies")
    func frameTooLarge() throws {
        let server = try TestServer()
        let client = try TestClient(port: server.port)
        try client.hello(maxFrameBytes: 70_000)
        try client.sendRaw([0, 1, 0x20, 0])  // 73,728 bytes promised
        let status = try goAwayStatus(client)
        #expect(status?.code == .resourceExhausted && status?.reason == Reason.frameTooLarge)
    }

    @Test("a reply larger than the frame limit ends the call with FRAME_TOO_LARGE")
    func replyTooLarge() throws {
        let server = try TestServer()
        let client = try TestClient(port: server.port)
        try client.hello(maxFrameBytes: UInt32(Limits.minMaxFrameBytes))
        // Two jobs of ~40 KB each: each fits a 64 KiB frame, a page of both does not.
        for _ in 0..<2 {
            _ = try client.unary(.configure, ConfigureRequest(job: Job(type: "big", frequenciesList: Array(repeating: 2, count: 5_000))),
                                 as: ConfigureResponse.self)
        }
        let page = try client.call(.listJobs, ListJobsRequest())
        #expect(page.status.code == .resourceExhausted && page.status.reason == Reason.frameTooLarge)
        #expect(try client.call(.listJobs, ListJobsRequest(pageSize: 1)).status == .ok, "a smaller page fits")
    }

    @Test("pings are answered with the same payload")
    func pingPong() throws {
        let server = try TestServer()
        let client = try server.client()
        try client.send(.ping(Ping(payload: 0xFEED)))
        guard case .pong(let pong)? = try client.nextFrame() else { Issue.record("no pong"); return }
        #expect(pong.payload == 0xFEED)
    }

    @Test("the server pings idle connections and closes those that stop answering")
    func idlePing() throws {
        let server = try TestServer { $0.pingIntervalMs = 100 }
        let answering = try server.client()
        let silent = try server.client()
        silent.answersPings = false
        var closed = false
        let deadline = Date().addingTimeInterval(5)
        while !closed && Date() < deadline {
            try answering.pump(seconds: 0.05)
            closed = try silent.waitForClose(timeout: 0.05)
        }
        #expect(closed)
        #expect(silent.goAway?.status.code == .unavailable && silent.goAway?.status.reason == Reason.pingTimeout)
        // The answering client is still served after several more intervals.
        try answering.pump(seconds: 0.4)
        #expect(try answering.unary(.health, HealthRequest(), as: HealthResponse.self).status == .serving)
    }

    @Test("over the connection limit, a new connection gets TOO_MANY_CONNECTIONS")
    func connectionLimit() throws {
        let server = try TestServer { $0.maxConnections = 2 }
        let first = try server.client()
        let second = try server.client()
        #expect(eventually { server.server.connectionCount == 2 })
        let third = try TestClient(port: server.port)
        let status = try goAwayStatus(third)
        #expect(status?.code == .resourceExhausted && status?.reason == Reason.tooManyConnections)
        #expect(try first.unary(.health, HealthRequest(), as: HealthResponse.self).status == .serving)
        _ = second
    }
}
