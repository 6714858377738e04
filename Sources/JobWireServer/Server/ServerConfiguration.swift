import Dispatch
import JobWireProtocol

#if canImport(Glibc)
import Glibc
#endif

/// Everything `jobwired`'s flags set; the defaults are the documented ones
/// (docs/OPERATIONS.md).
public struct ServerConfiguration: Sendable {
    public static let version = "0.1.0"

    public var host = "127.0.0.1"
    /// 0 picks a free port.
    public var port = 7420
    public var maxFrameBytes = Limits.defaultMaxFrameBytes
    public var maxConnections = 10_000
    public var maxStreamsPerConnection = 100
    /// Bytes a connection may have waiting to be written before it stops
    /// reading requests and slow watchers start collapsing their events.
    public var maxOutputBufferBytes = 1 << 20
    public var handshakeTimeoutMs = 10_000
    public var pingIntervalMs = 30_000
    public var bookmarkIntervalMs = 15_000
    /// How long a graceful shutdown waits for connections to finish.
    public var drainTimeoutMs = 10_000
    public var reaperIntervalMs = 1_000
    /// Event loops (threads running epoll) connections are spread over.
    public var eventLoopCount = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    public var serverName = "jobwired/\(ServerConfiguration.version)"
    public var registry = RegistryConfiguration()
    public var security = SecurityConfiguration()
    /// Serve TLS on the binary port (and with a client CA, require client certificates); nil: plaintext.
    public var tls: TLSFiles?

    public init() {}
}
