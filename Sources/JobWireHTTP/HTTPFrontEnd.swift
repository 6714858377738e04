import Dispatch
import JobWireProtocol
import JobWireServer
import JobWireSync
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// jobwired's HTTP/JSON and Server-Sent Events listener: SwiftNIO's HTTP/1.1
/// codec in front of the same ``JobService`` as the binary port, so keys,
/// tenants, roles, rate limits, limits and Stats are one set.
///
///     let http = HTTPFrontEnd(server: server, configuration: HTTPConfiguration(), logger: logger)
///     let port = try http.start()
///     …
///     http.shutdown { … }
public final class HTTPFrontEnd: Sendable {
    private let api: HTTPAPI
    private let group: MultiThreadedEventLoopGroup
    private let connections: HTTPConnections
    private let channel = Locked<(any Channel)?>(nil)
    private let tls = Locked<HTTPTLSContext?>(nil)

    public init(server: JobWireServer, configuration: HTTPConfiguration, logger: Logger) {
        let threads = configuration.threads > 0 ? configuration.threads : System.coreCount
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        self.api = HTTPAPI(service: server.service, configuration: configuration,
                           serverConfiguration: server.configuration, logger: logger,
                           eventLoops: Array(group.makeIterator()))
        self.connections = HTTPConnections(limit: configuration.maxConnections)
        let connections = self.connections
        server.service.addHealthCheck {
            ComponentHealth(name: "http", state: .ok, measures: ["connections": Double(connections.count)])
        }
        server.service.addMetricsSource { text in
            text.family("jobwire_connections", .gauge, "Open connections, by port.")
            text.sample("jobwire_connections", [("port", "http")], connections.count)
        }
    }

    /// Binds and starts serving; returns the port (the one picked when the configuration says 0).
    public func start() throws(JobWireError) -> Int {
        let api = self.api
        let connections = self.connections
        let configuration = api.configuration
        let tlsContext = try configuration.tls.map { (files) throws(JobWireError) in try HTTPTLSContext(files) }
        tls.withLock { $0 = tlsContext }
        let limits = {
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderListSize = configuration.maxHeaderBytes
            limits.maxHeaderFieldSize = configuration.maxHeaderBytes
            limits.maxHeaderFieldCount = configuration.maxHeaderFields
            return limits
        }()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark,
                                value: .init(low: configuration.maxStreamBufferBytes / 2, high: configuration.maxStreamBufferBytes))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let timeouts = RequestTimeouts(requestTimeoutMs: configuration.requestTimeoutMs,
                                                   idleTimeoutMs: configuration.idleTimeoutMs)
                    let handler = HTTPConnectionHandler(api: api, connections: connections, timeouts: timeouts)
                    guard connections.add(handler, on: channel.eventLoop) else {
                        try channel.pipeline.syncOperations.addHandler(ConnectionLimitReached())
                        return
                    }
                    let pipeline = channel.pipeline.syncOperations
                    if let tlsContext {
                        try pipeline.addHandler(NIOSSLServerHandler(context: tlsContext.current))
                    }
                    try pipeline.addHandler(timeouts)
                    try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: true, withErrorHandling: false,
                                                             withOutboundHeaderValidation: true,
                                                             withEncoderConfiguration: .init(),
                                                             withDecoderLimitConfiguration: limits)
                    try pipeline.addHandler(handler)
                }
            }
        do {
            let bound = try bootstrap.bind(host: configuration.host, port: configuration.port).wait()
            channel.withLock { $0 = bound }
            return bound.localAddress?.port ?? configuration.port
        } catch {
            throw JobWireError(.unavailable, Reason.connectFailed,
                               "cannot listen for HTTP on \(configuration.host):\(configuration.port): \(error)")
        }
    }

    public var port: Int? { channel.withLock { $0?.localAddress?.port } }

    /// Whether the port serves TLS.
    public var servesTLS: Bool { tls.withLock { $0 != nil } }

    /// Reads the TLS files again (SIGHUP): new connections get the new certificate, open ones keep theirs; on any
    /// error the old context stays and the error says why. Nothing to do without TLS.
    public func reloadTLS() throws(JobWireError) {
        try tls.withLock { $0 }?.reload()
    }

    /// After the job service's keys were reloaded (SIGHUP): event streams and
    /// exports whose key was revoked, or now grants another tenant or role,
    /// end with UNAUTHENTICATED / INVALID_API_KEY (docs/SECURITY.md).
    public func keysReloaded() {
        connections.recheckKeys()
    }

    /// Stops accepting, ends event streams (each with an `error` event saying
    /// the server is shutting down), lets requests in progress finish, and
    /// closes every connection within `timeoutMs`.
    public func shutdown(timeoutMs: Int, completion: @escaping @Sendable () -> Void) {
        let listener = channel.withLock { $0 }
        listener?.close(promise: nil)
        connections.drainAll()
        let group = self.group
        let connections = self.connections
        let deadline = DispatchTime.now() + .milliseconds(timeoutMs)
        @Sendable func waitForConnections() {
            if connections.count == 0 || DispatchTime.now() >= deadline {
                group.shutdownGracefully { _ in completion() }
                return
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(10), execute: waitForConnections)
        }
        waitForConnections()
    }
}

/// Over `--http-max-connections`: answered 503 at once and closed.
private final class ConnectionLimitReached: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelActive(context: ChannelHandlerContext) {
        ClosingResponse.write("503 Service Unavailable", Status(
            code: .unavailable, reason: Reason.tooManyConnections,
            message: "the server has its maximum number of HTTP connections; retry later"),
            extraHeaders: "retry-after: 1\r\n", on: context)
    }
}
