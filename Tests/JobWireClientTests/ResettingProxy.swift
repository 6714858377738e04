import Foundation
import JobWireProtocol
import JobWireSync

#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP proxy in front of a server that resets every connection it
/// carries after a random, short life: both ends get an RST (SO_LINGER 0),
/// often mid-frame, as a flaky network or a crashing peer would do. Counts
/// the connections it accepted and reset.
final class ResettingProxy: Sendable {
    let port: Int
    private let listener: Int32
    private let shared = Shared()

    /// What the accepting thread and the carrying threads share.
    private final class Shared: Sendable {
        let counts = Locked((accepted: 0, reset: 0))
        let stopped = Locked(false)
    }

    var accepted: Int { shared.counts.withLock { $0.accepted } }
    var reset: Int { shared.counts.withLock { $0.reset } }

    /// Proxies to `127.0.0.1:targetPort`; each connection lives a random time in `lifetimeMs`.
    init(targetPort: Int, lifetimeMs: ClosedRange<Int>) throws {
        let (listener, port) = try listenOnLoopback(backlog: 256)
        self.listener = listener
        self.port = port
        let shared = shared
        Thread.detachNewThread {
            while true {
                let client = accept(listener, nil, nil)
                guard client >= 0 else {
                    Glibc.close(listener)
                    return
                }
                shared.counts.withLock { $0.accepted += 1 }
                let lifetime = Int.random(in: lifetimeMs)
                Thread.detachNewThread {
                    Self.carry(client, to: targetPort, forMs: lifetime, shared: shared)
                    shared.counts.withLock { $0.reset += 1 }
                }
            }
        }
    }

    /// Stops accepting; connections still carried end at their reset.
    func stop() {
        shared.stopped.withLock { $0 = true }
        shutdown(listener, Int32(SHUT_RDWR))
    }

    deinit {
        stop()
    }

    /// Copies bytes both ways until `forMs` has passed (or either side
    /// closes), then resets both sockets.
    private static func carry(_ client: Int32, to targetPort: Int, forMs lifetime: Int, shared: Shared) {
        let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = loopbackAddress(port: targetPort)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
        let deadline = Date().addingTimeInterval(Double(lifetime) / 1000)
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        pumping: while connected, Date() < deadline, !shared.stopped.withLock({ $0 }) {
            var fds = [pollfd(fd: client, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: server, events: Int16(POLLIN), revents: 0)]
            let remainingMs = max(1, Int32(deadline.timeIntervalSinceNow * 1000))
            guard poll(&fds, 2, min(remainingMs, 50)) >= 0 else { break }
            for (index, entry) in fds.enumerated() where entry.revents != 0 {
                let from = index == 0 ? client : server
                let to = index == 0 ? server : client
                let count = recv(from, &buffer, buffer.count, 0)
                guard count > 0 else { break pumping }
                var sent = 0
                while sent < count {
                    let wrote = buffer[sent..<count].withUnsafeBytes {
                        send(to, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                    }
                    guard wrote > 0 else { break pumping }
                    sent += wrote
                }
            }
        }
        resetAndClose(client)
        resetAndClose(server)
    }

    /// Closing with a zero linger sends RST instead of FIN.
    private static func resetAndClose(_ fd: Int32) {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        Glibc.close(fd)
    }
}
