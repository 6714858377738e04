import Dispatch
import JobWireKeys
import JobWireProtocol
import JobWireSync
import Logging

/// The JobWire server: listener, connections, registry, reaper.
///
///     let server = try JobWireServer(configuration: configuration, logger: logger)
///     let port = try server.start()
///     ...
///     server.shutdown { exit(0) }
public final class JobWireServer: Sendable {
    public let registry: JobRegistry
    /// The transport-free core every front end calls.
    public let service: JobService
    let context: ServerContext
    private let listener: Locked<Listener?> = Locked(nil)
    private let reaper = Reaper()
    private let drainQueue = DispatchQueue(label: "jobwire.drain")

    /// `outbox` makes the webhook messages of job changes and `webhooks` manages the endpoints (nil: no webhooks).
    public init(configuration: ServerConfiguration, store: any JobStore = InMemoryJobStore(), outbox: (any JobChangeOutbox)? = nil,
                webhooks: (any WebhookAdministration)? = nil, logger: Logger) throws(JobWireError) {
        registry = try JobRegistry(configuration: configuration.registry, store: store, outbox: outbox)
        service = JobService(registry: registry, store: store, security: configuration.security, webhooks: webhooks)
        context = try ServerContext(configuration: configuration, service: service, logger: logger)
    }

    public var configuration: ServerConfiguration { context.configuration }

    /// Binds, starts accepting and starts the reaper. Returns the port bound
    /// (the configured one, or the one the system picked for port 0).
    @discardableResult
    public func start() throws(JobWireError) -> Int {
        // The loops run before the first connection is accepted onto them.
        try context.loops.start()
        let probe = LoopProbe(loops: context.loops.loops)
        probe.start()
        service.addHealthCheck { probe.health() }
        let listener: Listener
        do {
            listener = try Listener(context: context)
        } catch {
            context.loops.stop()
            throw error
        }
        listener.start()
        self.listener.withLock { $0 = listener }
        reaper.start(registry: registry, intervalMs: context.configuration.reaperIntervalMs, logger: context.logger)
        return listener.port
    }

    public var port: Int? { listener.withLock { $0?.port } }

    /// Reads the keys file again (SIGHUP). New connections use the new keys
    /// at once; open connections whose key was revoked (or now grants another
    /// tenant or role) are closed with UNAUTHENTICATED / INVALID_API_KEY; the
    /// others keep going. On any error the old keys stay. Returns the number
    /// of keys now accepted.
    @discardableResult
    public func reloadKeys() throws(JobWireError) -> Int {
        guard let path = context.configuration.security.keysFile else {
            throw JobWireError(.failedPrecondition, "NO_KEYS_FILE", "the server runs without a keys file; there is nothing to reload")
        }
        let keys = KeyRing(try KeysFile.loadForServing(path: path))
        service.replaceKeys(keys)
        for connection in context.connections.withLock({ Array($0.values) }) {
            connection.loop.execute { connection.recheckKey(keys) }
        }
        context.logger.info("reloaded \(keys.count) keys from \(path)")
        return keys.count
    }

    /// Whether the binary port serves TLS.
    public var servesTLS: Bool { context.tls != nil }

    /// Reads the binary port's TLS files again (SIGHUP): new connections get the new certificate, open ones keep
    /// theirs; on any error the old context stays and the error says why. Nothing to do without TLS.
    public func reloadTLS() throws(JobWireError) {
        try context.tls?.reload()
    }

    /// Open connections right now.
    public var connectionCount: Int { context.stats.connections.load(ordering: .relaxed) }

    /// Graceful shutdown: stop accepting, GoAway to every connection, end
    /// watches with UNAVAILABLE / SERVER_SHUTTING_DOWN, let write calls
    /// finish, then close. Calls `completion` when every connection is closed
    /// or the drain timeout has passed (remaining connections are closed),
    /// and the event loop threads have ended.
    /// Calling it again while a shutdown runs waits for the same drain.
    public func shutdown(completion: @escaping @Sendable () -> Void) {
        let deadline = MonotonicClock.nowMs() + Int64(context.configuration.drainTimeoutMs)
        guard !service.draining.exchange(true, ordering: .relaxed) else {
            waitForDrain(deadline: deadline, completion: completion)
            return
        }
        listener.withLock { $0?.stop() }
        reaper.stop()
        let connections = context.connections.withLock { Array($0.values) }
        context.logger.info("draining \(connections.count) connections")
        for connection in connections {
            connection.loop.execute { connection.beginDrain() }
        }
        waitForDrain(deadline: deadline, completion: completion)
    }

    private func waitForDrain(deadline: Int64, completion: @escaping @Sendable () -> Void) {
        let remaining = context.connections.withLock { Array($0.values) }
        if remaining.isEmpty {
            stopLoops(then: completion)
            return
        }
        if MonotonicClock.nowMs() >= deadline {
            context.logger.warning("drain timeout: closing \(remaining.count) connections")
            let group = DispatchGroup()
            for connection in remaining {
                group.enter()
                let queued = connection.loop.execute {
                    connection.close()
                    group.leave()
                }
                // A stopped loop runs nothing more: its connections are gone.
                if !queued { group.leave() }
            }
            group.notify(queue: drainQueue) { self.stopLoops(then: completion) }
            return
        }
        drainQueue.asyncAfter(deadline: .now() + .milliseconds(20)) {
            self.waitForDrain(deadline: deadline, completion: completion)
        }
    }

    /// Every connection is closed (out of the epoll sets, descriptors
    /// closed), so nothing needs the loops any more. Stopping joins their
    /// threads, so it runs on the drain queue, never on a loop.
    private func stopLoops(then completion: @escaping @Sendable () -> Void) {
        drainQueue.async {
            self.context.loops.stop()
            completion()
        }
    }
}
