import JobWireProtocol

/// The client's side of one connection's protocol, without I/O: the
/// handshake, calls routed by stream id, pings answered, GoAway, deadlines and
/// loss reported to every call. It takes received bytes (``receive(_:)``) and
/// leaves the bytes to send in ``pendingOutput``; ``ClientConnection`` moves
/// bytes between it and a socket. As the Python client's `_core.py`, so both
/// clients' session rules can be read and tested apart from their sockets.
///
/// A value owned by one thread (its connection's queue); the handlers it calls
/// run there and must only resume continuations or yield into streams.
struct ClientSession {
    /// What a call hears: each reply message, then exactly one end.
    struct CallHandler: Sendable {
        let onReply: @Sendable ([UInt8]) -> Void
        let onEnd: @Sendable (Status) -> Void
    }

    /// A call's end when the server never processed it (above a GoAway's
    /// last stream id): always safe to send again on a new connection.
    static let notProcessedReason = "NOT_PROCESSED"

    private var decoder = FrameDecoder()
    private var output: [UInt8] = []
    private var outputSent = 0
    private var calls: [UInt32: CallHandler] = [:]
    private var nextStreamID: UInt32 = 1
    private var helloWaiter: (@Sendable (Result<HelloAck, JobWireError>) -> Void)?
    private(set) var helloAck: HelloAck?
    private var maxFrameBytes = Limits.defaultMaxFrameBytes
    private var decoderMaxFrameBytes = Limits.defaultMaxFrameBytes
    /// Set by ``close(with:)``: nothing more is sent or received.
    private(set) var isClosed = false
    /// Cleared when the session closes or a GoAway arrives: no new calls.
    private(set) var isUsable = true

    /// A session that starts by sending `hello`; `completion` hears the HelloAck or why there is none.
    init(hello: Hello, completion: @escaping @Sendable (Result<HelloAck, JobWireError>) -> Void) {
        helloWaiter = completion
        append(.hello(hello))
    }

    /// Whether the handshake is still waiting for its HelloAck.
    var awaitsHelloAck: Bool { helloWaiter != nil }

    /// Calls open now.
    var openCalls: Int { calls.count }

    // MARK: Output

    /// Bytes waiting to be sent, oldest first.
    var hasPendingOutput: Bool { outputSent < output.count }

    /// Runs `body` with the bytes waiting to be sent; it returns how many it sent.
    mutating func sendPending(_ body: (UnsafeRawBufferPointer) -> Int) {
        guard hasPendingOutput else { return }
        let sent = output.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[outputSent...])) }
        outputSent += max(0, sent)
        if outputSent == output.count {
            output.removeAll(keepingCapacity: output.capacity < 256 * 1024)
            outputSent = 0
        }
    }

    private mutating func append(_ frame: Frame) {
        _ = try? FrameEncoder.append(frame, to: &output, maxFrameBytes: .max)
    }

    // MARK: Calls

    /// Opens a call; nil when the session takes no new calls. A request too
    /// large for the server's frames ends at once (its handler hears why).
    mutating func openCall(method: Method, request: [UInt8], timeoutMs: UInt32, tenant: String,
                           handler: CallHandler) -> UInt32? {
        guard !isClosed, isUsable else { return nil }
        let streamID = nextStreamID
        nextStreamID = nextStreamID == UInt32.max ? 1 : nextStreamID + 1
        calls[streamID] = handler
        do {
            try FrameEncoder.append(.call(Call(streamID: streamID, method: method.rawValue, request: request,
                                               timeoutMs: timeoutMs, tenant: tenant)), to: &output, maxFrameBytes: maxFrameBytes)
        } catch {
            calls.removeValue(forKey: streamID)
            handler.onEnd(error.status)
        }
        return streamID
    }

    /// A call's local deadline passed (the server stopped answering): it is
    /// cancelled on the wire and ends with DEADLINE_EXCEEDED.
    mutating func expire(streamID: UInt32, timeoutMs: UInt32) {
        guard let handler = calls.removeValue(forKey: streamID) else { return }
        append(.cancelCall(CancelCall(streamID: streamID)))
        handler.onEnd(Status(code: .deadlineExceeded, reason: Reason.deadlineExceeded,
                             message: "no answer within \(timeoutMs) ms"))
    }

    /// The caller cancelled: the call is cancelled on the wire and ends with CANCELLED.
    mutating func cancel(streamID: UInt32) {
        guard let handler = calls.removeValue(forKey: streamID) else { return }
        if !isClosed { append(.cancelCall(CancelCall(streamID: streamID))) }
        handler.onEnd(Status(code: .cancelled, reason: Reason.cancelled, message: "cancelled by the caller"))
    }

    // MARK: Input

    /// Handles received bytes: frames complete in them are handled, the rest
    /// is kept for the next bytes. A malformed frame closes the session with
    /// its error.
    mutating func receive(_ bytes: UnsafeRawBufferPointer) {
        guard !isClosed else { return }
        // Moved out while it runs: frames change the session (the HelloAck
        // sets the frame limit, applied when the decoder is put back).
        var active = FrameDecoder(maxFrameBytes: 0)
        swap(&active, &decoder)
        do {
            try active.feed(bytes) { (body) throws(JobWireError) in
                handle(try Frame(decoding: body, maxBytes: .max))
            }
        } catch {
            close(with: error.status)
        }
        active.maxFrameBytes = decoderMaxFrameBytes
        swap(&active, &decoder)
    }

    private mutating func handle(_ frame: Frame) {
        guard !isClosed else { return }
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
            isUsable = false
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

    // MARK: Closing

    /// Ends the session: the handshake, if still waiting, fails with
    /// `status`, and so does every open call.
    mutating func close(with status: Status) {
        guard !isClosed else { return }
        isClosed = true
        isUsable = false
        helloWaiter?(.failure(JobWireError(status)))
        helloWaiter = nil
        let pending = calls
        calls.removeAll()
        for handler in pending.values {
            handler.onEnd(status)
        }
    }
}
