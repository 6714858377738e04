import JobWireSync
import NIOCore
import NIOPosix

/// What a postgres standby does with its ports while another node writes
/// (docs/ARCHITECTURE.md, "Several nodes on PostgreSQL"): it accepts every
/// connection and relays it, byte for byte, to the same port of the writer,
/// so any node answers any call. Nothing is parsed or terminated here: the
/// writer applies keys, limits and TLS (the client's TLS session is with the
/// writer), and its replies and watch events come back unchanged.
///
/// The writer is looked up for each connection (``Route/target``); when it
/// cannot be reached the client's connection is closed and the client tries
/// again (by then a standby may have become the writer). ``stop()`` closes the
/// listeners and every relayed connection, before the node serves itself.
public final class StandbyRelay: Sendable {
    /// One listener: where it listens and where its connections go.
    public struct Route: Sendable {
        public var host: String
        public var port: Int
        /// The writer's address for this port (`host`, `port`), or nil while none is known.
        public var target: @Sendable () -> (host: String, port: Int)?

        public init(host: String, port: Int, target: @escaping @Sendable () -> (host: String, port: Int)?) {
            self.host = host
            self.port = port
            self.target = target
        }
    }

    private let group: MultiThreadedEventLoopGroup
    private let listeners = Locked<[any Channel]>([])
    /// Every relayed connection's two channels, by the client channel's identity.
    private let relayed = Locked<[ObjectIdentifier: [any Channel]]>([:])
    /// How long dialing the writer may take before the client's connection is closed.
    private let connectTimeout: TimeAmount

    public init(threads: Int = System.coreCount, connectTimeout: TimeAmount = .seconds(2)) {
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        self.connectTimeout = connectTimeout
    }

    /// Listens on every route; returns the ports bound (the ones picked for port 0), in order.
    public func start(_ routes: [Route]) throws -> [Int] {
        var ports: [Int] = []
        for route in routes {
            let channel = try ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                // The client's channel is registered (and read) only once this future completes: once the
                // writer's connection is there to take what it sends.
                .childChannelInitializer { [self] channel in
                    relay(channel, to: route.target())
                }
                .bind(host: route.host, port: route.port).wait()
            listeners.withLock { $0.append(channel) }
            ports.append(channel.localAddress?.port ?? route.port)
        }
        return ports
    }

    private func relay(_ client: any Channel, to target: (host: String, port: Int)?) -> EventLoopFuture<Void> {
        guard let target else {
            return client.eventLoop.makeFailedFuture(RelayError.noWriterKnown)
        }
        let key = ObjectIdentifier(client)
        relayed.withLock { $0[key] = [client] }
        client.closeFuture.whenComplete { [self] _ in
            let upstream = relayed.withLock { $0.removeValue(forKey: key) } ?? []
            for channel in upstream { channel.close(promise: nil) }
        }
        return ClientBootstrap(group: client.eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(connectTimeout)
            .channelInitializer { writer in
                // The writer's channel is registered with its handler in place; the client's gets its own below.
                writer.eventLoop.makeCompletedFuture {
                    try writer.pipeline.syncOperations.addHandler(RelayHandler())
                }
            }
            .connect(host: target.host, port: target.port)
            .flatMapThrowing { [self] writer in
                guard relayed.withLock({ relayed -> Bool in
                    guard relayed[key] != nil else { return false }
                    relayed[key]?.append(writer)
                    return true
                }) else {
                    writer.close(promise: nil)
                    throw RelayError.clientGone
                }
                let writerSide = try writer.pipeline.syncOperations.handler(type: RelayHandler.self)
                let clientSide = RelayHandler()
                try client.pipeline.syncOperations.addHandler(clientSide)
                RelayHandler.join(clientSide, writerSide)
            }
    }

    /// Closes the listeners, then every relayed connection, and waits for both.
    public func stop() {
        let listening = listeners.withLock { listeners in
            defer { listeners.removeAll() }
            return listeners
        }
        for channel in listening { try? channel.close().wait() }
        let open = relayed.withLock { $0.values.flatMap { $0 } }
        for channel in open { try? channel.close().wait() }
    }

    deinit {
        group.shutdownGracefully { _ in }
    }
}

/// Why a connection to a standby was closed before it was relayed (the client sees its connection close and tries
/// again, on this node or another).
enum RelayError: Error {
    /// No writer has advertised its address yet, or only this node's own.
    case noWriterKnown
    /// The client closed its connection while the writer's was being opened.
    case clientGone
}
