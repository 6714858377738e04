import Dispatch
import JobWireProtocol
import JobWireTLS
import Logging
import CEpoll

#if canImport(Glibc)
import Glibc
#endif

/// One client connection: its socket, frame decoder, output buffer,
/// handshake state and open calls.
///
/// Threading: every `var` below is owned by the thread of `loop`, the
/// ``EventLoop`` the connection's id picks. Reads, frame handling, writes
/// and timers all run there: the thread `epoll_wait` wakes for the socket
/// receives, handles the frames and sends the replies, without a hop. The
/// only entries from other threads are ``inbox`` (store completions), a
/// mutex-protected list drained on the loop, and the loop's
/// ``LoopDeliveries`` (watch deliveries, batched for all its connections).
final class Connection: @unchecked Sendable {
    enum Phase {
        /// Waiting for Hello.
        case handshake
        case open
        /// A GoAway with an error went out; closing once it is written.
        case closing
        case closed
    }

    enum StreamState {
        /// A write call waiting for its store commit.
        case unary(method: Method, startedAtNs: UInt64, token: UInt64, timeoutMs: UInt32)
        case watch(WatchStream)
        case jobs(JobsStream)
    }

    enum InboxItem: Sendable {
        case unaryDone(streamID: UInt32, token: UInt64, Result<[UInt8], JobWireError>)
    }

    let id: UInt64
    let fd: Int32
    let peer: String
    /// The client's address, for the per-address connection limit.
    let peerHost: String
    let loop: EventLoop
    /// Watch deliveries for this connection queue there (see ``LoopDeliveries``).
    let deliveries: LoopDeliveries
    let context: ServerContext
    var logger: Logger
    let inbox = Mailbox<InboxItem>()
    /// The connection's TLS (nil on a plaintext port): every byte goes through it.
    let tls: TLSStream?

    // Owned by the loop thread.
    var phase = Phase.handshake
    var decoder: FrameDecoder
    var maxFrameBytes: Int
    var output: [UInt8] = []
    var outputSent = 0
    var streams: [UInt32: StreamState] = [:]
    var lastAcceptedStreamID: UInt32 = 0
    var goAwaySent = false
    /// Who the Hello said this is; development mode until then (no call runs before it).
    var principal = Principal.development
    /// The key's usage counters, from the Hello on (frames before it count for no key).
    var account: KeyAccount?
    var lastInboundMs: Int64
    var pingSentAtMs: Int64?
    var nextToken: UInt64 = 1
    /// Write calls that were still waiting for their commit at the end of a
    /// read turn and have a deadline.
    var deadlineCandidates: [UInt32] = []
    /// The socket is in the loop's epoll set (from `setUp` to `close`).
    var registered = false
    /// The events the epoll set watches for the socket now.
    var interest: UInt32 = 0
    /// Reading stopped while too much output waits.
    var readPaused = false
    /// Received bytes not yet handled because the output was over its bound
    /// (at most one read's worth); handled before anything read after them.
    var unhandled: [UInt8] = []
    /// Output is waiting for the socket to take more (EPOLLOUT is watched).
    var writeArmed = false
    /// Set while a ``LoopDeliveries`` drain has this connection on its list to flush.
    var inDeliveryBatch = false
    /// Some watch holds events back until the output drains (see ``WatchStream/hold(_:)``).
    var hasHeldWatchEvents = false
    /// A WatchJobs stream waits for the output to drain to catch up further.
    var hasJobsCatchUps = false
    /// TLS: a read needs the socket writable first (the handshake's answer did not fit), or a write needs it readable.
    var tlsReadWaitsForWrite = false
    var tlsWriteWaitsForRead = false

    init(fd: Int32, id: UInt64, peer: (host: String, port: Int), context: ServerContext, tls: TLSStream? = nil) {
        self.fd = fd
        self.tls = tls
        self.id = id
        self.context = context
        self.peerHost = peer.host
        self.peer = "\(peer.host):\(peer.port)"
        self.loop = context.loops.loop(for: id)
        self.deliveries = context.loops.deliveries(for: id)
        self.decoder = FrameDecoder(maxFrameBytes: context.configuration.maxFrameBytes)
        self.maxFrameBytes = context.configuration.maxFrameBytes
        self.lastInboundMs = MonotonicClock.nowMs()
        var logger = context.logger
        logger[metadataKey: "connection"] = "\(id)"
        logger[metadataKey: "peer"] = "\(peer)"
        self.logger = logger
    }

