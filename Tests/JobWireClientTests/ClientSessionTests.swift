@testable import JobWireClient
import JobWireProtocol
import JobWireSync
import JobWireTestSupport
import Testing

/// The client's session rules with no socket: bytes in, bytes and call events out.
@Suite("ClientSession, without I/O", .ownThread)
struct ClientSessionTests {
    /// What the handlers of a session's calls heard, in order.
    final class Heard: Sendable {
        private let storage = Locked<[String]>([])
        var events: [String] { storage.withLock { $0 } }

        func handler(_ name: String) -> ClientSession.CallHandler {
            ClientSession.CallHandler(
                onReply: { message in self.storage.withLock { $0.append("\(name) reply \(message)") } },
                onEnd: { status in self.storage.withLock { $0.append("\(name) end \(status.code.name) \(status.reason)") } })
        }

        func record(_ text: String) { storage.withLock { $0.append(text) } }
    }

    /// Frames the session wants sent (all of its pending output).
    static func sent(_ session: inout ClientSession) throws -> [Frame] {
        var bytes: [UInt8] = []
        session.sendPending { buffer in
            bytes.append(contentsOf: buffer)
            return buffer.count
        }
        var decoder = FrameDecoder()
        var frames: [Frame] = []
        try bytes.withUnsafeBytes { buffer in
            try decoder.feed(buffer) { (body) throws(JobWireError) in frames.append(try Frame(decoding: body, maxBytes: .max)) }
        }
        #expect(!session.hasPendingOutput)
        return frames
    }

    /// Feeds `frames` to the session one byte at a time: no rule may depend on how reads split the stream.
    static func receive(_ frames: [Frame], into session: inout ClientSession) throws {
        var bytes: [UInt8] = []
        for frame in frames { bytes += try FrameEncoder.encode(frame) }
        for byte in bytes {
            [byte].withUnsafeBytes { session.receive($0) }
        }
    }

    static func open(_ heard: Heard) throws -> ClientSession {
        var session = ClientSession(hello: Hello(clientName: "unit")) { result in
            switch result {
            case .success(let ack): heard.record("hello ack \(ack.serverName)")
            case .failure(let error): heard.record("hello failed \(error.code.name) \(error.reason)")
            }
        }
        let first = try sent(&session)
        guard case .hello(let hello)? = first.first, first.count == 1 else {
            Issue.record("a session starts with one Hello, sent \(first)")
            return session
        }
        #expect(hello.clientName == "unit")
        return session
    }

    @Test("the handshake: Hello out, HelloAck in, its frame limit applies to calls")
    func handshake() throws {
        let heard = Heard()
        var session = try Self.open(heard)
        #expect(session.awaitsHelloAck)
        try Self.receive([.helloAck(HelloAck(serverName: "jobwired", maxFrameBytes: 65_536))], into: &session)
        #expect(!session.awaitsHelloAck && session.helloAck?.serverName == "jobwired")
        #expect(heard.events == ["hello ack jobwired"])
        _ = session.openCall(method: .configure, request: [UInt8](repeating: 7, count: 70_000), timeoutMs: 0, tenant: "",
                             handler: heard.handler("big"))
        #expect(heard.events.last?.hasPrefix("big end RESOURCE_EXHAUSTED") == true, "\(heard.events)")
        #expect(try Self.sent(&session).isEmpty, "nothing of a refused call goes out")
    }

