import Foundation
import JobWireProtocol
import JobWireSync

#if canImport(Glibc)
import Glibc
#endif

/// A loopback listener that answers every connection's Hello with a GoAway
/// carrying `status`, as a server refusing the handshake does, and counts the
/// connections it refused. For the refusals a real jobwired cannot be made to
/// send on demand (an unsupported protocol version, a draining server).
final class RefusingServer: Sendable {
    let port: Int
    private let fd: Int32
    private let counter = Counter()

    var refusedConnections: Int { counter.count.withLock { $0 } }

    private final class Counter: Sendable {
        let count = Locked(0)
    }

    init(status: Status) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, 64) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            Glibc.close(fd)
            throw JobWireError(.unavailable, "TEST_LISTEN", "cannot listen: \(errno)")
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        let goAway = try FrameEncoder.encode(.goAway(GoAway(lastStreamID: 0, status: status)))
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
                // The Hello first, so the GoAway answers it as a server's would.
                var hello = [UInt8](repeating: 0, count: 4096)
                _ = recv(client, &hello, hello.count, 0)
                // Counted before the answer goes out, so a client that has its answer sees the count.
                counter.count.withLock { $0 += 1 }
                _ = goAway.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                Glibc.close(client)
            }
        }
    }

    deinit {
        // Wakes the blocked accept, which then fails, closes the socket and ends the thread.
        shutdown(fd, Int32(SHUT_RDWR))
    }
}
