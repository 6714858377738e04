import Dispatch
import JobWireProtocol
import JobWireTLS
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// Accepts connections on the listening socket (a Dispatch read source) and
/// hands each to a new ``Connection``, which registers it with its event
/// loop. Over the connection limit, a new connection gets a GoAway with
/// TOO_MANY_CONNECTIONS and is closed. The one listening descriptor never
/// churns, so a Dispatch source is safe for it (the per-connection sources
/// were not: see ``EventLoop``).
///
/// Owned by `queue`.
final class Listener: @unchecked Sendable {
    let fd: Int32
    let port: Int
    private let context: ServerContext
    private let queue = DispatchQueue(label: "jobwire.listener")
    private var source: DispatchSourceRead?
    /// Accepting is suspended after the process ran out of descriptors.
    private var acceptPaused = false
    private var lastDescriptorWarningMs: Int64 = .min
    private var acceptsRefusedSinceWarning = 0
    /// Signalled once the listening socket is closed.
    private let socketClosed = DispatchSemaphore(value: 0)

    init(context: ServerContext) throws(JobWireError) {
        self.context = context
        (fd, port) = try Socket.listen(host: context.configuration.host, port: context.configuration.port)
    }

    func start() {
        queue.sync {
            let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
            source.setEventHandler { [unowned self] in self.acceptAll() }
            let fd = self.fd
            let closed = socketClosed
            source.setCancelHandler {
                Glibc.close(fd)
                closed.signal()
            }
            source.activate()
            self.source = source
        }
    }

    /// Stops accepting and returns once the listening socket is closed, so the
    /// port is free for a new server as soon as this one says it stopped.
    func stop() {
        let wasListening = queue.sync { () -> Bool in
            guard let source else { return false }
            // A suspended source must be resumed before it is cancelled.
            if acceptPaused {
                acceptPaused = false
                source.resume()
            }
            source.cancel()
            self.source = nil
            return true
        }
        if wasListening {
            socketClosed.wait()
        }
    }

    private func acceptAll() {
        while true {
            let (accepted, error) = Socket.accept(fd)
            guard let client = accepted else {
                if let error {
                    acceptFailed(error)
                }
                return
            }
            admit(client)
        }
    }

    /// Out of descriptors (or kernel memory), the pending connection stays in
    /// the backlog and the socket stays readable: retrying at once would spin
    /// a core and flood the log. Accepting pauses briefly instead, so the
    /// connections already open keep being served and the backlog is taken
    /// as soon as descriptors are free again.
    private func acceptFailed(_ error: Int32) {
        let now = MonotonicClock.nowMs()
        acceptsRefusedSinceWarning += 1
        if now - lastDescriptorWarningMs >= Self.warningIntervalMs {
            context.logger.warning("accept failed: \(Socket.errorText(error)) (\(acceptsRefusedSinceWarning) times since the last warning); accepting again in \(Self.acceptPauseMs) ms")
            lastDescriptorWarningMs = now
            acceptsRefusedSinceWarning = 0
        }
        guard !acceptPaused, let source else { return }
        acceptPaused = true
        source.suspend()
        queue.asyncAfter(deadline: .now() + .milliseconds(Self.acceptPauseMs)) { [weak self] in
            guard let self, self.acceptPaused else { return }
            self.acceptPaused = false
            self.source?.resume()
        }
    }

    static let acceptPauseMs = 100
    static let warningIntervalMs: Int64 = 10_000

    private func admit(_ client: Int32) {
        let limit = context.configuration.maxConnections
        if context.stats.connections.load(ordering: .relaxed) >= limit || context.service.draining.load(ordering: .relaxed) {
            let status = context.service.draining.load(ordering: .relaxed)
                ? Status(code: .unavailable, reason: Reason.serverShuttingDown, message: "the server is shutting down")
                : Status(code: .resourceExhausted, reason: Reason.tooManyConnections,
                         message: "the server has its maximum of \(limit) connections")
            refuse(client, status)
            return
        }
        let peer = Socket.peerAddress(client)
        guard context.admitAddress(peer.host) else {
            refuse(client, Status(code: .resourceExhausted, reason: Reason.tooManyConnections,
                                  message: "at most \(context.configuration.security.maxConnectionsPerAddress) connections from one address"))
            return
        }
        var session: TLSStream?
        if let contexts = context.tls {
            guard let made = contexts.current.session(fd: client) else {
                context.releaseAddress(peer.host)
                Glibc.close(client)
                return
            }
            session = made
        }
        let connection = Connection(fd: client, id: context.makeConnectionID(), peer: peer, context: context, tls: session)
        context.connections.withLock { $0[connection.id] = connection }
        context.stats.connections.add(1, ordering: .relaxed)
        connection.start()
    }

    /// Best effort: a small GoAway into a fresh socket's buffer, then close (on a TLS port, just close: a
    /// plaintext frame would be garbage to a client waiting for the handshake).
    private func refuse(_ client: Int32, _ status: Status) {
        if context.tls == nil, let bytes = try? FrameEncoder.encode(.goAway(GoAway(lastStreamID: 0, status: status))) {
            _ = bytes.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        Glibc.close(client)
    }
}
