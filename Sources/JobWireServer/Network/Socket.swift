#if canImport(Glibc)
import Glibc
#endif
import JobWireProtocol

/// Thin wrappers over the POSIX socket calls the server uses. Every failure
/// becomes a ``JobWireError`` naming the call and errno.
enum Socket {
    static func errorText(_ code: Int32 = errno) -> String {
        String(cString: strerror(code))
    }

    /// A non-blocking listening socket bound to `host:port` (IPv4 or IPv6
    /// literal, or a name that resolves to one). Returns it and the port
    /// actually bound (useful with port 0).
    static func listen(host: String, port: Int, backlog: Int32 = 1024) throws(JobWireError) -> (fd: Int32, port: Int) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let first = result else {
            throw JobWireError(.unavailable, "LISTEN_FAILED", "cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(result) }

        let fd = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            throw JobWireError(.unavailable, "LISTEN_FAILED", "socket: \(errorText())")
        }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let text = errorText()
            Glibc.close(fd)
            throw JobWireError(.unavailable, "LISTEN_FAILED", "cannot bind \(host):\(port): \(text)")
        }
        guard Glibc.listen(fd, backlog) == 0 else {
            let text = errorText()
            Glibc.close(fd)
            throw JobWireError(.unavailable, "LISTEN_FAILED", "listen: \(text)")
        }
        return (fd, boundPort(fd))
    }

    static func boundPort(_ fd: Int32) -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return port(of: storage)
    }

    static func port(of storage: sockaddr_storage) -> Int {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
        default:
            return 0
        }
    }

    /// "address:port" of the peer, for logs.
    /// The peer's numeric address and port ("unknown", 0 when unavailable).
    static func peerAddress(_ fd: Int32) -> (host: String, port: Int) {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let status = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) }
        }
        guard status == 0 else { return ("unknown", 0) }
        var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let named = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                getnameinfo($0, length, &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST)
            }
        }
        let address = named == 0
            ? String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            : "unknown"
        return (address, port(of: storage))
    }

    /// Accepts one connection: the new non-blocking socket, or nil when none
    /// is waiting (or the process is out of descriptors, which `error` says).
    static func accept(_ listener: Int32) -> (fd: Int32?, error: Int32?) {
        let fd = Glibc.accept(listener, nil, nil)
        if fd >= 0 {
            // accept4 is not exported to Swift; set the flags the accepted socket needs.
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            return (fd, nil)
        }
        let code = errno
        return (nil, code == EAGAIN || code == EWOULDBLOCK || code == EINTR || code == ECONNABORTED ? nil : code)
    }
}
