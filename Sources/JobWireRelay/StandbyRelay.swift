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
                // Nothing is read from the client until the writer's connection is there to take it.
                .childChannelOption(.autoRead, value: false)
                .childChannelInitializer { [self] channel in
                    relay(channel, to: route.target())
                    return channel.eventLoop.makeSucceededVoidFuture()
                }
                .bind(host: route.host, port: route.port).wait()
            listeners.withLock { $0.append(channel) }
            ports.append(channel.localAddress?.port ?? route.port)
        }
        return ports
    }

    private func relay(_ client: any Channel, to target: (host: String, port: Int)?) {
        guard let target else {
            client.close(promise: nil)
            return
        }
        let key = ObjectIdentifier(client)
        relayed.withLock { $0[key] = [client] }
        client.closeFuture.whenComplete { [self] _ in
            let upstream = relayed.withLock { $0.removeValue(forKey: key) } ?? []
            for channel in upstream { channel.close(promise: nil) }
        }
        ClientBootstrap(group: client.eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.autoRead, value: false)
            .connectTimeout(connectTimeout)
            .connect(host: target.host, port: target.port)
            .whenComplete { [self] result in
                switch result {
                case .failure:
                    client.close(promise: nil)
                case .success(let writer):
                    let stillOpen = relayed.withLock { relayed -> Bool in
                        guard relayed[key] != nil else { return false }
                        relayed[key]?.append(writer)
                        return true
                    }
                    guard stillOpen, client.isActive else {
                        writer.close(promise: nil)
                        return
                    }
                    do {
                        let (clientSide, writerSide) = RelayHandler.pair()
                        try client.pipeline.syncOperations.addHandler(clientSide)
                        try writer.pipeline.syncOperations.addHandler(writerSide)
                    } catch {
                        client.close(promise: nil)
                        writer.close(promise: nil)
                        return
                    }
                    client.setOption(.autoRead, value: true).whenFailure { _ in client.close(promise: nil) }
                    writer.setOption(.autoRead, value: true).whenFailure { _ in writer.close(promise: nil) }
                }
            }
    }

    /// Relayed connections open now, for logs.
    public var connectionCount: Int { relayed.withLock { $0.count } }

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
