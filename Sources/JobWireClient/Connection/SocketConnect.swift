import JobWireProtocol

#if canImport(Glibc)
import Glibc
#endif

/// A TCP connect with a timeout, returning a non-blocking socket.
enum SocketConnect {
    static func connect(host: String, port: Int, timeout: Duration) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let first = result else {
            throw JobWireError(.unavailable, Reason.connectFailed, "cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(result) }
        let fd = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw JobWireError(.unavailable, Reason.connectFailed, "socket: \(errno)") }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))

        if Glibc.connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) != 0 {
            guard errno == EINPROGRESS else {
                let code = errno
                Glibc.close(fd)
                throw failure(host, port, code)
            }
            var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&descriptor, 1, Int32(clamping: timeout.wireMilliseconds))
            var socketError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &socketError, &length)
            guard ready > 0, socketError == 0 else {
                Glibc.close(fd)
                if ready == 0 {
                    throw JobWireError(.unavailable, Reason.connectFailed, "connecting to \(host):\(port) timed out")
                }
                throw failure(host, port, socketError)
            }
        }
        return fd
    }

    private static func failure(_ host: String, _ port: Int, _ code: Int32) -> JobWireError {
        JobWireError(.unavailable, Reason.connectFailed, "cannot connect to \(host):\(port): \(String(cString: strerror(code)))")
    }
}
