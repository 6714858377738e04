import Dispatch
import JobWireProtocol
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One multiplexed connection to a server: handshake, calls routed by stream
/// id, pings answered, GoAway and connection loss reported to every call.
///
/// Threading: all `var`s are owned by `queue`; the public entry points hop
/// onto it. Call handlers run on `queue` and must only resume continuations
/// or yield into streams.
final class ClientConnection: @unchecked Sendable {
    /// What a call hears: each reply message, then exactly one end.
    struct CallHandler: Sendable {
        let onReply: @Sendable ([UInt8]) -> Void
        let onEnd: @Sendable (Status) -> Void
    }

    /// A call's end when the server never processed it (above a GoAway's
    /// last stream id): always safe to send again on a new connection.
    static let notProcessedReason = "NOT_PROCESSED"

    let queue: DispatchQueue
    private let fd: Int32

    // Owned by `queue`.
    private var decoder = FrameDecoder()
    private var output: [UInt8] = []
    private var outputSent = 0
    private var calls: [UInt32: CallHandler] = [:]
    private var nextStreamID: UInt32 = 1
    private var readSource: DispatchSourceRead?
    private var writeSource: DispatchSourceWrite?
    private var writeArmed = false
    private var closed = false
    private var helloWaiter: (@Sendable (Result<HelloAck, JobWireError>) -> Void)?
    private(set) var helloAck: HelloAck?
    private var maxFrameBytes = Limits.defaultMaxFrameBytes
    /// Reused for every read; only touched on `queue`.
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    private var decoderMaxFrameBytes = Limits.defaultMaxFrameBytes

    /// Cleared when the connection closes or a GoAway arrives: no new calls.
    private let usable = Atomic<Bool>(true)
    var isUsable: Bool { usable.load(ordering: .relaxed) }

    private init(fd: Int32) {
        self.fd = fd
        self.queue = DispatchQueue(label: "jobwire.client.connection")
    }

    deinit {
        // Released without close(): a suspended source must be resumed before
        // it is cancelled and released; the read source's cancel closes the socket.
        if let write = writeSource {
            if !writeArmed { write.resume() }
            write.cancel()
        }
        readSource?.cancel()
        readBuffer.deallocate()
    }

    // MARK: Connecting