    @Test("calls get stream ids 1, 2, …; replies and ends reach their own call; pings are answered")
    func calls() throws {
        let heard = Heard()
        var session = try Self.open(heard)
        try Self.receive([.helloAck(HelloAck(serverName: "s", maxFrameBytes: 1 << 20))], into: &session)
        let first = session.openCall(method: .getMetadata, request: [1], timeoutMs: 500, tenant: "acme",
                                     handler: heard.handler("a"))
        let second = session.openCall(method: .health, request: [], timeoutMs: 0, tenant: "", handler: heard.handler("b"))
        #expect(first == 1 && second == 2 && session.openCalls == 2)
        let out = try Self.sent(&session)
        #expect(out == [.call(Call(streamID: 1, method: Method.getMetadata.rawValue, request: [1], timeoutMs: 500,
                                   tenant: "acme")),
                        .call(Call(streamID: 2, method: Method.health.rawValue, request: []))])
        try Self.receive([.reply(Reply(streamID: 2, message: [9])), .ping(Ping(payload: 42)),
                          .end(End(streamID: 2, status: .ok)), .end(End(streamID: 7, status: .ok))], into: &session)
        #expect(heard.events.suffix(2) == ["b reply [9]", "b end OK "])
        #expect(try Self.sent(&session) == [.pong(Pong(payload: 42))])
        #expect(session.openCalls == 1)
        session.expire(streamID: 1, timeoutMs: 500)
        #expect(heard.events.last == "a end DEADLINE_EXCEEDED DEADLINE_EXCEEDED")
        #expect(try Self.sent(&session) == [.cancelCall(CancelCall(streamID: 1))])
    }

    @Test("a draining server's GoAway: calls above its last stream id end NOT_PROCESSED, the others finish, no new calls")
    func drainingGoAway() throws {
        let heard = Heard()
        var session = try Self.open(heard)
        try Self.receive([.helloAck(HelloAck(serverName: "s", maxFrameBytes: 1 << 20))], into: &session)
        for name in ["one", "two", "three"] {
            _ = session.openCall(method: .health, request: [], timeoutMs: 0, tenant: "", handler: heard.handler(name))
        }
        let shuttingDown = Status(code: .unavailable, reason: Reason.serverShuttingDown, message: "draining")
        try Self.receive([.goAway(GoAway(lastStreamID: 1, status: shuttingDown))], into: &session)
        #expect(!session.isUsable && !session.isClosed)
        #expect(Set(heard.events.suffix(2)) == ["two end UNAVAILABLE NOT_PROCESSED", "three end UNAVAILABLE NOT_PROCESSED"])
        #expect(session.openCall(method: .health, request: [], timeoutMs: 0, tenant: "", handler: heard.handler("late")) == nil)
        try Self.receive([.end(End(streamID: 1, status: .ok))], into: &session)
        #expect(heard.events.last == "one end OK ")
    }

    @Test("a refusal before the HelloAck fails the handshake with the server's status")
    func refusedHandshake() throws {
        let heard = Heard()
        var session = try Self.open(heard)
        let refusal = Status(code: .unauthenticated, reason: Reason.invalidAPIKey, message: "no key")
        try Self.receive([.goAway(GoAway(lastStreamID: 0, status: refusal))], into: &session)
        #expect(session.isClosed)
        #expect(heard.events == ["hello failed UNAUTHENTICATED INVALID_API_KEY"])
    }

    @Test("malformed bytes close the session and end every call with the decoder's error; cancel and close end calls")
    func malformedAndClosing() throws {
        let heard = Heard()
        var session = try Self.open(heard)
        try Self.receive([.helloAck(HelloAck(serverName: "s", maxFrameBytes: 1 << 20))], into: &session)
        _ = session.openCall(method: .health, request: [], timeoutMs: 0, tenant: "", handler: heard.handler("kept"))
        let cancelled = session.openCall(method: .health, request: [], timeoutMs: 0, tenant: "", handler: heard.handler("gone"))
        session.cancel(streamID: try #require(cancelled))
        #expect(heard.events.last == "gone end CANCELLED CANCELLED")
        _ = try Self.sent(&session)
        // A length prefix of zero is no frame at all.
        [UInt8](repeating: 0, count: 4).withUnsafeBytes { session.receive($0) }
        #expect(session.isClosed && !session.isUsable)
        #expect(heard.events.last?.hasPrefix("kept end INVALID_ARGUMENT") == true, "\(heard.events)")
        session.close(with: Status(code: .unavailable, reason: Reason.connectionLost, message: "again"))
        #expect(heard.events.filter { $0.hasPrefix("kept end") }.count == 1, "a call ends exactly once")
    }
}
