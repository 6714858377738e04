import Dispatch
import JobWireProtocol
import JobWireTLS
import JobWireSync
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One multiplexed connection to a server: a socket and its Dispatch sources
/// moving bytes to and from a ``ClientSession``, which holds every rule of
/// the protocol (handshake, calls by stream id, pings, GoAway, loss).
///
/// Threading: all `var`s are owned by `queue`; the public entry points hop
/// onto it. Call handlers run on `queue` and must only resume continuations
/// or yield into streams.
final class ClientConnection: @unchecked Sendable {
    typealias CallHandler = ClientSession.CallHandler

    /// A call's end when the server never processed it (above a GoAway's
    /// last stream id): always safe to send again on a new connection.
    static let notProcessedReason = ClientSession.notProcessedReason

    let queue: DispatchQueue
    private let fd: Int32
    /// The connection's TLS (nil: plaintext); used on `queue` only.
    private let tls: TLSStream?

    // Owned by `queue`.
    private var session: ClientSession?
    private var readSource: DispatchSourceRead?
    private var writeSource: DispatchSourceWrite?
    private var writeArmed = false
    private var closed = false
    /// Reused for every read; only touched on `queue`.
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)

    /// Cleared when the connection closes or a GoAway arrives: no new calls.
    private let usable = Atomic<Bool>(true)
    var isUsable: Bool { usable.load(ordering: .relaxed) }

    private init(fd: Int32, tls: TLSStream?) {
        self.fd = fd
        self.tls = tls
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

    /// The server's HelloAck, once the handshake is done; read from any thread.
    var helloAck: HelloAck? { acknowledged.withLock { $0 } }
    private let acknowledged = Locked<HelloAck?>(nil)

    // MARK: Connecting

    /// TCP connect, the TLS handshake (with `tls`) and Hello, within `timeout`.
    static func connect(host: String, port: Int, hello: Hello, timeout: Duration, tls: ClientTLS? = nil) async throws -> ClientConnection {
        let (fd, session) = try await openSocket(host: host, port: port, timeout: timeout, tls: tls)
        let connection = ClientConnection(fd: fd, tls: session?.stream)
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
    private static func openSocket(host: String, port: Int, timeout: Duration,
                                   tls: ClientTLS?) async throws -> (Int32, ClientTLSSession?) {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<(Int32, ClientTLSSession?), any Error>) in
            DispatchQueue(label: "jobwire.client.connect").async {
                continuation.resume(with: Result {
                    let fd = try SocketConnect.connect(host: host, port: port, timeout: timeout)
                    guard let tls else { return (fd, nil) }
                    do {
                        return (fd, try ClientTLSSession(fd: fd, host: host, settings: tls,
                                                         timeoutMs: Int32(clamping: timeout.wireMilliseconds)))
                    } catch {
                        Glibc.close(fd)
                        throw error
                    }
                })
            }
        }
    }

    private func start(hello: Hello, timeout: Duration,
                       completion: @escaping @Sendable (Result<HelloAck, JobWireError>) -> Void) {
        session = ClientSession(hello: hello) { [weak self] result in
            if case .success(let ack) = result { self?.acknowledged.withLock { $0 = ack } }
            completion(result)
        }
        let read = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        read.setEventHandler { [weak self] in self?.onReadable() }
        let fd = self.fd
        read.setCancelHandler { Glibc.close(fd) }
        readSource = read
        let write = DispatchSource.makeWriteSource(fileDescriptor: fd, queue: queue)
        write.setEventHandler { [weak self] in self?.flush() }
        writeSource = write
        read.activate()
        flush()
        queue.asyncAfter(deadline: .now() + .milliseconds(Int(timeout.wireMilliseconds))) { [weak self] in
            guard let self, self.session?.awaitsHelloAck == true else { return }
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
        guard !closed, let streamID = session?.openCall(method: method, request: request, timeoutMs: timeoutMs,
                                                         tenant: tenant, handler: handler) else { return nil }
        flush()
        if timeoutMs > 0 {
            // The server enforces the deadline too; this covers a server that stopped answering.
            queue.asyncAfter(deadline: .now() + .milliseconds(Int(timeoutMs) + 50)) { [weak self] in
                guard let self else { return }
                self.session?.expire(streamID: streamID, timeoutMs: timeoutMs)
                self.flush()
            }
        }
        return streamID
    }

    /// Cancels a call on the wire; its handler hears CANCELLED.
    func cancel(streamID: UInt32) {
        queue.async {
            self.session?.cancel(streamID: streamID)
            self.flush()
        }
    }

    /// Closes the connection; open calls end with UNAVAILABLE / CONNECTION_LOST.
    func close() {
        queue.async {
            self.close(with: Status(code: .unavailable, reason: Reason.connectionLost, message: "the client closed the connection"))
        }
    }

    // MARK: I/O

    private func onReadable() {
        if let tls {
            readTLS(tls)
            return
        }
        let count = recv(fd, readBuffer.baseAddress, readBuffer.count, 0)
        if count == 0 || (count < 0 && errno != EAGAIN && errno != EINTR && errno != EWOULDBLOCK) {
            close(with: Status(code: .unavailable, reason: Reason.connectionLost, message: "the server closed the connection"))
            return
        }
        guard count > 0 else { return }
        session?.receive(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
        flush()
    }

    /// Reads every record OpenSSL can give now (decrypted bytes it holds announce themselves no more on the socket).
    private func readTLS(_ tls: TLSStream) {
        while !closed {
            switch tls.read(into: readBuffer) {
            case .bytes(let count):
                session?.receive(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
            case .wantRead, .wantWrite:
                flush()
                return
            case .closed:
                close(with: Status(code: .unavailable, reason: Reason.connectionLost, message: "the server closed the connection"))
                return
            case .failed(let why):
                close(with: Status(code: .unavailable, reason: Reason.connectionLost, message: "TLS failed: \(why)"))
                return
            }
        }
    }

    /// Sends what the session has waiting; watches for writability while the
    /// socket takes less. Also notices a session that closed itself.
    private func flush() {
        guard !closed, var current = session else { return }
        session = nil
        var failed = false
        var blocked = false
        while current.hasPendingOutput && !failed && !blocked {
            current.sendPending { bytes in
                if let tls {
                    switch tls.write(bytes) {
                    case .bytes(let sent): return sent
                    case .wantRead, .wantWrite: blocked = true
                    case .closed, .failed: failed = true
                    }
                    return 0
                }
                let sent = send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
                if sent < 0 {
                    if errno == EAGAIN || errno == EWOULDBLOCK {
                        blocked = true
                    } else if errno != EINTR {
                        failed = true
                    }
                    return 0
                }
                return sent
            }
        }
        session = current
        if !current.isUsable { usable.store(false, ordering: .relaxed) }
        if failed {
            close(with: Status(code: .unavailable, reason: Reason.connectionLost, message: "send failed"))
            return
        }
        if current.isClosed {
            close(with: Status(code: .unavailable, reason: Reason.connectionLost, message: "the session closed"))
            return
        }
        if blocked, !writeArmed, let write = writeSource {
            writeArmed = true
            write.resume()
        } else if !blocked, writeArmed, let write = writeSource {
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
        // A session that closed itself (a GoAway with an error, a malformed
        // frame) already told its calls why; this only reaches the others.
        session?.close(with: status)
    }
}