    var configuration: ServerConfiguration { context.configuration }
    var pendingOutput: Int { output.count - outputSent }

    // MARK: Start and stop

    func start() {
        loop.execute { self.setUp() }
    }

    private func setUp() {
        // Closed before it started (a shutdown enqueued `close` first), which
        // already closed the descriptor.
        guard phase != .closed else { return }
        interest = wantedInterest
        let error = loop.register(fd, events: interest) { [unowned self] events in self.onEvents(events) }
        guard error == 0 else {
            logger.warning("cannot watch the socket: \(Socket.errorText(error))")
            close()
            return
        }
        registered = true
        scheduleTick()
        loop.schedule(afterMs: configuration.handshakeTimeoutMs) { [weak self] in
            guard let self, self.phase == .handshake else { return }
            self.fail(JobWireError(.deadlineExceeded, Reason.handshakeTimeout,
                                   "no Hello within \(self.configuration.handshakeTimeoutMs) ms"))
        }
        if context.service.draining.load(ordering: .relaxed) {
            beginDrain()
        }
    }

    /// The tick repeats until the connection closes; it holds the connection
    /// weakly, so a closed one is released without waiting for it.
    private func scheduleTick() {
        loop.schedule(afterMs: tickInterval) { [weak self] in
            guard let self, self.phase != .closed else { return }
            self.onTick()
            self.scheduleTick()
        }
    }

    /// Often enough for pings, bookmarks and watch deadlines to be timely.
    private var tickInterval: Int {
        max(10, min(configuration.pingIntervalMs, configuration.bookmarkIntervalMs) / 4)
    }

    /// Closes the socket and releases everything the connection holds.
    func close() {
        guard phase != .closed else { return }
        phase = .closed
        for (streamID, state) in streams {
            endStreamAccounting(streamID, state)
        }
        streams.removeAll()
        // Watch deliveries posted before the watches were unregistered just
        // now hold this connection unretained (see ``LoopDeliveries``); the
        // drains that take them are queued ahead of this task, which keeps the
        // connection alive until they ran. Queued before the server's
        // reference goes (below), so that `close` never frees the connection
        // it runs on.
        loop.execute { withExtendedLifetime(self) {} }
        // Out of the epoll set before the number is free for a new socket.
        if registered {
            loop.deregister(fd)
            registered = false
        }
        tls?.shutdown()
        Glibc.close(fd)
        output = []
        unhandled = []
        _ = context.connections.withLock { $0.removeValue(forKey: id) }
        context.releaseAddress(peerHost)
        context.stats.connections.subtract(1, ordering: .relaxed)
        logger.debug("connection closed")
    }

    /// A connection error: say why in a GoAway, then close once it is written.
    func fail(_ error: JobWireError) {
        guard phase != .closing && phase != .closed else { return }
        logger.info("closing connection: \(error)")
        // Before the TLS handshake ended no frame can reach the peer: nothing to wait for.
        if let tls, !tls.isEstablished {
            close()
            return
        }
        appendGoAway(error.status)
        phase = .closing
        closeAtLatest(afterMs: configuration.pingIntervalMs)
        flush()
    }

    /// A closing connection normally closes once its GoAway is written; a
    /// peer that stops reading would keep it (and its buffers) forever, so
    /// it is closed without the rest of its output after `afterMs`.
    func closeAtLatest(afterMs: Int) {
        loop.schedule(afterMs: afterMs) { [weak self] in
            guard let self, self.phase == .closing else { return }
            self.logger.info("closing connection: the peer did not take its last \(self.pendingOutput) bytes within \(afterMs) ms")
            self.close()
        }
    }

    func appendGoAway(_ status: JobWireProtocol.Status) {
        goAwaySent = true
        _ = try? FrameEncoder.append(.goAway(GoAway(lastStreamID: lastAcceptedStreamID, status: status)), to: &output,
                                     maxFrameBytes: .max)
    }

    // MARK: Events

    /// What the epoll set should watch: input while the connection reads,
    /// EPOLLOUT only while output waits for the socket. (EPOLLHUP and
    /// EPOLLERR are always reported.)
    private var wantedInterest: UInt32 {
        var events: UInt32 = 0
        if (!readPaused && (phase == .handshake || phase == .open)) || tlsWriteWaitsForRead {
            events |= EPOLLIN.rawValue | EPOLLRDHUP.rawValue
        }
        if writeArmed || tlsReadWaitsForWrite {
            events |= EPOLLOUT.rawValue
        }
        return events
    }