    /// TCP connect and Hello, within `timeout`.
    static func connect(host: String, port: Int, hello: Hello, timeout: Duration) async throws -> ClientConnection {
        let fd = try await openSocket(host: host, port: port, timeout: timeout)
        let connection = ClientConnection(fd: fd)
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ClientConnection, any Error>) in
            connection.queue.async {
                connection.start(hello: hello, timeout: timeout) { result in
                    switch result {
                    case .success: continuation.resume(returning: connection)
                    case .failure(let error): continuation.resume(throwing: error)
                    }
                }
            }
        }
    }

    /// Resolving the name and waiting for the TCP handshake block, so they run on a
    /// serial queue of their own: `DispatchQueue.global()` is, on Linux, the pool that
    /// also runs Swift's cooperative threads, and a slow connect there would stall
    /// every task of the application.
    private static func openSocket(host: String, port: Int, timeout: Duration) async throws -> Int32 {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
            DispatchQueue(label: "jobwire.client.connect").async {
                continuation.resume(with: Result { try SocketConnect.connect(host: host, port: port, timeout: timeout) })
            }
        }
    }

    private func start(hello: Hello, timeout: Duration,
                       completion: @escaping @Sendable (Result<HelloAck, JobWireError>) -> Void) {
        helloWaiter = completion
        let read = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        read.setEventHandler { [weak self] in self?.onReadable() }
        let fd = self.fd
        read.setCancelHandler { Glibc.close(fd) }
        readSource = read
        let write = DispatchSource.makeWriteSource(fileDescriptor: fd, queue: queue)
        write.setEventHandler { [weak self] in self?.flush() }
        writeSource = write
        read.activate()
        append(.hello(hello))
        flush()
        queue.asyncAfter(deadline: .now() + .milliseconds(Int(timeout.wireMilliseconds))) { [weak self] in
            guard let self, self.helloWaiter != nil else { return }
            self.close(with: Status(code: .deadlineExceeded, reason: Reason.handshakeTimeout,
                                    message: "no HelloAck within the connect timeout"))
        }
    }

    // MARK: Calls

    /// Opens a call; nil when this connection takes no new calls.
    func startCall(method: Method, request: [UInt8], timeoutMs: UInt32, tenant: String, handler: CallHandler) async -> UInt32? {
        await withCheckedContinuation { (continuation: CheckedContinuation<UInt32?, Never>) in
            startCall(method: method, request: request, timeoutMs: timeoutMs, tenant: tenant, handler: handler) {
                continuation.resume(returning: $0)
            }
        }
    }

    /// Opens a call and passes its stream id (nil: this connection takes no
    /// new calls) to `started`, on the connection's queue.
    func startCall(method: Method, request: [UInt8], timeoutMs: UInt32, tenant: String, handler: CallHandler,
                   started: @escaping @Sendable (UInt32?) -> Void) {
        queue.async {
            started(self.open(method: method, request: request, timeoutMs: timeoutMs, tenant: tenant, handler: handler))
        }
    }

    private func open(method: Method, request: [UInt8], timeoutMs: UInt32, tenant: String, handler: CallHandler) -> UInt32? {
        guard !closed, isUsable else { return nil }
        let streamID = nextStreamID
        nextStreamID = nextStreamID == UInt32.max ? 1 : nextStreamID + 1
        calls[streamID] = handler
        do {
            try FrameEncoder.append(.call(Call(streamID: streamID, method: method.rawValue, request: request,
                                               timeoutMs: timeoutMs, tenant: tenant)), to: &output, maxFrameBytes: maxFrameBytes)
        } catch {
            calls.removeValue(forKey: streamID)
            handler.onEnd(error.status)
            return streamID
        }
        flush()
        if timeoutMs > 0 {
            // The server enforces the deadline too; this covers a server that stopped answering.
            queue.asyncAfter(deadline: .now() + .milliseconds(Int(timeoutMs) + 50)) { [weak self] in
                self?.expire(streamID: streamID, timeoutMs: timeoutMs)
            }
        }
        return streamID
    }

    private func expire(streamID: UInt32, timeoutMs: UInt32) {
        guard let handler = calls.removeValue(forKey: streamID) else { return }
        append(.cancelCall(CancelCall(streamID: streamID)))
        flush()
        handler.onEnd(Status(code: .deadlineExceeded, reason: Reason.deadlineExceeded,
                             message: "no answer within \(timeoutMs) ms"))
    }

    /// Cancels a call on the wire; its handler hears CANCELLED.
    func cancel(streamID: UInt32) {
        queue.async {
            guard let handler = self.calls.removeValue(forKey: streamID) else { return }
            if !self.closed {
                self.append(.cancelCall(CancelCall(streamID: streamID)))
                self.flush()
            }
            handler.onEnd(Status(code: .cancelled, reason: Reason.cancelled, message: "cancelled by the caller"))
        }
    }

    /// Closes the connection; open calls end with UNAVAILABLE / CONNECTION_LOST.
    func close() {
        queue.async {
            self.close(with: Status(code: .unavailable, reason: Reason.connectionLost, message: "the client closed the connection"))
        }
    }

    // MARK: I/O

    private func append(_ frame: Frame) {
        _ = try? FrameEncoder.append(frame, to: &output, maxFrameBytes: .max)
    }

    private func onReadable() {
        let count = recv(fd, readBuffer.baseAddress, readBuffer.count, 0)
        if count == 0 || (count < 0 && errno != EAGAIN && errno != EINTR && errno != EWOULDBLOCK) {
            close(with: Status(code: .unavailable, reason: Reason.connectionLost, message: "the server closed the connection"))
            return
        }
        guard count > 0 else { return }
        // Moved out while it runs: frame handlers touch the connection (the
        // HelloAck sets the frame limit, applied when the decoder is put back).
        var active = FrameDecoder(maxFrameBytes: 0)
        swap(&active, &decoder)
        defer {
            active.maxFrameBytes = decoderMaxFrameBytes
            swap(&active, &decoder)
        }
        do {
            try active.feed(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count])) { (body) throws(JobWireError) in
                try self.handle(Frame(decoding: body, maxBytes: .max))
            }
        } catch {
            close(with: error.status)
        }
        flush()
    }

    private func handle(_ frame: Frame) {
        switch frame {
        case .helloAck(let ack):
            helloAck = ack
            maxFrameBytes = Int(ack.maxFrameBytes)
            decoderMaxFrameBytes = max(Int(ack.maxFrameBytes), Limits.minMaxFrameBytes)
            helloWaiter?(.success(ack))
            helloWaiter = nil
        case .reply(let reply):
            calls[reply.streamID]?.onReply(reply.message)
        case .end(let end):
            calls.removeValue(forKey: end.streamID)?.onEnd(end.status)
        case .ping(let ping):
            append(.pong(Pong(payload: ping.payload)))
        case .goAway(let away):
            usable.store(false, ordering: .relaxed)
            if helloWaiter != nil || !away.status.isOK && away.status.reason != Reason.serverShuttingDown {
                close(with: away.status)
                return
            }
            // Calls the server never saw go elsewhere; the rest finish here.
            for (streamID, handler) in calls where streamID > away.lastStreamID {
                calls.removeValue(forKey: streamID)
                handler.onEnd(Status(code: .unavailable, reason: Self.notProcessedReason,
                                     message: "the server is draining and did not process the call"))
            }
        case .pong, .hello, .call, .cancelCall:
            break
        }
    }

    private func flush() {
        guard !closed else { return }
        while outputSent < output.count {
            let sent = output.withUnsafeBytes {
                send(fd, $0.baseAddress.unsafelyUnwrapped + outputSent, $0.count - outputSent, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                outputSent += sent
            } else if sent < 0 && errno == EINTR {
                continue
            } else if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                if !writeArmed, let write = writeSource {
                    writeArmed = true
                    write.resume()
                }
                return
            } else {
                close(with: Status(code: .unavailable, reason: Reason.connectionLost, message: "send failed"))
                return
            }
        }
        output.removeAll(keepingCapacity: output.capacity < 256 * 1024)
        outputSent = 0
        if writeArmed, let write = writeSource {
            writeArmed = false
            write.suspend()
        }
    }

    private func close(with status: Status) {
        guard !closed else { return }
        closed = true
        usable.store(false, ordering: .relaxed)
        if let write = writeSource {
            if !writeArmed { write.resume() }
            write.cancel()
        }
        readSource?.cancel()
        writeSource = nil
        readSource = nil
        helloWaiter?(.failure(JobWireError(status)))
        helloWaiter = nil
        let pending = calls
        calls.removeAll()
        for handler in pending.values {
            handler.onEnd(status)
        }
    }
}
