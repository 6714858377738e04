import Foundation
import JobWireProtocol
import JobWireSync

#if canImport(Glibc)
import Glibc
#endif

/// A loopback peer that misbehaves on cue, for answers a real jobwired cannot
/// be made to give on demand. Counts the connections it accepted.
final class ScriptedServer: Sendable {
    enum Behavior: Sendable {
        /// Answers the Hello with a GoAway carrying the status, then closes (a refused handshake).
        case refuseHello(Status)
        /// Completes the handshake, then ends every call with the status without processing it
        /// (what a server that just began draining answers to a call that crossed its GoAway).
        case endEveryCall(Status)
    }

    let port: Int
    private let fd: Int32
    private let counter = Counter()

    var acceptedConnections: Int { counter.count.withLock { $0 } }
    /// Calls received, on every connection.
    var receivedCalls: Int { counter.calls.withLock { $0 } }

    private final class Counter: Sendable {
        let count = Locked(0)
        let calls = Locked(0)
    }

    init(_ behavior: Behavior) throws {
        let (fd, port) = try listenOnLoopback(backlog: 64)
        self.fd = fd
        self.port = port
        let counter = counter
        Thread.detachNewThread {
            while true {
                let client = accept(fd, nil, nil)
                guard client >= 0 else {
                    // Shut down by deinit; closed only here, so no other socket can take
                    // the descriptor's number while this thread may still accept on it.
                    Glibc.close(fd)
                    return
                }
                // Counted before any answer goes out, so a client that has its answer sees the count.
                counter.count.withLock { $0 += 1 }
                Self.serve(client, behavior, counter)
                Glibc.close(client)
            }
        }
    }

    deinit {
        // Wakes the blocked accept, which then fails, closes the socket and ends the thread.
        shutdown(fd, Int32(SHUT_RDWR))
    }

    /// Reads frames until the peer closes (or the script ends), answering as `behavior` says.
    private static func serve(_ client: Int32, _ behavior: Behavior, _ counter: Counter) {
        var decoder = FrameDecoder()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = recv(client, &buffer, buffer.count, 0)
            guard count > 0 else { return }
            var frames: [Frame] = []
            let decoded = buffer.withUnsafeBytes { bytes -> Bool in
                do {
                    try decoder.feed(UnsafeRawBufferPointer(rebasing: bytes[0..<count])) { (body) throws(JobWireError) in
                        frames.append(try Frame(decoding: body, maxBytes: .max))
                    }
                    return true
                } catch {
                    return false
                }
            }
            guard decoded else { return }
            var answers: [Frame] = []
            var done = false
            for frame in frames {
                switch (frame, behavior) {
                case (.hello, .refuseHello(let status)):
                    answers.append(.goAway(GoAway(lastStreamID: 0, status: status)))
                    done = true
                case (.hello, .endEveryCall):
                    answers.append(.helloAck(HelloAck(serverName: "scripted", maxFrameBytes: 4 << 20,
                                                      maxConcurrentStreams: 100, pingIntervalMs: 30_000)))
                case (.call(let call), .endEveryCall(let status)):
                    counter.calls.withLock { $0 += 1 }
                    answers.append(.end(End(streamID: call.streamID, status: status)))
                default:
                    break
                }
            }
            for frame in answers {
                guard let bytes = try? FrameEncoder.encode(frame) else { continue }
                _ = bytes.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
            if done { return }
        }
    }
}
