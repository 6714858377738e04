import Foundation
import JobWireProtocol
import JobWireTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A raw-frame client for tests: a blocking socket with poll timeouts. It
/// answers pings, and keeps frames of other streams until asked for them.
final class TestClient {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// What a call got back: its reply messages and its End status.
    struct CallResult {
        var replies: [[UInt8]]
        var status: Status

        func only<M: WireMessage>(_ type: M.Type) throws -> M {
            guard status.isOK else { throw Failure(description: "call failed: \(status)") }
            guard replies.count == 1 else { throw Failure(description: "expected 1 reply, got \(replies.count)") }
            return try M(decoding: replies[0])
        }
    }

    let fd: Int32
    private var decoder = FrameDecoder()
    private var queued: [Frame] = []
    private(set) var nextStreamID: UInt32 = 1
    var answersPings = true
    private(set) var goAway: GoAway?

    init(port: Int, receiveBufferBytes: Int32? = nil) throws {
        expectOwnThread()
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
        if var size = receiveBufferBytes {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let code = errno
            Glibc.close(fd)
            throw Failure(description: "connect: \(String(cString: strerror(code)))")
        }
    }

    deinit {
        Glibc.close(fd)
    }

    // MARK: Sending

    func sendRaw(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { throw Failure(description: "send: \(String(cString: strerror(errno)))") }
            offset += sent
        }
    }

    func send(_ frame: Frame) throws {
        try sendRaw(FrameEncoder.encode(frame))
    }

    @discardableResult
    func hello(name: String = "test", maxFrameBytes: UInt32 = 0, apiKey: String = "") throws -> HelloAck {
        try send(.hello(Hello(apiKey: apiKey, clientName: name, maxFrameBytes: maxFrameBytes)))
        guard case .helloAck(let ack)? = try nextFrame() else {
            throw Failure(description: "no HelloAck (GoAway: \(String(describing: goAway)))")
        }
        return ack
    }

    /// Sends a Call on a fresh stream id and returns that id.
    @discardableResult
    func start(_ method: Method, _ request: some WireMessage, timeoutMs: UInt32 = 0, streamID: UInt32? = nil,
               tenant: String = "") throws -> UInt32 {
        let id = streamID ?? nextStreamID
        nextStreamID = max(nextStreamID, id + 1)
        try send(.call(Call(streamID: id, method: method.rawValue, request: request.encode(), timeoutMs: timeoutMs,
                            tenant: tenant)))
        return id
    }

    func call(_ method: Method, _ request: some WireMessage, timeoutMs: UInt32 = 0, tenant: String = "") throws -> CallResult {
        try collect(start(method, request, timeoutMs: timeoutMs, tenant: tenant))
    }

    /// Unary call expecting success; decodes its one reply.
    func unary<Reply: WireMessage>(_ method: Method, _ request: some WireMessage, as type: Reply.Type) throws -> Reply {
        try call(method, request).only(Reply.self)
    }

    // MARK: Receiving

    /// The next reply or End of `streamID` (frames of other streams are kept).
    func nextOnStream(_ streamID: UInt32, timeout: TimeInterval = 5) throws -> Frame {
        if let index = queued.firstIndex(where: { $0.streamID == streamID }) {
            return queued.remove(at: index)
        }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            guard let frame = try readFrame(until: deadline) else {
                throw Failure(description: "connection closed while waiting on stream \(streamID) (GoAway: \(String(describing: goAway)))")
            }
            if frame.streamID == streamID { return frame }
            queued.append(frame)
        }
    }

    /// Replies until the End of `streamID`.
    func collect(_ streamID: UInt32, timeout: TimeInterval = 5) throws -> CallResult {
        var replies: [[UInt8]] = []
        while true {
            switch try nextOnStream(streamID, timeout: timeout) {
            case .reply(let reply): replies.append(reply.message)
            case .end(let end): return CallResult(replies: replies, status: end.status)
            default: continue
            }
        }
    }

    /// The next watch event of `streamID`, or the End status.
    func nextEvent(_ streamID: UInt32, timeout: TimeInterval = 5) throws -> Result<WatchEvent, StatusBox> {
        switch try nextOnStream(streamID, timeout: timeout) {
        case .reply(let reply): return .success(try WatchEvent(decoding: reply.message))
        case .end(let end): return .failure(StatusBox(status: end.status))
        default: throw Failure(description: "unexpected frame on stream \(streamID)")
        }
    }

    struct StatusBox: Error { var status: Status }

    /// Any next frame not consumed by stream routing; nil at end of stream.
    func nextFrame(timeout: TimeInterval = 5) throws -> Frame? {
        if !queued.isEmpty { return queued.removeFirst() }
        return try readFrame(until: Date().addingTimeInterval(timeout))
    }

    /// Reads for `seconds`, answering pings and keeping other frames.
    func pump(seconds: TimeInterval) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            do {
                guard let frame = try readFrame(until: min(deadline, Date().addingTimeInterval(0.05))) else { return }
                queued.append(frame)
            } catch let failure as Failure where failure.description.hasPrefix("timed out") {
                continue
            }
        }
    }

    /// True when the server closed the connection within `timeout`.
    func waitForClose(timeout: TimeInterval = 5) throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            do {
                guard try readFrame(until: deadline) != nil else { return true }
            } catch let failure as Failure where failure.description.hasPrefix("timed out") {
                return false
            }
        }
    }

    /// Reads one frame that is not a ping (pings are answered) and records GoAways.
    private func readFrame(until deadline: Date) throws -> Frame? {
        while true {
            if let frame = try readAnyFrame(until: deadline) {
                switch frame {
                case .ping(let ping) where answersPings:
                    try send(.pong(Pong(payload: ping.payload)))
                    continue
                case .goAway(let away):
                    goAway = away
                    return frame
                default:
                    return frame
                }
            }
            return nil
        }
    }

    private var ready: [[UInt8]] = []

    private func readAnyFrame(until deadline: Date) throws -> Frame? {
        while ready.isEmpty {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { throw Failure(description: "timed out waiting for a frame") }
            var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let status = poll(&descriptor, 1, Int32(min(remaining * 1000, 60_000)) + 1)
            if status == 0 { continue }
            guard status > 0 else { throw Failure(description: "poll: \(errno)") }
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { return nil }
            if count < 0 {
                if errno == ECONNRESET { return nil }
                throw Failure(description: "recv: \(String(cString: strerror(errno)))")
            }
            var frames: [[UInt8]] = []
            try buffer.withUnsafeBytes { raw in
                try decoder.feed(UnsafeRawBufferPointer(rebasing: raw[0..<count])) { frames.append(Array($0)) }
            }
            ready += frames
        }
        return try Frame(decoding: ready.removeFirst())
    }
}

extension Frame {
    var streamID: UInt32? {
        switch self {
        case .reply(let reply): reply.streamID
        case .end(let end): end.streamID
        default: nil
        }
    }
}
