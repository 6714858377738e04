import JobWireProtocol

#if canImport(Glibc)
import Glibc
#endif

/// A listening TCP socket on 127.0.0.1 and the port the system gave it, for
/// the test peers that play a server (``ScriptedServer``, ``ResettingProxy``).
func listenOnLoopback(backlog: Int32) throws -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = loopbackAddress(port: 0)
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && listen(fd, backlog) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    guard fd >= 0, bound else {
        if fd >= 0 { Glibc.close(fd) }
        throw JobWireError(.unavailable, "TEST_LISTEN", "cannot listen: \(errno)")
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}

/// 127.0.0.1:`port`.
func loopbackAddress(port: Int) -> sockaddr_in {
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return address
}