    /// Brings the epoll set in line with `wantedInterest` (a system call only
    /// when it changed: pausing, resuming, a write that did not complete).
    func updateInterest() {
        guard registered, phase != .closed else { return }
        let wanted = wantedInterest
        guard wanted != interest else { return }
        let error = loop.modify(fd, events: wanted)
        guard error == 0 else {
            logger.debug("epoll_ctl failed: \(Socket.errorText(error))")
            close()
            return
        }
        interest = wanted
    }

    private func onEvents(_ events: UInt32) {
        let failed = events & (EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0
        let input = EPOLLIN.rawValue | EPOLLRDHUP.rawValue
        // A hang-up or error counts as readable: recv then sees EOF or the error.
        if interest & input != 0 && (events & input != 0 || failed) {
            if tlsWriteWaitsForRead {
                tlsWriteWaitsForRead = false
                flush()
            }
            if phase == .handshake || phase == .open { onReadable() }
        }
        if tlsReadWaitsForWrite && phase != .closed && (events & EPOLLOUT.rawValue != 0 || failed) {
            tlsReadWaitsForWrite = false
            onReadable()
        }
        if phase != .closed && (events & EPOLLOUT.rawValue != 0 || failed) {
            flush()
        }
        // Not reading and nothing to write: the error would be reported
        // again and again, and nothing more can happen on this socket.
        if failed && phase != .closed && interest & input == 0 && pendingOutput == 0 {
            close()
        }
    }

    // MARK: Reading

    private func onReadable() {
        guard phase == .handshake || phase == .open else { return }
        // Requests received earlier come before anything new.
        if !unhandled.isEmpty {
            handleUnhandled()
            guard unhandled.isEmpty && !readPaused else {
                endOfTurn()
                return
            }
        }
        let buffer = loop.readBuffer
        var reads = 0
        while reads < 4 && (phase == .handshake || phase == .open) {
            if let tls {
                switch receiveTLS(tls, into: buffer) {
                case .more: reads += 1; continue
                case .done: break
                case .closed: return
                }
                break
            }
            let count = recv(fd, buffer.baseAddress, buffer.count, 0)
            if count > 0 {
                reads += 1
                account?.received(bytes: count)
                feed(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                if count < buffer.count || !unhandled.isEmpty { break }
            } else if count == 0 {
                close()
                return
            } else {
                let code = errno
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK { break }
                logger.debug("recv failed: \(Socket.errorText(code))")
                close()
                return
            }
        }
        // Records OpenSSL already decrypted announce themselves no more on the socket: read them in a turn of their own.
        if let tls, tls.hasPendingInput, unhandled.isEmpty, !readPaused, phase == .handshake || phase == .open {
            loop.execute { [weak self] in
                guard let self, self.phase == .handshake || self.phase == .open, !self.readPaused else { return }
                self.onReadable()
            }
        }
        endOfTurn()
    }

    func feed(_ bytes: UnsafeRawBufferPointer) {
        // The decoder is moved out while it runs: frame handlers touch other
        // properties of the connection, and the Hello handler lowers the
        // frame limit, which is applied when the decoder is put back.
        var active = FrameDecoder(maxFrameBytes: 0)
        swap(&active, &decoder)
        var completedFrame = false
        let bound = configuration.maxOutputBufferBytes
        do {
            // Replies are made as requests are handled, so requests pipelined
            // in one read could each add a page of output: handling stops as
            // soon as the output is over its bound, and what is left of the
            // bytes waits until the output has drained.
            let taken = try active.feed(bytes, stoppingWhen: { self.pendingOutput > bound }) { (body) throws(JobWireError) in
                completedFrame = true
                guard self.phase == .handshake || self.phase == .open else { return }
                try self.handleFrame(body)
            }
            if taken < bytes.count && (phase == .handshake || phase == .open) {
                unhandled.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[taken...]))
                pauseReading()
            }
        } catch {
            fail(error)
        }
        active.maxFrameBytes = maxFrameBytes
        swap(&active, &decoder)
        // Only whole frames show that the peer is alive: a peer trickling the
        // bytes of a frame it never finishes is pinged like a silent one and
        // closed when no frame (the Pong) comes back.
        if completedFrame {
            lastInboundMs = MonotonicClock.nowMs()
        }
    }

    /// After a batch of frames: apply what other threads queued, arm deadlines
    /// of calls still waiting, write everything in one go, and stop reading
    /// while too much output waits.
    func endOfTurn() {
        drainInbox()
        armDeadlines()
        flush()
        if phase == .open || phase == .handshake {
            if pendingOutput > configuration.maxOutputBufferBytes {
                pauseReading()
            }
        }
    }

    /// Feeds the bytes left over when handling stopped at the output bound.
    private func handleUnhandled() {
        var pending: [UInt8] = []
        swap(&pending, &unhandled)
        pending.withUnsafeBytes { feed($0) }
    }

    private func pauseReading() {
        guard !readPaused else { return }
        readPaused = true
        updateInterest()
    }


    // MARK: Writing

    /// Writes as much pending output as the socket takes; watches EPOLLOUT
    /// for the rest.
    func flush() {
        guard phase != .closed else { return }
        while outputSent < output.count {
            if let tls {
                guard sendTLS(tls) else { return }
                continue
            }
            let sent = output.withUnsafeBytes { bytes in
                send(fd, bytes.baseAddress.unsafelyUnwrapped + outputSent, bytes.count - outputSent, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                outputSent += sent
                account?.sent(bytes: sent)
                continue
            }
            let code = errno
            if sent < 0 && code == EINTR { continue }
            if sent < 0 && (code == EAGAIN || code == EWOULDBLOCK) {
                writeArmed = true
                updateInterest()
                return
            }
            logger.debug("send failed: \(Socket.errorText(code))")
            close()
            return
        }
        // Everything is written.
        if output.capacity > 256 * 1024 {
            output = []
        } else {
            output.removeAll(keepingCapacity: true)
        }
        outputSent = 0
        writeArmed = false
        if phase == .closing {
            close()
            return
        }
        if goAwaySent && streams.isEmpty {
            // Draining and nothing left to finish.
            close()
            return
        }
        releaseHeldWatchEvents()
        continueJobsCatchUps()
        if pendingOutput > 0 {
            flush()
            return
        }
        if readPaused && pendingOutput <= configuration.maxOutputBufferBytes / 2 {
            readPaused = false
            // The socket may hold nothing more, so no event would come for
            // requests already received (or decrypted by TLS): handle them in a turn of their own.
            if !unhandled.isEmpty || tls?.hasPendingInput == true {
                loop.execute { [weak self] in
                    guard let self, self.phase == .handshake || self.phase == .open, !self.readPaused else { return }
                    self.onReadable()
                }
            }
        }
        // Also drops EPOLLIN once the connection is closing (and no longer
        // reads), so unread input does not wake the loop again and again.
        updateInterest()
    }

    // MARK: Inbox (the only way in from other threads)

    func enqueue(_ item: InboxItem) {
        if inbox.post(item) {
            loop.execute { self.drainInboxAndFlush() }
        }
    }

    private func drainInboxAndFlush() {
        drainInbox()
        flush()
    }

    func drainInbox() {
        let items = inbox.takeAll()
        guard phase != .closed else { return }
        for item in items {
            switch item {
            case .unaryDone(let streamID, let token, let result):
                finishUnary(streamID: streamID, token: token, result)
            }
        }
    }

    // MARK: Timers

    private func onTick() {
        guard phase == .open || phase == .handshake else { return }
        let now = MonotonicClock.nowMs()
        if phase == .open {
            let interval = Int64(configuration.pingIntervalMs)
            if let sentAt = pingSentAtMs {
                if lastInboundMs < sentAt && now - sentAt >= interval {
                    fail(JobWireError(.unavailable, Reason.pingTimeout, "no answer to a ping within \(interval) ms"))
                    return
                }
                if lastInboundMs >= sentAt { pingSentAtMs = nil }
            } else if now - lastInboundMs >= interval {
                pingSentAtMs = now
                _ = try? FrameEncoder.append(.ping(Ping(payload: UInt64(now))), to: &output, maxFrameBytes: .max)
            }
            sendBookmarks(now: WallClock.nowMs())
            sendJobsBookmarks(now: WallClock.nowMs())
        }
        flush()
    }

    func nextStreamToken() -> UInt64 {
        defer { nextToken += 1 }
        return nextToken
    }
}
